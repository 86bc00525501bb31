"""The numbers of `tierwise report`, computed from ledger entries; renderers only format them.

Per (stage, task type, model): calls, tokens, dollars, p50/p95 latency, escalation and failure rates; the total
against the all-Pro counterfactual; spend per stage and per tier over time; the share of calls per tier.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tierwise.ledger.entry import LedgerEntry
from tierwise.ledger.shadow import ShadowPair
from tierwise.tiers import Registry, load_registry
from tierwise.tiers.economics import answering, direct_pro, thinking_for, thinking_from

NO_TASK = "(none)"


@dataclass(frozen=True)
class Stats:
    """One group of calls. A failure is a call whose outcome is not ok (an error, or output that did not parse)."""

    calls: int
    input_tokens: int
    output_tokens: int
    thinking_tokens: int
    cached_tokens: int
    cost_usd: float
    all_pro_cost_usd: float
    p50_latency_ms: float
    p95_latency_ms: float
    escalation_rate: float
    failure_rate: float
    downgrade_rate: float

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class Row:
    stage: str
    task_type: str
    model: str
    tier: str
    stats: Stats


@dataclass(frozen=True)
class Series:
    """Spend per time bucket (`unit`: hour, day or month, UTC), split by stage and by tier."""

    unit: str
    buckets: list[str]
    by_stage: dict[str, list[float]]
    by_tier: dict[str, list[float]]


@dataclass(frozen=True)
class DirectProTotals:
    """One direct Pro call per request, summed; how many requests were measured (a shadow call on Pro answered
    the same stage) or estimated, and the Pro thinking per route the estimates used."""

    cost_usd: float
    measured_requests: int
    estimated_requests: int
    thinking: dict[str, dict[str, Any]]  # route -> {"tokens", "samples", "source": "ledger" | "default"}


@dataclass(frozen=True)
class Report:
    ledger: str
    since: datetime | None
    until: datetime | None
    first_call: datetime
    last_call: datetime
    total: Stats
    requests: int  # distinct request ids (calls recorded without one count as their own request)
    escalated_requests: int
    rows: list[Row]
    by_stage: dict[str, Stats]
    by_task_type: dict[str, Stats]
    by_model: dict[str, Stats]
    by_tier: dict[str, Stats]
    series: Series
    tier_order: list[str] = field(default_factory=list)
    by_purpose: dict[str, Stats] = field(default_factory=dict)  # shadow / eval calls, kept out of the totals
    direct: DirectProTotals | None = None  # one direct Pro call per request: the honest counterfactual
    by_processing: dict[str, Stats] = field(default_factory=dict)  # "standard" / "batch" (Batch API jobs)

    @property
    def net_saving_usd(self) -> float:
        return (self.direct.cost_usd if self.direct else 0.0) - self.total.cost_usd

    @property
    def net_saving_share(self) -> float:
        return self.net_saving_usd / self.direct.cost_usd if self.direct and self.direct.cost_usd > 0 else 0.0

    @property
    def saving_usd(self) -> float:
        return self.total.all_pro_cost_usd - self.total.cost_usd

    @property
    def saving_share(self) -> float:
        return self.saving_usd / self.total.all_pro_cost_usd if self.total.all_pro_cost_usd > 0 else 0.0

    def tier_share(self) -> dict[str, float]:
        """Share of calls per tier, tiers in registry order."""
        return {tier: s.calls / self.total.calls for tier, s in self.by_tier.items()}

    def to_dict(self) -> dict[str, Any]:
        def stats(s: Stats) -> dict[str, Any]:
            return {**asdict(s), "tokens": s.tokens}

        return {
            "ledger": self.ledger,
            "since": _iso(self.since),
            "until": _iso(self.until),
            "first_call": _iso(self.first_call),
            "last_call": _iso(self.last_call),
            "total": stats(self.total),
            "direct_pro_cost_usd": self.direct.cost_usd if self.direct else None,
            "net_saving_usd": round(self.net_saving_usd, 10) if self.direct else None,
            "net_saving_share": round(self.net_saving_share, 6) if self.direct else None,
            "direct_pro_basis": asdict(self.direct) if self.direct else None,
            "all_pro_cost_usd": self.total.all_pro_cost_usd,
            "saving_usd": round(self.saving_usd, 10),
            "saving_share": round(self.saving_share, 6),
            "requests": self.requests,
            "escalated_requests": self.escalated_requests,
            "rows": [
                {"stage": r.stage, "task_type": r.task_type, "model": r.model, "tier": r.tier, **stats(r.stats)}
                for r in self.rows
            ],
            "by_stage": {k: stats(v) for k, v in self.by_stage.items()},
            "by_task_type": {k: stats(v) for k, v in self.by_task_type.items()},
            "by_model": {k: stats(v) for k, v in self.by_model.items()},
            "by_tier": {k: stats(v) for k, v in self.by_tier.items()},
            "tier_share": {k: round(v, 6) for k, v in self.tier_share().items()},
            "series": asdict(self.series),
            "by_purpose": {k: stats(v) for k, v in self.by_purpose.items()},
            "by_processing": {k: stats(v) for k, v in self.by_processing.items()},
        }


def build_report(
    entries: Sequence[LedgerEntry],
    *,
    ledger: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    tier_order: Sequence[str] = (),
    registry: Registry | None = None,
    shadow_pairs: Sequence[ShadowPair] = (),
) -> Report:
    """Aggregate `entries` (at least one). `tier_order` (cheapest first) orders tiers; unknown ones go last.
    `registry` prices the direct-Pro counterfactual (default: the packaged one); `shadow_pairs` on Pro replace
    its estimate with measured costs."""
    if not entries:
        raise ValueError("no entries to report on")
    registry = registry or load_registry(None)
    entries = registry.current_names(entries)  # rows stored under a stage's former name count under its name now
    shadow_pairs = registry.current_names(shadow_pairs)
    everything = entries
    # Shadow and eval calls are not the traffic the totals describe: they get a line of their own (a ledger
    # holding nothing else is reported as it is).
    traffic = [e for e in entries if not e.purpose]
    by_purpose = dict(_group([e for e in entries if e.purpose], lambda e: e.purpose, summarize)) if traffic else {}
    entries = sorted(traffic or entries, key=lambda e: (e.started_at, e.call_id))
    tiers = _ordered({e.tier for e in entries}, tier_order)
    requests: dict[str, bool] = defaultdict(bool)
    for e in entries:
        requests[e.request_id or e.call_id] |= e.escalated
    rows = [
        Row(stage, task, model, group[0].tier, summarize(group))
        for (stage, task, model), group in _group(entries, lambda e: (e.stage, e.task_type or NO_TASK, e.model))
    ]
    rows.sort(key=lambda r: -r.stats.cost_usd)  # where the money goes, first (stable: ties keep name order)
    return Report(
        ledger=ledger,
        since=since,
        until=until,
        first_call=entries[0].started_at,
        last_call=entries[-1].started_at,
        total=summarize(entries),
        requests=len(requests),
        escalated_requests=sum(requests.values()),
        rows=rows,
        by_stage=dict(_group(entries, lambda e: e.stage, summarize)),
        by_task_type=dict(_group(entries, lambda e: e.task_type or NO_TASK, summarize)),
        by_model=dict(_group(entries, lambda e: e.model, summarize)),
        by_tier=dict(sorted(_group(entries, lambda e: e.tier, summarize), key=lambda item: tiers.index(item[0]))),
        series=_series(entries, tiers),
        tier_order=tiers,
        by_purpose=by_purpose,
        by_processing=dict(_group(entries, lambda e: e.extra.get("processing") or "standard", summarize)),
        direct=direct_totals(entries, everything, registry, shadow_pairs),
    )


def direct_totals(traffic: Sequence[LedgerEntry], everything: Sequence[LedgerEntry], registry: Registry,
                  shadow_pairs: Sequence[ShadowPair] = ()) -> DirectProTotals:
    """Sum, over requests, what one direct Pro call per request would have cost (ledger/economics.py)."""
    medians = thinking_from(everything, registry)  # shadow calls on Pro are Pro answering too
    top = registry.data.tier_order[-1]
    on_pro = {p.base_call_id: p for p in shadow_pairs if p.shadow_tier == top}
    requests: dict[str, list[LedgerEntry]] = defaultdict(list)
    for e in traffic:
        requests[e.request_id or e.call_id].append(e)
    cost, measured, used = 0.0, 0, {}
    for calls in requests.values():
        route = next((c.route for c in calls if c.route), None)
        pair = next((on_pro[c.call_id] for c in reversed(answering(calls, registry)) if c.call_id in on_pro), None)
        if pair is not None:
            cost += pair.shadow_cost_usd
            measured += 1
            continue
        thinking = thinking_for(route, medians, registry)
        used[route or "(none)"] = {"tokens": thinking.tokens, "samples": thinking.samples, "source": thinking.source}
        cost += direct_pro(calls, route, registry, thinking, on=calls[0].started_at.date()).cost_usd
    return DirectProTotals(round(cost, 10), measured, len(requests) - measured, dict(sorted(used.items())))


def summarize(entries: Sequence[LedgerEntry]) -> Stats:
    n = len(entries)
    latencies = sorted(e.latency_ms for e in entries)
    return Stats(
        calls=n,
        input_tokens=sum(e.input_tokens for e in entries),
        output_tokens=sum(e.output_tokens for e in entries),
        thinking_tokens=sum(e.thinking_tokens for e in entries),
        cached_tokens=sum(e.cached_tokens for e in entries),
        cost_usd=round(math.fsum(e.cost_usd for e in entries), 10),
        all_pro_cost_usd=round(math.fsum(e.all_pro_cost_usd for e in entries), 10),
        p50_latency_ms=round(percentile(latencies, 0.50), 3),
        p95_latency_ms=round(percentile(latencies, 0.95), 3),
        escalation_rate=sum(e.escalated for e in entries) / n,
        failure_rate=sum(e.outcome != "ok" for e in entries) / n,
        downgrade_rate=sum(e.downgraded_from is not None for e in entries) / n,
    )


def percentile(ordered: Sequence[float], q: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default), over sorted values."""
    if not ordered:
        return 0.0
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _group(entries: Iterable[LedgerEntry], key: Callable[[LedgerEntry], Any], then: Callable | None = None):
    groups: dict[Any, list[LedgerEntry]] = defaultdict(list)
    for e in entries:
        groups[key(e)].append(e)
    for k in sorted(groups, key=lambda k: tuple(str(p) for p in k) if isinstance(k, tuple) else str(k)):
        yield k, (then(groups[k]) if then else groups[k])


