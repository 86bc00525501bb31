"""Gemini billing rules, against hand-computed dollars."""

from __future__ import annotations

from datetime import date

import pytest

from tierwise.tiers import ModelSpec, Usage, build_registry, list_prices, price
from tierwise.tiers.pricing import is_cache_hit

PRO = ModelSpec.model_validate({
    "tier": "pro", "context_window": 1_048_576,
    "prices": [
        {"effective": "2026-01-01", "input": 2.0, "output": 12.0, "cached_input": 0.2,
         "long_context_threshold": 200_000, "long_input": 4.0, "long_output": 18.0, "long_cached_input": 0.4},
        {"effective": "2026-12-01", "input": 1.0, "output": 10.0, "cached_input": 0.1},
    ],
})
DAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    ("usage", "on", "dollars"),
    [
        (Usage(100_000, 0), DAY, 0.2),
        (Usage(0, 1_000_000), DAY, 12.0),
        (Usage(1000, 500, thinking_tokens=300), DAY, 1000 * 2e-6 + 500 * 12e-6),  # thinking is inside output
        (Usage(10_000, 0, cached_tokens=4000), DAY, 6000 * 2e-6 + 4000 * 0.2e-6),
        (Usage(200_000, 1000), DAY, 200_000 * 2e-6 + 1000 * 12e-6),  # at the threshold: normal rates
        (Usage(200_001, 1000), DAY, 200_001 * 4e-6 + 1000 * 18e-6),  # above: the whole request at long rates
        (Usage(300_000, 0, cached_tokens=100_000), DAY, 200_000 * 4e-6 + 100_000 * 0.4e-6),
        (Usage(1000, 1000), date(2026, 12, 1), 1000 * 1e-6 + 1000 * 10e-6),  # the new price took effect
        (Usage(1000, 1000), date(2025, 6, 1), 1000 * 2e-6 + 1000 * 12e-6),  # before any: earliest known
        (Usage(0, 0), DAY, 0.0),
    ],
)
def test_price(usage, on, dollars):
    assert price(PRO, usage, on) == pytest.approx(dollars, abs=1e-12)


FREE_CACHE = ModelSpec.model_validate({
    "tier": "lite", "context_window": 1_048_576,
    "prices": [{"effective": "2026-01-01", "input": 0.5, "output": 2.0, "cached_input": 0.0}],
})
NO_CACHE_RATE = ModelSpec.model_validate({
    "tier": "lite", "context_window": 1_048_576, "prices": [{"effective": "2026-01-01", "input": 0.5, "output": 2.0}],
})


# Dollars worked out by hand (rates per 1M tokens; Flex is half price).
@pytest.mark.parametrize(
    ("model", "usage", "on", "service_tier", "dollars"),
    [
        # (1000 × 2 + 500 × 12) / 1M = 0.008, half price on Flex
        (PRO, Usage(1000, 500), DAY, "flex", 0.004),
        # (5000 × 2 + 5000 × 0.2 + 2000 × 12) / 1M = 0.035, half price on Flex
        (PRO, Usage(10_000, 2000, cached_tokens=5000), DAY, "flex", 0.0175),
        # long prompt: (250k × 4 + 1000 × 18) / 1M = 1.018, halved
        (PRO, Usage(250_000, 1000), DAY, "flex", 0.509),
        # a LangChain cache hit is not billed again, on any service tier
        (PRO, Usage(50_000, 5000, cache_hit=True), DAY, "standard", 0.0),
        (PRO, Usage(300_000, 5000, thinking_tokens=4000, cache_hit=True), DAY, "flex", 0.0),
        # more cached tokens than prompt tokens reported: never bill more cached than input, 1000 × 0.2 / 1M
        (PRO, Usage(1000, 0, cached_tokens=5000), DAY, "standard", 0.0002),
        # thinking-heavy: 9000 of the 10000 output tokens are thoughts, all billed as output: 4000 + 120000
        (PRO, Usage(2000, 10_000, thinking_tokens=9000), DAY, "standard", 0.124),
        # long prompt entirely cached: 400k × 0.4 + 2000 × 18 = 196000
        (PRO, Usage(400_000, 2000, cached_tokens=400_000), DAY, "standard", 0.196),
        # the new price has no long-context rates: 300k × 1 + 1000 × 10
        (PRO, Usage(300_000, 1000), date(2026, 12, 5), "standard", 0.31),
        # the day before the new price: old rates, 1000 × 2 + 1000 × 12
        (PRO, Usage(1000, 1000), date(2026, 11, 30), "standard", 0.014),
        # the new price on Flex: (1000 × 1 + 1000 × 10) / 1M / 2
        (PRO, Usage(1000, 1000), date(2026, 12, 1), "flex", 0.0055),
        # a model whose cache is free: 6000 × 0.5 + 4000 × 0 + 1000 × 2
        (FREE_CACHE, Usage(10_000, 1000, cached_tokens=4000), DAY, "standard", 0.005),
        # a model with no cached rate bills cached tokens at the input rate: 10000 × 0.5 + 1000 × 2
        (NO_CACHE_RATE, Usage(10_000, 1000, cached_tokens=4000), DAY, "standard", 0.007),
        # no long-context rule on this model: 1M × 0.5 + 0
        (NO_CACHE_RATE, Usage(1_000_000, 0), DAY, "flex", 0.25),
    ],
)
def test_price_service_tiers_cache_hits_and_edges(model, usage, on, service_tier, dollars):
    assert price(model, usage, on, service_tier=service_tier) == pytest.approx(dollars, abs=1e-12)


