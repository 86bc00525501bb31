"""Routing-economics benchmark: held-out routing on RouteLLM's GPT-4 vs Mixtral data, routers side by side.

    python benchmarks/routing.py [--data ../shared/data/routing] [--seed 0] [--test-frac 0.3] [--json F]

MMLU and GSM8K: one split by prompt text (seeded; no test prompt, nor a duplicate of one, is trained on); the
learned router is trained on the train part and every router is scored on the test part. MT-Bench has only 72
questions, so it is cross-fitted instead: 6 folds, each question predicted by a router that never saw it.
Routers: random (expected curve), prompt length, the learned router with the call-share objective
(learned-calls, the one RouteLLM's metrics judge) and with the dollar objective (learned-usd), and the oracle.
Cost in dollars uses the converter's token estimates × Gemini-like lite/pro prices (tierwise.routing.pricing).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tierwise.routing.compare import curves_for, router_inputs  # noqa: E402
from tierwise.routing.convert import routellm_rows  # noqa: E402
from tierwise.routing.curves import learned_curve  # noqa: E402
from tierwise.routing.learned import train_router  # noqa: E402
from tierwise.routing.metrics import summarize  # noqa: E402
from tierwise.routing.table import OutcomeTable, table_from_rows  # noqa: E402

TARGETS = {"mmlu": {"top_share_at_95": 0.45, "apgr": 0.65}, "gsm8k": {"top_share_at_95": 0.60}}
CROSS_FIT = {"mt_bench": 6}


def split_by_prompt(table: OutcomeTable, test_frac: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of train and test; identical prompt texts always land on the same side."""
    texts = sorted(set(table.prompts))
    perm = np.random.default_rng(seed).permutation(len(texts))
    test = {texts[i] for i in perm[: round(test_frac * len(texts))]}
    is_test = np.array([p in test for p in table.prompts])
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def latency(router, prompts, n: int = 2000) -> tuple[float, float]:
    prompts = list(prompts)[:n]
    for p in prompts[:50]:
        router.decide(p)
    times = []
    for p in prompts:
        t0 = time.perf_counter()
        router.decide(p)
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1e3), float(np.percentile(times, 99) * 1e3)


def run_split(table: OutcomeTable, test_frac: float, seed: int) -> dict:
    train, test = split_by_prompt(table, test_frac, seed)
    tr, te = table.subset(train), table.subset(test)
    t0 = time.perf_counter()
    router = train_router(tr, seed=seed)
    train_s = time.perf_counter() - t0
    curves = curves_for(te, router, objectives=("calls", "usd"))
    p50, p99 = latency(router, te.prompts)
    split = f"split by prompt, seed {seed}: train {tr.n_prompts} / test {te.n_prompts} prompts"
    return {
        "table": te,
        "curves": curves,
        "split": split,
        "train_s": train_s,
        "p50_ms": p50,
        "p99_ms": p99,
        "l2": router.meta["l2"],
    }


def run_cross_fit(table: OutcomeTable, folds: int, seed: int) -> dict:
    texts = sorted(set(table.prompts))
    fold_of_text = {
        t: i % folds
        for i, t in enumerate(np.array(texts)[np.random.default_rng(seed).permutation(len(texts))])
    }
    fold_of = np.array([fold_of_text[p] for p in table.prompts])
    pred = {o: np.zeros_like(table.quality) for o in ("calls", "usd")}
    kappa = {o: np.zeros_like(table.quality) for o in ("calls", "usd")}
    t0, lat = time.perf_counter(), []
    for k in range(folds):  # identical prompt texts share a fold, so none is both trained on and tested
        fold, rest = np.flatnonzero(fold_of == k), np.flatnonzero(fold_of != k)
        router = train_router(table.subset(rest), seed=seed)
        held = table.subset(fold)
        for o in ("calls", "usd"):
            pred[o][fold], kappa[o][fold] = router_inputs(router, held, o)
        lat.append(latency(router, held.prompts))
    base = [c for c in curves_for(table) if c.name != "oracle"]
    learned = [learned_curve(f"learned-{o}", table, pred[o], kappa[o]) for o in ("calls", "usd")]
    curves = base + learned + [c for c in curves_for(table) if c.name == "oracle"]
    split = f"{folds}-fold cross-fit by prompt, seed {seed}: {table.n_prompts} prompts, predicted out of fold"
    return {
        "table": table,
        "curves": curves,
        "split": split,
        "train_s": time.perf_counter() - t0,
        "p50_ms": float(np.median([a for a, _ in lat])),
        "p99_ms": float(np.max([b for _, b in lat])),
        "l2": None,
    }


