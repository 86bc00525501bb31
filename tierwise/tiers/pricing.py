"""Gemini billing rules applied to one call's token counts.

- thinking tokens are billed as output (they are already inside `output_tokens`);
- cached input tokens are billed at the cached rate;
- when the prompt exceeds a model's long-context threshold, the WHOLE request (input and output) is billed
  at the long rates;
- the price in force is the one whose `effective` date is the latest on or before the call's date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .schema import ModelSpec

PER_TOKEN = 1 / 1_000_000


@dataclass(frozen=True)
class Usage:
    """Token counts as LangChain reports them: `output_tokens` already includes thinking tokens."""

    input_tokens: int = 0
    output_tokens: int = 0
    thinking_tokens: int = 0
    cached_tokens: int = 0


def price(model: ModelSpec, usage: Usage, on: date) -> float:
    """USD for one call of `model` with `usage`, at the prices in force on `on`."""
    p = model.price_on(on)
    long = p.long_context_threshold is not None and usage.input_tokens > p.long_context_threshold
    rate_in = p.long_input if long else p.input
    rate_out = p.long_output if long else p.output
    rate_cached = (p.long_cached_input if long else p.cached_input) or rate_in
    cached = min(usage.cached_tokens, usage.input_tokens)
    dollars = (
        (usage.input_tokens - cached) * rate_in + cached * rate_cached + usage.output_tokens * rate_out
    ) * PER_TOKEN
    return round(dollars, 10)
