"""Honest economics: what ONE direct Pro call answering the same request would have cost, and the net saving.

A user's real alternative to tierwise is not "the same calls on Pro" but one Pro call per request, without the
router's own calls (triage, judge), escalations or failed attempts. So, per request:

    direct_pro_cost_usd = Pro input price × the request's input tokens
                        + Pro output price × (the final answer's tokens + Pro's typical thinking tokens there)
    net_saving_usd      = direct_pro_cost_usd − total_cost_usd        (every call of the request inside the total)

- the request's input tokens: those of its first call that read the request itself (not a routing call: those
  carry the router's own instructions); the answer's tokens: the visible output of its last good answering call;
- Pro's typical thinking: the median thinking tokens of the ledger's own good Pro calls on that route (any stage
  that answers, shadow calls included) once there are `[economics] min_pro_samples` of them in the window, else
  the registry's stated default (`[economics] pro_thinking_tokens`, per route in `route_thinking_tokens`);
- where a shadow pair re-ran the request's answering call on Pro, that call's measured cost replaces the estimate
  (the report says for how many requests).
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol, TypeVar

from tierwise.errors import LedgerError

from .pricing import Usage, price
from .pricing import today as utc_today
from .registry import Registry, on_event_loop

T = TypeVar("T")

REFRESH_SECONDS = 300.0  # how long the call path reuses the ledger's Pro-thinking medians
SCAN_LIMIT = 20_000  # newest Pro calls read per refresh: bounded on a big ledger


class CallSample(Protocol):
    """What the medians read of one stored call (a LedgerEntry, or a ledger's `good_calls` row)."""

    @property
    def route(self) -> str | None: ...
    @property
    def stage(self) -> str: ...
    @property
    def tier(self) -> str: ...
    @property
    def outcome(self) -> str: ...
    @property
    def thinking_tokens(self) -> int: ...


class LedgerReader(Protocol):
    """What the economics need of a ledger (tierwise.ledger.Ledger is one)."""

    def good_calls(self, tier: str, since: datetime, limit: int) -> Sequence[CallSample]: ...


class LedgerSource(Protocol):
    """Where the call path's medians come from: a Runtime's tierwise.ledger.LedgerPool. Passed in, so pricing
    never imports the storage it reads."""

    def resolve(self, registry: Registry | None = None, *, stand_in: bool = False) -> str: ...

    def ledger(self, url: str, *, create: bool = True) -> LedgerReader: ...

    def kept(self, key: Any, factory: Callable[[], T]) -> T: ...


class Medians:
    """Pro's typical thinking per ledger URL, with when it was read (kept per runtime, in its LedgerSource)."""

    def __init__(self) -> None:
        self.by_url: dict[str, tuple[float, dict[str | None, Thinking]]] = {}
        self.lock = threading.Lock()

    def clear(self) -> None:
        """Forget every median read: the next call reads the ledger again."""
        self.by_url.clear()


def medians_of(source: LedgerSource) -> Medians:
    return source.kept(Medians, Medians)


@dataclass(frozen=True)
class Thinking:
    """Pro's typical thinking tokens on one route, and where the figure comes from."""

    tokens: int
    samples: int  # Pro calls the median is taken over; 0 when it is the registry's default
    source: str  # "ledger" or "default"


@dataclass(frozen=True)
class DirectPro:
    cost_usd: float
    input_tokens: int
    answer_tokens: int
    thinking: Thinking
    basis: str  # "estimated" or "measured" (a shadow call on Pro answered the same stage)

    def describe(self) -> str:
        if self.basis == "measured":
            return "measured: a shadow call on Pro answered the same request"
        where = (f"median of {self.thinking.samples} Pro calls in the ledger" if self.thinking.source == "ledger"
                 else "registry default")
        return (f"estimated: {self.input_tokens} input + {self.answer_tokens} answer + {self.thinking.tokens} thinking "
                f"tokens at Pro rates (thinking: {where})")


def answering(calls: Sequence[Any], registry: Registry) -> list[Any]:
    """The calls a direct Pro call would replace: all but the router's own (triage, judge, ...)."""
    overhead = set(registry.data.economics.overhead_stages)
    return [c for c in calls if c.stage not in overhead]


def direct_pro(calls: Sequence[Any], route: str | None, registry: Registry, thinking: Thinking | None = None,
               on: date | None = None) -> DirectPro:
    """The direct-Pro counterfactual of one request's `calls` (CallRecords or ledger entries, in call order)."""
    thinking = thinking or default_thinking(route, registry)
    answers = answering(calls, registry) or list(calls)
    read_request = next((c for c in answers if c.input_tokens > 0), None)
    input_tokens = read_request.input_tokens if read_request is not None else 0
    final = next((c for c in reversed(answers) if c.outcome == "ok"), None)
    answer_tokens = max(final.output_tokens - final.thinking_tokens, 0) if final is not None else 0
    usage = Usage(input_tokens=input_tokens, output_tokens=answer_tokens + thinking.tokens,
                  thinking_tokens=thinking.tokens)
    cost = price(registry.top_model, usage, on or utc_today(), factors=registry.data.service_tiers)
    return DirectPro(round(cost, 10), input_tokens, answer_tokens, thinking, "estimated")


def totals(calls: Sequence[Any], route: str | None, registry: Registry,
           pool: LedgerSource | None = None) -> dict[str, Any]:
    """The output-state fields of one finished request: its total, the two counterfactuals, the net saving.
    `pool`: the runtime's ledgers, whose Pro calls give Pro's typical thinking (else the registry's default)."""
    total = round(sum(c.cost_usd for c in calls), 10)
    direct = direct_pro(calls, route, registry, typical_thinking(route, registry, pool))
    return {
        "total_cost_usd": total,
        "all_pro_cost_usd": round(sum(c.all_pro_cost_usd for c in calls), 10),
        "direct_pro_cost_usd": direct.cost_usd,
        "net_saving_usd": round(direct.cost_usd - total, 10),
        "direct_pro_basis": direct.describe(),
    }


def default_thinking(route: str | None, registry: Registry) -> Thinking:
    econ = registry.data.economics
    return Thinking(econ.route_thinking_tokens.get(route or "", econ.pro_thinking_tokens), 0, "default")


def thinking_from(entries: Iterable[Any], registry: Registry) -> dict[str | None, Thinking]:
    """Per route, the median thinking of good Pro calls that answer (not routing) — where there are enough."""
    econ, top = registry.data.economics, registry.data.tier_order[-1]
    overhead = set(econ.overhead_stages)
    seen: dict[str | None, list[int]] = {}
    for e in entries:
        if e.tier == top and e.outcome == "ok" and e.stage not in overhead:
            seen.setdefault(e.route, []).append(e.thinking_tokens)
    return {route: Thinking(round(statistics.median(values)), len(values), "ledger")
            for route, values in seen.items() if len(values) >= econ.min_pro_samples}


def thinking_for(route: str | None, measured: Mapping[str | None, Thinking], registry: Registry) -> Thinking:
    return measured.get(route) or default_thinking(route, registry)


def typical_thinking(route: str | None, registry: Registry, pool: LedgerSource | None = None) -> Thinking:
    """Pro's typical thinking on `route` for the call path: the ledger's medians (kept in the runtime's ledger
    pool, refreshed every few minutes); the registry's default without a pool."""
    return thinking_for(route, _cached_medians(registry, pool) if pool is not None else {}, registry)


def _cached_medians(registry: Registry, pool: LedgerSource) -> dict[str | None, Thinking]:
    if not registry.data.ledger.enabled:
        return {}
    url = pool.resolve(registry)
    hit = medians_of(pool).by_url.get(url)
    if hit is not None and time.monotonic() - hit[0] < REFRESH_SECONDS:
        return hit[1]
    if on_event_loop():  # never read the database on an event loop: the ledger hook's warm() refreshes it
        return hit[1] if hit is not None else {}
    return refresh(registry, pool, url)


def refresh_if_stale(registry: Registry, pool: LedgerSource) -> None:
    """Re-read the medians if they are older than REFRESH_SECONDS (the ledger hook's warm(), in a worker thread)."""
    if registry.data.ledger.enabled:
        url = pool.resolve(registry)
        hit = medians_of(pool).by_url.get(url)
        if hit is None or time.monotonic() - hit[0] >= REFRESH_SECONDS:
            refresh(registry, pool, url)


def refresh(registry: Registry, pool: LedgerSource, url: str) -> dict[str | None, Thinking]:
    kept = medians_of(pool)
    with kept.lock:
        medians = _read_medians(pool, url, registry)
        kept.by_url[url] = (time.monotonic(), medians)
    return medians


def _read_medians(pool: LedgerSource, url: str, registry: Registry) -> dict[str | None, Thinking]:
    try:
        ledger = pool.ledger(url, create=False)  # no ledger yet: no medians, and none made for reading
        since = datetime.now(UTC) - timedelta(days=registry.data.economics.window_days)
        rows = ledger.good_calls(registry.data.tier_order[-1], since, SCAN_LIMIT)
    except (LedgerError, NotImplementedError):  # unreadable, or a ledger that lists no calls: the defaults
        return {}
    return thinking_from(rows, registry)
