"""A renamed stage stays readable: `content_format` is now `content_plan` (one step, one name: module
nodes/content/plan.py, node "plan", state key "plan"). Registries, environment variables, ledgers and eval runs
that use the old name keep working, under the new name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tierwise import RegistryError
from tierwise.evals import suggest
from tierwise.ledger import LedgerEntry, open_ledger
from tierwise.reports import build_report
from tierwise.state import CallRecord
from tierwise.tiers import build_registry

OLD, NEW = "content_format", "content_plan"


def test_the_packaged_registry_says_where_the_old_name_went():
    registry = build_registry(env={})
    assert registry.data.renamed_stages[OLD] == NEW and OLD not in registry.data.stages
    assert registry.stage(OLD).stage == NEW and registry.stage_name(OLD) == NEW


def test_an_old_registry_file_and_old_variables_still_set_the_stage(tmp_path):
    old = tmp_path / "tierwise.toml"
    old.write_text(f"[stages.{OLD}]\ntier = \"lite\"\nmax_output_tokens = 700\n\n"
                   f"[task_types.blog.stages.{OLD}]\ntier = \"pro\"\n\n"
                   f"[economics]\noverhead_stages = [\"triage\", \"judge\", \"{OLD}\"]\n")
    registry = build_registry(old, env={})
    assert registry.stage(NEW).tier == "lite" and registry.stage(NEW).spec.max_output_tokens == 700
    assert registry.stage(NEW, task_type="blog").tier == "pro"
    assert NEW in registry.data.economics.overhead_stages and OLD not in registry.data.economics.overhead_stages
    # the new name, when both are given, wins; the old name's other settings still apply
    both = build_registry(old, env={"TIERWISE__STAGES__CONTENT_PLAN__TIER": "pro"})
    assert both.stage(NEW).tier == "pro" and both.stage(NEW).spec.max_output_tokens == 700
    from_env = build_registry(env={"TIERWISE__STAGES__CONTENT_FORMAT__TIER": "pro"})
    assert from_env.stage(NEW).tier == "pro"


def test_a_rename_must_point_at_a_stage_and_leave_one_name():
    with pytest.raises(RegistryError, match="renamed_stages.gone: 'nowhere' is not a declared stage"):
        build_registry(overrides={"renamed_stages": {"gone": "nowhere"}}, env={})
    with pytest.raises(RegistryError, match="renamed_stages.draft: 'draft' is still declared"):
        build_registry(overrides={"renamed_stages": {"draft": "polish"}}, env={})


def _entry(stage: str, cost: float, at: datetime) -> LedgerEntry:
    return LedgerEntry.from_record(CallRecord(call_id=f"{stage}-{cost}", stage=stage, tier="flash",
                                              model="gemini-3.5-flash", cost_usd=cost, started_at=at,
                                              output_tokens=40))


def test_an_old_ledger_reports_and_suggests_under_the_new_name(tmp_path):
    at = datetime.now(UTC) - timedelta(hours=1)
    with open_ledger(f"sqlite:///{tmp_path / 'old.db'}") as ledger:
        ledger.record(_entry(OLD, 0.002, at))  # written before the rename
        ledger.record(_entry(NEW, 0.003, at + timedelta(minutes=1)))
        entries = ledger.entries()
    assert {e.stage for e in entries} == {OLD, NEW}  # storage keeps what was written
    report = build_report(entries)
    assert set(report.by_stage) == {NEW} and report.by_stage[NEW].calls == 2
    assert [r.stage for r in report.rows] == [NEW]
    registry = build_registry(env={})
    assert {s.stage for s in suggest(registry, entries, [], [])} == {NEW}
