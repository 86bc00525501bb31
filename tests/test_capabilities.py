"""The model catalogue and `settings_for`: every stage, on every catalogued model, sends only what it accepts."""

from __future__ import annotations

from datetime import date

import pytest

from tierwise import RegistryError, build_registry
from tierwise.tiers import ModelSpec, StageSpec, check_call, settings_for
from tierwise.tiers.catalogue import SERVICE_TIERS

TODAY = date(2026, 11, 29)
REGISTRY = build_registry(env={}, today=TODAY)


def model(**fields) -> ModelSpec:
    base = {"tier": "flash", "context_window": 1_048_576, "max_output_tokens": 65_536,
            "thinking_levels": ["low", "medium", "high"], "default_thinking_level": "high",
            "service_tiers": ["standard", "flex", "priority"]}
    return ModelSpec.model_validate(base | fields)


def stage(**fields) -> StageSpec:
    return StageSpec.model_validate({"tier": "lite"} | fields)


@pytest.mark.parametrize("stage_name", sorted(REGISTRY.stages))
@pytest.mark.parametrize("model_id", sorted(REGISTRY.data.models))
@pytest.mark.parametrize("service_tier", SERVICE_TIERS)
def test_every_stage_on_every_catalogued_model_is_accepted(stage_name, model_id, service_tier):
    spec = REGISTRY.model(model_id)
    sent = settings_for(spec, REGISTRY.stages[stage_name], service_tier,
                        level_budgets=REGISTRY.data.thinking.level_budgets)
    assert check_call(spec, sent) == []


def test_the_catalogue_says_what_google_documents():
    models = REGISTRY.data.models
    for lite in ("gemini-3.1-flash-lite", "gemini-3.5-flash-lite"):
        assert models[lite].levels_low_to_high == ["minimal", "low", "medium", "high"]
    for no_minimal in ("gemini-3.8-flash", "gemini-3.1-pro-preview"):
        assert models[no_minimal].levels_low_to_high == ["low", "medium", "high"]
    assert not models["gemini-3.5-flash-lite"].sampling and models["gemini-3.5-flash-lite"].fixed_sampling
    assert not models["gemini-3.8-flash"].sampling
    assert models["gemini-3.1-pro-preview"].sampling
    assert all("batch" not in m.service_tiers for m in models.values())


@pytest.mark.parametrize(
    ("stage_fields", "model_fields", "level", "budget"),
    [
        ({"thinking_level": "minimal"}, {}, "low", None),  # minimal → the lowest level the model has
        ({"thinking_level": "minimal"}, {"thinking_levels": ["minimal", "low"], "default_thinking_level": "low"},
         "minimal", None),
        ({"thinking_level": "medium"}, {"thinking_levels": ["low", "high"]}, "high", None),  # rounds up
        ({"thinking_level": "high"}, {"thinking_levels": ["minimal", "low"], "default_thinking_level": "low"},
         "low", None),  # nothing at or above: the highest it has
        ({"thinking_budget": 1000}, {}, "low", None),  # no budgets: the nearest level (low ≈ 1024)
        ({"thinking_budget": 20_000}, {}, "high", None),
        ({"thinking_budget": 0}, {}, "low", None),  # off → as little as the model allows
        ({"thinking_budget": -1}, {}, None, None),  # dynamic → the model's default
        ({"thinking_budget": 4608}, {}, "medium", None),  # the tie between low and medium goes up
        ({"thinking_budget": 50_000}, {"thinking_budget": True, "thinking_budget_min": 128,
                                       "thinking_budget_max": 32_768}, None, 32_768),
        ({"thinking_budget": 16}, {"thinking_budget": True, "thinking_budget_min": 128}, None, 128),
        ({"thinking_budget": -1}, {"thinking_budget": True, "thinking_budget_min": 128}, None, -1),
        ({"thinking_level": "low"}, {"thinking_levels": [], "default_thinking_level": None,
                                     "thinking_budget": True}, None, 1024),
        ({"thinking_level": "low"}, {"thinking_levels": [], "default_thinking_level": None}, None, None),
    ],
)
def test_thinking_settings_become_what_the_model_takes(stage_fields, model_fields, level, budget):
    target = model(**model_fields)
    sent = settings_for(target, stage(**stage_fields))
    assert (sent.thinking_level, sent.thinking_budget) == (level, budget)
    assert check_call(target, sent) == []


def test_sampling_max_output_and_service_tier():
    fixed = model(sampling=False, max_output_tokens=8192, service_tiers=["standard", "flex"])
    sent = settings_for(fixed, stage(temperature=0.7, max_output_tokens=100_000), "priority")
    assert sent.temperature is None and sent.max_output_tokens == 8192 and sent.service_tier == "standard"
    assert len(sent.adjustments) == 3
    assert sent.chat_kwargs() == {"temperature": None, "max_output_tokens": 8192}
    honest = settings_for(model(), stage(temperature=0.7, thinking_level="high"), "flex")
    assert honest.temperature == 0.7 and honest.service_tier == "flex" and honest.adjustments == ()
    assert honest.chat_kwargs()["thinking_level"] == "high"


@pytest.mark.parametrize(("tier", "message"), [("batch", "Batch API is a separate"), ("turbo", "unknown service")])
def test_a_service_tier_gemini_does_not_have_is_an_error(tier, message):
    with pytest.raises(RegistryError, match=message):
        settings_for(model(), stage(), tier)


def test_the_registry_maps_a_stage_on_any_tier():
    route = REGISTRY.on_tier("triage", "pro")
    sent = REGISTRY.settings_for(route, "flex")
    assert sent.thinking_level == "low" and sent.service_tier == "flex"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"default_thinking_level": "minimal"}, "default_thinking_level: 'minimal' is not in thinking_levels"),
        ({"thinking_levels": ["low", "low"]}, "a level is listed twice"),
        ({"default_thinking_level": None}, "needed when thinking_levels is set"),
        ({"thinking_levels": ["extreme"]}, "thinking_levels.0"),
        ({"thinking_budget_max": 100}, "only for a model with thinking_budget = true"),
        ({"thinking_budget": True, "thinking_budget_min": 500, "thinking_budget_max": 100}, "greater than"),
        ({"service_tiers": ["flex"]}, "must include standard"),
        ({"service_tiers": ["standard", "batch"]}, "Batch API is a separate"),
        ({"input_modalities": ["image"]}, "must include text"),
        ({"input_modalities": ["text", "smell"]}, "input_modalities.1"),
        ({"max_output_tokens": 0}, "max_output_tokens"),
        ({"fixed_sampling": True, "sampling": True}, "disagree"),
        ({"fixed_sampling": "yes"}, "true or false"),
    ],
)
def test_a_bad_catalogue_entry_names_the_key(fields, expected):
    with pytest.raises(RegistryError) as info:
        build_registry(overrides={"models": {"gemini-3.8-flash": fields}}, env={}, today=TODAY)
    assert expected in str(info.value) and "models.gemini-3.8-flash" in str(info.value)


def test_the_old_fixed_sampling_key_still_reads():
    registry = build_registry(overrides={"models": {"gemini-3.5-flash": {"fixed_sampling": True}}}, env={},
                              today=TODAY)
    assert registry.model("gemini-3.5-flash").sampling is False


def test_a_stage_with_both_thinking_controls_is_refused():
    with pytest.raises(RegistryError, match="stages.draft: .*thinking_level and thinking_budget together"):
        build_registry(overrides={"stages": {"draft": {"thinking_budget": 512}}}, env={}, today=TODAY)
