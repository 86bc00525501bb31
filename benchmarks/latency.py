"""End-to-end latency per route and router strategy, beside one direct Pro call, on a mixed workload.

The scripted emulator runs in its own process with its latency model on (each call waits the model's time to first
token + output tokens / its speed: published figures, tierwise/emulator/latency.toml), time-scaled by --scale so
the run is short; every latency printed is divided back by the same factor (so the client's own few ms are
magnified by 1/scale: at 0.2, ~10 ms becomes ~50 ms — small beside seconds of model time, and the same for the
direct call).

Workload: prompts from tests/data/routing (RouteLLM's MMLU and GSM8K subsets, Apache-2.0), half each. With the
`llm` strategy, triage (scripted) sends MMLU questions down the simple route and GSM8K word problems down the
complex one; the judge fails drafts on questions about matrices, which Pro then polishes. `learned` and `hybrid` use a
router trained on the same subsets with `tierwise router train` (no API call to route). The baseline sends each
request straight to Pro once, with an answer as long as the pipeline's Pro answers.

    python benchmarks/latency.py [--requests 80] [--scale 0.2] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import emulator_process, scratch_dir  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "routing"
LONG = ("Step by step: the quantities in the question give the total directly, and checking each step against "
        "the question confirms it. The answer is 18, because each of the figures adds up as shown. ") * 2
SHORT = "The answer is B, for the reason the question's second line gives."


def rules() -> list[dict]:
    return [
        {"system": "triage step", "user": r"Answer:\s*$", "reply": {"intent": "question", "complexity": 1,
                                                                   "confidence": "high"}},
        {"system": "triage step", "reply": {"intent": "analysis", "complexity": 5, "confidence": "high"}},
        {"system": "answer requests briefly", "reply": {"answer": SHORT, "confidence": "high"}},
        {"system": "grade an answer", "user": r"\bmatri(x|ces)\b", "reply": {"score": 4, "reason": "Unsure."}},
        {"system": "grade an answer", "reply": {"score": 9, "reason": "Correct."}},
        {"system": "You get a request and a draft", "reply": LONG, "thoughts": 200},
        {"system": "reasoning step", "reply": LONG, "thoughts": 200},
        {"system": "answer directly", "reply": LONG, "thoughts": 200},
    ]


def workload(n: int) -> list[str]:
    """n prompts, alternating MMLU and GSM8K (distinct prompts, file order)."""
    sources = []
    for name in ("routellm_mmlu_subset.csv", "routellm_gsm8k_subset.csv"):
        with open(DATA / name, newline="", encoding="utf-8") as f:
            seen = dict.fromkeys(row["prompt"] for row in csv.DictReader(f))
        sources.append(list(seen))
    return [sources[i % 2][i // 2] for i in range(n)]


def train_router(scratch: Path) -> Path:
    """A learned router from both subsets, through the CLI a user would use."""
    combined = scratch / "outcomes.csv"
    with open(combined, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=["prompt_id", "prompt", "model", "quality", "cost_usd"],
                                extrasaction="ignore")
        writer.writeheader()
        for name in ("routellm_mmlu_subset.csv", "routellm_gsm8k_subset.csv"):
            with open(DATA / name, newline="", encoding="utf-8") as f:
                writer.writerows(csv.DictReader(f))
    router = scratch / "router.json"
    subprocess.run([sys.executable, "-m", "tierwise.cli", "router", "train", "--outcomes", str(combined),
                    "--out", str(router)], check=True, capture_output=True, text=True)
    return router


def registry_for(scratch: Path, strategy: str, router: Path) -> Path:
    path = scratch / f"registry-{strategy}.toml"
    path.write_text(f'[router]\nstrategy = "{strategy}"\nmodel_path = "{router}"\n')
    return path


async def run_graph(prompts: list[str], registry: Path, base_url: str, concurrency: int) -> list[tuple[str, float]]:
    from tierwise import Context, build_graph

    graph, context = build_graph(), Context(base_url=base_url, registry_path=str(registry))
    gate = asyncio.Semaphore(concurrency)

    async def one(text: str) -> tuple[str, float]:
        async with gate:
            started = time.perf_counter()
            out = await graph.ainvoke({"input": text}, context=context)
            seconds = time.perf_counter() - started
        route = out["route"] + (" (escalated)" if out.get("escalated") else "")
        return route, seconds

    return await asyncio.gather(*(one(p) for p in prompts))


async def run_direct(prompts: list[str], base_url: str, concurrency: int) -> list[tuple[str, float]]:
    from langchain_google_genai import ChatGoogleGenerativeAI

    from tierwise import load_registry

    registry = load_registry(None)
    pro = registry.data.tiers[registry.top_tier].model
    llm = ChatGoogleGenerativeAI(model=pro, google_api_key="emulator", base_url=base_url, max_retries=1)
    gate = asyncio.Semaphore(concurrency)

    async def one(text: str) -> tuple[str, float]:
        async with gate:
            started = time.perf_counter()
            await llm.ainvoke([("system", "You answer directly."), ("user", text)])
            return "direct Pro call", time.perf_counter() - started

    return await asyncio.gather(*(one(p) for p in prompts))


def table(name: str, results: list[tuple[str, float]], scale: float) -> list[str]:
    by_route: dict[str, list[float]] = defaultdict(list)
    for route, seconds in results:
        by_route[route].append(seconds / scale)
    lines = []
    for route, values in sorted(by_route.items()):
        lines.append(_row(name, route, values))
    if len(by_route) > 1:
        lines.append(_row(name, "all requests", [s / scale for _, s in results]))
    return lines


def _row(name: str, route: str, values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{name:<12}{route:<24}{len(values):>6}{statistics.median(ordered):>10.2f}{p95:>10.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=80)
    parser.add_argument("--scale", type=float, default=0.2, help="Emulated time per real second (0.2: 5x faster).")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    scratch = scratch_dir(no_ledger=True)  # latency, not the ledger, is measured here
    os.environ.setdefault("LANGSMITH_TRACING", "false")
    prompts = workload(args.requests)
    router = train_router(scratch)
    options = ["--latency", "--latency-scale", str(args.scale)]
    lines = []
    with emulator_process(scratch, rules(), options=options) as base_url:
        for strategy in ("llm", "learned", "hybrid"):
            registry = registry_for(scratch, strategy, router)
            results = asyncio.run(run_graph(prompts, registry, base_url, args.concurrency))
            lines += table(strategy, results, args.scale)
        lines += table("direct", asyncio.run(run_direct(prompts, base_url, args.concurrency)), args.scale)

    print(f"{args.requests} requests (MMLU and GSM8K prompts, half each), {args.concurrency} in flight; emulator in "
          f"its own process with published per-model latency, time-scaled x{args.scale:g} (figures below are "
          f"real-time equivalents)\n")
    print(f"{'strategy':<12}{'route':<24}{'n':>6}{'p50 s':>10}{'p95 s':>10}")
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
