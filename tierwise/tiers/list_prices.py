"""List prices from pydantic's genai-prices, read from the data bundled in the installed package.

genai-prices (updated monthly on PyPI) keeps Google's prices with their dates and prompt-size tiers. tierwise
reads them from the package's own bundled snapshot: never fetched at run time (its auto-updater is never
started, and a snapshot another library may have installed process-wide is ignored). Upgrading the package is
how prices change; the registry's `[[models."ID".prices]]` entries override them from their effective date on.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

PROVIDER = "google"
ALWAYS = date.min  # a genai-prices price with no start date: in force since the model was listed


@cache
def version() -> str | None:
    """The installed genai-prices version, or None when it is not installed."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("genai-prices")
    except PackageNotFoundError:
        return None


def source_name() -> str:
    return f"genai-prices {version()}"


@cache
def _snapshot() -> Any:
    """The bundled data only: a fresh snapshot of `genai_prices.data`, never an auto-updated one."""
    from genai_prices import data
    from genai_prices.data_snapshot import DataSnapshot

    return DataSnapshot(providers=data.providers, from_auto_update=False)


@cache
def google_models() -> tuple[str, ...]:
    """Every model id genai-prices lists for Google (empty when it is not installed)."""
    if version() is None:
        return ()
    return tuple(model.id for model in _snapshot().find_provider(None, PROVIDER, None).models)


@cache
def canonical(name: str) -> str | None:
    """The genai-prices model id a name reaches (an alias such as gemini-flash-latest, or a dated variant), or
    None when genai-prices knows no such name."""
    if version() is None:
        return None
    try:
        _, info = _snapshot().find_provider_model(name, None, PROVIDER, None)
    except LookupError:
        return None
    return str(info.id)


@cache
def entries(model_id: str) -> tuple[dict[str, Any], ...] | None:
    """Price entries (the registry's `prices` shape, as plain data) genai-prices lists for `model_id`, oldest
    first: one per date on which its standard or its flex/priority prices change. None when genai-prices is not
    installed, lacks the model, or prices it in a shape tierwise cannot bill (more than one prompt-size tier)."""
    if version() is None:
        return None
    try:
        _, info = _snapshot().find_provider_model(model_id, None, PROVIDER, None)
    except LookupError:
        return None
    out = []
    named = source_name() if info.id == model_id else f"{source_name()} (as {info.id})"
    for effective in _change_dates(info):
        when = _instant(effective)
        entry = _entry(info.get_prices(when))
        if entry is None:
            return None
        rates = {}
        for tier in ("flex", "priority"):
            listed = info.get_prices(when, {"service_tier": tier})
            tier_entry = _entry(listed) if listed != info.get_prices(when) else None
            if tier_entry is not None and "long_context_threshold" not in tier_entry:
                rates[tier] = {k: v for k, v in tier_entry.items() if k in _TIER_RATE_KEYS}
        if rates:
            entry["service_tier_rates"] = rates
        out.append({"effective": effective, **entry, "source": named})
    return tuple(out)


_TIER_RATE_KEYS = ("input", "output", "cached_input", "input_audio", "cached_input_audio")


def _change_dates(info: Any) -> list[date]:
    """The dates a model's standard prices or its service-tier variants start (ALWAYS for the undated first)."""
    from genai_prices.types import ModelPrice, StartDateConstraint

    days = {ALWAYS}
    if not isinstance(info.prices, ModelPrice):
        days |= {c.constraint.start_date for c in info.prices if isinstance(c.constraint, StartDateConstraint)}
    for variant in info.price_variants or ():
        if "service_tier" in variant.when and isinstance(variant.constraint, StartDateConstraint):
            days.add(variant.constraint.start_date)
    return sorted(days)


def _instant(day: date) -> Any:
    from datetime import UTC, datetime

    if day == ALWAYS:
        return datetime(1970, 1, 1, tzinfo=UTC)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _entry(prices: Any) -> dict[str, Any] | None:
    """genai-prices' ModelPrice as a registry price entry: base rates, plus long-context rates when the
    prices have one prompt-size tier (Gemini Pro: the whole request at the tier's rates above the threshold),
    audio input rates and the Google Search grounding charge per 1,000 queries."""
    from genai_prices.types import TieredPrices

    rates = {"input": prices.input_mtok, "output": prices.output_mtok, "cached_input": prices.cache_read_mtok}
    if rates["input"] is None or rates["output"] is None:
        return None
    tiers = {key: value.tiers for key, value in rates.items() if isinstance(value, TieredPrices)}
    starts = {tier.start for found in tiers.values() for tier in found}
    if any(len(found) != 1 for found in tiers.values()) or len(starts) > 1:
        return None
    entry: dict[str, Any] = {}
    for key, value in rates.items():
        if value is None:
            continue
        base = value.base if isinstance(value, TieredPrices) else value
        entry[key] = float(base)
        if starts:
            entry[f"long_{key}"] = float(value.tiers[0].price if isinstance(value, TieredPrices) else value)
    if starts:
        entry["long_context_threshold"] = starts.pop()
    for key, attr in (("input_audio", "input_audio_mtok"), ("cached_input_audio", "cache_audio_read_mtok"),
                      ("search_per_1k", "web_searches_kcount")):
        value = getattr(prices, attr, None)
        if value is not None and not isinstance(value, TieredPrices):
            entry[key] = float(value)
    return entry


