"""Throughput of many concurrent requests against an endpoint with real latency, beside its baseline, in one run.

N requests on the simple route (triage → draft → judge → respond: 3 model calls each) go through
`graph.ainvoke` with at most C in flight, against the scripted emulator in its own process, every call
answering after `--latency-ms`. With zero overhead the run would take calls × latency / concurrency
(the ideal); the fraction of it reached says how much the client side (LangGraph, the Gemini client, pricing,
the ledger write) holds requests back. The baseline is a bare LangGraph graph of the same topology calling
ChatGoogleGenerativeAI.ainvoke directly: what the stack costs without tierwise.
Targets: ≥ 85% of ideal, throughput ≥ 0.95× the bare graph's, peak RSS ≤ 400 MB (the process's peak: both graphs
run in it, so it bounds each). Where the time goes, when the target is missed: benchmarks/README.md, "Throughput".

    python benchmarks/throughput.py [--requests 1000] [--concurrency 64] [--latency-ms 50] [--rounds 3] [--no-ledger]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import bare_models, emulator_process, scratch_dir  # noqa: E402 - the benchmarks' shared helpers
from overhead import RULES, BareState  # noqa: E402

from tierwise import Context, build_graph  # noqa: E402


class BareOut(BareState, total=False):
    calls: list[int]  # one entry per model call, so both graphs are counted alike


def bare_graph(base_url: str):
    """The same topology and prompts, calling the chat models directly with ainvoke: the baseline."""
    from langgraph.graph import END, START, StateGraph

    from tierwise.prompts import render

    triage_llm, draft_llm, judge_llm = bare_models(base_url)

    async def triage(state):
        return {"triage": await triage_llm.ainvoke(render("triage", input=state["input"]))}

    async def draft(state):
        return {"draft": (await draft_llm.ainvoke(render("draft", input=state["input"]))).answer}

    async def judge(state):
        return {"score": (await judge_llm.ainvoke(render("judge", input=state["input"], draft=state["draft"]))).score}

    async def respond(state):
        return {"answer": state["draft"], "calls": [1, 1, 1]}

    builder = StateGraph(BareOut)
    for name, fn in (("triage", triage), ("draft", draft), ("judge", judge), ("respond", respond)):
        builder.add_node(name, fn)
    builder.add_edge(START, "triage")
    builder.add_edge("triage", "draft")
    builder.add_edge("draft", "judge")
    builder.add_edge("judge", "respond")
    builder.add_edge("respond", END)
    return builder.compile()


async def run(graph, context: Context | None, requests: int, concurrency: int) -> tuple[float, int, int]:
    """Seconds taken, calls made and requests failed, for `requests` requests at most `concurrency` in flight."""
    gate = asyncio.Semaphore(concurrency)
    calls = failed = 0

    async def one(i: int) -> None:
        nonlocal calls, failed
        async with gate:
            out = await graph.ainvoke({"input": f"Ticket {i}: my card was charged twice, is this urgent?"},
                                      context=context)
        calls += len(out["calls"])
        failed += bool(out.get("failure")) or any(getattr(c, "outcome", "ok") != "ok" for c in out["calls"])

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(requests)))
    return time.perf_counter() - started, calls, failed


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


async def measure(graph, context: Context | None, args: argparse.Namespace) -> dict[str, float]:
    """One event loop for the warm-up and the run: the Gemini client's connection pool is bound to its loop."""
    cpu = time.process_time()
    seconds, calls, failed = await run(graph, context, args.requests, args.concurrency)
    settle()  # the ledger's writer thread commits what it was handed: its CPU counts too
    cpu = time.process_time() - cpu
    ideal = calls * args.latency_ms / 1000 / args.concurrency
    return {"seconds": seconds, "ideal": ideal, "rps": args.requests / seconds, "fraction": ideal / seconds,
            "cpu_ms": cpu * 1000 / args.requests, "rss": peak_rss_mb(), "failed": failed, "calls": calls}


def settle() -> None:
    from tierwise.ledger.journal import drain_all

    drain_all()


async def measure_both(base_url: str, args: argparse.Namespace) -> dict[str, list[dict[str, float]]]:
    """`--rounds` rounds, alternating which graph goes first, so load from other processes hits both alike."""
    graphs = {"tierwise": (build_graph(), Context(base_url=base_url)), "bare LangGraph": (bare_graph(base_url), None)}
    for graph, context in graphs.values():
        await run(graph, context, args.warmup, args.concurrency)  # connections, caches, schemas
    settle()
    results: dict[str, list[dict[str, float]]] = {name: [] for name in graphs}
    for i in range(args.rounds):
        for name in (list(graphs) if i % 2 == 0 else list(graphs)[::-1]):
            results[name].append(await measure(*graphs[name], args))
    return results


def spread(values: list[float], fmt: str) -> str:
    """median [min-max] of the rounds."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return format(ordered[0], fmt)
    return f"{format(statistics.median(ordered), fmt)} [{format(ordered[0], fmt)}-{format(ordered[-1], fmt)}]"


def transport() -> str:
    """google-genai sends async calls through aiohttp when it is installed (pip install -e ".[aiohttp]"), else
    httpx, whose connection pool costs far more CPU at this concurrency."""
    import importlib.util

    return "aiohttp" if importlib.util.find_spec("aiohttp") else "httpx"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--warmup", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3, help="Alternating rounds; the median and range are shown.")
    parser.add_argument("--no-ledger", action="store_true", help="Measure without persisting call records.")
    args = parser.parse_args()
    scratch = scratch_dir(args.no_ledger)
    rules = [{**rule, "delay_ms": args.latency_ms} for rule in RULES]

    with emulator_process(scratch, rules) as base_url:
        results = asyncio.run(measure_both(base_url, args))

    ledger = "off" if args.no_ledger else "SQLite (every call record persisted)"
    print(f"{args.requests} requests x {args.rounds} rounds, simple route (3 model calls each), {args.latency_ms:g} ms "
          f"per call, concurrency {args.concurrency}; emulator in its own process on loopback; tierwise ledger: "
          f"{ledger}; async transport: {transport()}; median [min-max] over the rounds\n")
    print(f"{'graph':<16}{'req/s':>22}{'of ideal':>10}{'CPU ms/req':>24}{'peak RSS MB':>13}{'failed':>8}")
    for name, rounds in results.items():
        print(f"{name:<16}{spread([r['rps'] for r in rounds], '.1f'):>22}"
              f"{statistics.median(r['fraction'] for r in rounds):>10.1%}"
              f"{spread([r['cpu_ms'] for r in rounds], '.2f'):>24}{max(r['rss'] for r in rounds):>13.0f}"
              f"{sum(r['failed'] for r in rounds):>8.0f}")
    t, b = results["tierwise"], results["bare LangGraph"]
    ratios = [tr["rps"] / br["rps"] for tr, br in zip(t, b, strict=True)]
    fraction = statistics.median(r["fraction"] for r in t)
    rss = max(r["rss"] for r in t)
    print(f"\nthroughput tierwise / bare, per round: {spread(ratios, '.2f')}x   target >= 0.95x: "
          f"{'ok' if statistics.median(ratios) >= 0.95 else 'MISSED'}")
    print(f"tierwise: {fraction:.1%} of ideal (target >= 85%: {'ok' if fraction >= 0.85 else 'MISSED'}), "
          f"peak RSS {rss:.0f} MB (target <= 400 MB: {'ok' if rss <= 400 else 'MISSED'})")


if __name__ == "__main__":
    main()
