"""The catalogue is derived from genai-prices (every Gemini text model it prices, aliases resolved) plus the
registry's families and model entries; what stages send follows Google's sampling advice per family."""

from __future__ import annotations

from datetime import date

import pytest
from typer.testing import CliRunner

from tierwise.cli import app
from tierwise.errors import RegistryError
from tierwise.tiers import build_registry, list_prices, load_registry
from tierwise.tiers.families import family_of

runner = CliRunner()
REGISTRY = load_registry()


def test_every_gemini_text_model_genai_prices_prices_is_listed_and_priced():
    families = {name: f.model_dump() for name, f in REGISTRY.data.families.items()}
    covered = [m for m in list_prices.google_models() if family_of(m, families)]
    assert {"gemini-3.6-flash", "gemini-3.7-flash", "gemini-3-flash-preview", "gemini-4-argon"} <= set(covered)
    for model_id in covered:
        spec = REGISTRY.model(model_id)
        day = date(2026, 12, 15)
        listed = list_prices.calc(model_id, 1_000, 500, 0, day)
        from tierwise.tiers import Usage, price

        assert price(spec, Usage(1_000, 500), day) == pytest.approx(float(listed), rel=1e-9), model_id
    # speech, live, image and embedding models are priced by genai-prices but run no stage
    assert "gemini-3.8-flash-tts" not in REGISTRY.data.models and "gemini-embedding-2" not in REGISTRY.data.models


def test_gemini_4_argon_is_priced_from_its_dated_genai_prices_entry():
    argon = REGISTRY.model("gemini-4-argon")
    assert (argon.price_on(date(2026, 11, 30)).input, argon.price_on(date(2026, 12, 1)).input) == (2.0, 4.0)
    assert argon.tier is None and not argon.sampling and not argon.thinking_levels  # nothing unknown is sent


@pytest.mark.parametrize(("alias", "model"), [("gemini-flash-latest", "gemini-3.8-flash"),
                                              ("gemini-pro-latest", "gemini-3.1-pro-preview"),
                                              ("gemini-flash-lite-latest", "gemini-3.5-flash-lite")])
def test_aliases_are_resolved_wherever_a_model_is_named(alias, model):
    """genai-prices' match rules name the model an alias reaches; tierwise calls and bills that model."""
    registry = build_registry(overrides={"tiers": {"flash": {"model": alias}},
                                         "stages": {"draft": {"fallbacks": [alias]}}})
    assert registry.data.tiers["flash"].model == model
    assert registry.data.stages["draft"].fallbacks == [model]
    assert registry.data.aliases == {alias: model}
    assert registry.model(alias) is registry.model(model)


def test_an_unknown_model_is_an_error_naming_the_closest_known_ones():
    with pytest.raises(RegistryError, match=r"unknown model 'gemini-3.8-flsh'.*closest known: gemini-3.8-flash"):
        build_registry(overrides={"tiers": {"flash": {"model": "gemini-3.8-flsh"}}})
    with pytest.raises(RegistryError, match=r"closest known: gemini-3.1-pro-preview"):
        REGISTRY.model("gemini-3.1-pro-previw")
    result = runner.invoke(app, ["tiers"], env={"TIERWISE__TIERS__PRO__MODEL": "gemini-3.1-pro"})
    assert result.exit_code == 2 and result.output.startswith("error: ") and "closest known" in result.output
    assert "Traceback" not in result.output


def test_a_model_without_a_tier_runs_as_a_tier_but_is_no_fallback():
    registry = build_registry(overrides={"tiers": {"pro": {"model": "gemini-4-argon"}}})
    assert registry.stage("reason").model_id == "gemini-4-argon"
    with pytest.raises(RegistryError, match=r"model 'gemini-4-argon' belongs to no tier; set models"):
        build_registry(overrides={"stages": {"draft": {"fallbacks": ["gemini-4-argon"]}}})


