"""Quality-vs-cost curves: sweep a router's threshold over a table; record what each setting costs and scores.

A curve's points are deterministic policies (one threshold each). Metrics interpolate between neighbouring
points, which is achievable by flipping a biased coin between the two policies, so it is fair to all routers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .table import OutcomeTable

MAX_POINTS = 1500


@dataclass(frozen=True)
class Curve:
    """Operating points of one router family on one table, sorted by cost.

    cost: mean cost per prompt (table unit: USD, or share of top calls); shares: (k, n_models) call shares.
    thresholds: the router setting of each point (NaN where the point is not a threshold policy).
    """

    name: str
    thresholds: np.ndarray
    cost: np.ndarray
    quality: np.ndarray
    shares: np.ndarray

    @property
    def top_share(self) -> np.ndarray:
        return self.shares[:, -1]

    def as_rows(self) -> list[dict[str, float | None]]:
        return [
            {
                "threshold": None if np.isnan(t) else float(t),
                "cost": float(c),
                "quality": float(q),
                "top_share": float(s),
            }
            for t, c, q, s in zip(self.thresholds, self.cost, self.quality, self.top_share, strict=True)
        ]


def curve_from_assignments(
    name: str, table: OutcomeTable, assign: np.ndarray, thresholds: np.ndarray
) -> Curve:
    """assign: (k, n_prompts) model index per prompt for each of k settings."""
    assign = np.atleast_2d(np.asarray(assign, dtype=int))
    rows = np.arange(table.n_prompts)
    quality = table.quality[rows, assign].mean(axis=1)
    cost = table.cost[rows, assign].mean(axis=1)
    shares = np.stack([(assign == m).mean(axis=1) for m in range(table.n_models)], axis=1)
    return _sorted(Curve(name, np.asarray(thresholds, dtype=float), cost, quality, shares))


def _sorted(curve: Curve) -> Curve:
    order = np.lexsort((-curve.quality, curve.cost))
    return Curve(
        curve.name, curve.thresholds[order], curve.cost[order], curve.quality[order], curve.shares[order]
    )


def _grid(breaks: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """All distinct breakpoints (plus the ends), thinned to quantiles when there are too many."""
    breaks = np.unique(np.concatenate([breaks[np.isfinite(breaks)], [lo, hi]]))
    if len(breaks) > MAX_POINTS:
        breaks = np.unique(np.quantile(breaks, np.linspace(0, 1, MAX_POINTS)))
    return breaks


def _lambda(threshold: np.ndarray) -> np.ndarray:
    """Threshold t in [0, 1] → price of quality λ = (1 - t) / t: 1 → 0 (cost ignored), 0 → ∞ (cheapest)."""
    t = np.clip(threshold, 0.0, 1.0)
    return np.where(t > 0, (1.0 - t) / np.maximum(t, 1e-300), 1e18)


def choose(pred: np.ndarray, kappa: np.ndarray, threshold: float | np.ndarray) -> np.ndarray:
    """The learned router's rule: per prompt, the model maximising predicted quality − λ × relative cost,
    λ = (1 − t)/t (ties → the cheaper rung). pred, kappa: (n, M). Vectorised over an array of thresholds.

    Threshold 1 buys the best predicted quality whatever it costs, 0 always the cheapest; in between a step up
    the ladder must gain λ quality per unit of relative cost. With two models and call-share cost (kappa 0
    and 1) this is RouteLLM's rule: escalate when the predicted gain exceeds λ.
    """
    lam = _lambda(np.atleast_1d(np.asarray(threshold, dtype=float)))
    util = pred[None, :, :] - lam[:, None, None] * kappa[None, :, :]
    best = util.max(axis=2, keepdims=True)
    out = (util >= best - 1e-12).argmax(axis=2)
    return out if np.ndim(threshold) else out[0]


def learned_curve(name: str, table: OutcomeTable, pred: np.ndarray, kappa: np.ndarray) -> Curve:
    """Sweep `choose` over every threshold at which some prompt changes model."""
    dp = pred[:, :, None] - pred[:, None, :]
    dk = kappa[:, :, None] - kappa[:, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.where(dk > 0, dp / dk, np.nan)
    lam = lam[np.isfinite(lam) & (lam >= 0)]
    grid = _grid(1.0 / (1.0 + lam), 0.0, 1.0)
    grid = np.unique(np.concatenate([grid, np.nextafter(grid, 2.0), np.nextafter(grid, -1.0)]).clip(0.0, 1.0))
    assign = np.concatenate([choose(pred, kappa, grid[i : i + 100]) for i in range(0, len(grid), 100)])
    return curve_from_assignments(name, table, assign, grid)


def score_curve(name: str, table: OutcomeTable, score: np.ndarray) -> Curve:
    """Two-rung router from a scalar score: the top model for prompts scoring at or above the threshold,
    the cheapest model for the rest (RouteLLM's scheme; used for the prompt-length baseline)."""
    grid = _grid(np.asarray(score, dtype=float), float(np.min(score)), float(np.max(score)) + 1.0)
    top = table.n_models - 1
    assign = np.where(score[None, :] >= grid[:, None], top, 0)
    return curve_from_assignments(name, table, assign, grid)


def oracle_curve(table: OutcomeTable, name: str = "oracle") -> Curve:
    """Upper bound: knowing every outcome, maximise quality - λ·cost per prompt, for every λ that matters."""
    q, c = table.quality, table.cost
    scale = max(float(c.mean(axis=0).max()), 1e-12)
    c = c / scale
    dq = q[:, :, None] - q[:, None, :]
    dc = c[:, :, None] - c[:, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(dc > 0, dq / dc, np.nan)
    ratios = ratios[np.isfinite(ratios) & (ratios > 0)]
    lams = _grid(ratios, 0.0, float(ratios.max() * 2 + 1) if ratios.size else 1.0)
    lams = np.unique(np.concatenate([lams, np.nextafter(lams, np.inf)]))
    assign = np.stack([(q - lam * c).argmax(axis=1) for lam in lams])
    return curve_from_assignments(name, table, assign, np.full(len(lams), np.nan))


def random_curve(table: OutcomeTable, name: str = "random") -> Curve:
    """Expected curve of routing at random: mixtures of single-model policies, i.e. their upper hull."""
    cost, quality = table.model_cost(), table.model_quality()
    shares = np.eye(table.n_models)
    keep = _upper_hull(cost, quality)
    return Curve(name, np.full(len(keep), np.nan), cost[keep], quality[keep], shares[keep])


def _upper_hull(x: np.ndarray, y: np.ndarray) -> list[int]:
    """Indices of the non-decreasing upper concave hull of points, by increasing x (ties: best y)."""
    order = sorted(range(len(x)), key=lambda i: (x[i], -y[i]))
    hull: list[int] = []
    for i in order:
        if hull and x[i] == x[hull[-1]]:
            continue
        if hull and y[i] <= y[hull[-1]]:
            continue  # dearer and no better: never on a non-decreasing hull
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            cross = (x[b] - x[a]) * (y[i] - y[a]) - (y[b] - y[a]) * (x[i] - x[a])
            if cross >= 0:
                hull.pop()
            else:
                break
        hull.append(i)
    return hull
