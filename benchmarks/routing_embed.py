"""Experiment (issue 14 part 1): does a static embedding shipped inside a PyPI wheel help the learned router
generalise to a benchmark it never saw? Not part of tierwise: the answer was "not enough", see benchmarks/README.md.

    pip install -e ".[routing-embed]"   # wordllama 0.4.0.post1 (19 MB wheel: 256-d weights and tokenizer inside)
    python benchmarks/routing_embed.py [--data ../shared/data/routing] [--seeds 3] [--select]

Same leave-one-benchmark-out runs as `benchmarks/routing.py --only lobo` (same seeds, same 90% training
subsamples, same bootstrap test sets), dollar cost relative to always-GPT-4 at 95% of GPT-4's quality:

- current: `train_router` (hashed uni/bigrams + shape tokens, logistic heads, l2 on a validation split).
- embedding: WordLlama l2_supercat_256 (a token-embedding average, unit-normalised), z-scored, logistic heads,
  each training benchmark weighing the same, l2 0.1.
- hashed+embedding: the current design matrix with the z-scored embedding appended × 0.1, l2 1e-3.
- `--select`: hashed+embedding with (weight, l2) from {0, 0.05, 0.1, 0.2} × {3e-3, 1e-3} picked by
  leave-one-group-out on the two training benchmarks only (the correlation of predicted and realised gain on the
  left-out one) — the only choice a user could make. Slow (16 extra fits per run).

The embedding's weight and l2 above were set while looking at held-out results, so the two fixed rows flatter
the embedding; `--select` is the honest one. Measured figures are in benchmarks/README.md ("Routing with a
static embedding").

WordLlama.load() in 0.4.0.post1 does not find the tokenizer its wheel ships (it looks in `tokenizer/`, the wheel
has `tokenizers/`) and goes to the Hugging Face hub for it; this script reads both files from the installed
package directly (safetensors parsed with numpy, `tokenizers.Tokenizer.from_file`) and never imports wordllama.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from routing import LOBO_BENCHMARKS, pooled, spread  # noqa: E402

from tierwise.routing import logreg  # noqa: E402
from tierwise.routing.compare import router_inputs  # noqa: E402
from tierwise.routing.convert import routellm_rows  # noqa: E402
from tierwise.routing.curves import learned_curve  # noqa: E402
from tierwise.routing.features import Csr, Featurizer  # noqa: E402
from tierwise.routing.learned import CostModel, design_matrix, train_router  # noqa: E402
from tierwise.routing.metrics import summarize  # noqa: E402
from tierwise.routing.table import OutcomeTable, table_from_rows  # noqa: E402

GRID = [(a, l2) for a in (0.0, 0.05, 0.1, 0.2) for l2 in (3e-3, 1e-3)]


class StaticEmbedding:
    """WordLlama's bundled l2_supercat_256: Llama-2 tokenizer, mean of 256-d token vectors, unit norm."""

    def __init__(self) -> None:
        spec = importlib.util.find_spec("wordllama")  # locates the package without importing it
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit("error: wordllama is not installed (pip install -e \".[routing-embed]\")")
        from tokenizers import Tokenizer

        root = Path(list(spec.submodule_search_locations)[0])
        self.table = _safetensors(root / "weights" / "l2_supercat_256.safetensors", "embedding.weight")
        self.tokenizer = Tokenizer.from_file(str(root / "tokenizers" / "l2_supercat_tokenizer_config.json"))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()

    def _pool(self, ids: list[int]) -> np.ndarray:
        if not ids:
            return np.zeros(self.table.shape[1], dtype=np.float32)
        v = self.table[np.clip(ids, 0, len(self.table) - 1)].mean(axis=0)
        return v / max(float(np.linalg.norm(v)), 1e-9)

    def embed_one(self, text: str) -> np.ndarray:
        return self._pool(self.tokenizer.encode(text[:20_000], add_special_tokens=False).ids)

    def embed(self, texts: list[str] | tuple[str, ...]) -> np.ndarray:
        encs = self.tokenizer.encode_batch([t[:20_000] for t in texts], add_special_tokens=False)
        return np.stack([self._pool(e.ids) for e in encs]) if encs else np.zeros((0, self.table.shape[1]))


def _safetensors(path: Path, key: str) -> np.ndarray:
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    info = json.loads(raw[8 : 8 + n])[key]
    start, end = info["data_offsets"]
    dtype = {"F16": np.float16, "F32": np.float32}[info["dtype"]]
    count = (end - start) // np.dtype(dtype).itemsize
    return np.frombuffer(raw, dtype=dtype, count=count, offset=8 + n + start).reshape(info["shape"]).astype(np.float32)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _dense_csr(x: np.ndarray) -> Csr:
    n, d = x.shape
    indptr = np.arange(0, n * d + 1, d, dtype=np.int64)
    return Csr(indptr, np.tile(np.arange(d, dtype=np.int64), n), x.ravel().astype(float), d)


def _group_weight(groups: np.ndarray) -> np.ndarray:
    _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    return 1.0 / counts[inverse]


