"""Means with confidence intervals, and paired differences: how sure a quality number is, given its sample.

Wilson intervals for pass/fail scores (exact-match, regex and schema checkers give 0 or 1), and Agresti and
Min's interval for the paired difference of two such rates: they behave at 0%, 100% and small n, where the normal
approximation — and the bootstrap — claim certainty they do not have (ten cases all right on one tier and all
wrong on the other do not prove a gap of exactly 1). Graded scores (a judge's score / 10) get a percentile
bootstrap, seeded so the same data prints the same table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

SEED = 20261122
CHUNK = 256  # bootstrap resamples drawn at a time: memory stays flat for large samples


@dataclass(frozen=True)
class Interval:
    """A sample mean and its two-sided confidence interval at `level`."""

    mean: float
    lo: float
    hi: float
    n: int
    level: float

    @property
    def excludes_zero(self) -> bool:
        return self.lo > 0 or self.hi < 0

    def to_dict(self) -> dict[str, float | int]:
        return {"mean": round(self.mean, 6), "lo": round(self.lo, 6), "hi": round(self.hi, 6), "n": self.n,
                "level": self.level}


def wilson(successes: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion."""
    if n <= 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def bootstrap_means(values: Sequence[float], resamples: int = 2000, seed: int = SEED) -> np.ndarray:
    """Means of `resamples` resamples (with replacement) of `values`."""
    data = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    out = np.empty(resamples)
    for start in range(0, resamples, CHUNK):
        size = min(CHUNK, resamples - start)
        out[start:start + size] = data[rng.integers(0, len(data), size=(size, len(data)))].mean(axis=1)
    return out


def mean_interval(values: Sequence[float], level: float = 0.95, resamples: int = 2000) -> Interval | None:
    """The mean and its interval: Wilson when every value is 0 or 1, else a bootstrap; None when empty."""
    if not len(values):
        return None
    mean = float(np.mean(values))
    if all(v in (0.0, 1.0) for v in values):
        lo, hi = wilson(sum(values), len(values), level)
    else:
        lo, hi = _percentiles(bootstrap_means(values, resamples), level)
    return Interval(mean, min(lo, mean), max(hi, mean), len(values), level)


def difference_interval(diffs: Sequence[float], level: float = 0.95, resamples: int = 2000) -> Interval | None:
    """Mean of paired differences (same cases, two tiers) and its bootstrap interval; None when empty."""
    if not len(diffs):
        return None
    mean = float(np.mean(diffs))
    lo, hi = _percentiles(bootstrap_means(diffs, resamples), level)
    return Interval(mean, min(lo, mean), max(hi, mean), len(diffs), level)


def paired_interval(values: Sequence[float], baseline: Sequence[float], level: float = 0.95,
                    resamples: int = 2000) -> Interval | None:
    """`values` minus `baseline`, case by case; None when empty.

    Both pass/fail: Agresti and Min's interval for matched proportions (2005; Wald after adding 1/2 to each cell
    of the 2×2 table), which keeps its coverage at small n and when no case differs. Otherwise a bootstrap of the
    differences."""
    if not len(values):
        return None
    diffs = [a - b for a, b in zip(values, baseline, strict=True)]
    mean = sum(diffs) / len(diffs)
    matched = _matched(diffs, values, baseline)
    if matched is None:
        return difference_interval(diffs, level, resamples)
    centre, se = matched
    half = NormalDist().inv_cdf(0.5 + level / 2) * se
    return Interval(mean, max(-1.0, min(mean, centre - half)), min(1.0, max(mean, centre + half)), len(diffs), level)


def probability_above(values: Sequence[float], baseline: Sequence[float], threshold: float,
                      resamples: int = 2000) -> float:
    """How likely the mean of `values` minus `baseline` exceeds `threshold` (a suggestion's confidence), on the
    same footing as `paired_interval`: Agresti-Min's normal approximation for pass/fail, else the bootstrap."""
    if not len(values):
        return 0.0
    diffs = [a - b for a, b in zip(values, baseline, strict=True)]
    matched = _matched(diffs, values, baseline)
    if matched is None:
        return float(np.mean(bootstrap_means(diffs, resamples) > threshold))
    centre, se = matched
    return 1 - NormalDist(centre, se).cdf(threshold)  # se > 0: the added halves see to it


def _matched(diffs: list[float], values: Sequence[float], baseline: Sequence[float]) -> tuple[float, float] | None:
    """Agresti-Min centre and standard error for pass/fail pairs; None when some score is graded."""
    if not all(v in (0.0, 1.0) for v in (*values, *baseline)):
        return None
    gained, lost, n = diffs.count(1.0) + 0.5, diffs.count(-1.0) + 0.5, len(diffs) + 2
    return (gained - lost) / n, math.sqrt(gained + lost - (gained - lost) ** 2 / n) / n


def _percentiles(means: np.ndarray, level: float) -> tuple[float, float]:
    tail = (1 - level) / 2
    lo, hi = np.quantile(means, [tail, 1 - tail])
    return float(lo), float(hi)
