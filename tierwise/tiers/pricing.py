"""Gemini billing rules applied to one call's token counts.

- thinking tokens are billed as output (they are already inside `output_tokens`);
- cached input tokens are billed at the cached rate;
- when the prompt exceeds a model's long-context threshold, the WHOLE request (input and output) is billed
  at the long rates;
- audio input tokens at the audio rate (genai-prices lists one for most Flash models), the rest at the text rate;
- Google Search grounding: each query the model ran at the listed per-1,000 rate;
- the price in force is the one whose `effective` date is the latest on or before the call's UTC date;
- the service tier SERVED bills the request at that tier's listed rates where genai-prices has them, else at
  the standard rates times the registry's `[service_tiers]` factor (flex half price, priority +80%); a Priority
  request Google serves as standard is billed as standard;
- a LangChain cache hit was paid for when it was first generated: it costs nothing again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from .catalogue import SERVICE_TIERS
from .schema import DEFAULT_SERVICE_TIERS, ModelSpec

log = logging.getLogger("tierwise.calls")

PER_TOKEN = 1 / 1_000_000


@dataclass(frozen=True)
class Usage:
    """Token counts of one request, as LangChain or the response body reports them: `output_tokens` already
    includes thinking tokens; `audio_tokens` (and `cached_audio_tokens`) are the audio part of `input_tokens`
    (and of `cached_tokens`), billed at the audio rate; `search_queries` are Google Search grounding queries."""

    input_tokens: int = 0
    output_tokens: int = 0
    thinking_tokens: int = 0
    cached_tokens: int = 0
    cache_hit: bool = False  # served from LangChain's cache: no new bill
    audio_tokens: int = 0
    cached_audio_tokens: int = 0
    search_queries: int = 0


def is_cache_hit(usage_metadata: Mapping[str, Any] | None) -> bool:
    """LangChain marks a cache hit by zeroing `total_cost` in the replayed usage; a live Gemini reply has none."""
    return usage_metadata is not None and usage_metadata.get("total_cost", None) == 0


def today() -> date:
    """The day prices, caps and reports are read on: the UTC date, the same on every worker whatever its zone."""
    return datetime.now(UTC).date()


def price(
    model: ModelSpec,
    usage: Usage,
    on: date,
    *,
    service_tier: str = "standard",
    factors: Mapping[str, float] | None = None,
) -> float:
    """USD for ONE request of `model` with `usage`, at the prices in force on `on` (a UTC date).

    `service_tier`: the tier that served the call (see `served_tier`): its own listed rates when the price entry
    has them (genai-prices), else the standard rates times `factors[tier]` (the registry's `service_tiers`); an
    unknown tier is a ValueError rather than a silent full price. Long-context rates apply when THIS request's
    prompt exceeds the threshold: price each request (each automatic-continuation hop) on its own.
    A model without any price is a ValueError too (the registry refuses such a model when it loads).
    """
    if not (usage.cache_hit or usage.cached_tokens or usage.audio_tokens or usage.search_queries):
        # the all-Pro counterfactual of every call: `price_parts`' text-only total, without building its Cost
        _p, rate_in, rate_out, _cached, _audio, _audio_cached, factor = _rates(model, usage, on, service_tier, factors)
        return round(float(usage.input_tokens * rate_in * PER_TOKEN * factor
                           + usage.output_tokens * rate_out * PER_TOKEN * factor), 10)
    return price_parts(model, usage, on, service_tier=service_tier, factors=factors).total_usd


@dataclass(frozen=True)
class Cost:
    """One call's bill and where it comes from, as tracing tools show it: input (cached part included) plus
    output (thinking part included) is the total; the service tier that served it is already applied."""

    total_usd: float = 0.0
    input_usd: float = 0.0
    output_usd: float = 0.0
    cached_input_usd: float = 0.0  # the cached part of input_usd
    search_usd: float = 0.0  # the Google Search grounding part of input_usd
    thinking_usd: float = 0.0  # the thinking part of output_usd
    service_tier: str = "standard"


def price_parts(
    model: ModelSpec,
    usage: Usage,
    on: date,
    *,
    service_tier: str = "standard",
    factors: Mapping[str, float] | None = None,
) -> Cost:
    """`price`, itemised: the parts add up to the total (the total is rounded to 1e-10 USD; output takes the
    rounding so that input + output == total exactly as floats)."""
    if usage.cache_hit:
        _rates(model, usage, on, service_tier, factors, check_only=True)
        return Cost(service_tier=service_tier)
    p, rate_in, rate_out, rate_cached, audio_in, audio_cached, factor = _rates(model, usage, on, service_tier, factors)
    if not (usage.cached_tokens or usage.audio_tokens or usage.search_queries):
        # the usual request (text in, no cache, no grounding): the general formula below with its zero terms left
        # out — the same floats, in a third of the time (this runs twice per call)
        input_tokens_usd = usage.input_tokens * rate_in * PER_TOKEN * factor
        output_usd = usage.output_tokens * rate_out * PER_TOKEN * factor
        total = round(float(input_tokens_usd + output_usd), 10)
        input_usd = min(total, round(float(input_tokens_usd), 10))
        thinking = min(usage.thinking_tokens, usage.output_tokens)
        return Cost(total_usd=total, input_usd=input_usd, output_usd=total - input_usd,
                    thinking_usd=round(thinking * rate_out * PER_TOKEN * factor, 10), service_tier=service_tier)
    rate_cached = rate_in if rate_cached is None else rate_cached  # no cached rate known: full price
    audio_in = rate_in if audio_in is None else audio_in  # no audio rate known: the input rate
    audio_cached = rate_cached if audio_cached is None else audio_cached
    cached = min(usage.cached_tokens, usage.input_tokens)
    audio = min(usage.audio_tokens, usage.input_tokens)
    cached_audio = min(usage.cached_audio_tokens, cached, audio)
    text, cached_text = usage.input_tokens - audio, cached - cached_audio
    cached_usd = (cached_text * rate_cached + cached_audio * audio_cached) * PER_TOKEN * factor
    input_tokens_usd = ((text - cached_text) * rate_in + (audio - cached_audio) * audio_in) * PER_TOKEN * factor
    charged = min(usage.search_queries, 1) if model.grounding_billed_per == "prompt" else usage.search_queries
    search_usd = charged * (p.search_per_1k or 0.0) / 1000  # a per-search charge: no service-tier factor
    output_usd = usage.output_tokens * rate_out * PER_TOKEN * factor
    total = round(float(input_tokens_usd + cached_usd + search_usd + output_usd), 10)
    input_usd = min(total, round(float(input_tokens_usd + cached_usd + search_usd), 10))
    thinking = min(usage.thinking_tokens, usage.output_tokens)
    return Cost(total_usd=total, input_usd=input_usd, output_usd=total - input_usd,
                cached_input_usd=round(float(cached_usd), 10), search_usd=round(float(search_usd), 10),
                thinking_usd=round(thinking * rate_out * PER_TOKEN * factor, 10), service_tier=service_tier)


def _rates(model: ModelSpec, usage: Usage, on: date, service_tier: str, factors: Mapping[str, float] | None,
           check_only: bool = False) -> tuple[Any, ...]:
    """(price entry, input, output, cached input, audio input, cached audio input rates, tier factor) for one
    request of `usage` on `on` at `service_tier`: the tier's own listed rates if genai-prices has them (flat), else
    the standard ones (long-context when this request's prompt passes the threshold) times the tier's factor."""
    factors = DEFAULT_SERVICE_TIERS if factors is None else factors
    if service_tier not in factors or service_tier not in SERVICE_TIERS:
        raise ValueError(f"unknown service tier {service_tier!r} (known: {sorted(factors)})")
    if check_only:
        return ()
    p = model.price_on(on)
    long = p.long_context_threshold is not None and usage.input_tokens > p.long_context_threshold
    # (the registry refuses a long_context_threshold without long_input and long_output)
    listed = p.service_tier_rates.get(service_tier)  # type: ignore[call-overload]  # checked above: a tier name
    if listed is not None:  # the tier's own rates (flat: genai-prices lists no long-context tier rates)
        return p, listed.input, listed.output, listed.cached_input, listed.input_audio, listed.cached_input_audio, 1.0
    return (p, p.long_input if long and p.long_input is not None else p.input,
            p.long_output if long and p.long_output is not None else p.output,
            p.long_cached_input if long else p.cached_input, p.input_audio, p.cached_input_audio,
            factors[service_tier])


def batch_parts(model_id: str, model: ModelSpec, usage: Usage, on: date) -> Cost:
    """One request answered by a Gemini Batch API job, itemised: genai-prices' batch rates for the model on that
    day (half the standard rates, with their exceptions: e.g. gemini-3.1-pro-preview's cache reads stay at the
    standard rate). A model genai-prices has no batch rates for is billed at its standard price (fail closed: never
    less than Google may charge). Batch is not a service tier: the Cost says standard, the record says batch."""
    from . import list_prices

    if usage.cache_hit:
        return Cost()
    cached = min(usage.cached_tokens, usage.input_tokens)
    found = list_prices.calc_batch(model_id, usage.input_tokens, usage.output_tokens, cached, on)
    if found is None:
        return price_parts(model, usage, on)
    input_usd, output_usd = round(float(found[0]), 10), round(float(found[1]), 10)
    cached_usd = list_prices.calc_batch(model_id, cached, 0, cached, on) if cached else None
    thinking = min(usage.thinking_tokens, usage.output_tokens)
    return Cost(total_usd=round(input_usd + output_usd, 10), input_usd=input_usd, output_usd=output_usd,
                cached_input_usd=round(float(cached_usd[0]), 10) if cached_usd else 0.0,
                thinking_usd=round(output_usd * thinking / usage.output_tokens, 10) if usage.output_tokens else 0.0)


def batch_price(model_id: str, model: ModelSpec, usage: Usage, on: date) -> float:
    """`batch_parts`' total: USD for one request answered by a Batch API job."""
    return batch_parts(model_id, model, usage, on).total_usd


def add_costs(costs: Sequence[Cost]) -> Cost:
    """The bill of several requests of one call (google-genai's continuation hops), each priced on its own; the
    tier named is the last request's."""
    if not costs:
        return Cost()
    total = round(sum(c.total_usd for c in costs), 10)
    input_usd = min(total, round(sum(c.input_usd for c in costs), 10))
    return Cost(total_usd=total, input_usd=input_usd, output_usd=total - input_usd,
                cached_input_usd=round(sum(c.cached_input_usd for c in costs), 10),
                search_usd=round(sum(c.search_usd for c in costs), 10),
                thinking_usd=round(sum(c.thinking_usd for c in costs), 10), service_tier=costs[-1].service_tier)


def price_source(model: ModelSpec, on: date, service_tier: str) -> str:
    """Where the rates billed for `service_tier` on `on` come from: the price entry's source, with the
    registry's multiplier when the entry lists no rates for that tier."""
    p = model.price_on(on)
    if service_tier == "standard" or service_tier in p.service_tier_rates:
        return p.source
    return f"{p.source} × registry [service_tiers].{service_tier}"


def served_tier(requested: str, reported: object = None, *, offered: Sequence[str] | None = None,
                factors: Mapping[str, float] | None = None, model: str = "the model") -> str:
    """The service tier to bill: the one the response says served the call, else the one requested (sent).

    Gemini may serve a Priority request as standard and reports the tier served (`usageMetadata.serviceTier`:
    e.g. "standard", "FLEX", "SERVICE_TIER_PRIORITY", or google-genai's ServiceTier enum). Absent, "unspecified"
    or unrecognised, the requested tier is billed (the SDK does not always expose what was served). A reported
    tier that costs more than the one requested, or that the model does not offer (`offered`), is logged and
    billed at the lower of the two prices: a response never raises the bill above what was asked for.
    """
    value = getattr(reported, "value", reported)
    if not isinstance(value, str):
        return requested
    name = value.strip().lower().removeprefix("service_tier_")
    if name not in SERVICE_TIERS or name == requested:
        return requested
    rates = factors or {}
    dearer = rates.get(name, 1.0) > rates.get(requested, 1.0)
    if dearer or (offered is not None and name not in offered):
        why = "above the one requested" if dearer else f"one {model} does not offer ({', '.join(offered or ())})"
        log.warning("%s answered on service tier %r, %s (%r): billed at the lower price", model, name, why, requested)
        return min((requested, name), key=lambda tier: rates.get(tier, 1.0))
    return name
