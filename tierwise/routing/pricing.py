"""Token prices for outcome rows that carry token counts instead of dollars.

Prices come from an explicit mapping first, then from the tierwise registry (model ids or tier names), so a
table logged by tierwise itself needs no price flags. The registry is imported lazily: it pulls in pydantic,
and most tables carry `cost_usd` anyway.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tierwise.tiers.pricing import today as utc_today

PER_MTOK = 1e-6
CHARS_PER_TOKEN = 4.0


@dataclass(frozen=True)
class TokenPrice:
    """USD per 1M tokens."""

    input: float
    output: float

    def cost(self, input_tokens: float, output_tokens: float) -> float:
        return (input_tokens * self.input + output_tokens * self.output) * PER_MTOK


PriceTable = dict[str, TokenPrice]

# Gemini-like list prices used by the RouteLLM converter: the registry's lite and pro tiers as copied on
# 2026-11-22 (gemini-3.5-flash-lite 0.25/1.50, gemini-3.1-pro-preview 2.00/12.00 USD per 1M tokens).
# Mixtral-8x7B is priced as the lite rung, GPT-4 as the pro rung: the ratio, not the level, drives savings.
LITE_PRICE = TokenPrice(input=0.25, output=1.50)
PRO_PRICE = TokenPrice(input=2.00, output=12.00)


def estimate_tokens(text: str) -> int:
    """~4 characters per token: the usual rule of thumb for English with Gemini/GPT tokenizers."""
    return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0


def parse_prices(raw: Mapping[str, Any], source: str = "prices") -> PriceTable:
    """{model: {"input": x, "output": y}} or {model: [x, y]} → PriceTable; ValueError names the bad entry."""
    out: PriceTable = {}
    for model, value in raw.items():
        try:
            if isinstance(value, Mapping):
                inp = value.get("input", value.get("input_per_mtok"))
                outp = value.get("output", value.get("output_per_mtok"))
            else:
                inp, outp = value
            price = TokenPrice(float(inp), float(outp))
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{source}: price of {model!r} must be {{input = X, output = Y}} USD/1M"
            ) from exc
        if price.input < 0 or price.output < 0:
            raise ValueError(f"{source}: price of {model!r} is negative")
        out[str(model)] = price
    return out


def resolve_prices(models: Iterable[str], prices: Mapping[str, Any] | None = None) -> PriceTable:
    """Prices for `models`: the explicit mapping, then the registry for the rest."""
    models = list(models)
    table = parse_prices(prices or {})
    rest = [m for m in models if m not in table]
    if rest:
        table.update(registry_prices(rest))
    return table


def registry_prices(models: Iterable[str]) -> PriceTable:
    """Today's registry prices for models named by model id or tier name; {} if the registry is unusable."""
    try:
        from tierwise.tiers import load_registry

        data = load_registry().data
    except Exception:  # noqa: BLE001 - a missing or broken registry only means "no price known here"
        return {}
    out: PriceTable = {}
    for name in models:
        model_id = data.tiers[name].model if name in data.tiers else name
        spec = data.models.get(model_id)
        if spec is not None:
            p = spec.price_on(utc_today())
            out[name] = TokenPrice(float(p.input), float(p.output))
    return out