def _zscore(x: np.ndarray, xt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-6
    return (x - mu) / sd, (xt - mu) / sd


def fit_embedding(e: np.ndarray, y: np.ndarray, groups: np.ndarray, et: np.ndarray, l2: float = 0.1):
    """Logistic heads on the z-scored embedding, each training source weighing the same."""
    x, xt = _zscore(e, et)
    w, b = logreg.fit(_dense_csr(x), y, l2, sample_weight=_group_weight(groups))
    return _sigmoid(xt @ w + b)


def fit_joint(train: OutcomeTable, e: np.ndarray, test: OutcomeTable, et: np.ndarray, weight: float, l2: float):
    """Logistic heads on [hashed features | weight × z-scored embedding]."""
    fz = Featurizer()
    xh, used = design_matrix(train, fz, 2)
    x, xt_dense = _zscore(e, et)
    w, b = logreg.fit(xh.hstack(_dense_csr(weight * x)), train.quality, l2)
    xt = fz.transform(test.prompts)
    remap = np.full(fz.n_features, -1)
    remap[used] = np.arange(len(used))
    keep = remap[xt.indices] >= 0
    indptr = np.concatenate([[0], np.cumsum(keep, dtype=np.int64)])[xt.indptr]
    xt = Csr(indptr, remap[xt.indices[keep]], xt.data[keep], len(used)).hstack(_dense_csr(weight * xt_dense))
    return logreg.predict(xt, w, b)


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    d = float(np.sqrt((a @ a) * (b @ b)))
    return float(a @ b) / d if d > 0 else 0.0


def select_joint(parts: dict[str, OutcomeTable], embs: dict[str, np.ndarray]) -> tuple[float, float]:
    """(weight, l2) with the best mean gain correlation, each training benchmark left out in turn."""
    scores = np.zeros(len(GRID))
    for held in parts:
        rest = [b for b in parts if b != held]
        tr, e = pooled([parts[b] for b in rest]), np.concatenate([embs[b] for b in rest])
        gain = parts[held].quality[:, -1] - parts[held].quality[:, 0]
        for i, (a, l2) in enumerate(GRID):
            p = fit_joint(tr, e, parts[held], embs[held], a, l2)
            scores[i] += _correlation(p[:, -1] - p[:, 0], gain) / len(parts)
    return GRID[int(np.argmax(scores))]


def cost_at_95(test: OutcomeTable, pred: np.ndarray, cost_model: CostModel) -> float | None:
    chars = np.array([min(len(p), 20_000) for p in test.prompts], dtype=float)
    curve = learned_curve("x", test, pred, cost_model.relative(chars))
    return summarize(curve, test)["cost_relative_at_95"]  # type: ignore[return-value]


def run(tables, embs, held: str, seed: int, select: bool) -> dict[str, object]:
    """One leave-one-benchmark-out run, drawn exactly as benchmarks/routing.py's run_lobo draws it."""
    rng = np.random.default_rng(seed)
    rows: dict[str, np.ndarray] = {}
    for name, t in tables.items():
        if name != held:
            rows[name] = np.sort(rng.permutation(t.n_prompts)[: round(0.9 * t.n_prompts)])
    test_rows = rng.integers(0, tables[held].n_prompts, tables[held].n_prompts)
    parts = {b: tables[b].subset(r) for b, r in rows.items()}
    train, test = pooled(list(parts.values())), tables[held].subset(test_rows)
    e = np.concatenate([embs[b][r] for b, r in rows.items()])
    et = embs[held][test_rows]
    groups = np.array([pid.split("/")[0] for pid in train.prompt_ids])
    current = train_router(train, seed=seed)
    cm = current.cost_model
    assert cm is not None
    out: dict[str, object] = {"current": cost_at_95(test, router_inputs(current, test, "usd")[0], cm)}
    out["embedding"] = cost_at_95(test, fit_embedding(e, train.quality, groups, et), cm)
    out["hashed+embedding"] = cost_at_95(test, fit_joint(train, e, test, et, 0.1, 1e-3), cm)
    if select:
        a, l2 = select_joint(parts, {b: embs[b][r] for b, r in rows.items()})
        out["hashed+emb, LOGO"] = cost_at_95(test, fit_joint(train, e, test, et, a, l2), cm)
        out["picked"] = (a, l2)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "routing")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--select", action="store_true", help="add the (weight, l2) picked by leave-one-group-out")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    emb = StaticEmbedding()
    load_s = time.perf_counter() - t0
    tables = {b: table_from_rows(routellm_rows(args.data, b), source=b) for b in LOBO_BENCHMARKS}
    embs = {b: emb.embed(t.prompts) for b, t in tables.items()}
    lat = []
    for p in tables["mmlu"].prompts[:2000]:
        t1 = time.perf_counter()
        emb.embed_one(p)
        lat.append(time.perf_counter() - t1)
    print(
        f"WordLlama l2_supercat_256 from the wheel: load {load_s:.2f} s; embed one MMLU prompt p50 "
        f"{1e3 * np.median(lat):.3f} ms (on top of the current router's decision)"
    )
    print(f"{'held out':9} {'router':18} {'$ to reach 95% of top quality':>32}")
    for held in LOBO_BENCHMARKS:
        runs = [run(tables, embs, held, s, args.select) for s in range(args.seeds)]
        for name in [k for k in runs[0] if k != "picked"]:
            print(f"{held:9} {name:18} {spread([r[name] for r in runs]):>32}")  # type: ignore[misc]
        if args.select:
            print(f"{held:9} LOGO picked (weight, l2): {[r['picked'] for r in runs]}")
        print(flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