def test_families_must_not_overlap_and_name_only_model_keys():
    with pytest.raises(RegistryError, match="matches gemini-3-flash and greedy"):
        build_registry(overrides={"families": {"greedy": {"match": "gemini-3\\.8-.*"}}})
    with pytest.raises(RegistryError, match=r"families.typo.*unknown key\(s\) \['sampling_rate'\]"):
        build_registry(overrides={"families": {"typo": {"match": "nothing", "sampling_rate": 1}}})


def test_a_registry_price_overrides_genai_prices_from_its_date_on():
    registry = build_registry(overrides={"models": {"gemini-3.6-flash": {"prices": [
        {"effective": date(2026, 12, 10), "input": 0.5, "output": 3.0, "source": "our contract"}]}}})
    spec = registry.model("gemini-3.6-flash")
    assert spec.price_on(date(2026, 12, 9)).input == 0.75 and spec.price_on(date(2026, 12, 10)).source == "our contract"


# Default thinking levels (Google's model pages; DESIGN.md "Facts that save hours"), one check per model
@pytest.mark.parametrize(("model", "level"), [
    ("gemini-3.8-flash", "medium"), ("gemini-3.7-flash", "medium"), ("gemini-3.6-flash", "medium"),
    ("gemini-3.5-flash", "medium"), ("gemini-3.1-flash-lite", "minimal"), ("gemini-3.5-flash-lite", "minimal"),
    ("gemini-3.1-pro-preview", "high")])
def test_default_thinking_level(model, level):
    assert REGISTRY.model(model).default_thinking_level == level


def test_what_each_stage_sends_follows_googles_sampling_advice():
    """Gemini 3 models get no temperature below their default 1.0 unless the stage opts in (with its reason);
    fixed-sampling models get none at all; Gemini 2.5 gets the stage's temperature."""
    def sent(stage_overrides, model):
        registry = build_registry(overrides={"stages": {"triage": stage_overrides}})
        route = registry.stage("triage")
        route = type(route)(route.stage, route.spec, route.tier, model, registry.model(model))
        return registry.settings_for(route)

    assert sent({}, "gemini-3.1-flash-lite").temperature is None
    assert "below the model's default 1" in sent({}, "gemini-3.1-flash-lite").adjustments[0]
    opted = sent({"low_temperature": "exact labels; measured no looping on our eval set"}, "gemini-3.1-flash-lite")
    assert opted.temperature == 0.0 and not opted.adjustments
    assert sent({"temperature": 1.3}, "gemini-3.1-pro-preview").temperature == 1.3
    fixed = sent({"low_temperature": "any reason"}, "gemini-3.5-flash-lite")
    assert fixed.temperature is None and fixed.adjustments == ("temperature not sent: fixed sampling",)
    assert sent({}, "gemini-2.5-flash").temperature == 0.0  # no Gemini 3 advice for 2.5


def test_tiers_shows_defaults_and_what_each_stage_sends():
    result = runner.invoke(app, ["tiers"])
    assert result.exit_code == 0, result.output
    assert "what each stage sends to each model of its chain" in result.output
    assert "minimal*" in result.output and "medium*" in result.output
    check = runner.invoke(app, ["tiers", "--check"])
    assert check.exit_code == 0, check.output


def test_an_override_of_token_rates_keeps_the_listed_audio_and_search_rates():
    """A negotiated input/output price does not make audio input cheaper or grounding free; `tiers --check`
    then finds nothing to disagree about but the rates the override names."""
    from tierwise.tiers.price_check import check_overrides

    registry = build_registry(overrides={"models": {"gemini-3.1-flash-lite": {"prices": [
        {"effective": date(2026, 12, 10), "input": 0.2, "output": 1.2, "source": "our contract"}]}}})
    entry = registry.model("gemini-3.1-flash-lite").price_on(date(2026, 12, 10))
    assert (entry.input, entry.input_audio, entry.search_per_1k) == (0.2, 0.5, 14.0)
    [check] = check_overrides(registry.data)
    assert [d.split(" ")[0] for d in check.differences] == ["input", "output", "cached_input"]