REGISTRY = build_registry(env={}, today=date(2026, 11, 29))
LITE31, LITE35, FLASH35, FLASH38, PRO31 = (REGISTRY.model(m) for m in (
    "gemini-3.1-flash-lite", "gemini-3.5-flash-lite", "gemini-3.5-flash", "gemini-3.8-flash", "gemini-3.1-pro-preview"))
LAST_INTRO, NEW_PRICES = date(2026, 12, 31), date(2027, 1, 1)  # gemini-3.8-flash's introductory price ends
M = 1_000_000


# Every packaged model at its list price (genai-prices), worked out by hand from Google's pricing page:
# 3.1-flash-lite $0.25/$1.50 (cached $0.025); 3.5-flash-lite $0.30/$2.50 ($0.03); 3.5-flash $1.50/$9.00 ($0.15);
# 3.8-flash $0.75/$3.75 ($0.075) through 2026-12-31, $1.50/$7.50 ($0.15) from 2027-01-01; 3.1-pro $2/$12 ($0.20),
# prompts above 200k tokens $4/$18 ($0.40) for the WHOLE request. Flex ×0.5, priority ×1.8. Thinking tokens are
# inside output tokens and billed as output.
@pytest.mark.parametrize(
    ("model", "usage", "on", "service_tier", "dollars"),
    [
        (LITE31, Usage(10_000, 2_000), LAST_INTRO, "standard", (10_000 * 0.25 + 2_000 * 1.50) / M),
        (LITE31, Usage(10_000, 2_000), NEW_PRICES, "standard", (10_000 * 0.25 + 2_000 * 1.50) / M),
        (LITE31, Usage(10_000, 2_000, cached_tokens=4_000), NEW_PRICES, "flex",
         (6_000 * 0.25 + 4_000 * 0.025 + 2_000 * 1.50) / M * 0.5),
        (LITE31, Usage(1_000, 3_000, thinking_tokens=2_500), LAST_INTRO, "priority",
         (1_000 * 0.25 + 3_000 * 1.50) / M * 1.8),
        (LITE35, Usage(1_000_000, 0), LAST_INTRO, "standard", 0.30),
        (LITE35, Usage(0, 1_000_000), NEW_PRICES, "standard", 2.50),
        (LITE35, Usage(20_000, 500, cached_tokens=20_000), NEW_PRICES, "standard", (20_000 * 0.03 + 500 * 2.50) / M),
        (LITE35, Usage(5_000, 1_000, thinking_tokens=800), LAST_INTRO, "flex", (5_000 * 0.30 + 1_000 * 2.50) / M / 2),
        (LITE35, Usage(5_000, 1_000), NEW_PRICES, "priority", (5_000 * 0.30 + 1_000 * 2.50) / M * 1.8),
        (FLASH35, Usage(10_000, 1_000), LAST_INTRO, "standard", (10_000 * 1.50 + 1_000 * 9.00) / M),
        (FLASH35, Usage(10_000, 1_000, cached_tokens=8_000), NEW_PRICES, "standard",
         (2_000 * 1.50 + 8_000 * 0.15 + 1_000 * 9.00) / M),
        (FLASH35, Usage(2_000, 4_000, thinking_tokens=3_500), NEW_PRICES, "flex", (2_000 * 1.5 + 4_000 * 9.0) / M / 2),
        (FLASH35, Usage(2_000, 4_000), LAST_INTRO, "priority", (2_000 * 1.50 + 4_000 * 9.00) / M * 1.8),
        (FLASH38, Usage(10_000, 2_000), LAST_INTRO, "standard", (10_000 * 0.75 + 2_000 * 3.75) / M),
        (FLASH38, Usage(10_000, 2_000), NEW_PRICES, "standard", (10_000 * 1.50 + 2_000 * 7.50) / M),
        (FLASH38, Usage(100_000, 1_000, cached_tokens=60_000), LAST_INTRO, "standard",
         (40_000 * 0.75 + 60_000 * 0.075 + 1_000 * 3.75) / M),
        (FLASH38, Usage(100_000, 1_000, cached_tokens=60_000), NEW_PRICES, "standard",
         (40_000 * 1.50 + 60_000 * 0.15 + 1_000 * 7.50) / M),
        (FLASH38, Usage(1_000, 5_000, thinking_tokens=4_000), LAST_INTRO, "flex", (1_000 * .75 + 5_000 * 3.75) / M / 2),
        (FLASH38, Usage(1_000, 5_000, thinking_tokens=4_000), NEW_PRICES, "flex", (1_000 * 1.5 + 5_000 * 7.5) / M / 2),
        (FLASH38, Usage(1_000, 1_000), LAST_INTRO, "priority", (1_000 * 0.75 + 1_000 * 3.75) / M * 1.8),
        (FLASH38, Usage(1_000, 1_000), NEW_PRICES, "priority", (1_000 * 1.50 + 1_000 * 7.50) / M * 1.8),
        (FLASH38, Usage(1_000, 1_000), date(2026, 6, 1), "standard", (1_000 * 0.75 + 1_000 * 3.75) / M),
        (PRO31, Usage(200_000, 1_000), LAST_INTRO, "standard", (200_000 * 2 + 1_000 * 12) / M),  # at the threshold
        (PRO31, Usage(200_001, 1_000), NEW_PRICES, "standard", (200_001 * 4 + 1_000 * 18) / M),  # above: all long
        (PRO31, Usage(300_000, 2_000, cached_tokens=100_000), NEW_PRICES, "standard",
         (200_000 * 4 + 100_000 * 0.40 + 2_000 * 18) / M),
        (PRO31, Usage(300_000, 2_000, cached_tokens=100_000), NEW_PRICES, "flex",
         (200_000 * 4 + 100_000 * 0.40 + 2_000 * 18) / M / 2),
        (PRO31, Usage(250_000, 10_000, thinking_tokens=9_000), LAST_INTRO, "priority",
         (250_000 * 4 + 10_000 * 18) / M * 1.8),
        (PRO31, Usage(10_000, 2_000, cached_tokens=5_000), LAST_INTRO, "standard",
         (5_000 * 2 + 5_000 * 0.20 + 2_000 * 12) / M),
        (PRO31, Usage(10_000, 2_000, cached_tokens=5_000), NEW_PRICES, "priority",
         (5_000 * 2 + 5_000 * 0.20 + 2_000 * 12) / M * 1.8),
        (PRO31, Usage(2_000, 10_000, thinking_tokens=9_000), NEW_PRICES, "flex", (2_000 * 2 + 10_000 * 12) / M / 2),
        (PRO31, Usage(50_000, 5_000, cache_hit=True), NEW_PRICES, "priority", 0.0),
    ],
)
def test_every_registry_model_at_its_list_price(model, usage, on, service_tier, dollars):
    factors = REGISTRY.data.service_tiers
    assert price(model, usage, on, service_tier=service_tier, factors=factors) == pytest.approx(dollars, abs=1e-12)


