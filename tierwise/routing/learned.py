"""The learned pre-router: predicts each model's quality on a prompt, picks the cheapest that is good enough.

One logistic head per model over hashed n-gram features (features.py) predicts the model's expected quality;
a per-model linear fit of cost on prompt length predicts what the call will cost. The rule (curves.choose)
maximises predicted quality − λ × relative cost with λ = (1 − threshold) / threshold: threshold 1 → the
model predicted best, 0 → always the cheapest. Ranking by predicted *gain per dollar* rather than by "is
the cheap model likely right" matters twice: escalating a question the top model fails too buys nothing,
and escalating a long prompt costs more than a short one. No API call, ~0.1 ms per decision, numpy only;
stored as JSON or npz (never pickle) so a router file is data, not code.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tierwise.errors import InputFileError
from tierwise.strict import loads_json, read_text

from . import logreg
from .curves import choose
from .errors import OutcomeError
from .features import Csr, Featurizer
from .table import OutcomeTable

FORMAT = "tierwise-router"
VERSION = 1
L2_GRID = (3e-2, 1e-2, 3e-3, 1e-3, 3e-4)  # strongest first: each fit warm-starts the next
GROUP_L2_GRID = (1e-2, 3e-3, 1e-3, 3e-4)  # leave-one-group-out candidates, strongest first
SMALL_TABLE = 50  # below this many prompts: no validation split, no rare-feature pruning


@dataclass(frozen=True)
class RouterDecision:
    """A routing decision. `index` is the rung on the cheap→expensive ladder; `confidence` the predicted
    quality of the chosen model; `probabilities` the predicted quality of every model; `margin` how far the chosen
    rung's utility (predicted quality − λ × relative cost) is ahead of the next best rung's: near 0 the router is
    torn, which is where the hybrid strategy asks LLM triage."""

    model: str
    index: int
    confidence: float
    probabilities: dict[str, float]
    threshold: float
    margin: float = math.inf


@dataclass(frozen=True)
class CostModel:
    """USD per call ≈ intercept + slope × prompt characters, per model (least squares on the training table).

    Costs are expressed relative to `reference`, the mean cost of a top-model call, so the threshold means the
    same on any price level."""

    intercept: np.ndarray
    slope: np.ndarray
    reference: float

    @classmethod
    def fit(cls, chars: np.ndarray, cost: np.ndarray) -> CostModel:
        a = np.stack([np.ones_like(chars), chars], axis=1)
        intercept, slope = np.zeros(cost.shape[1]), np.zeros(cost.shape[1])
        for m in range(cost.shape[1]):
            (i, k), *_ = np.linalg.lstsq(a, cost[:, m], rcond=None)
            if k < 0 or not np.isfinite(k):  # longer prompts never cost less: fall back to the mean
                i, k = float(cost[:, m].mean()), 0.0
            intercept[m], slope[m] = i, k
        return cls(intercept, slope, max(float(cost[:, -1].mean()), 1e-18))

    def relative(self, chars: np.ndarray) -> np.ndarray:
        usd = np.maximum(self.intercept[None, :] + self.slope[None, :] * chars[:, None], 0.0)
        return usd / self.reference


@dataclass
class LearnedRouter:
    models: tuple[str, ...]
    featurizer: Featurizer
    buckets: np.ndarray  # hashed feature ids that carry a weight
    weights: np.ndarray  # (len(buckets), n_models)
    bias: np.ndarray  # (n_models,)
    threshold: float = 0.5
    meta: dict[str, Any] = field(default_factory=dict)
    cost_model: CostModel | None = None  # None (table without dollars): rung i of n costs i / (n - 1)
    _dense: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def objective(self) -> str:
        """ "usd" when the router weighs predicted dollars, "calls" when every rung step costs the same."""
        return "calls" if self.cost_model is None else "usd"

    def relative_costs(self, prompts: list[str] | tuple[str, ...]) -> np.ndarray:
        """(n, n_models) expected cost of each model on each prompt, relative to an average top call."""
        n, m = len(prompts), len(self.models)
        if self.cost_model is None:
            return np.tile(np.linspace(0.0, 1.0, m), (n, 1))
        chars = np.array([min(len(p), self.featurizer.max_chars) for p in prompts], dtype=float)
        return self.cost_model.relative(chars)

    def _table(self) -> np.ndarray:
        if self._dense is None:
            dense = np.zeros((self.featurizer.n_features, len(self.models)))
            dense[self.buckets] = self.weights
            self._dense = dense
        return self._dense

    def predict(self, prompt: str) -> np.ndarray:
        """Predicted quality (0..1) of each model on `prompt`, ladder order."""
        idx, val = self.featurizer.transform_one(prompt)
        z = val @ self._table()[idx] + self.bias
        return 0.5 * (1.0 + np.tanh(0.5 * z))

    def predict_many(self, prompts: list[str] | tuple[str, ...]) -> np.ndarray:
        x = self.featurizer.transform(list(prompts))
        return logreg.predict(x, self._table(), self.bias)

    def decide(self, prompt: str, threshold: float | None = None) -> RouterDecision:
        """Route one prompt. `threshold` defaults to the router's own (set by calibration)."""
        t = self.threshold if threshold is None else float(threshold)
        if not 0.0 <= t <= 1.0:
            raise ValueError(f"threshold must be within 0..1, not {t}")
        p = self.predict(prompt)
        kappa = self.relative_costs([prompt])
        i = int(choose(p[None, :], kappa, t)[0])
        return RouterDecision(
            model=self.models[i],
            index=i,
            confidence=float(p[i]),
            probabilities={m: float(v) for m, v in zip(self.models, p, strict=True)},
            threshold=t,
            margin=float(margins(p[None, :], kappa, t)[0]),
        )

    def save(self, path: str | Path) -> Path:
        """Write JSON (default) or, for a `.npz` path, compressed numpy arrays. Never pickle."""
        from tierwise.outputs import atomic_path

        path = Path(path)
        header = {
            "format": FORMAT,
            "version": VERSION,
            "kind": "hashed-logistic",
            "models": list(self.models),
            "featurizer": {
                "n_bits": self.featurizer.n_bits,
                "bigrams": self.featurizer.bigrams,
                "max_chars": self.featurizer.max_chars,
            },
            "threshold": self.threshold,
            "cost_model": None
            if self.cost_model is None
            else {
                "intercept": [float(v) for v in self.cost_model.intercept],
                "slope": [float(v) for v in self.cost_model.slope],
                "reference": self.cost_model.reference,
            },
            "meta": self.meta,
        }
        if path.suffix.lower() == ".npz":
            with atomic_path(path) as tmp, tmp.open("wb") as fh:  # whole or not at all
                np.savez_compressed(
                    fh,
                    header=np.array(json.dumps(header)),
                    buckets=self.buckets.astype(np.int64),
                    weights=self.weights.astype(np.float32),
                    bias=self.bias,
                )
            return path
        doc = dict(header)
        doc["bias"] = [float(b) for b in self.bias]
        doc["buckets"] = [int(b) for b in self.buckets]
        doc["weights"] = [[float(f"{w:.5g}") for w in col] for col in self.weights.T]
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
        return path


