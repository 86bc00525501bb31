"""Where prices come from: genai-prices' bundled data, registry overrides from their date on, never $0."""

from __future__ import annotations

from datetime import date

import pytest
from typer.testing import CliRunner

from tierwise import RegistryError, build_registry
from tierwise.cli import app
from tierwise.tiers import Usage, list_prices, price, served_tier
from tierwise.tiers.price_check import check_overrides

TODAY = date(2026, 11, 29)
M = 1_000_000
runner = CliRunner()

# The registry's old, hand-copied gemini-3.8-flash price, as a user's override from 2026-10-01.
OLD_FLASH = {"effective": date(2026, 10, 1), "input": 0.50, "output": 3.00, "cached_input": 0.05,
             "source": "hand-copied 2026-11-22"}


def with_override(*entries) -> object:
    return build_registry(overrides={"models": {"gemini-3.8-flash": {"prices": list(entries)}}}, env={}, today=TODAY)


def test_packaged_prices_all_come_from_genai_prices():
    registry = build_registry(env={}, today=TODAY)
    for model in registry.data.models.values():
        assert model.prices and all(p.source.startswith(f"genai-prices {list_prices.version()}") for p in model.prices)
    assert check_overrides(registry.data) == []


def test_an_override_wins_from_its_date_on_and_genai_prices_fills_the_days_before():
    flash = with_override(OLD_FLASH).model("gemini-3.8-flash")
    usage = Usage(1_000, 1_000)
    assert price(flash, usage, date(2026, 9, 30)) == pytest.approx((1_000 * 0.75 + 1_000 * 3.75) / M)  # listed
    assert price(flash, usage, TODAY) == pytest.approx((1_000 * 0.50 + 1_000 * 3.00) / M)  # the override
    # ... and after genai-prices' own 2027 change too: an override is deliberate; --check shows it.
    assert price(flash, usage, date(2027, 2, 1)) == pytest.approx((1_000 * 0.50 + 1_000 * 3.00) / M)
    assert flash.price_on(TODAY).source == "hand-copied 2026-11-22"


def test_check_lists_overrides_that_disagree():
    registry = with_override(OLD_FLASH, {"effective": "2027-01-01", "input": 1.5, "output": 7.5,
                                         "cached_input": 0.15})
    checks = check_overrides(registry.data)
    assert [c.disagrees for c in checks] == [True, False]
    text = checks[0].describe()
    assert "models.gemini-3.8-flash.prices (effective 2026-10-01" in text
    assert "input 0.5 ≠ genai-prices 0.75" in text and "output 3 ≠ genai-prices 3.75" in text
    assert "agrees with genai-prices" in checks[1].describe()


def test_a_model_genai_prices_lacks_takes_the_registry_price(tmp_path):
    registry = build_registry(overrides={"models": {"gemini-9-ultra": {
        "tier": "pro", "context_window": 2_000_000,
        "prices": [{"effective": "2026-01-01", "input": 3.0, "output": 15.0, "source": "private preview"}]}}},
        env={}, today=TODAY)
    model = registry.model("gemini-9-ultra")
    assert price(model, Usage(1_000, 1_000), TODAY) == pytest.approx((1_000 * 3 + 1_000 * 15) / M)
    [check] = check_overrides(registry.data)
    assert not check.disagrees and "genai-prices has no price for gemini-9-ultra" in check.describe()


def test_a_model_with_no_price_anywhere_is_refused_not_billed_at_zero():
    with pytest.raises(RegistryError, match="models.gemini-9-ultra.prices: no price known"):
        build_registry(overrides={"models": {"gemini-9-ultra": {"tier": "pro", "context_window": 2_000_000}}},
                       env={}, today=TODAY)


def test_prices_are_the_bundled_ones_even_if_someone_installs_another_snapshot():
    from genai_prices.data_snapshot import DataSnapshot, get_snapshot, set_custom_snapshot

    before = get_snapshot()
    list_prices.entries.cache_clear()
    set_custom_snapshot(DataSnapshot(providers=[], from_auto_update=True))
    try:
        assert list_prices.entries("gemini-3.8-flash")[0]["input"] == 0.75
    finally:
        set_custom_snapshot(before if before.from_auto_update else None)
        list_prices.entries.cache_clear()


@pytest.mark.parametrize(
    ("requested", "reported", "billed"),
    [
        ("priority", "standard", "standard"),  # Google served a Priority request as standard
        ("priority", "SERVICE_TIER_STANDARD", "standard"),
        ("priority", "PRIORITY", "priority"),
        ("flex", None, "flex"),  # nothing reported: what was asked
        ("flex", "unspecified", "flex"),
        ("standard", "mystery", "standard"),
        ("standard", 3, "standard"),
    ],
)
def test_the_served_tier_is_billed(requested, reported, billed):
    assert served_tier(requested, reported) == billed


def test_the_served_tier_reads_google_genai_enum():
    from google.genai.types import ServiceTier

    assert served_tier("priority", ServiceTier.STANDARD) == "standard"


def test_flex_gets_time_limits_that_fit_minutes_of_latency():
    resilience = build_registry(env={}, today=TODAY).data.resilience
    assert resilience.time_limits("standard", 60.0) == (60.0, resilience.request_budget_s)
    timeout, budget = resilience.time_limits("flex", 60.0)
    assert timeout == resilience.flex_timeout_s >= 600 and budget == resilience.flex_request_budget_s > timeout


def test_tiers_shows_where_each_price_comes_from():
    result = runner.invoke(app, ["tiers"])
    assert result.exit_code == 0, result.output
    assert f"genai-prices {list_prices.version()}" in result.output
    assert "2027-01-01" in result.output  # gemini-3.8-flash's coming price change
    assert "high*" in result.output and "fixed" in result.output  # the catalogue: default level, fixed sampling


def test_tiers_check_exits_nonzero_on_a_disagreeing_override(tmp_path):
    clean = runner.invoke(app, ["tiers", "--check"])
    assert clean.exit_code == 0 and "0 price override(s), 0 disagreeing" in clean.output
    mine = tmp_path / "mine.toml"
    mine.write_text('[[models."gemini-3.8-flash".prices]]\neffective = 2026-10-01\ninput = 0.5\noutput = 3.0\n')
    result = runner.invoke(app, ["tiers", "--check", "--registry", str(mine)])
    assert result.exit_code == 1
    assert "input 0.5 ≠ genai-prices 0.75" in result.output and "1 disagreeing" in result.output


def test_tiers_escapes_markup_in_user_text(tmp_path):
    mine = tmp_path / "mine.toml"
    mine.write_text('[[models."gemini-3.8-flash".prices]]\neffective = 2026-10-01\ninput = 0.5\noutput = 3.0\n'
                    'source = "[/] contract"\n')
    result = runner.invoke(app, ["tiers", "--registry", str(mine)])
    assert result.exit_code == 0 and "[/] contract" in result.output


def test_tiers_escapes_markup_in_task_types_and_model_ids(tmp_path):
    mine = tmp_path / "mine.toml"
    mine.write_text('[task_types."[/]".stages.draft]\ntier = "flash"\n'
                    '[models."gemini-[/]"]\ntier = "lite"\ncontext_window = 1000\n'
                    '[[models."gemini-[/]".prices]]\neffective = 2026-01-01\ninput = 1.0\noutput = 2.0\n')
    result = runner.invoke(app, ["tiers", "--registry", str(mine)])
    assert result.exit_code == 0, result.output
    assert "gemini-[/]" in result.output and "[/]" in result.output
