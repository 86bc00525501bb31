"""Every stage on every catalogued model, on every service tier the model offers, through the real client and the
strict emulator: the call path turns each stage's settings into what that model accepts (thinking levels,
budgets, sampling, output limits, service tiers), so none of tierwise's own requests is refused."""

from __future__ import annotations

import pytest

from tierwise import Runtime, call_stage
from tierwise.calls import CallHook
from tierwise.tiers import StageModel, load_registry

REGISTRY = load_registry()
CASES = [(stage, model_id, service_tier)
         for model_id, spec in REGISTRY.data.models.items()
         for service_tier in spec.service_tiers
         for stage in REGISTRY.data.stages]


class RunOn(CallHook):
    """Run the call on one model and service tier, with no fallbacks to hide a refusal."""

    name = "test-run-on"

    def __init__(self, model_id: str, service_tier: str) -> None:
        self.model_id, self.service_tier = model_id, service_tier

    def before_call(self, plan):
        spec = plan.registry.model(self.model_id)
        route = StageModel(plan.stage, plan.route.spec, spec.tier or plan.route.tier, self.model_id, spec)
        return plan.replace(route=route, service_tier=self.service_tier, stay_on_tier=True)


@pytest.fixture(scope="module")
def emulator():
    from tierwise.emulator import Emulator, ScriptedBackend

    with Emulator(ScriptedBackend([{"reply": "fine"}])) as emu:  # strict by default
        yield emu


@pytest.mark.parametrize(("stage", "model_id", "service_tier"), CASES)
def test_the_strict_emulator_accepts_every_stage_on_every_model(emulator, stage, model_id, service_tier):
    from tierwise import Context

    with Runtime(hooks=[RunOn(model_id, service_tier)]) as rt:
        result = call_stage(stage, "Is this ticket urgent? My card was charged twice.",
                            context=Context(base_url=emulator.base_url), runtime=rt)
    assert [r.model for r in result.records] == [model_id]
    assert result.record.outcome == "ok", result.record.error


def test_the_cases_cover_every_model_and_stage():
    assert {m for _, m, _ in CASES} == set(REGISTRY.data.models)
    assert {s for s, _, _ in CASES} == set(REGISTRY.data.stages)
    assert {t for _, _, t in CASES} >= {"standard", "flex", "priority"}


@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_priority_call_served_as_standard_is_billed_as_standard(asynchronous):
    """Gemini may serve a Priority request at standard and says so in x-gemini-service-tier: bill what served."""
    import asyncio

    from tierwise import Context, acall_stage
    from tierwise.emulator import Emulator, ScriptedBackend

    class Priority(CallHook):
        name = "test-priority"

        def before_call(self, plan):
            return plan.replace(service_tier="priority")

    rules = [{"reply": "fine", "served_tier": "standard", "user": "downgraded"}, {"reply": "fine"}]
    with Runtime(hooks=[Priority()]) as rt, Emulator(ScriptedBackend(rules)) as emu:
        context = Context(base_url=emu.base_url)
        run = (lambda text: asyncio.run(acall_stage("judge", text, context=context, runtime=rt))) \
            if asynchronous else (lambda text: call_stage("judge", text, context=context, runtime=rt))
        served_standard, served_priority = run("downgraded please"), run("as asked")
    factor = REGISTRY.data.service_tiers["priority"]
    # Against the same tokens at Pro's standard price, the priority call costs `factor` times the other.
    ratio = (served_priority.record.cost_usd / served_priority.record.all_pro_cost_usd) / (
        served_standard.record.cost_usd / served_standard.record.all_pro_cost_usd)
    assert ratio == pytest.approx(factor, rel=1e-6)


@pytest.mark.parametrize(("model_id", "sent"), [("gemini-3.1-flash-lite", None), ("gemini-3.5-flash-lite", None),
                                                ("gemini-2.5-flash", 0.0)])
def test_gemini_3_models_get_no_temperature_below_their_default(emulator, model_id, sent):
    """Google's Gemini 3 prompting guide: keep temperature at its default 1.0 (lower "may lead to unexpected
    behavior, looping, or degraded performance"); triage's 0.0 reaches only models without that advice."""
    from tierwise import Context

    with Runtime(hooks=[RunOn(model_id, "standard")]) as rt:
        call_stage("triage", "Is this urgent?", context=Context(base_url=emulator.base_url), runtime=rt)
    request = emulator.requests[-1]
    assert request.model == model_id and request.generation_config.get("temperature") == sent
