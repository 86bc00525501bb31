"""Fine-tune a router on a user's own labels, starting from the router in use, and judge it on held-back labels.

Why a separate path from `train_router`: labels that come from traffic are partial (a judged cheap draft says how
the cheap model did, nothing of the top one) and few (hundreds, not the tens of thousands a benchmark holds). So:

- `Labels` keeps unknown cells as NaN and says which signal each row came from (shadow pair, judge, eval, ...);
- `tune_router` fits each head only on its known cells, and may shrink the weights towards the current router's
  instead of towards zero (a prior-centred L2 penalty): a few hundred labels move the intercepts and the words
  they show, and leave the rest of what the current router knew in place. Whether to start from the current
  router or from scratch, and how strongly to regularise, is chosen by cross-validation on what routing is
  scored by (the area under the out-of-fold quality-vs-cost curve), not by log-loss: log-loss is mostly about
  how hard a prompt is for every model, and a router earns its keep by ranking which prompts gain from the top;
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
from .metrics import apgr, at_quality
from .table import OutcomeTable

# Strongest first (each fit warm-starts the next; near-ties go to the stronger). With a prior, strong = stay put.
# Down to 1e-4: on a few hundred labels the routing objective often wants far less shrinkage than log-loss does.
PRIOR_L2_GRID = (1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4)
SCRATCH_L2_GRID = (1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4)
CV_FOLDS = 3
# Fold splits scored and averaged: on ~500 labels one split's luck moved held-out MMLU cost at 95% by ~7 points
# (the same labels gave 45% or 52%). Trial seeds 100-105, MMLU at 500 labels: 1 split 54.7%, 3 splits 54.3%,
# 5 splits 53.4%. Cost: this many times the cross-validation fits (docs/routing.md, "Learning curve").
CV_REPEATS = 5
ENSEMBLE = 3  # the router is the logit-space mean of this many best candidates (see tune_router)
MIN_DF_ROWS = 50  # from this many labelled prompts, words seen in one prompt only are dropped (as train_router does)
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
    """A router for `labels`' ladder, fitted on its known cells; with `prior`, possibly fine-tuned from that router.

    `l2` None: candidates (start from the prior's weights or from zero, at each l2) are ranked by 3-fold
    cross-validation on the routing objective, averaged over CV_REPEATS fold splits (`_cv_rank`), and the router
    is the mean of the `ENSEMBLE` best; below 30 rows a fixed default, from the prior. `meta["selected_by"]` says
    what ranked them and `meta["ensemble"]` which were averaged."""
    if labels.n == 0:
        raise OutcomeError(labels.source, "no labelled requests to train on")
    if not labels.known.any():
        raise OutcomeError(labels.source, "no label says how any model did")
    fz = prior.featurizer if prior is not None else Featurizer()
    x, used = fz.transform(labels.prompts).compact()
    if labels.n >= MIN_DF_ROWS:  # a word seen in one labelled prompt only memorises that prompt's outcome
        x, kept = x.keep_columns(np.bincount(x.indices, minlength=x.n_cols) >= 2).compact()
        used = used[kept]
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
    cost_model = _cost_model(labels, fz)
    # Candidates: shrink towards the current router (prior) or towards 0 (scratch), at each l2; cross-validation
    # on the routing objective ranks them. A prior from other traffic can hurt (it did on held-out MMLU): the labels
    # decide. The router is the mean, in logit space, of the ENSEMBLE best: on a few hundred labels the single best
    # is partly luck of the folds, and averaging neighbours on the ranking costs nothing at decision time.
    families = [(w0, PRIOR_L2_GRID), (zeros, SCRATCH_L2_GRID)] if prior is not None else [(zeros, SCRATCH_L2_GRID)]
    picks: list[tuple[np.ndarray, float]]
    if l2 is not None:
        picks, selected_by = [(families[0][0], float(l2))], "given"
    elif labels.n < 30:
        picks, selected_by = [(families[0][0], PRIOR_L2_GRID[2] if prior is not None else 1e-2)], \
            "default (fewer than 30 labels)"
    else:
        kappa = _relative_costs(labels, fz, cost_model)
        ranked, selected_by = _cv_rank(x, labels, families, kappa, "calls" if cost_model is None else "usd", seed)
        picks = ranked[:ENSEMBLE]
    union = np.union1d(prior.buckets, used) if prior is not None else used
    at = np.searchsorted(union, used)
    prior_full = np.zeros((len(union), k))
    if prior is not None:  # every bucket the prior knew, tuned where the labels had a say
        cols = rung_map(prior, labels.models)
        dense = prior._table()
        prior_full = np.stack([dense[union, c] if c is not None else np.zeros(len(union)) for c in cols], axis=1)
    weights, bias = np.zeros((len(union), k)), np.zeros(k)
    for centre, cand in picks:
        from_prior = centre is w0 and prior is not None
        w, b = logreg.fit(x, labels.quality, cand, mask=mask, prior=centre,
                          start=(centre, b_start) if from_prior and b_start is not None else None)
        full = prior_full.copy() if from_prior else np.zeros((len(union), k))
        full[at] = w
        weights += full / len(picks)
        bias += b / len(picks)
    keep = np.flatnonzero(np.abs(weights).sum(axis=1) > 0)  # scratch-only: the prior's other buckets stay empty
    buckets, weights = union[keep], weights[keep]
    any_prior = prior is not None and any(centre is w0 for centre, _ in picks)
    meta: dict[str, Any] = {
        "trained_on": labels.source,
        "prompts": labels.n,
        "signals": labels.counts(),
        "features": int(len(buckets)),
        "l2": picks[0][1],
        "selected_by": selected_by,
        "ensemble": [{"start": "prior" if centre is w0 and prior is not None else "scratch", "l2": cand}
                     for centre, cand in picks],
        "fine_tuned_from": prior.meta.get("trained_on", "a router") if any_prior and prior is not None else None,
        "objective": "usd" if cost_model is not None else "calls",
    }
    t = threshold if threshold is not None else (prior.threshold if prior is not None else 0.5)
    return LearnedRouter(tuple(labels.models), fz, buckets.astype(np.int64), weights, bias, t, meta, cost_model)


def _relative_costs(labels: Labels, fz: Featurizer, cost_model: CostModel | None) -> np.ndarray:
    """(n, k) relative cost of each model per labelled prompt as the router will predict it (rung steps without
    a cost model): what its decisions weigh, so what the cross-validated curve is traced with."""
    if cost_model is None:
        return np.tile(np.linspace(0.0, 1.0, len(labels.models)), (labels.n, 1))
    return cost_model.relative(np.array([min(len(p), fz.max_chars) for p in labels.prompts], dtype=float))


def _cv_rank(x: Csr, labels: Labels, families: Sequence[tuple[np.ndarray, tuple[float, ...]]],
             kappa: np.ndarray, axis: str, seed: int) -> tuple[list[tuple[np.ndarray, float]], str]:
    """Every (centre, l2) candidate, best first by k-fold cross-validation, and what ranked them; each family is
    a warm-started l2 path per fold.

    The score is what routing is judged by: every candidate's out-of-fold predictions on the fully labelled rows
    trace a quality-vs-cost curve (the router's own threshold sweep), and the larger the area under it (APGR on
    the dollar axis, on call share without dollars) the better; that area is a smoother estimate than the single
    point at 95% of top quality. Log-loss on the known cells ranks only when fewer than MIN_COMPLETE_FOR_CURVE rows
    have every model labelled (judge-only labels price one tier). Folds are by prompt text, so a repeated prompt
    is never scored by a fit that saw it. Scores are averaged over CV_REPEATS seeded fold splits: one split's luck
    decided too much on a few hundred labels. Near-ties go to the earlier candidate (prior before scratch,
    stronger l2 first)."""
    rows = np.flatnonzero(labels.known.all(axis=1) & ~np.isnan(labels.cost_usd).any(axis=1))
    table = labels.subset(rows).complete() if len(rows) >= MIN_COMPLETE_FOR_CURVE else None
    texts = sorted(set(labels.prompts))
    total = np.sum([_cv_scores(x, labels, families, kappa, axis, table, rows, order)
                    for order in _split_orders(len(texts), seed)], axis=0)
    index = [(fam, i) for fam, (_, grid) in enumerate(families) for i in range(len(grid))]
    ranked = sorted(range(len(index)), key=lambda c: (total[c] / CV_REPEATS + 1e-9 * c, c))
    how = (f"{CV_FOLDS}-fold CV" + (f" x {CV_REPEATS} splits" if CV_REPEATS > 1 else "") + ", "
           + (f"area under the quality-vs-cost curve ({axis})" if table is not None
              else "log-loss (too few fully labelled rows for a cost curve)"))
    return [(families[index[c][0]][0], float(families[index[c][0]][1][index[c][1]])) for c in ranked], how


def _split_orders(n_texts: int, seed: int) -> list[np.ndarray]:
    """CV_REPEATS seeded orders of the distinct prompt texts, one fold split each (the first as a single split
    with `seed` was before repeats came in)."""
    return [np.random.default_rng(seed if rep == 0 else [seed, rep]).permutation(n_texts)
            for rep in range(CV_REPEATS)]


def _cv_scores(x: Csr, labels: Labels, families: Sequence[tuple[np.ndarray, tuple[float, ...]]],
               kappa: np.ndarray, axis: str, table: OutcomeTable | None, rows: np.ndarray,
               order: np.ndarray) -> np.ndarray:
    """Each candidate's score (lower is better: minus the curve's area, or log-loss without a curve) on one
    CV_FOLDS split, the distinct prompt texts dealt to folds in `order`."""
    y, mask = labels.quality, labels.known.astype(float)
    texts = sorted(set(labels.prompts))
    fold_of = {texts[j]: i % CV_FOLDS for i, j in enumerate(order)}
    fold = np.array([fold_of[p] for p in labels.prompts])
    oof = [[np.full_like(y, 0.5) for _ in grid] for _, grid in families]
    for f in range(CV_FOLDS):
        tr, te = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        if not len(tr) or not len(te):
            continue
        xt, xv = x.rows(tr), x.rows(te)
        for fam, (centre, grid) in enumerate(families):
            start = None
            for i, cand in enumerate(grid):
                start = logreg.fit(xt, y[tr], cand, mask=mask[tr], prior=centre, start=start)
                oof[fam][i][te] = logreg.predict(xv, *start)
    flat = [p for fam_oof in oof for p in fam_oof]
    if table is None:
        return np.array([_log_loss(p, y, mask) for p in flat])
    return np.array([-apgr(learned_curve("cv", table, p[rows], kappa[rows]), table, axis) for p in flat])


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
