"""Routing-economics metrics over quality-vs-cost curves, for ladders of any length.

- PGR (performance gap recovered) = (q - q_cheapest) / (q_top - q_cheapest), RouteLLM.
- APGR = area under PGR over the cost axis from 0 (always cheapest) to 1 (always top), RouteLLM. Axis
  "calls" is the share of calls to the top model (RouteLLM's unit); "usd" is cost normalised the same way.
- CPT(x) = the least cost-axis value at which PGR reaches x (RouteLLM's call-performance threshold).
- AIQ = mean of the non-decreasing concave hull of (cost, quality) over [always-cheapest, always-top] cost
  (RouterBench, Hu et al. 2024).
- at_quality(f): the cheapest point reaching f × the top model's quality: its top-model share and its cost
  relative to always-top.
Every curve is closed with the always-cheapest and always-top policies, which any router can express.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .curves import Curve, _upper_hull
from .table import OutcomeTable

AXES = ("calls", "usd")


@dataclass(frozen=True)
class OperatingPoint:
    """Where a curve first reaches a quality target (interpolated between neighbouring policies)."""

    quality: float
    cost: float
    cost_relative: float  # cost / always-top cost
    top_share: float


def _ends(table: OutcomeTable) -> tuple[float, float, float, float]:
    cost, quality = table.model_cost(), table.model_quality()
    return float(cost[0]), float(quality[0]), float(cost[-1]), float(quality[-1])


def _closed(curve: Curve, table: OutcomeTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cost, quality, top_share) with the always-cheapest and always-top points added, sorted by cost."""
    c0, q0, c1, q1 = _ends(table)
    cost = np.concatenate([[c0], curve.cost, [c1]])
    quality = np.concatenate([[q0], curve.quality, [q1]])
    share = np.concatenate([[0.0], curve.top_share, [1.0]])
    order = np.lexsort((-quality, cost))
    return cost[order], quality[order], share[order]


def _axis(cost: np.ndarray, share: np.ndarray, table: OutcomeTable, axis: str) -> np.ndarray:
    if axis not in AXES:
        raise ValueError(f"axis must be one of {AXES}, not {axis!r}")
    if axis == "calls":
        return share
    c0, _, c1, _ = _ends(table)
    return np.clip((cost - c0) / max(c1 - c0, 1e-18), 0.0, 1.0)


def pgr(quality: np.ndarray | float, table: OutcomeTable) -> np.ndarray:
    _, q0, _, q1 = _ends(table)
    gap = q1 - q0
    if abs(gap) < 1e-12:
        return np.zeros_like(np.asarray(quality, dtype=float))
    return (np.asarray(quality, dtype=float) - q0) / gap


def apgr(curve: Curve, table: OutcomeTable, axis: str = "calls") -> float:
    """Average PGR over the cost axis in [0, 1] (trapezoids between the curve's points)."""
    cost, quality, share = _closed(curve, table)
    x = _axis(cost, share, table, axis)
    order = np.lexsort((-quality, x))  # where points share an axis value, the best of them is achievable
    xs, first = np.unique(x[order], return_index=True)
    y = pgr(quality[order][first], table)
    return float(np.sum((xs[1:] - xs[:-1]) * (y[1:] + y[:-1]) / 2.0))


def _first_reach(x: np.ndarray, y: np.ndarray, target: float) -> tuple[float, int, float] | None:
    """Least x at which the piecewise-linear path through (x, y), in order, reaches y >= target.

    Returns (x, i, w): the point is (1 - w)·P[i-1] + w·P[i]; None if the path never gets there.
    """
    best: tuple[float, float, int, float] | None = None  # (x, -y, i, w): least x, then best y
    for i in range(len(x)):
        cands = []
        if y[i] >= target - 1e-12:
            cands.append((float(x[i]), -float(y[i]), i, 1.0))
        if i and y[i - 1] < target <= y[i]:
            w = float((target - y[i - 1]) / (y[i] - y[i - 1]))
            cands.append((float(x[i - 1] + w * (x[i] - x[i - 1])), -float(target), i, w))
        for cand in cands:
            if best is None or cand[:2] < best[:2]:
                best = cand
    return None if best is None else (best[0], best[2], best[3])


def _at(values: np.ndarray, i: int, w: float) -> float:
    return float(values[i]) if w >= 1.0 or i == 0 else float(values[i - 1] + w * (values[i] - values[i - 1]))


def cpt(curve: Curve, table: OutcomeTable, target_pgr: float = 0.5, axis: str = "calls") -> float | None:
    """Least cost-axis value (0..1) reaching `target_pgr` of the gap; None if the curve never does."""
    cost, quality, share = _closed(curve, table)
    x = _axis(cost, share, table, axis)
    order = np.lexsort((-quality, x))
    hit = _first_reach(x[order], pgr(quality[order], table), target_pgr)
    return None if hit is None else hit[0]


def at_quality(curve: Curve, table: OutcomeTable, fraction: float = 0.95) -> OperatingPoint | None:
    """The cheapest operating point reaching `fraction` × the top model's quality, or None."""
    cost, quality, share = _closed(curve, table)
    _, _, c1, q1 = _ends(table)
    hit = _first_reach(cost, quality, fraction * q1)
    if hit is None:
        return None
    x, i, w = hit
    return OperatingPoint(_at(quality, i, w), x, x / c1 if c1 else 0.0, _at(share, i, w))


def aiq(curve: Curve, table: OutcomeTable) -> float:
    """RouterBench's AIQ: mean quality of the non-decreasing concave hull over the ladder's cost range."""
    cost, quality, _ = _closed(curve, table)
    c0, _, c1, _ = _ends(table)
    hull = _upper_hull(cost, quality)
    hx, hy = cost[hull], quality[hull]
    grid = np.linspace(c0, c1, 2001)
    return float(np.trapezoid(np.interp(grid, hx, hy), grid) / max(c1 - c0, 1e-18))


def summarize(curve: Curve, table: OutcomeTable) -> dict[str, object]:
    """Every metric of one curve, as plain numbers (None where a target is never reached)."""
    p95, p100 = at_quality(curve, table, 0.95), at_quality(curve, table, 1.0)
    best = int(np.argmax(curve.quality))
    _, _, c1, _ = _ends(table)
    out: dict[str, object] = {
        "router": curve.name,
        "apgr": apgr(curve, table, "calls"),
        "cpt50": cpt(curve, table, 0.5, "calls"),
        "cpt80": cpt(curve, table, 0.8, "calls"),
        "aiq": aiq(curve, table),
        "top_share_at_95": None if p95 is None else p95.top_share,
        "cost_relative_at_95": None if p95 is None else p95.cost_relative,
        "cost_relative_at_100": None if p100 is None else p100.cost_relative,
        "max_quality": float(curve.quality[best]),
        "max_quality_cost_relative": float(curve.cost[best] / c1) if c1 else 0.0,
    }
    if table.cost_unit == "usd":
        out["apgr_usd"] = apgr(curve, table, "usd")
    return out