def fmt(v, pct: bool = True) -> str:
    if v is None:
        return "—"
    return f"{100 * v:5.1f}%" if pct else f"{v:.3f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "routing")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--test-frac", type=float, default=0.3)
    ap.add_argument("--benchmarks", default="mmlu,gsm8k,mt_bench")
    ap.add_argument(
        "--folds", type=int, default=0, help="cross-fit every benchmark with K folds instead of one split"
    )
    ap.add_argument("--json", type=Path, help="also write every metric and curve here")
    args = ap.parse_args(argv)
    if not args.data.exists():
        print(f"error: {args.data}: no such directory (pass --data)", file=sys.stderr)
        return 2

    header = (
        f"{'bench':9} {'router':14} {'APGR':>6} {'CPT50':>6} {'CPT80':>6} {'top@95':>7} "
        f"{'$@95':>6} {'$@100':>6} {'AIQ':>6} {'maxQ':>6}"
    )
    lines, out, checks = [header, "-" * len(header)], {}, []
    notes = []
    for bench in args.benchmarks.split(","):
        table = table_from_rows(routellm_rows(args.data, bench), source=bench)
        folds = args.folds or CROSS_FIT.get(bench, 0)
        res = run_cross_fit(table, folds, args.seed) if folds else run_split(table, args.test_frac, args.seed)
        te = res["table"]
        q = te.model_quality()
        notes.append(
            f"{bench}: {res['split']}; test always-weak {q[0]:.4f}, always-strong {q[-1]:.4f}; "
            f"train {res['train_s']:.1f}s (l2 {res['l2']}); decide p50 {res['p50_ms']:.3f} ms, "
            f"p99 {res['p99_ms']:.3f} ms"
        )
        rows = [summarize(c, te) for c in res["curves"]]
        out[bench] = {
            "split": res["split"],
            "p50_ms": res["p50_ms"],
            "p99_ms": res["p99_ms"],
            "metrics": rows,
            "curves": {c.name: c.as_rows() for c in res["curves"]},
        }
        for r in rows:
            lines.append(
                f"{bench:9} {r['router']:14} {fmt(r['apgr'], False):>6} {fmt(r['cpt50']):>6} "
                f"{fmt(r['cpt80']):>6} {fmt(r['top_share_at_95']):>7} {fmt(r['cost_relative_at_95']):>6} "
                f"{fmt(r['cost_relative_at_100']):>6} {fmt(r['aiq'], False):>6} "
                f"{fmt(r['max_quality'], False):>6}"
            )
            if r["router"] == "learned-calls":
                for key, bound in TARGETS.get(bench, {}).items():
                    ok = r[key] is not None and (r[key] <= bound if key != "apgr" else r[key] >= bound)
                    sign = "≤" if key != "apgr" else "≥"
                    checks.append(
                        f"{bench} learned-calls {key} = {fmt(r[key], key != 'apgr')}"
                        f" (target {sign} {bound}) {'MET' if ok else 'MISSED'}"
                    )
        lines.append("")
    print("Routing benchmark: RouteLLM GPT-4 (strong/top) vs Mixtral-8x7B (weak), decontaminated")
    print("top@95 = share of top-model calls to reach 95% of always-top quality; $@95/$@100 = dollar cost")
    print("relative to always-top at 95%/100% of its quality (— = never reached); CPT on call share.")
    print()
    print("\n".join(lines).rstrip())
    print()
    print("\n".join(notes))
    print("\n".join(checks))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
