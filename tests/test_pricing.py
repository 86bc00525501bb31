"""Gemini billing rules, against hand-computed dollars."""

from __future__ import annotations

from datetime import date

import pytest

from tierwise.tiers import ModelSpec, Usage, price
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


def test_the_registry_packages_the_service_tier_discounts():
    from tierwise.tiers import build_registry

    registry = build_registry(env={})
    factors = registry.data.service_tiers
    assert factors == {"standard": 1.0, "flex": 0.5, "priority": 1.8}
    flash = registry.model("gemini-3.8-flash")
    # (1000 × 0.5 + 500 × 3) / 1M = 0.002 standard, 0.001 on Flex
    assert price(flash, Usage(1000, 500, thinking_tokens=200), DAY, factors=factors) == pytest.approx(0.002)
    assert price(flash, Usage(1000, 500), DAY, service_tier="flex", factors=factors) == pytest.approx(0.001)
    assert price(flash, Usage(1000, 500), DAY, service_tier="flex", factors={"standard": 1, "flex": 0.8}) == (
        pytest.approx(0.0016)
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
