"""Registry validation: a bad file names the key and the reason; dates warn or refuse."""

from __future__ import annotations

import warnings
from datetime import date

import pytest

from tierwise import RegistryError, UnknownStageError, build_registry
from tierwise.tiers import ModelShutdownWarning

TODAY = date(2026, 11, 22)


def refused(overrides=None, **kwargs) -> str:
    with pytest.raises(RegistryError) as info:
        build_registry(overrides=overrides, today=kwargs.pop("today", TODAY), **kwargs)
    return str(info.value)


def test_packaged_registry_is_valid_and_resolves_every_stage():
    registry = build_registry(today=TODAY)
    assert registry.data.tier_order == ["lite", "flash", "pro"]
    for name in ("triage", "extract", "draft", "judge", "reason", "polish"):
        assert registry.stage(name).model_id == registry.data.tiers[registry.stage(name).tier].model
    assert registry.stage("polish").spec.critical and registry.stage("reason").spec.critical
    assert not registry.stage("draft").spec.critical


def test_one_edit_swaps_a_tiers_model_for_every_stage_on_it():
    registry = build_registry(overrides={"tiers": {"flash": {"model": "gemini-3.5-flash"}}}, today=TODAY)
    assert registry.stage("judge").model_id == "gemini-3.5-flash"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"stages": {"draft": {"tier": "ultra"}}}, "stages.draft.tier: unknown tier 'ultra'"),
        ({"stages": {"draft": {"temperature": 5}}}, "stages.draft.temperature"),
        ({"stages": {"draft": {"max_output_tokens": 0}}}, "stages.draft.max_output_tokens"),
        ({"stages": {"draft": {"colour": "red"}}}, "stages.draft.colour: Extra inputs are not permitted"),
        ({"stages": {"draft": {"fallbacks": ["gemini-9"]}}}, "stages.draft.fallbacks[0]: 'gemini-9' is neither"),
        ({"stages": {"polish": {"fallbacks": ["lite"]}}}, "stages.polish.fallbacks[0]: 'lite' is below"),
        ({"tiers": {"pro": {"model": "gemini-nope"}}}, "tiers.pro.model: unknown model 'gemini-nope'"),
        ({"tier_order": ["lite", "pro"]}, "tier_order"),
        ({"models": {"gemini-3.8-flash": {"prices": [{"effective": "2026-01-01", "input": -1, "output": 1}]}}},
         "models.gemini-3.8-flash.prices.0.input: Input should be greater than or equal to 0"),
        ({"models": {"gemini-3.8-flash": {"prices": [{"effective": "someday", "input": 1, "output": 1}]}}},
         "models.gemini-3.8-flash.prices.0.effective"),
        ({"models": {"gemini-9-ultra": {"tier": "pro", "context_window": 2_000_000}}},
         "models.gemini-9-ultra.prices: no price known for gemini-9-ultra"),
        ({"thresholds": {"draft_score": 11}}, "thresholds.draft_score"),
        ({"thresholds": {"confidence": -0.1}}, "thresholds.confidence"),
        ({"routing": {"simple_max_complexity": 4, "moderate_max_complexity": 3}}, "moderate_max_complexity"),
    ],
)
def test_bad_values_name_the_key(overrides, expected):
    assert expected in refused(overrides)


def test_a_bad_user_file_is_named(tmp_path):
    bad = tmp_path / "mine.toml"
    bad.write_text("[stages.draft\ntier = 'lite'")
    message = refused(path=bad)
    assert str(bad) in message and "not valid TOML" in message
    assert "no such registry file" in refused(path=tmp_path / "missing.toml")


def test_user_file_and_environment_override_the_packaged_file(tmp_path):
    mine = tmp_path / "mine.toml"
    mine.write_text("[stages.draft]\ntier = 'flash'\n[thresholds]\ndraft_score = 8\n")
    registry = build_registry(mine, env={"TIERWISE__THRESHOLDS__DRAFT_SCORE": "9"}, today=TODAY)
    assert registry.stage("draft").tier == "flash"
    assert registry.data.thresholds.draft_score == 9
    assert "mine.toml" in registry.origin and "environment" in registry.origin


