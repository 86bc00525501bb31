"""End-to-end latency per route and router strategy, beside one direct Pro call, on a mixed workload.

The scripted emulator runs in its own process with its latency model on (each call waits the model's time to first
token + output tokens / its speed: published figures, tierwise/emulator/latency.toml), time-scaled by --scale so
the run is short; every latency printed is divided back by the same factor (so the client's own few ms are
magnified by 1/scale: at 0.2, ~10 ms becomes ~50 ms — small beside seconds of model time, and the same for the
direct call).

Workload: prompts from tests/data/routing (RouteLLM's MMLU and GSM8K subsets, Apache-2.0), half each. With the
`llm` strategy, triage (scripted) sends MMLU questions down the simple route and GSM8K word problems down the
complex one; the judge fails drafts on questions about matrices, which Pro then polishes. `learned` and `hybrid` use
the packaged pre-router with the registry's threshold, uncertain band and intent cues as shipped (the default strategy
runs on the packaged registry untouched). Those values were calibrated on these subsets with `tierwise calibrate
--router ... --strategy hybrid` at LLM triage's quality; the run calibrates again at the quality LLM triage reached in
it and prints both (the packaged router was trained on RouteLLM data that holds these prompts: this measures latency
and cost, not how the router generalises — benchmarks/routing.py does that). `hybrid` calls LLM triage only for
prompts inside the band. The baseline sends each request straight to Pro once, with an answer as long as the
pipeline's Pro answers.

By outcomes alone: the same strategies' decisions on every prompt of the two subsets (no emulator; LLM triage as
scripted above), priced with RouteLLM's estimated dollars of the answering model (triage and judge calls not counted).

Intent cues: how the registry's `[[router.intents]]` read labelled prompts — the project's own
(benchmarks/data/local_models.jsonl), the subsets' 300, and MT-Bench's 80 questions by category when ../shared
holds them: sure (the cue's route, no API call), unsure (hybrid asks LLM triage) or none (the ladder decides).

Cost is what tierwise priced for each request's calls (the direct call: its usage at Pro's list price). Quality is
read from the subsets' outcomes: a request answered by Lite (the simple or moderate route, not escalated) scores what
Mixtral scored on that prompt, one answered by Pro what GPT-4 scored — the routing benchmark's quality of the
strategy's decisions.

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
LABELLED = ROOT / "benchmarks" / "data" / "local_models.jsonl"
MT_BENCH = ROOT.parent / "shared" / "data" / "routing" / "routellm_gpt4_mixtral" / "mt_bench" / "question.jsonl"
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


def outcomes() -> dict[str, tuple[float, float]]:
    """prompt → (quality of the cheap model, quality of the top one) in the subsets."""
    seen: dict[str, dict[str, float]] = defaultdict(dict)
    for name in ("routellm_mmlu_subset.csv", "routellm_gsm8k_subset.csv"):
        with open(DATA / name, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                seen[row["prompt"]]["top" if "gpt-4" in row["model"] else "cheap"] = float(row["quality"])
    return {p: (q["cheap"], q["top"]) for p, q in seen.items() if len(q) == 2}


def workload(n: int) -> list[str]:
    """n prompts, alternating MMLU and GSM8K (distinct prompts, file order)."""
    sources = []
    for name in ("routellm_mmlu_subset.csv", "routellm_gsm8k_subset.csv"):
        with open(DATA / name, newline="", encoding="utf-8") as f:
            seen = dict.fromkeys(row["prompt"] for row in csv.DictReader(f))
        sources.append(list(seen))
    return [sources[i % 2][i // 2] for i in range(n)]


def calibrate_packaged(scratch: Path, target: float) -> tuple[Path, dict]:
    """The packaged router's threshold and uncertain band on the subsets, through the CLI a user would use:
    the cheapest setting reaching `target` × always-top quality."""
    from tierwise.routing.packaged import packaged_path

    combined = scratch / "outcomes.csv"
    per_source = []
    for name in ("routellm_mmlu_subset.csv", "routellm_gsm8k_subset.csv"):
        with open(DATA / name, newline="", encoding="utf-8") as f:
            per_source.append(list(csv.DictReader(f)))
    keep = min(len({r["prompt_id"] for r in rows}) for rows in per_source)  # the workload's mix: half each
    with open(combined, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=["prompt_id", "prompt", "model", "quality", "cost_usd"],
                                extrasaction="ignore")
        writer.writeheader()
        for rows in per_source:
            ids = list(dict.fromkeys(r["prompt_id"] for r in rows))[:keep]
            chosen = set(ids)
            writer.writerows(r for r in rows if r["prompt_id"] in chosen)
    toml = scratch / "calibrated.toml"
    subprocess.run([sys.executable, "-m", "tierwise.cli", "calibrate", "--outcomes", str(combined), "--router",
                    str(packaged_path()), "--strategy", "hybrid", "--write", str(toml),
                    "--target", f"{target:.4f}"], check=True,
                   capture_output=True, text=True)
    import tomllib

    return packaged_path(), tomllib.loads(toml.read_text())["router"]


def registry_for(scratch: Path, strategy: str, default: str) -> Path:
    """The packaged registry as shipped for the default strategy; for another, only its strategy changed."""
    path = scratch / f"registry-{strategy}.toml"
    path.write_text("" if strategy == default else f'[router]\nstrategy = "{strategy}"\n')
    return path


Result = tuple[str, float, float, float, bool]  # route, seconds, cost USD, quality, LLM triage called


async def run_graph(prompts: list[str], registry: Path, base_url: str, concurrency: int,
                    truth: dict[str, tuple[float, float]]) -> list[Result]:
    from tierwise import Context, build_graph

    graph, context = build_graph(), Context(base_url=base_url, registry_path=str(registry))
    gate = asyncio.Semaphore(concurrency)

    async def one(text: str) -> Result:
        async with gate:
            started = time.perf_counter()
            out = await graph.ainvoke({"input": text}, context=context)
            seconds = time.perf_counter() - started
        route = out["route"] + (" (escalated)" if out.get("escalated") else "")
        by_lite = out["route"] in ("simple", "moderate") and not out.get("escalated")
        quality = truth[text][0 if by_lite else 1]
        cost = sum(c.cost_usd for c in out["calls"])
        return route, seconds, cost, quality, any(c.stage == "triage" for c in out["calls"])

    return await asyncio.gather(*(one(p) for p in prompts))


async def run_direct(prompts: list[str], base_url: str, concurrency: int,
                     truth: dict[str, tuple[float, float]]) -> list[Result]:
    from datetime import date

    from langchain_google_genai import ChatGoogleGenerativeAI

    from tierwise import load_registry
    from tierwise.calls.billing import usage_of
    from tierwise.tiers import price

    registry = load_registry(None)
    pro = registry.data.tiers[registry.top_tier].model
    llm = ChatGoogleGenerativeAI(model=pro, google_api_key="emulator", base_url=base_url, max_retries=1)
    gate = asyncio.Semaphore(concurrency)

    async def one(text: str) -> Result:
        async with gate:
            started = time.perf_counter()
            message = await llm.ainvoke([("system", "You answer directly."), ("user", text)])
            seconds = time.perf_counter() - started
        cost = price(registry.top_model, usage_of(message), date.today())
        return "direct Pro call", seconds, cost, truth[text][1], False

    return await asyncio.gather(*(one(p) for p in prompts))


def outcome_lines(shipped) -> list[str]:
    """Quality and model dollars per strategy from the subsets' outcomes, for every prompt (not only the workload's)."""
    from tierwise.routing import load_router
    from tierwise.routing.packaged import packaged_path

    router = load_router(packaged_path())
    sets: dict[str, dict[str, dict[str, tuple[float, float]]]] = {}
    for name in ("mmlu", "gsm8k"):
        seen: dict[str, dict[str, tuple[float, float]]] = defaultdict(dict)
        with open(DATA / f"routellm_{name}_subset.csv", newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                rung = "top" if "gpt-4" in row["model"] else "cheap"
                seen[row["prompt"]][rung] = (float(row["quality"]), float(row["cost_usd"]))
        sets[name] = {p: v for p, v in seen.items() if len(v) == 2}
    lines = []
    for label, names in (("both", ("mmlu", "gsm8k")), ("MMLU", ("mmlu",)), ("GSM8K", ("gsm8k",))):
        totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        n = band = 0
        for name in names:
            for prompt, out in sets[name].items():
                decision = router.decide(prompt, shipped.threshold)
                cue = any(c.sure_of(prompt) for c in shipped.intents)
                unsure = band_edge = False
                if not cue:
                    unsure = any(c.unsure_of(prompt) for c in shipped.intents)
                    band_edge = decision.margin < (shipped.hybrid_margin or 0.0)
                ladder = "top" if decision.index == len(router.models) - 1 else "cheap"
                llm = "top" if name == "gsm8k" else "cheap"  # as the scripted triage
                asked = unsure or band_edge
                picks = {"llm": llm, "learned": ladder, "hybrid": llm if asked else ladder, "always Pro": "top"}
                for strategy, rung in picks.items():
                    totals[strategy][0] += out[rung][0]
                    totals[strategy][1] += out[rung][1]
                n, band = n + 1, band + asked
        shown = "  ".join(f"{s} {q / n:.3f} ${1000 * c / n:.2f}" for s, (q, c) in totals.items())
        lines.append(f"{label:<7}{n:>5}   {shown}   (hybrid asks LLM triage for {band / n:.1%})")
    return lines


def cue_lines(cues: list) -> list[str]:
    """Per labelled set: how many prompts each cue reads as sure (its route), unsure (LLM triage) or neither."""
    import json

    def verdict(text: str) -> str:
        sure = next((c.intent for c in cues if c.sure_of(text)), None)
        return f"sure {sure}" if sure else "unsure" if any(c.unsure_of(text) for c in cues) else "none"

    sets: dict[str, list[str]] = defaultdict(list)
    for line in LABELLED.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        label = item.get("intent") or {"extract": "extraction"}.get(item["kind"], "question")
        sets[f"tierwise {label}"].append(item["input"])
    for name in ("mmlu", "gsm8k"):
        with open(DATA / f"routellm_{name}_subset.csv", newline="", encoding="utf-8") as f:
            sets["MMLU and GSM8K subsets"] += list(dict.fromkeys(row["prompt"] for row in csv.DictReader(f)))
    if MT_BENCH.is_file():
        for line in MT_BENCH.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            sets[f"MT-Bench {item['category']}"].append(item["turns"][0])
    lines = []
    for name, texts in sets.items():
        counts = defaultdict(int)
        for text in texts:
            counts[verdict(text)] += 1
        shown = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        lines.append(f"{name:<26}{len(texts):>5}   {shown}")
    return lines


def table(name: str, results: list[Result], scale: float) -> list[str]:
    by_route: dict[str, list[float]] = defaultdict(list)
    for route, seconds, *_ in results:
        by_route[route].append(seconds / scale)
    lines = []
    for route, values in sorted(by_route.items()):
        lines.append(_row(name, route, values))
    if len(by_route) > 1:
        lines.append(_row(name, "all requests", [r[1] / scale for r in results]))
    return lines


def _row(name: str, route: str, values: list[float]) -> str:
    return f"{name:<12}{route:<24}{len(values):>6}{_p(values, 0.5):>10.2f}{_p(values, 0.95):>10.2f}"


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return statistics.median(ordered) if q == 0.5 else ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(name: str, results: list[Result], scale: float) -> tuple[str, float]:
    seconds = [r[1] / scale for r in results]
    cost = statistics.fmean(r[2] for r in results)
    quality = statistics.fmean(r[3] for r in results)
    triage = sum(r[4] for r in results) / len(results)
    line = (f"{name:<12}{_p(seconds, 0.5):>8.2f}{_p(seconds, 0.95):>8.2f}{1000 * cost:>14.3f}{quality:>9.3f}"
            f"{triage:>12.0%}")
    return line, _p(seconds, 0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=80)
    parser.add_argument("--scale", type=float, default=0.2, help="Emulated time per real second (0.2: 5x faster).")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    scratch = scratch_dir(no_ledger=True)  # latency, not the ledger, is measured here
    os.environ.setdefault("LANGSMITH_TRACING", "false")
    from tierwise import load_registry

    shipped = load_registry(None).data.router
    default = shipped.strategy
    truth = outcomes()
    prompts = workload(args.requests)
    options = ["--latency", "--latency-scale", str(args.scale)]
    lines, summaries, p50 = [], [], {}
    with emulator_process(scratch, rules(), options=options) as base_url:
        calibrated: dict = {}
        results: list[Result] = []
        target = 1.0
        for strategy in ("llm", "learned", "hybrid"):
            if strategy == "learned":  # the pre-router at LLM triage's quality on the routing benchmark: check
                top = statistics.fmean(truth[p][1] for p in prompts)
                target = statistics.fmean(r[3] for r in results) / top
                _, calibrated = calibrate_packaged(scratch, target)
            registry = registry_for(scratch, strategy, default)
            results = asyncio.run(run_graph(prompts, registry, base_url, args.concurrency, truth))
            lines += table(strategy, results, args.scale)
            line, p50[strategy] = summary(strategy + (" *" if strategy == default else ""), results, args.scale)
            summaries.append(line)
        direct = asyncio.run(run_direct(prompts, base_url, args.concurrency, truth))
        lines += table("direct", direct, args.scale)
        line, p50["direct"] = summary("direct Pro", direct, args.scale)
        summaries.append(line)

    print(f"{args.requests} requests (MMLU and GSM8K prompts, half each), {args.concurrency} in flight; emulator in "
          f"its own process with published per-model latency, time-scaled x{args.scale:g} (figures below are "
          f"real-time equivalents)\n")
    print(f"{'strategy':<12}{'route':<24}{'n':>6}{'p50 s':>10}{'p95 s':>10}")
    for line in lines:
        print(line)
    same = (calibrated["threshold"], calibrated["hybrid_margin"]) == (shipped.threshold, shipped.hybrid_margin)
    print(f"\npackaged router as the registry ships it: threshold {shipped.threshold}, uncertain band (hybrid_margin) "
          f"{shipped.hybrid_margin}, {len(shipped.intents)} intent cues; calibrated again here at LLM triage's "
          f"quality ({target:.1%} of always-Pro): threshold {calibrated['threshold']}, band "
          f"{calibrated['hybrid_margin']} ({'the same' if same else 'DIFFERENT: re-calibrate the registry'}); "
          f"* = the registry's default strategy\n")
    print(f"{'strategy':<12}{'p50 s':>8}{'p95 s':>8}{'$/1k requests':>14}{'quality':>9}{'LLM triage':>12}")
    for line in summaries:
        print(line)
    print("\nby outcomes alone, every prompt of the subsets: quality and model $ per 1k requests")
    for line in outcome_lines(shipped):
        print(line)
    print(f"\nintent cues ([[router.intents]]) on labelled prompts\n{'set':<26}{'n':>5}   verdicts")
    for line in cue_lines(shipped.intents):
        print(line)
    print(f"\nlatency: default p50 {p50[default]:.2f} s, direct Pro p50 {p50['direct']:.2f} s, "
          f"ratio {p50[default] / p50['direct']:.2f}")


if __name__ == "__main__":
    main()
