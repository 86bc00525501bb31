"""The eval table's numbers: per stage × task type × tier, quality with its interval, the paired difference against
the tier the registry runs that stage on today, cost and p50 latency.

Differences are paired (the same cases on both tiers), which needs far fewer cases than comparing two
independent means: what varies between cases cancels out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tierwise.reports.report import percentile
from tierwise.tiers import Registry

from .runner import EvalRun, Outcome
from .stats import Interval, mean_interval, paired_interval

ALL = "(all)"


@dataclass(frozen=True)
class TierRow:
    stage: str
    task_type: str  # ALL for every case of the stage
    tier: str
    baseline: str  # the tier `diff` is measured against
    n: int
    quality: Interval | None
    diff: Interval | None  # this tier minus the baseline, paired; None on the baseline's own row
    cost_per_case_usd: float
    cost_usd: float
    p50_latency_ms: float
    failures: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage, "task_type": self.task_type, "tier": self.tier, "baseline": self.baseline,
            "n": self.n, "quality": self.quality.to_dict() if self.quality else None,
            "diff": self.diff.to_dict() if self.diff else None, "cost_per_case_usd": self.cost_per_case_usd,
            "cost_usd": self.cost_usd, "p50_latency_ms": self.p50_latency_ms, "failures": self.failures,
        }


def summarize(run: EvalRun, registry: Registry) -> list[TierRow]:
    """Rows grouped by stage, then task type (each task type, and ALL when there are several), tiers cheap first."""
    settings = registry.data.evals
    order = {t: i for i, t in enumerate(registry.data.tier_order)}
    tiers = sorted(run.tiers, key=lambda t: order[t])
    by_stage: dict[str, list[Outcome]] = defaultdict(list)
    for o in run.comparable():
        by_stage[o.stage].append(o)
    rows: list[TierRow] = []
    for stage in run.stages:
        outcomes = by_stage.get(stage, [])
        task_types = sorted({o.case.task_type for o in outcomes if o.case.task_type})
        groups = [(t, [o for o in outcomes if o.case.task_type == t]) for t in task_types]
        if len(groups) != 1 or any(o.case.task_type is None for o in outcomes):
            groups.append((ALL, outcomes))
        for task_type, members in groups:
            if not members:
                continue
            current = registry.tier_for(stage, None if task_type == ALL else task_type)
            baseline = current if current in tiers else tiers[0]
            rows += _rows(stage, task_type, tiers, baseline, members, settings.confidence_level, settings.bootstrap)
    return rows


def _rows(stage: str, task_type: str, tiers: Sequence[str], baseline: str, outcomes: list[Outcome], level: float,
          resamples: int) -> list[TierRow]:
    by_tier: dict[str, dict[str, Outcome]] = defaultdict(dict)
    for o in outcomes:
        by_tier[o.tier][o.case.id] = o
    base = by_tier.get(baseline, {})
    rows = []
    for tier in tiers:
        mine = by_tier.get(tier, {})
        if not mine:
            continue
        values = [o.quality for o in mine.values()]
        shared = [cid for cid in mine if cid in base]
        diff = None if tier == baseline else paired_interval(
            [mine[cid].quality for cid in shared], [base[cid].quality for cid in shared], level, resamples)
        cost = sum(o.cost_usd for o in mine.values())
        rows.append(TierRow(
            stage, task_type, tier, baseline, len(mine), mean_interval(values, level, resamples), diff,
            cost / len(mine), cost, round(percentile(sorted(o.latency_ms for o in mine.values()), 0.5), 3),
            sum(o.failed for o in mine.values()),
        ))
    return rows
