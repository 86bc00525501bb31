"""Calibration: pick the thresholds that meet a quality target at the least cost; write them for the graph.

The router threshold is chosen on out-of-fold predictions (k-fold cross-fitting) when calibrate trains the
router itself, because in-sample predictions are over-confident and would pick a threshold that misses the
target on new prompts. Where the table carries draft scores (the judge's 1-10 score of each model's draft),
the draft cascade is simulated too: start at the routed rung, ship the draft if score ≥ draft_score (and
confidence ≥ confidence), else pay for the next rung up. The judge's own cost is not in the table and is
not counted.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .compare import router_inputs
from .curves import Curve, choose, learned_curve
from .errors import OutcomeError
from .features import Featurizer
from .learned import SMALL_TABLE, LearnedRouter, design_matrix, margins, select_l2, train_router
from .table import OutcomeTable

DRAFT_SCORES = tuple(range(1, 11))
BAND_ACCURACY = 0.5  # below this share of right picks (worse than a coin) a margin bin is in the uncertain band
BAND_BINS = 10
MAX_CASCADE_THRESHOLDS = 200


@dataclass(frozen=True)
class Calibration:
    """The chosen setting and what it is expected to give on the calibration data."""

    target: float  # fraction of the top model's quality
    threshold: float
    draft_score: int | None
    confidence: float | None
    quality: float
    top_quality: float
    cost: float
    top_cost: float
    top_share: float
    met: bool
    cross_fitted: bool
    curve: Curve
    hybrid_margin: float | None = None  # the uncertain band (see uncertain_margin); None: not computed

    @property
    def cost_relative(self) -> float:
        return self.cost / self.top_cost if self.top_cost else 0.0

    @property
    def saving(self) -> float:
        return 1.0 - self.cost_relative

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "threshold": self.threshold,
            "draft_score": self.draft_score,
            "confidence": self.confidence,
            "quality": self.quality,
            "quality_relative": self.quality / self.top_quality if self.top_quality else None,
            "cost": self.cost,
            "cost_relative": self.cost_relative,
            "expected_saving": self.saving,
            "top_share": self.top_share,
            "met": self.met,
            "cross_fitted": self.cross_fitted,
            "hybrid_margin": self.hybrid_margin,
        }


def cross_fit(table: OutcomeTable, folds: int = 5, seed: int = 0, objective: str = "auto"):
    """Out-of-fold (predicted quality, relative cost) for every prompt, and the l2 used."""
    folds = max(2, min(folds, len(set(table.prompts))))
    x, _ = design_matrix(table, Featurizer())
    l2 = select_l2(x, table.quality, seed=seed) if table.n_prompts >= SMALL_TABLE else 1e-2
    pred, kappa = np.zeros_like(table.quality), np.zeros_like(table.quality)
    texts = sorted(set(table.prompts))  # identical prompt texts share a fold: none is trained on and scored
    order = np.random.default_rng(seed).permutation(len(texts))
    fold_of_text = {texts[j]: i % folds for i, j in enumerate(order)}
    fold_of = np.array([fold_of_text[p] for p in table.prompts])
    for k in range(folds):
        held, rest = np.flatnonzero(fold_of == k), np.flatnonzero(fold_of != k)
        if not len(held) or not len(rest):
            continue
        router = train_router(table.subset(rest), l2=l2, seed=seed, objective=objective)
        pred[held], kappa[held] = router_inputs(router, table.subset(held))
    return pred, kappa, l2


def cascade(
    table: OutcomeTable, start: np.ndarray, draft_score: float | None, confidence: float | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(quality, cost, final rung) per prompt, starting at rung `start` and escalating failing drafts."""
    n, m = table.quality.shape
    rows = np.arange(n)
    if table.draft_score is None or draft_score is None:
        return table.quality[rows, start], table.cost[rows, start], start
    ok = table.draft_score >= draft_score - 1e-9
    if table.confidence is not None and confidence is not None:
        ok &= table.confidence >= confidence - 1e-9
    ok[:, -1] = True
    ok &= np.arange(m)[None, :] >= start[:, None]
    final = ok.argmax(axis=1)
    cum = np.cumsum(table.cost, axis=1)
    cost = cum[rows, final] - cum[rows, start] + table.cost[rows, start]
    return table.quality[rows, final], cost, final


