"""Fine-tune a router on a user's own labels, starting from the router in use, and judge it on held-back labels.

Why a separate path from `train_router`: labels that come from traffic are partial (a judged cheap draft says how
the cheap model did, nothing of the top one) and few (hundreds, not the tens of thousands a benchmark holds). So:

- `Labels` keeps unknown cells as NaN and says which signal each row came from (shadow pair, judge, eval, ...);
- `tune_router` fits each head only on its known cells, and shrinks the weights towards the current router's
  instead of towards zero (a prior-centred L2 penalty): a few hundred labels move the intercepts and the words
  they show, and leave the rest of what the current router knew in place;
- `compare` scores routers on held-back labels: log-loss on every known cell, and where rows have every model
  labelled, the cost at which each reaches 95% of the top model's quality.

A router's rungs are matched by model name when both know it, else by position (cheapest ↔ cheapest, top ↔ top):
the packaged router was trained on GPT-4 vs Mixtral, a user's ladder is Gemini tiers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from . import logreg
from .curves import learned_curve
from .errors import OutcomeError
from .features import Csr, Featurizer
from .learned import CostModel, LearnedRouter
from .metrics import at_quality
from .table import OutcomeTable

PRIOR_L2_GRID = (1e-1, 1e-2, 1e-3)  # strongest first: with a prior, strong = stay put
SCRATCH_L2_GRID = (1e-2, 1e-3, 3e-4)
CV_FOLDS = 3
MIN_COMPLETE_FOR_CURVE = 20  # fewer fully-labelled rows than this: no cost-at-95% figure (too noisy)


@dataclass(frozen=True)
class Labels:
    """Quality (0..1) and cost (USD) of some models on some prompts; NaN where not observed.

    Row i is one request; column j the j-th model of the ladder, cheapest first. `signals[i]` names what the row
    came from (e.g. "shadow", "judge", "escalation", "eval"), so a user sees what the router learned from."""

    prompts: tuple[str, ...]
    models: tuple[str, ...]
    quality: np.ndarray
    cost_usd: np.ndarray
    signals: tuple[str, ...]
    ids: tuple[str, ...]
    source: str = "<labels>"

    def __post_init__(self) -> None:
        n, k = len(self.prompts), len(self.models)
        if self.quality.shape != (n, k) or self.cost_usd.shape != (n, k):
            raise ValueError(f"labels: quality and cost must be ({n}, {k})")
        if len(self.signals) != n or len(self.ids) != n:
            raise ValueError("labels: one signal and one id per prompt")

    @property
    def n(self) -> int:
        return len(self.prompts)

    @property
    def known(self) -> np.ndarray:
        return ~np.isnan(self.quality)

    def counts(self) -> dict[str, int]:
        """Rows per signal, most first."""
        return dict(Counter(self.signals).most_common())

    def subset(self, rows: Sequence[int] | np.ndarray) -> Labels:
        rows = np.asarray(rows, dtype=int)
        return replace(
            self,
            prompts=tuple(self.prompts[i] for i in rows),
            quality=self.quality[rows],
            cost_usd=self.cost_usd[rows],
            signals=tuple(self.signals[i] for i in rows),
            ids=tuple(self.ids[i] for i in rows),
        )

    def complete(self) -> OutcomeTable | None:
        """The rows with every model's quality and cost known, as an outcome table (None if there are none)."""
        rows = np.flatnonzero(self.known.all(axis=1) & ~np.isnan(self.cost_usd).any(axis=1))
        if not len(rows):
            return None
        return OutcomeTable(
            source=self.source,
            prompt_ids=tuple(self.ids[i] for i in rows),
            prompts=tuple(self.prompts[i] for i in rows),
            models=self.models,
            quality=self.quality[rows],
            cost_usd=self.cost_usd[rows],
        )

    @classmethod
    def from_table(cls, table: OutcomeTable, signal: str = "outcomes") -> Labels:
        cost = table.cost_usd if table.cost_usd is not None else np.full_like(table.quality, np.nan)
        return cls(table.prompts, table.models, table.quality.astype(float), cost.astype(float),
                   (signal,) * table.n_prompts, table.prompt_ids, table.source)


