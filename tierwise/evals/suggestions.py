"""The tier optimizer behind `tierwise suggest`: per stage × task type, should it move up or down a tier?

Evidence is paired quality differences between the tier a task type's stage runs on today and another tier:
shadow pairs from the ledger (your own traffic, judged) and eval results (your cases, checked). For each other
tier the larger of the two samples decides (both are shown). A move is suggested only when

- up:   the higher tier is better by at least `min_quality_gain`, with bootstrap probability ≥ `confidence`;
- down: the lower tier is worse by at most `max_quality_loss`, with probability ≥ `confidence` (never for a
  critical stage);

and every comparison rests on at least `min_samples` pairs — with fewer, the answer is "too few samples", not a
guess. The dollar change re-prices the window's own calls (their token counts) at the other tier's prices.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from typing_extensions import TypedDict

from tierwise.ledger.entry import LedgerEntry
from tierwise.ledger.shadow import ShadowPair
from tierwise.tiers import Registry, Usage, price

from .stats import Interval, paired_interval, probability_above

UP, DOWN, STAY, TOO_FEW = "up", "down", "stay", "too few samples"


@dataclass(frozen=True)
class Evidence:
    """Paired qualities (0..1) of `tier` and of the current tier on the same samples, from one source."""

    tier: str
    source: str  # "shadow" or "eval"
    values: list[float]  # on `tier`
    baseline: list[float]  # on the current tier
    cost_diffs: list[float]  # per sample: what `tier` cost minus what the current tier cost

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return (sum(self.values) - sum(self.baseline)) / self.n

    def interval(self, level: float, resamples: int) -> Interval | None:
        return paired_interval(self.values, self.baseline, level, resamples)

    def probability_above(self, threshold: float, resamples: int) -> float:
        return probability_above(self.values, self.baseline, threshold, resamples)


class _Facts(TypedDict):
    """What every suggestion reports about the traffic, moved or not (Suggestion's fields of the same names)."""

    calls: int
    error_rate: float
    escalation_rate: float
    spend_usd: float


@dataclass(frozen=True)
class Suggestion:
    stage: str
    task_type: str | None
    current: str
    action: str  # UP, DOWN, STAY or TOO_FEW
    target: str | None
    reason: str
    calls: int
    error_rate: float
    escalation_rate: float
    spend_usd: float
    evidence: list[Evidence]
    quality_change: Interval | None = None  # target minus current
    confidence: float | None = None
    usd_change: float | None = None  # over the window, re-pricing its calls at the target tier
    usd_change_per_call: float | None = None

    @property
    def moves(self) -> bool:
        return self.action in (UP, DOWN)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage, "task_type": self.task_type, "current": self.current, "action": self.action,
            "target": self.target, "reason": self.reason, "calls": self.calls, "error_rate": self.error_rate,
            "escalation_rate": self.escalation_rate, "spend_usd": round(self.spend_usd, 10),
            "evidence": [{"tier": e.tier, "source": e.source, "n": e.n} for e in self.evidence],
            "quality_change": self.quality_change.to_dict() if self.quality_change else None,
            "confidence": self.confidence, "usd_change": self.usd_change,
            "usd_change_per_call": self.usd_change_per_call,
        }


def suggest(registry: Registry, entries: Sequence[LedgerEntry], pairs: Sequence[ShadowPair],
            eval_rows: Sequence[dict[str, Any]]) -> list[Suggestion]:
    """One suggestion per (stage, task type) seen in traffic, shadow pairs or eval rows; the dearest first. Rows
    under a stage's former name (`[renamed_stages]`) count under its name now."""
    entries, pairs = registry.current_names(entries), registry.current_names(pairs)
    eval_rows = [{**r, "stage": registry.stage_name(r["stage"])} for r in eval_rows]
    traffic = [e for e in entries if not e.purpose]
    keys = {(e.stage, e.task_type) for e in traffic} | {(p.stage, p.task_type) for p in pairs} | \
        {(r["stage"], r["task_type"]) for r in eval_rows}
    by_request: dict[str, bool] = defaultdict(bool)
    for e in entries:
        if e.request_id:
            by_request[e.request_id] |= e.escalated
    out = [
        _one(registry, stage, task_type, [e for e in traffic if (e.stage, e.task_type) == (stage, task_type)],
             [p for p in pairs if (p.stage, p.task_type) == (stage, task_type)],
             [r for r in eval_rows if (r["stage"], r["task_type"]) == (stage, task_type)], by_request)
        for stage, task_type in keys if stage in registry.data.stages
    ]
    return sorted(out, key=lambda s: (-s.spend_usd, s.stage, s.task_type or ""))