@pytest.mark.parametrize("model_id", sorted(REGISTRY.data.models))
@pytest.mark.parametrize("on", [date(2026, 11, 29), LAST_INTRO, NEW_PRICES, date(2027, 6, 1)])
def test_prices_equal_what_genai_prices_computes(model_id, on):
    for tokens in [(1, 0, 0), (1_000, 500, 0), (123_456, 7_890, 100_000), (200_000, 10, 0), (200_001, 10, 5),
                   (900_000, 64_000, 300_000)]:
        ours = price(REGISTRY.model(model_id), Usage(tokens[0], tokens[1], cached_tokens=tokens[2]), on)
        theirs = list_prices.calc(model_id, *tokens, on)
        assert theirs is not None and ours == pytest.approx(float(theirs), abs=1e-9), (model_id, tokens, on)


def test_the_registry_packages_the_service_tier_factors():
    assert REGISTRY.data.service_tiers == {"standard": 1.0, "flex": 0.5, "priority": 1.8}
    assert price(FLASH38, Usage(1000, 500), LAST_INTRO, service_tier="flex", factors={"standard": 1, "flex": 0.8}) == (
        pytest.approx((1000 * 0.75 + 500 * 3.75) / M * 0.8)
    )


def test_an_unknown_service_tier_is_an_error_not_full_price():
    with pytest.raises(ValueError, match="unknown service tier 'batch'"):
        price(PRO, Usage(1, 1), DAY, service_tier="batch")