def calibrate(
    table: OutcomeTable,
    router: LearnedRouter | None = None,
    *,
    target: float = 0.95,
    folds: int = 5,
    seed: int = 0,
    objective: str = "auto",
    predictions: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[Calibration, LearnedRouter]:
    """Pick the thresholds meeting `target` × always-top quality at the least mean cost on `table`.

    `predictions` (predicted quality, relative cost), out-of-fold for `table`'s rows, are used instead of
    `router`'s own when the caller cross-fitted them (e.g. a router fine-tuned on ledger labels).

    With `router` None a router is trained on the whole table (returned, threshold set) and the threshold is
    chosen on cross-fitted predictions; with a router, its predictions on the table are used as they are.
    If no setting reaches the target, the highest-quality one is returned with `met` False.
    """
    if not 0.0 < target <= 1.5:
        raise ValueError(f"target must be a fraction of the top model's quality (e.g. 0.95), not {target}")
    cross_fitted = router is None or predictions is not None
    if predictions is not None and router is not None:
        pred, kappa = predictions
    elif router is None:
        pred, kappa, l2 = cross_fit(table, folds, seed, objective)
        router = train_router(table, l2=l2, seed=seed, objective=objective)
    else:
        pred, kappa = router_inputs(router, table)
    curve = learned_curve("learned", table, pred, kappa)
    top_q, top_c = float(table.model_quality()[-1]), float(table.model_cost()[-1])
    goal = target * top_q

    thresholds = np.unique(curve.thresholds)
    if table.draft_score is not None and len(thresholds) > MAX_CASCADE_THRESHOLDS:
        thresholds = np.unique(np.quantile(thresholds, np.linspace(0, 1, MAX_CASCADE_THRESHOLDS)))
    drafts: list[float | None] = list(DRAFT_SCORES) if table.draft_score is not None else [None]
    confs: list[float | None] = [None]
    if table.draft_score is not None and table.confidence is not None:
        confs = [*sorted({0.0, *[float(v) for v in np.unique(table.confidence) if v <= 1.0]})]

    best: tuple[bool, float, float, tuple] | None = None
    for t in thresholds:
        start = choose(pred, kappa, float(t))
        for d in drafts:
            for c in confs:
                q, cost, final = cascade(table, start, d, c)
                qm, cm = float(q.mean()), float(cost.mean())
                met = qm >= goal - 1e-12
                # met settings by least cost (then best quality); otherwise by best quality
                key = (met, -cm if met else qm, qm if met else -cm)
                if best is None or key > best[:3]:
                    best = (*key, (float(t), d, c, qm, cm, float((final == table.n_models - 1).mean())))
    assert best is not None
    t, d, c, qm, cm, share = best[3]
    if drafts != [None]:
        # the draft cascade changes the curve: recompute it at the chosen draft settings for display
        runs = [cascade(table, s, d, c) for s in choose(pred, kappa, curve.thresholds)]
        shares = np.array([[(f == j).mean() for j in range(table.n_models)] for _, _, f in runs])
        curve = Curve(
            "learned+cascade",
            curve.thresholds,
            np.array([r[1].mean() for r in runs]),
            np.array([r[0].mean() for r in runs]),
            shares,
        )
    router.threshold = _round_up(t)
    band = uncertain_margin(table, pred, kappa, router.threshold)
    return (
        Calibration(
            target,
            router.threshold,
            None if d is None else int(d),
            c,
            qm,
            top_q,
            cm,
            top_c,
            share,
            bool(best[0]),
            cross_fitted,
            curve,
            band,
        ),
        router,
    )


def uncertain_margin(table: OutcomeTable, pred: np.ndarray, kappa: np.ndarray, threshold: float,
                     min_accuracy: float = BAND_ACCURACY, bins: int = BAND_BINS) -> float:
    """The hybrid strategy's uncertain band, from outcomes: the margin (see learned.margins) below which the
    router's picks were right less often than `min_accuracy`.

    A pick is right when no other rung did better on the prompt by the same measure the router weighs (realised
    quality − λ × relative cost). Prompts are cut into `bins` equal-count bins by margin; the band ends at the top
    of the highest bin whose share of right picks is below `min_accuracy` (0: no bin is, the router is trusted
    everywhere). Below that margin, asking LLM triage costs a Lite round trip and can only help."""
    n = table.n_prompts
    if n < 2 * bins:
        return 0.0
    t = min(max(float(threshold), 1e-12), 1.0)
    pick = choose(pred, kappa, t)
    realised = table.quality - (1.0 - t) / t * kappa
    right = realised[np.arange(n), pick] >= realised.max(axis=1) - 1e-9
    m = margins(pred, kappa, t)
    order = np.argsort(m, kind="stable")
    band = 0.0
    for part in np.array_split(order, bins):
        if right[part].mean() < min_accuracy:
            band = float(m[part].max())
    return float(math.ceil(band * 1e4) / 1e4)


def _round_up(t: float) -> float:
    """4 decimals, rounded towards more escalation so rounding never costs quality."""
    return min(1.0, math.ceil(t * 1e4 - 1e-9) / 1e4)


def read_settings_file(toml_path: str | Path) -> dict[str, Any]:
    """The TOML override file calibration merges into ({} when there is none yet), checked: a file that is not
    valid TOML, or whose [router] / [thresholds] is not a table, is refused before anything is trained or
    written."""
    toml_path = Path(toml_path)
    if not toml_path.exists():
        return {}
    from tierwise.errors import InputFileError
    from tierwise.strict import read_toml

    try:
        doc = read_toml(toml_path, what="settings file")
    except InputFileError as exc:
        raise OutcomeError(toml_path, f"{exc.problem}; not overwriting it", line=exc.line) from None
    for key in ("router", "thresholds"):
        if key in doc and not isinstance(doc[key], dict):
            raise OutcomeError(toml_path, f"{key} is a {type(doc[key]).__name__}, not a [{key}] table; not "
                               "overwriting it")
    return doc


def settings_text(toml_path: str | Path, calibration: Calibration, model_path: str | Path,
                  strategy: str = "learned") -> str:
    """The override file with the calibrated keys merged in (other keys are kept; comments are not)."""
    import tomli_w

    toml_path = Path(toml_path)
    doc = read_settings_file(toml_path)
    router = doc.setdefault("router", {})
    router["strategy"] = strategy
    router["model_path"] = _relative(Path(model_path), toml_path.parent)
    router["threshold"] = calibration.threshold
    if calibration.hybrid_margin is not None:
        router["hybrid_margin"] = calibration.hybrid_margin
    if calibration.draft_score is not None:
        thresholds = doc.setdefault("thresholds", {})
        thresholds["draft_score"] = calibration.draft_score
        if calibration.confidence is not None:
            thresholds["confidence"] = round(calibration.confidence, 4)
    return tomli_w.dumps(doc)


def write_settings(
    toml_path: str | Path, calibration: Calibration, model_path: str | Path, strategy: str = "learned"
) -> dict[str, Any]:
    """Merge the calibrated keys into a TOML override file, atomically; returns what the file now holds."""
    from tierwise.outputs import write_atomic

    text = settings_text(toml_path, calibration, model_path, strategy)
    write_atomic(toml_path, text, option="--write")
    return tomllib.loads(text)


def _relative(path: Path, base: Path) -> str:
    """model_path is written relative to the TOML file's folder when the router lives under it."""
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path.resolve())