def _one(registry: Registry, stage: str, task_type: str | None, calls: list[LedgerEntry], pairs: list[ShadowPair],
         rows: list[dict[str, Any]], by_request: dict[str, bool]) -> Suggestion:
    data, settings = registry.data, registry.data.optimizer
    current = registry.tier_for(stage, task_type)
    requests = {e.request_id for e in calls if e.request_id}
    facts: _Facts = {
        "calls": len(calls),
        "error_rate": sum(e.outcome != "ok" for e in calls) / len(calls) if calls else 0.0,
        "escalation_rate": sum(by_request[r] for r in requests) / len(requests) if requests else 0.0,
        "spend_usd": sum(e.cost_usd for e in calls),
    }
    found = [_best(t, _shadow(pairs, current, t), _eval(rows, current, t)) for t in data.tier_order if t != current]
    evidence = [e for e in found if e is not None]
    enough = [e for e in evidence if e.n >= settings.min_samples]
    if not enough:
        have = ", ".join(f"{e.n} {e.source} pairs vs {e.tier}" for e in evidence) or "no shadow pairs or eval cases"
        return Suggestion(stage, task_type, current, TOO_FEW, None,
                          f"too few samples to judge: {have}; need {settings.min_samples} per comparison",
                          evidence=evidence, **facts)
    level, resamples = data.evals.confidence_level, data.evals.bootstrap
    rank = data.rank(current)
    ups = [(e, e.probability_above(settings.min_quality_gain, resamples)) for e in enough
           if data.rank(e.tier) > rank]
    ups = [(e, p) for e, p in ups if p >= settings.confidence]
    downs = [] if data.stages[stage].critical else [
        (e, e.probability_above(-settings.max_quality_loss, resamples)) for e in enough
        if data.rank(e.tier) < rank]
    downs = [(e, p) for e, p in downs if p >= settings.confidence]
    if ups:
        best = max(e.mean for e, _ in ups)  # the cheapest tier within min_quality_gain of the best gain
        chosen, confidence = min(((e, p) for e, p in ups if e.mean >= best - settings.min_quality_gain),
                                 key=lambda item: data.rank(item[0].tier))
        action, why = UP, f"{chosen.tier} is better by more than {settings.min_quality_gain:g}"
    elif downs:
        chosen, confidence = min(downs, key=lambda item: data.rank(item[0].tier))
        action, why = DOWN, f"{chosen.tier} is worse by less than {settings.max_quality_loss:g}"
    else:
        nearest = min(enough, key=lambda e: abs(data.rank(e.tier) - rank))
        gap = nearest.interval(level, resamples)
        note = " (critical stage: never moved down)" if data.stages[stage].critical else ""
        return Suggestion(stage, task_type, current, STAY, None,
                          f"no tier passes the tests: {nearest.tier} differs by {_fmt(gap)} ({nearest.n} "
                          f"{nearest.source} pairs){note}", evidence=evidence, quality_change=gap, **facts)
    gap = chosen.interval(level, resamples)
    total, per_call = _usd_change(registry, calls, current, chosen)
    return Suggestion(stage, task_type, current, action, chosen.tier,
                      f"{why} with probability {confidence:.2f}: {_fmt(gap)} ({chosen.n} {chosen.source} pairs)",
                      evidence=evidence, quality_change=gap, confidence=round(confidence, 4), usd_change=total,
                      usd_change_per_call=per_call, **facts)


def _shadow(pairs: list[ShadowPair], current: str, tier: str) -> Evidence | None:
    """Pairs between `current` and `tier`, either way round, as `tier` minus `current`."""
    values, baseline, costs = [], [], []
    for p in pairs:
        if p.base_score is None or p.shadow_score is None:
            continue
        if (p.base_tier, p.shadow_tier) == (current, tier):
            values.append(p.shadow_score / 10)
            baseline.append(p.base_score / 10)
            costs.append(p.shadow_cost_usd - p.base_cost_usd)
        elif (p.base_tier, p.shadow_tier) == (tier, current):
            values.append(p.base_score / 10)
            baseline.append(p.shadow_score / 10)
            costs.append(p.base_cost_usd - p.shadow_cost_usd)
    return Evidence(tier, "shadow", values, baseline, costs) if values else None


def _eval(rows: list[dict[str, Any]], current: str, tier: str) -> Evidence | None:
    """Cases evaluated on both tiers (the latest row of a case wins when several files hold it)."""
    by_tier: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for r in rows:
        by_tier[r["tier"]][r["case"]] = r
    shared = [c for c in by_tier.get(tier, {}) if c in by_tier.get(current, {})]
    if not shared:
        return None
    mine, base = by_tier[tier], by_tier[current]
    return Evidence(tier, "eval", [mine[c]["quality"] for c in shared], [base[c]["quality"] for c in shared],
                    [_cost(mine[c]) - _cost(base[c]) for c in shared])


def _best(tier: str, *found: Evidence | None) -> Evidence | None:
    present = [e for e in found if e is not None]
    return max(present, key=lambda e: e.n) if present else None  # ties: shadow (your traffic) first


def _usd_change(registry: Registry, calls: list[LedgerEntry], current: str, chosen: Evidence) -> tuple[float, float]:
    """Re-price the window's calls on the current tier at the target tier; without traffic, the evidence's mean."""
    on_current = [e for e in calls if e.tier == current]
    if not on_current:
        per_call = sum(chosen.cost_diffs) / len(chosen.cost_diffs) if chosen.cost_diffs else 0.0
        return 0.0, round(per_call, 10)
    target = registry.on_tier(on_current[0].stage, chosen.tier).model
    change = sum(price(target, Usage(e.input_tokens, e.output_tokens, e.thinking_tokens, e.cached_tokens),
                       _day(e.started_at)) - e.cost_usd for e in on_current)
    return round(change, 10), round(change / len(on_current), 10)


def _cost(row: dict[str, Any]) -> float:
    try:
        return float(row.get("cost_usd") or 0.0)
    except (TypeError, ValueError):
        return 0.0


def _day(moment: datetime) -> date:
    return moment.date()


def _fmt(gap: Interval | None) -> str:
    if gap is None:
        return "—"
    return f"{gap.mean:+.2f} quality [{gap.lo:+.2f}, {gap.hi:+.2f}]"