def calc(model_id: str, input_tokens: int, output_tokens: int, cached_tokens: int, on: date, *,
         audio_tokens: int = 0) -> Decimal | None:
    """What genai-prices itself computes for these tokens on that day (USD, standard service), for checks."""
    if version() is None:
        return None
    from datetime import UTC

    from genai_prices.types import Usage

    usage = Usage(input_tokens=input_tokens, output_tokens=output_tokens, cache_read_tokens=cached_tokens,
                  input_audio_tokens=audio_tokens or None)
    when = datetime(on.year, on.month, on.day, 12, tzinfo=UTC)
    try:
        _, info = _snapshot().find_provider_model(model_id, None, PROVIDER, None)
    except LookupError:
        return None
    provider = _snapshot().find_provider(None, PROVIDER, None)
    total: Decimal = info.calc_price(usage, provider, genai_request_timestamp=when).total_price
    return total


def calc_batch(model_id: str, input_tokens: int, output_tokens: int, cached_tokens: int,
               on: date) -> tuple[Decimal, Decimal] | None:
    """USD at the Gemini Batch API's rates, as genai-prices prices them (`price_context={"processing": "batch"}`,
    its batch variants with their cache-read exceptions); None when genai-prices lacks the model or has no batch
    rates for it on that day (then the caller bills the standard price: never less than Google may charge).
    Returns (input USD, output USD)."""
    if version() is None:
        return None
    from datetime import UTC, datetime

    from genai_prices.types import Usage

    when = datetime(on.year, on.month, on.day, 12, tzinfo=UTC)
    try:
        _, info = _snapshot().find_provider_model(model_id, None, PROVIDER, None)
    except LookupError:
        return None
    batch_rates = [v for v in info.price_variants or () if v.when == {"processing": "batch"}
                   and (v.constraint is None or v.constraint.active(when))]
    if not batch_rates:
        return None
    usage = Usage(input_tokens=input_tokens, output_tokens=output_tokens, cache_read_tokens=cached_tokens)
    provider = _snapshot().find_provider(None, PROVIDER, None)
    priced = info.calc_price(usage, provider, genai_request_timestamp=when, price_context={"processing": "batch"})
    return priced.input_price, priced.output_price


def with_list_prices(document: Mapping[str, Any]) -> dict[str, Any]:
    """The registry document with genai-prices' entries added to every model: the registry's own entries
    (overrides) come first and win from their earliest effective date on; genai-prices' entries fill the
    dates before it (or all dates, for a model without overrides)."""
    models = document.get("models")
    if not isinstance(models, Mapping):
        return dict(document)
    filled = {}
    for model_id, spec in models.items():
        if isinstance(spec, Mapping) and isinstance(model_id, str):
            own = spec.get("prices") or []
            first_own = _earliest(own)
            every = entries(model_id) or ()
            listed = [entry for entry in every if first_own is None or entry["effective"] < first_own]
            if isinstance(own, list):
                spec = {**spec, "prices": [*(_completed(entry, every) for entry in own), *listed]}
        filled[model_id] = spec
    return {**document, "models": filled}


# What an override that names only token rates keeps from genai-prices: a negotiated input/output price does not
# make audio cheaper than listed or grounding free. An override that sets one of these keys sets it for good.
INHERITED = ("input_audio", "cached_input_audio", "search_per_1k")


def _completed(entry: Any, listed: tuple[dict[str, Any], ...]) -> Any:
    """A registry price entry with the keys it leaves out of INHERITED taken from genai-prices' entry in force on
    its effective date."""
    day = _day(entry.get("effective")) if isinstance(entry, Mapping) else None
    if day is None or not listed:
        return entry
    in_force = [e for e in listed if e["effective"] <= day] or [listed[0]]
    source = in_force[-1]
    extra = {key: source[key] for key in INHERITED if key not in entry and key in source}
    return {**entry, **extra} if extra else entry


def _day(value: Any) -> date | None:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    # a date-time is not a date (validation says so); comparing one with a date would raise TypeError here
    return value if isinstance(value, date) and not isinstance(value, datetime) else None


def _earliest(own: Any) -> date | None:
    """The earliest effective date among the registry's entries (unreadable ones are left to validation)."""
    entries_ = own if isinstance(own, list) else []
    days = [_day(entry.get("effective")) for entry in entries_ if isinstance(entry, Mapping)]
    return min((day for day in days if day is not None), default=None)