def split_held_back(labels: Labels, frac: float = 0.25, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, held-back rows), identical prompt texts on the same side."""
    texts = sorted(set(labels.prompts))
    perm = np.random.default_rng(seed).permutation(len(texts))
    back = {texts[i] for i in perm[: max(1, round(frac * len(texts)))]}
    is_back = np.array([p in back for p in labels.prompts])
    return np.flatnonzero(~is_back), np.flatnonzero(is_back)


def rung_map(router: LearnedRouter, models: Sequence[str]) -> list[int | None]:
    """For each model of `models` (a ladder), the router head that predicts it: same name, else same end of the
    ladder (cheapest/top); None for a middle rung the router does not know."""
    out: list[int | None] = []
    for j, m in enumerate(models):
        if m in router.models:
            out.append(router.models.index(m))
        elif j == 0:
            out.append(0)
        elif j == len(models) - 1:
            out.append(len(router.models) - 1)
        else:
            out.append(None)
    return out


def predict_on(router: LearnedRouter, prompts: Sequence[str], models: Sequence[str]) -> np.ndarray:
    """(n, len(models)) predicted quality, heads matched by `rung_map` (0.5 where the router has no head)."""
    pred = router.predict_many(tuple(prompts))
    cols = rung_map(router, models)
    return np.stack([pred[:, c] if c is not None else np.full(len(prompts), 0.5) for c in cols], axis=1)


def tune_router(
    labels: Labels,
    prior: LearnedRouter | None = None,
    *,
    l2: float | None = None,
    seed: int = 0,
    threshold: float | None = None,
) -> LearnedRouter:
    """A router for `labels`' ladder, fitted on its known cells; with `prior`, fine-tuned from that router.

    `l2` None: chosen by 3-fold cross-validated log-loss on the known cells (a fixed default below 30 rows)."""
    if labels.n == 0:
        raise OutcomeError(labels.source, "no labelled requests to train on")
    if not labels.known.any():
        raise OutcomeError(labels.source, "no label says how any model did")
    fz = prior.featurizer if prior is not None else Featurizer()
    x, used = fz.transform(labels.prompts).compact()
    mask = labels.known.astype(float)
    k = len(labels.models)
    w0 = np.zeros((x.n_cols, k))
    b_start = None
    if prior is not None:
        cols = rung_map(prior, labels.models)
        dense = prior._table()
        for j, c in enumerate(cols):
            if c is not None:
                w0[:, j] = dense[used, c]
        b_start = np.array([prior.bias[c] if c is not None else 0.0 for c in cols])
    zeros = np.zeros_like(w0)
    # Candidates: shrink towards the current router (prior) or towards 0 (scratch), at each l2; the cross-validated
    # log-loss picks. A prior from other traffic can hurt (it did on held-out MMLU): the labels decide.
    families = [(w0, PRIOR_L2_GRID), (zeros, SCRATCH_L2_GRID)] if prior is not None else [(zeros, SCRATCH_L2_GRID)]
    centre = w0 if prior is not None else zeros
    if l2 is None:
        if labels.n < 30:
            l2 = PRIOR_L2_GRID[1] if prior is not None else 1e-2
        else:
            centre, l2 = _cv_pick(x, labels.quality, mask, families, seed)
    start = (centre, b_start) if b_start is not None and centre is w0 else None
    w, b = logreg.fit(x, labels.quality, l2, mask=mask, prior=centre, start=start)
    from_prior = prior is not None and centre is w0
    if from_prior and prior is not None:  # every bucket the prior knew, tuned where the labels had a say
        cols = rung_map(prior, labels.models)
        union = np.union1d(prior.buckets, used)
        dense = prior._table()
        weights = np.stack([dense[union, c] if c is not None else np.zeros(len(union)) for c in cols], axis=1)
        weights[np.searchsorted(union, used)] = w
        buckets = union
    else:
        buckets, weights = used, w
    counts = labels.counts()
    meta: dict[str, Any] = {
        "trained_on": labels.source,
        "prompts": labels.n,
        "signals": counts,
        "features": int(len(buckets)),
        "l2": l2,
        "fine_tuned_from": prior.meta.get("trained_on", "a router") if from_prior and prior is not None else None,
        "objective": "usd",
    }
    cost_model = _cost_model(labels, fz)
    if cost_model is None:
        meta["objective"] = "calls"
    t = threshold if threshold is not None else (prior.threshold if prior is not None else 0.5)
    return LearnedRouter(tuple(labels.models), fz, buckets.astype(np.int64), weights, b, t, meta, cost_model)


def _cv_pick(x: Csr, y: np.ndarray, mask: np.ndarray, families: Sequence[tuple[np.ndarray, tuple[float, ...]]],
             seed: int) -> tuple[np.ndarray, float]:
    """(centre, l2) with the least k-fold masked log-loss; each family is a warm-started l2 path per fold."""
    n = x.n_rows
    fold = np.random.default_rng(seed).permutation(n) % CV_FOLDS
    scores: list[tuple[float, int, int]] = []
    losses = [np.zeros(len(grid)) for _, grid in families]
    for f in range(CV_FOLDS):
        tr, te = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        xt, xv = x.rows(tr), x.rows(te)
        for fam, (centre, grid) in enumerate(families):
            start = None
            for i, cand in enumerate(grid):
                start = logreg.fit(xt, y[tr], cand, mask=mask[tr], prior=centre, start=start)
                losses[fam][i] += _log_loss(logreg.predict(xv, *start), y[te], mask[te])
    for fam, loss in enumerate(losses):
        scores += [(float(v) + 1e-9 * i, fam, i) for i, v in enumerate(loss)]
    _, fam, i = min(scores)
    return families[fam][0], float(families[fam][1][i])


def _log_loss(p: np.ndarray, y: np.ndarray, mask: np.ndarray) -> float:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    yk = np.nan_to_num(y)
    cells = -(yk * np.log(p) + (1 - yk) * np.log(1 - p))
    return float((cells * mask).sum() / max(mask.sum(), 1.0))


def _cost_model(labels: Labels, fz: Featurizer) -> CostModel | None:
    """Per-model cost on prompt length from the known costs; None when a model has fewer than two (the router
    then counts rungs, not dollars). Never a prior's: its dollars are other models' prices."""
    chars = np.array([min(len(p), fz.max_chars) for p in labels.prompts], dtype=float)
    k = len(labels.models)
    intercept, slope = np.zeros(k), np.zeros(k)
    for j in range(k):
        seen = ~np.isnan(labels.cost_usd[:, j])
        if seen.sum() < 2:
            return None
        fit = CostModel.fit(chars[seen], labels.cost_usd[seen, j : j + 1])
        intercept[j], slope[j] = fit.intercept[0], fit.slope[0]
    return CostModel(intercept, slope, max(float(np.nanmean(labels.cost_usd[:, -1])), 1e-18))


def compare(labels: Labels, routers: dict[str, LearnedRouter]) -> list[dict[str, Any]]:
    """Each router on held-back `labels`: log-loss and Brier score on the known cells (lower is better), and,
    when enough rows have every model labelled, the cost relative to always-top at 95% of its quality."""
    mask = labels.known.astype(float)
    table = labels.complete()
    rows = []
    for name, router in routers.items():
        pred = predict_on(router, labels.prompts, labels.models)
        yk = np.nan_to_num(labels.quality)
        brier = float((((pred - yk) ** 2) * mask).sum() / max(mask.sum(), 1.0))
        cost95 = None
        if table is not None and table.n_prompts >= MIN_COMPLETE_FOR_CURVE:
            p = predict_on(router, table.prompts, table.models)
            kappa = _kappa(router, table)
            point = at_quality(learned_curve(name, table, p, kappa), table, 0.95)
            cost95 = None if point is None else point.cost_relative
        rows.append({"router": name, "log_loss": _log_loss(pred, labels.quality, mask), "brier": brier,
                     "cost_relative_at_95": cost95, "cells": int(mask.sum()),
                     "complete_rows": 0 if table is None else table.n_prompts})
    return rows


def _kappa(router: LearnedRouter, table: OutcomeTable) -> np.ndarray:
    """Relative cost per cell as the router predicts it (rung steps when it has no cost model)."""
    cols = rung_map(router, table.models)
    if router.cost_model is None or any(c is None for c in cols):
        return np.tile(np.linspace(0.0, 1.0, table.n_models), (table.n_prompts, 1))
    return router.relative_costs(table.prompts)[:, [c for c in cols if c is not None]]


def cross_fit_complete(labels: Labels, prior: LearnedRouter | None, folds: int = 3, seed: int = 0,
                       l2: float | None = None) -> tuple[OutcomeTable, np.ndarray, np.ndarray]:
    """Out-of-fold (predicted quality, relative cost) for the rows with every model labelled, each predicted by a
    router tuned on the other folds (all signals): what calibration reads, so its threshold is not chosen on
    predictions for rows the router was trained on. OutcomeError when no row is complete."""
    complete = np.flatnonzero(labels.known.all(axis=1) & ~np.isnan(labels.cost_usd).any(axis=1))
    if len(complete) < 2:
        raise OutcomeError(labels.source, "calibrating needs requests with every tier judged (shadow pairs); "
                           f"found {len(complete)} — turn on [shadow] for the draft stage")
    texts = sorted(set(labels.prompts))
    order = np.random.default_rng(seed).permutation(len(texts))
    fold_of = {texts[j]: i % folds for i, j in enumerate(order)}
    fold = np.array([fold_of[p] for p in labels.prompts])
    table = labels.subset(complete).complete()
    assert table is not None
    pred, kappa = np.zeros_like(table.quality), np.zeros_like(table.quality)
    for k in range(folds):
        held = np.flatnonzero(fold[complete] == k)
        rest = np.flatnonzero(fold != k)
        if not len(held) or not len(rest):
            continue
        router = tune_router(labels.subset(rest), prior, l2=l2, seed=seed)
        part = table.subset(held)
        pred[held] = predict_on(router, part.prompts, part.models)
        kappa[held] = _kappa(router, part)
    return table, pred, kappa