def margins(pred: np.ndarray, kappa: np.ndarray, threshold: float) -> np.ndarray:
    """Per prompt: utility of the best rung minus that of the runner-up, utility = quality − λ × relative cost,
    λ = (1 − t)/t as in `choose`. In quality units (0..1): how sure the decision is."""
    t = min(max(float(threshold), 1e-12), 1.0)
    util = pred - (1.0 - t) / t * kappa
    top2 = np.sort(util, axis=1)[:, -2:]
    return top2[:, 1] - top2[:, 0]


def load_router(path: str | Path) -> LearnedRouter:
    """Load a router saved by `LearnedRouter.save`; OutcomeError names the file and what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise OutcomeError(path, "no such router file")
    try:
        if path.suffix.lower() == ".npz":
            with np.load(path, allow_pickle=False) as z:
                doc = _checked_header(path, loads_json(str(z["header"]), source=path))
                buckets, weights, bias = z["buckets"], z["weights"].astype(float), z["bias"].astype(float)
        else:
            doc = _checked_header(path, loads_json(read_text(path, what="router file"), source=path))
            buckets = np.asarray(doc["buckets"], dtype=np.int64)
            weights = np.asarray(doc["weights"], dtype=float).T.reshape(len(buckets), len(doc["models"]))
            bias = np.asarray(doc["bias"], dtype=float)
        fz = Featurizer(**doc["featurizer"])
        models = tuple(doc["models"])
        if bias.shape != (len(models),) or weights.shape != (len(buckets), len(models)):
            raise OutcomeError(path, "weights do not match the model list")
        if len(buckets) and (buckets.min() < 0 or buckets.max() >= fz.n_features):
            raise OutcomeError(path, "feature ids out of range")
        cm = doc.get("cost_model")
        cost_model = (
            None
            if cm is None
            else CostModel(
                np.asarray(cm["intercept"], dtype=float),
                np.asarray(cm["slope"], dtype=float),
                float(cm["reference"]),
            )
        )
        if cost_model is not None and cost_model.intercept.shape != (len(models),):
            raise OutcomeError(path, "cost model does not match the model list")
    except OutcomeError:
        raise
    except InputFileError as exc:
        raise OutcomeError(path, f"unreadable router file ({exc.problem})", line=exc.line) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise OutcomeError(path, f"unreadable router file ({exc.__class__.__name__}: {exc})") from exc
    threshold = float(doc.get("threshold", 0.5))
    return LearnedRouter(models, fz, buckets, weights, bias, threshold, doc.get("meta", {}), cost_model)


def _checked_header(path: Path, doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise OutcomeError(path, f"not a tierwise router file (format {found!r})")
    if doc.get("version") != VERSION:
        raise OutcomeError(
            path, f"router format version {doc.get('version')} is not supported (need {VERSION})"
        )
    return doc


def train_router(
    table: OutcomeTable,
    *,
    l2: float | None = None,
    featurizer: Featurizer | None = None,
    min_df: int = 2,
    seed: int = 0,
    threshold: float = 0.5,
    objective: str = "auto",
    groups: Sequence[str] | None = None,
) -> LearnedRouter:
    """Fit one quality head per model of `table` on its prompts.

    `objective` "usd" weighs each model's predicted dollar cost (needs a table with dollars); "calls" treats
    every step up the ladder as one unit, which minimises the share of top-model calls (RouteLLM's metric);
    "auto" is "usd" when the table has dollars.

    `l2` None picks the regularisation on a held-out 20% of the prompts (mean log-loss) when the table has at
    least 50 prompts. Features seen in fewer than `min_df` prompts are dropped: they only memorise.

    `groups` (one label per prompt: the benchmark, product or customer each prompt came from) trains for
    traffic from a source the table does not hold: each group weighs the same, each gets its own intercept
    (so "this source is harder" is not learned as "these words are harder"; a new prompt gets their mean),
    and `l2` None is chosen by leave-one-group-out — the one that best ranks each held-out group's gain of
    the top model over the cheapest. See `fit_grouped`.
    """
    if objective not in ("auto", "usd", "calls"):
        raise ValueError(f"objective must be auto, usd or calls, not {objective!r}")
    if objective == "usd" and table.cost_usd is None:
        raise OutcomeError(table.source, "objective 'usd' needs dollar costs (cost_usd or priced tokens)")
    started = time.perf_counter()
    fz = featurizer or Featurizer()
    xc, used = design_matrix(table, fz, min_df)
    y = table.quality
    labels = _group_labels(table, groups)
    if labels is not None:
        w, b, l2 = fit_grouped(xc, y, labels, l2)
    else:
        if l2 is None:
            l2 = 1e-2 if table.n_prompts < SMALL_TABLE else select_l2(xc, y, seed=seed)
        w, b = logreg.fit(xc, y, l2)
    meta = {
        "trained_on": table.source,
        "prompts": table.n_prompts,
        "features": int(len(used)),
        "l2": l2,
        "groups": None if labels is None else sorted(set(labels.tolist())),
        "cost_unit": table.cost_unit,
        "objective": "usd" if (table.cost_usd is not None and objective != "calls") else "calls",
        "model_quality": [round(float(v), 6) for v in table.model_quality()],
        "model_cost": [float(f"{v:.6g}") for v in table.model_cost()],
        "train_seconds": round(time.perf_counter() - started, 2),
    }
    cost_model = None
    if table.cost_usd is not None and objective != "calls":
        chars = np.array([min(len(p), fz.max_chars) for p in table.prompts], dtype=float)
        cost_model = CostModel.fit(chars, table.cost_usd)
    return LearnedRouter(tuple(table.models), fz, used.astype(np.int64), w, b, threshold, meta, cost_model)


def design_matrix(table: OutcomeTable, featurizer: Featurizer, min_df: int = 2) -> tuple[Csr, np.ndarray]:
    """Features of the table's prompts, rare buckets dropped, columns compacted: (matrix, bucket ids)."""
    x = featurizer.transform(table.prompts)
    if table.n_prompts >= SMALL_TABLE and min_df > 1:
        x = x.keep_columns(np.bincount(x.indices, minlength=x.n_cols) >= min_df)
    return x.compact()


def select_l2(x: Csr, y: np.ndarray, *, seed: int = 0, grid: tuple[float, ...] = L2_GRID) -> float:
    """The l2 with the lowest log-loss on a held-out 20% of rows (a warm-started regularisation path)."""
    n = x.n_rows
    perm = np.random.default_rng(seed).permutation(n)
    val, tr = np.sort(perm[: max(n // 5, 1)]), np.sort(perm[max(n // 5, 1) :])
    xt, xv = x.rows(tr), x.rows(val)
    best, best_loss, start = grid[0], math.inf, None
    for l2 in grid:
        start = logreg.fit(xt, y[tr], l2, start=start)
        p = np.clip(logreg.predict(xv, *start), 1e-9, 1 - 1e-9)
        loss = float(-np.mean(y[val] * np.log(p) + (1 - y[val]) * np.log(1 - p)))
        if loss < best_loss - 1e-6:
            best, best_loss = l2, loss
    return best


def _group_labels(table: OutcomeTable, groups: Sequence[str] | None) -> np.ndarray | None:
    """Validated group labels, or None when there is nothing to group (no labels, or one group only)."""
    if groups is None:
        return None
    labels = np.asarray([str(g) for g in groups])
    if len(labels) != table.n_prompts:
        raise ValueError(f"groups must give one label per prompt ({table.n_prompts}), not {len(labels)}")
    return labels if len(set(labels.tolist())) > 1 else None


def fit_grouped(
    x: Csr, y: np.ndarray, labels: np.ndarray, l2: float | None, grid: tuple[float, ...] = GROUP_L2_GRID
) -> tuple[np.ndarray, np.ndarray, float]:
    """Fit heads that generalise across groups: (W, b, l2).

    Each group weighs the same in the loss and has its own intercept; the returned bias is the mean of the
    group intercepts. `l2` None: each candidate is fitted with one group held out, scored by how well the
    predicted gain (top head − cheapest head) correlates with the realised gain on that group, and the
    candidate with the best mean correlation over groups wins (strongest first on ties).
    """
    names, gid = np.unique(labels, return_inverse=True)
    if l2 is None:
        scores = np.zeros(len(grid))
        for g in range(len(names)):
            tr, te = np.flatnonzero(gid != g), np.flatnonzero(gid == g)
            xt, xv = x.rows(tr), x.rows(te)
            gain = y[te, -1] - y[te, 0]
            start = None
            for i, cand in enumerate(grid):
                w, b = _fit_with_intercepts(xt, y[tr], gid[tr], cand, start)
                start = (w, b)
                p = logreg.predict(xv, w, b.mean(axis=0))
                scores[i] += _correlation(p[:, -1] - p[:, 0], gain) / len(names)
        l2 = float(grid[int(np.argmax(scores + 1e-9 * np.arange(len(grid))[::-1]))])
    w, b = _fit_with_intercepts(x, y, gid, l2, None)
    return w, b.mean(axis=0), l2


def _fit_with_intercepts(
    x: Csr, y: np.ndarray, gid: np.ndarray, l2: float, start: tuple[np.ndarray, np.ndarray] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Logistic heads with one intercept per group (one-hot columns; the shared bias stays unpenalised) and
    each group weighted equally. Returns (W, B): feature weights and each group's intercepts (groups, k)."""
    _, gid = np.unique(gid, return_inverse=True)
    n_groups = int(gid.max()) + 1
    onehot = Csr(np.arange(x.n_rows + 1, dtype=np.int64), gid.astype(np.int64), np.ones(x.n_rows), n_groups)
    counts = np.bincount(gid, minlength=n_groups)
    weight = 1.0 / counts[gid]
    init = None
    if start is not None:
        init = (np.vstack([start[0], start[1] - start[1].mean(axis=0)]), start[1].mean(axis=0))
    w, b = logreg.fit(x.hstack(onehot), y, l2, start=init, sample_weight=weight)
    return w[: x.n_cols], w[x.n_cols :] + b


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    denom = float(np.sqrt((a @ a) * (b @ b)))
    return float(a @ b) / denom if denom > 0 else 0.0
