"""Gemini billing rules, against hand-computed dollars."""

from __future__ import annotations

from datetime import date

import pytest

from tierwise.tiers import ModelSpec, Usage, price

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