def test_environment_names_the_file(tmp_path):
    mine = tmp_path / "env.toml"
    mine.write_text("[stages.judge]\ntier = 'pro'\n")
    assert build_registry(env={"TIERWISE_REGISTRY": str(mine)}, today=TODAY).stage("judge").tier == "pro"


def test_a_model_near_shutdown_warns():
    with pytest.warns(ModelShutdownWarning, match="gemini-3.1-flash-lite shuts down on 2027-05-07"):
        build_registry(today=date(2027, 4, 20))


def test_a_model_far_from_shutdown_is_quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        build_registry(today=TODAY)


def test_a_model_past_shutdown_is_refused_naming_the_replacement():
    message = refused(today=date(2027, 5, 7))
    assert "gemini-3.1-flash-lite was shut down on 2027-05-07" in message
    assert "switch to gemini-3.5-flash-lite" in message


def test_unknown_stage_lists_the_known_ones():
    with pytest.raises(UnknownStageError, match="unknown stage 'summarise'.*draft"):
        build_registry(today=TODAY).stage("summarise")


INF, NAN = float("inf"), float("nan")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"service_tiers": {"flex": INF}}, "service_tiers.flex: Input should be a finite number"),
        ({"models": {"gemini-3.8-flash": {"prices": [{"effective": "2026-01-01", "input": INF, "output": 1}]}}},
         "models.gemini-3.8-flash.prices.0.input: Input should be a finite number"),
        ({"models": {"gemini-3.8-flash": {"prices": [{"effective": "2026-01-01", "input": 1, "output": NAN}]}}},
         "models.gemini-3.8-flash.prices.0.output: Input should be a finite number"),
        ({"resilience": {"request_budget_s": INF}}, "resilience.request_budget_s: Input should be a finite number"),
        ({"resilience": {"max_wait_s": NAN}}, "resilience.max_wait_s: Input should be a finite number"),
        ({"stages": {"draft": {"timeout_s": INF}}}, "stages.draft.timeout_s: Input should be a finite number"),
        ({"stages": {"draft": {"temperature": NAN}}}, "stages.draft.temperature: Input should be a finite number"),
        ({"budget": {"daily_usd": INF}}, "budget.daily_usd: Input should be a finite number"),
        ({"budget": {"per_task_type": {"support": INF}}}, "budget.per_task_type.support: Input should be a finite"),
        ({"thinking": {"level_budgets": {"low": INF}}}, "thinking.level_budgets.low"),
        ({"router": {"threshold": NAN}}, "router.threshold: Input should be a finite number"),
        ({"shadow": {"daily_usd": INF}}, "shadow.daily_usd: Input should be a finite number"),
    ],
)
def test_infinite_or_nan_numbers_are_refused_naming_the_key(overrides, expected):
    assert expected in refused(overrides)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"service_tiers": {"batch": 0.5}}, "service_tiers.batch: 'batch' is not a service tier"),
        ({"budget": {"service_tier_when_capped": "batch"}}, "budget.service_tier_when_capped: 'batch' is not a"),
        ({"service_tiers": {"turbo": 2.0}}, "service_tiers.turbo: unknown service tier"),
        ({"models": {"gemini-3.8-flash": {"service_tiers": ["standard", "batch"]}}}, "Batch API is a separate"),
    ],
)
def test_batch_is_not_a_service_tier(overrides, expected):
    message = refused(overrides)
    assert expected in message
    assert "Batch API is a separate" in message or "unknown service tier" in message


def test_env_override_with_inf_is_refused():
    message = refused(env={"TIERWISE__SERVICE_TIERS__FLEX": "inf"})
    assert "TIERWISE__SERVICE_TIERS__FLEX: inf is not a finite number" in message
