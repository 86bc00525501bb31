"""List prices from pydantic's genai-prices, read from the data bundled in the installed package.

genai-prices (updated monthly on PyPI) keeps Google's prices with their dates and prompt-size tiers. tierwise
reads them from the package's own bundled snapshot: never fetched at run time (its auto-updater is never
started, and a snapshot another library may have installed process-wide is ignored). Upgrading the package is
how prices change; the registry's `[[models."ID".prices]]` entries override them from their effective date on.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
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
def entries(model_id: str) -> tuple[dict[str, Any], ...] | None:
    """Price entries (the registry's `prices` shape, as plain data) genai-prices lists for `model_id`, oldest
    first; None when genai-prices is not installed, lacks the model, or prices it in a shape tierwise cannot
    bill (more than one prompt-size tier)."""
    if version() is None:
        return None
    try:
        _, info = _snapshot().find_provider_model(model_id, None, PROVIDER, None)
    except LookupError:
        return None
    dated = _dated_prices(info.prices)
    out = []
    for effective, prices in dated:
        entry = _entry(prices)
        if entry is None:
            return None
        named = source_name() if info.id == model_id else f"{source_name()} (as {info.id})"
        out.append({"effective": effective, **entry, "source": named})
    return tuple(out)


def _dated_prices(prices: Any) -> list[tuple[date, Any]]:
    from genai_prices.types import ModelPrice, StartDateConstraint

    if isinstance(prices, ModelPrice):
        return [(ALWAYS, prices)]
    dated = []
    for conditional in prices:
        constraint = conditional.constraint
        if constraint is None:
            dated.append((ALWAYS, conditional.prices))
        elif isinstance(constraint, StartDateConstraint):
            dated.append((constraint.start_date, conditional.prices))
        # time-of-day prices (off-peak discounts) are not Gemini's; not modelled
    return sorted(dated, key=lambda pair: pair[0])


def _entry(prices: Any) -> dict[str, Any] | None:
    """genai-prices' ModelPrice as a registry price entry: base rates, plus long-context rates when the
    prices have one prompt-size tier (Gemini Pro: the whole request at the tier's rates above the threshold)."""
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
    return entry


def calc(model_id: str, input_tokens: int, output_tokens: int, cached_tokens: int, on: date) -> Decimal | None:
    """What genai-prices itself computes for these tokens on that day (USD, standard service), for checks."""
    if version() is None:
        return None
    from datetime import UTC, datetime

    from genai_prices.types import Usage

    usage = Usage(input_tokens=input_tokens, output_tokens=output_tokens, cache_read_tokens=cached_tokens)
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
            listed = [entry for entry in entries(model_id) or () if first_own is None or entry["effective"] < first_own]
            spec = {**spec, "prices": [*own, *listed]} if isinstance(own, list) else spec
        filled[model_id] = spec
    return {**document, "models": filled}


def _earliest(own: Any) -> date | None:
    """The earliest effective date among the registry's entries (unreadable ones are left to validation)."""
    days = []
    for entry in own if isinstance(own, list) else []:
        day = entry.get("effective") if isinstance(entry, Mapping) else None
        if isinstance(day, str):
            try:
                day = date.fromisoformat(day)
            except ValueError:
                continue
        if isinstance(day, date):
            days.append(day)
    return min(days) if days else None