@pytest.mark.parametrize(
    ("usage_metadata", "hit"),
    [
        ({"input_tokens": 10, "output_tokens": 5, "total_tokens": 15, "total_cost": 0}, True),
        ({"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}, False),
        ({"input_tokens": 10, "total_cost": 0.25}, False),
        ({}, False),
        (None, False),
    ],
)
def test_langchain_cache_hits_are_recognised(usage_metadata, hit):
    assert is_cache_hit(usage_metadata) is hit


def test_batch_prices_are_genai_prices_batch_rates_with_their_cache_read_exceptions():
    """The Batch API halves input and output, but gemini-3.1-pro-preview's cache reads stay at the standard rate
    (genai-prices' batch variant); a model genai-prices has no batch rates for is billed at its standard price."""
    from datetime import date

    from tierwise.tiers import Usage, build_registry
    from tierwise.tiers.pricing import batch_price, price

    registry = build_registry()
    day = date(2026, 12, 1)
    pro = registry.model("gemini-3.1-pro-preview")
    plain = Usage(input_tokens=100_000, output_tokens=10_000)
    assert batch_price("gemini-3.1-pro-preview", pro, plain, day) == pytest.approx(price(pro, plain, day) / 2)
    cached = Usage(input_tokens=100_000, output_tokens=0, cached_tokens=100_000)
    assert batch_price("gemini-3.1-pro-preview", pro, cached, day) == pytest.approx(100_000 * 0.2 / 1e6)
    flash = registry.model("gemini-3.5-flash")
    assert batch_price("no-such-model-in-genai-prices", flash, plain, day) == pytest.approx(price(flash, plain, day))


def test_the_text_only_price_is_the_general_formulas():
    """price_parts bills a text-only request (no cached input, audio or grounding) by a shortcut on the hot path;
    it must give the very floats of the general formula. The general one is reached here by one grounding query
    on a copy of the model whose searches cost nothing, which adds exactly zero."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from tierwise.tiers import price_parts

    registry = build_registry()
    models = sorted(registry.data.models.items())
    free_search = {mid: m.model_copy(update={"prices": [p.model_copy(update={"search_per_1k": None})
                                                        for p in m.prices]}) for mid, m in models}

    @settings(max_examples=300, deadline=None)
    @given(st.sampled_from([mid for mid, _ in models]), st.integers(0, 2_000_000), st.integers(0, 200_000),
           st.integers(0, 200_000), st.sampled_from(sorted(registry.data.service_tiers)),
           st.dates(date(2025, 1, 1), date(2027, 12, 31)))
    def check(model_id, input_tokens, output_tokens, thinking, tier, on):
        usage = Usage(input_tokens=input_tokens, output_tokens=output_tokens, thinking_tokens=min(thinking,
                                                                                                 output_tokens))
        fast = price_parts(registry.data.models[model_id], usage, on, service_tier=tier,
                           factors=registry.data.service_tiers)
        general = price_parts(free_search[model_id], Usage(**{**usage.__dict__, "search_queries": 1}), on,
                              service_tier=tier, factors=registry.data.service_tiers)
        assert fast == general
        # and `price`, the all-Pro counterfactual of every call, is that Cost's total (it skips building the Cost)
        assert price(registry.data.models[model_id], usage, on, service_tier=tier,
                     factors=registry.data.service_tiers) == fast.total_usd

    check()
