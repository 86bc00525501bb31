"""Gemini's discounts on top of routing, side by side (issue 22): the same 1,000-item workload through the main
graph priced standard vs Flex vs the Batch API, and a long-document workload with and without explicit caching.

Everything runs: the real Gemini client against the emulator in its own process, answering with the published
per-model latencies (`--latency`, scaled by --latency-scale) and Batch API jobs that take --job-seconds each.
Dollars are what tierwise billed (its ledger's records, genai-prices' rates: batch rates for Batch API calls; the
registry's [service_tiers] factor for Flex; creation + storage + cached reads for explicit caches).

    python benchmarks/discounts.py [--items 1000] [--latency-scale 0.1] [--job-seconds 6] [--questions 20]

Workload 1: --items requests over every route of the main graph (simple, moderate, extract, complex), run by
`run_batch`: standard (-j 64), Flex (every stage call on the flex service tier, -j 64: a user hook moves them), and
--api batch (every stage call collected into Batch API jobs). The emulator does not model Flex's queueing (minutes
at Google): Flex's wall time here is a lower bound. Batch API jobs take --job-seconds here; at Google "usually far
sooner" than their 24 h limit, but minutes to hours.

Workload 2: one long document (about 8,000 tokens, a system prompt and the document as the cacheable prefix) and
--questions questions, each asked on two stages (draft on Flash-Lite, reason on Pro): without caching, and inside
an `ExplicitCaches` scope (a cache per model, made where the break-even says it pays, deleted at the end; storage
billed for the minutes the caches lived).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
from pathlib import Path

from chaos import RULES as GRAPH_RULES  # the main graph's scripted answers, every route
from chaos import TRIAGE
from harness import emulator_process, scratch_dir

DOCUMENT = "Clause {n}: the supplier refunds defective goods within 30 days of delivery, at its own cost. " * 1
SYSTEM = "You answer questions about the supply contract below. Quote the clause you rely on."
DOC_RULES = [{"system": "supply contract", "user": "Question (?P<n>\\d+)", "reply": "Clause 7 says so ($n).",
              "thoughts": 40}]


def items(path: Path, count: int) -> Path:
    routes = list(TRIAGE)
    with path.open("w") as out:
        for i in range(count):
            route = routes[i % len(routes)]
            out.write(json.dumps({"id": f"r{i}", "input": f"{route}: request number {i}"}) + "\n")
    return path


def graph_workload(url: str, scratch: Path, count: int, job_poll: float) -> list[tuple[str, float, float, str]]:
    from tierwise import Context, Runtime
    from tierwise.batch import run_batch
    from tierwise.calls import CallHook, CallPlan

    class AllFlex(CallHook):
        """Every stage call on the Flex service tier (half price, best-effort latency): the user's own rule."""

        name = "all-flex"

        def before_call(self, plan: CallPlan) -> CallPlan:
            return plan.replace(service_tier="flex")

    source = items(scratch / "items.jsonl", count)
    rows = []
    for mode in ("standard", "flex", "batch"):
        context = Context(base_url=url)
        with Runtime(base_url=url, hooks=[AllFlex()] if mode == "flex" else []) as rt:
            summary = run_batch(source, scratch / f"out-{mode}.jsonl", context=context, concurrency=64, quiet=True,
                                api="batch" if mode == "batch" else "standard", batch_poll_s=(job_poll, job_poll),
                                runtime=rt)
        assert summary.ok == count, summary.failures
        made = f"{summary.jobs.submitted} jobs ({summary.jobs.requests} requests)" if summary.jobs else "-"
        rows.append((mode, summary.cost_usd, summary.seconds, made))
    return rows


async def document_workload(url: str, questions: int) -> list[tuple[str, float, float, str]]:
    from tierwise import Context, Runtime
    from tierwise.calls import ExplicitCaches, acall_stage, caching

    document = "".join(DOCUMENT.format(n=n) for n in range(400))  # ~8,000 tokens
    context = Context(base_url=url)
    rt = Runtime(base_url=url)

    async def ask_all() -> list:
        calls = [acall_stage(stage, [("system", SYSTEM), ("human", document), ("human", f"Question {n}: what "
                                                                                     "does the contract say?")],
                             context=context, cache_prefix=2, runtime=rt)
                 for n in range(questions) for stage in ("draft", "reason")]
        return await asyncio.gather(*calls)

    rows = []
    started = time.monotonic()
    plain = await ask_all()
    rows.append(("no explicit cache", sum(r.records[-1].cost_usd for r in plain), time.monotonic() - started, "-"))
    caches = ExplicitCaches.for_runtime(rt, context, expected_reuses=questions)
    started = time.monotonic()
    with caching(caches):
        cached = await ask_all()
    await caches.aclose()
    seconds = time.monotonic() - started
    extra = sum(r.cost_usd for r in caches.records)  # creation and storage
    made = [d for d in caches.decisions if d.created]
    note = ", ".join(f"{d.model} {d.tokens:,} tok (pays past {d.break_even:.1f} reads)" for d in made)
    rows.append(("explicit caches", sum(r.records[-1].cost_usd for r in cached) + extra, seconds,
                 f"{len(made)} caches: {note}"))
    rt.close()
    return rows


def table(title: str, rows: list[tuple[str, float, float, str]]) -> None:
    base = rows[0][1]
    print(f"\n{title}")
    print(f"| {'mode':<18} | {'dollars':>10} | {'vs first':>8} | {'wall s':>7} | made")
    print(f"|{'-' * 20}|{'-' * 12}|{'-' * 10}|{'-' * 9}|------")
    for mode, dollars, seconds, made in rows:
        print(f"| {mode:<18} | {dollars:>10.4f} | {dollars / base:>7.0%} | {seconds:>7.1f} | {made}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--latency-scale", type=float, default=0.1)
    parser.add_argument("--job-seconds", type=float, default=6.0)
    args = parser.parse_args()
    logging.getLogger("tierwise").setLevel(logging.ERROR)
    scratch = scratch_dir()
    options = ["--latency", "--latency-scale", str(args.latency_scale), "--batch-seconds", str(args.job_seconds)]
    with emulator_process(scratch, [*GRAPH_RULES, *DOC_RULES], options=options) as url:
        graph = graph_workload(url, scratch, args.items, job_poll=max(args.job_seconds / 10, 0.1))
        document = asyncio.run(document_workload(url, args.questions))
    print(f"emulator latency x{args.latency_scale}, Batch API jobs {args.job_seconds:g} s each")
    table(f"{args.items} items through the main graph", graph)
    table(f"one ~8k-token document, {args.questions} questions x 2 stages (Flash-Lite, Pro)", document)


if __name__ == "__main__":
    main()
