"""Running a stage on a chosen tier (`tier=`) and per-task-type stage tiers (`[task_types.T.stages.S]`)."""

from __future__ import annotations

import pytest

from tierwise import Context, call_stage
from tierwise.errors import RegistryError
from tierwise.prompts import render
from tierwise.state import Draft
from tierwise.tiers import build_registry

from .conftest import FLASH, LITE, PRO, rules

MOVED = """
[task_types.B.stages.draft]
tier = "flash"
"""


def draft(context, kind, **kwargs):
    return call_stage("draft", render("draft", input=f"TYPE-{kind} q"), schema=Draft, context=context,
                      task_type=kind, **kwargs)


def test_tier_keyword_runs_the_stage_there(scripted):
    emulator, context = scripted(rules())
    assert draft(context, "B", tier="pro").record.tier == "pro"
    assert draft(context, "B").record.tier == "lite"
    assert [r.model for r in emulator.requests] == [PRO, LITE]


def test_unknown_tier_is_refused_before_any_call(scripted):
    emulator, context = scripted(rules())
    with pytest.raises(RegistryError, match="unknown tier 'ultra' for stage 'draft'"):
        draft(context, "B", tier="ultra")
    assert emulator.requests == []


def test_a_task_types_stage_tier_applies_to_that_task_type_only(scripted, registry_file):
    emulator, context = scripted(rules())
    context = Context(base_url=context.base_url, registry_path=registry_file(MOVED))
    assert draft(context, "B").record.tier == "flash"
    assert draft(context, "A").record.tier == "lite"
    assert draft(context, "B", tier="pro").record.tier == "pro"  # an explicit tier wins
    assert [r.model for r in emulator.requests] == [FLASH, LITE, PRO]
    registry = build_registry(registry_file(MOVED))
    assert registry.tier_for("draft", "B") == "flash" and registry.tier_for("draft", None) == "lite"
    assert registry.stage("draft", task_type="B").model_id == FLASH


@pytest.mark.parametrize(("text", "message"), [
    ('[task_types.B.stages.drafts]\ntier = "pro"', "task_types.B.stages.drafts: unknown stage 'drafts'"),
    ('[task_types.B.stages.draft]\ntier = "ultra"', "task_types.B.stages.draft: unknown tier 'ultra'"),
    ('[task_types.B.stages.draft]\ntier = "pro"\ntemperature = 1', "temperature: Extra inputs are not permitted"),
    ('[evals]\njudge_stage = "jury"', "evals.judge_stage: unknown stage 'jury'"),
    ('[optimizer]\nconfidence = 1.5', "optimizer.confidence"),
])
def test_bad_task_type_and_eval_settings_name_the_key(registry_file, text, message):
    with pytest.raises(RegistryError, match=message):
        build_registry(registry_file(text))