def _ordered(names: set[str], order: Sequence[str]) -> list[str]:
    known = [t for t in order if t in names]
    return known + sorted(names - set(known))


def _series(entries: Sequence[LedgerEntry], tiers: list[str]) -> Series:
    span = entries[-1].started_at - entries[0].started_at
    unit = "hour" if span <= timedelta(hours=48) else "day" if span <= timedelta(days=120) else "month"
    buckets = _buckets(entries[0].started_at, entries[-1].started_at, unit)
    index = {b: i for i, b in enumerate(buckets)}
    stages = sorted({e.stage for e in entries})
    by_stage = {s: [0.0] * len(buckets) for s in stages}
    by_tier = {t: [0.0] * len(buckets) for t in tiers}
    for e in entries:
        i = index[_bucket(e.started_at, unit)]
        by_stage[e.stage][i] += e.cost_usd
        by_tier[e.tier][i] += e.cost_usd
    rounded = lambda d: {k: [round(v, 10) for v in vs] for k, vs in d.items()}  # noqa: E731
    return Series(unit, buckets, rounded(by_stage), rounded(by_tier))


def _bucket(moment: datetime, unit: str) -> str:
    return moment.strftime({"hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d", "month": "%Y-%m"}[unit])


def _buckets(first: datetime, last: datetime, unit: str) -> list[str]:
    """Every bucket from first to last, empty ones included, so the time axis is not squeezed."""
    out: list[str] = []
    moment = first.replace(minute=0, second=0, microsecond=0)
    if unit != "hour":
        moment = moment.replace(hour=0)
    while moment <= last:
        label = _bucket(moment, unit)
        if not out or out[-1] != label:
            out.append(label)
        moment += timedelta(hours=1) if unit == "hour" else timedelta(days=1)
    return out


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
