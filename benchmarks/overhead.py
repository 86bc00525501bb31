"""Per-request overhead of tierwise vs a bare LangGraph graph of the same topology, in one run.

Both graphs call the same ChatGoogleGenerativeAI against the same scripted emulator on loopback, on the same
inputs (the simple route: triage → draft → judge → respond). Model time is measured at one boundary for both:
around `ChatGoogleGenerativeAI.invoke` (the Gemini client, the HTTP round trip, LangChain's message conversion),
and subtracted, leaving what each side adds around the chat model: prompt building, structured-output parsing
(LangChain's parser in the bare graph, the call path's own in tierwise), registry lookup, pricing, records, the
ledger write, graph bookkeeping. (Until 2026-11-30 the bare graph's boundary was its structured-output chain —
parser and RunnableSequence included — while tierwise's parsing counted as overhead; `--old-boundary` prints
that measure too.) CPU per request counts
the whole process (the chat model's client too, alike for both), and for tierwise the ledger's writer thread.
Target: tierwise ≤ 1.5× bare.

    python benchmarks/overhead.py [--requests 300] [--no-ledger] [--strategy llm|hybrid|learned]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time
from collections.abc import Iterator
from typing import Literal

from harness import bare_models, emulator_process, scratch_dir
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

from tierwise import Context, build_graph
from tierwise.prompts import render
from tierwise.state import Triage

RULES = [
    {"system": "triage step", "reply": {"intent": "question", "complexity": 1, "confidence": "high"}},
    {"system": "answer requests briefly", "reply": {"answer": "Refund the duplicate charge.", "confidence": "high"}},
    {"system": "grade an answer", "reply": {"score": 9, "reason": "Correct."}},
]


class BareState(TypedDict, total=False):
    input: str
    triage: Triage
    draft: str
    score: int
    answer: str


def bare_graph(base_url: str, model_seconds: list[float] | None = None):
    """The same topology and prompts, calling the chat models directly: what a hand-rolled graph does.
    `model_seconds`: where to note the time of each whole structured-output call (the old boundary)."""
    triage_llm, draft_llm, judge_llm = bare_models(base_url)

    def timed(llm, messages):
        started = time.perf_counter()
        out = llm.invoke(messages)
        if model_seconds is not None:
            model_seconds.append(time.perf_counter() - started)
        return out

    def triage(state):
        return {"triage": timed(triage_llm, render("triage", input=state["input"]))}

    def draft(state):
        return {"draft": timed(draft_llm, render("draft", input=state["input"])).answer}

    def judge(state):
        return {"score": timed(judge_llm, render("judge", input=state["input"], draft=state["draft"])).score}

    def respond(state):
        return {"answer": state["draft"]}

    def after_triage(state) -> Literal["draft", "respond"]:
        return "draft"

    builder = StateGraph(BareState)
    for name, fn in (("triage", triage), ("draft", draft), ("judge", judge), ("respond", respond)):
        builder.add_node(name, fn)
    builder.add_edge(START, "triage")
    builder.add_conditional_edges("triage", after_triage)
    builder.add_edge("draft", "judge")
    builder.add_edge("judge", "respond")
    builder.add_edge("respond", END)
    return builder.compile()


@contextlib.contextmanager
def chat_model_timer() -> Iterator[list[float]]:
    """Note the seconds of every `ChatGoogleGenerativeAI.invoke` (the one boundary both graphs share) in the
    yielded list, while the block runs."""
    from langchain_google_genai import ChatGoogleGenerativeAI

    seconds: list[float] = []
    original = ChatGoogleGenerativeAI.invoke

    def invoke(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            seconds.append(time.perf_counter() - started)

    ChatGoogleGenerativeAI.invoke = invoke
    try:
        yield seconds
    finally:
        ChatGoogleGenerativeAI.invoke = original


def settle() -> None:
    """Wait for the ledger's writer thread to commit what it was handed (tierwise/ledger/journal.py)."""
    from tierwise.ledger.journal import drain_all

    drain_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--no-ledger", action="store_true", help="Measure without persisting call records.")
    parser.add_argument("--strategy", choices=("llm", "hybrid", "learned"), default="llm",
                        help="tierwise's triage strategy (default llm: a triage model call, as the bare graph makes; "
                             "the registry's default, hybrid, first asks the pre-router, ~0.1 ms, and skips that "
                             "call when it is sure: a saving of a whole model call, not overhead)")
    parser.add_argument("--old-boundary", action="store_true",
                        help="Also print the ratio with the bare graph's model time taken around its whole "
                             "structured-output chain and tierwise's from its call records (the pre-2026-11-30 "
                             "measure).")
    args = parser.parse_args()
    scratch = scratch_dir(args.no_ledger)
    os.environ["TIERWISE__ROUTER__STRATEGY"] = args.strategy  # the same topology as the bare graph by default

    with emulator_process(scratch, RULES) as base_url, chat_model_timer() as model_seconds:
        context = Context(base_url=base_url)
        tier_graph = build_graph()
        bare_chain_seconds: list[float] = []
        bare = bare_graph(base_url, bare_chain_seconds)
        inputs = [{"input": f"Ticket {i}: my card was charged twice, is this urgent?"} for i in range(args.requests)]

        def run_tierwise(payload):  # -> (model seconds at the shared boundary, at the old one)
            out = tier_graph.invoke(payload, context=context)
            return sum(model_seconds), sum(c.latency_ms for c in out["calls"]) / 1000

        def run_bare(payload):
            bare_chain_seconds.clear()
            bare.invoke(payload)
            return sum(model_seconds), sum(bare_chain_seconds)

        overheads: dict[str, list[float]] = {"bare LangGraph": [], "tierwise": []}
        old = {name: [] for name in overheads}
        cpu = dict.fromkeys(overheads, 0.0)
        for payload in inputs[: args.warmup]:
            run_tierwise(payload), run_bare(payload)
        settle()
        for payload in inputs:  # interleaved, so machine noise hits both alike
            for name, runner in (("tierwise", run_tierwise), ("bare LangGraph", run_bare)):
                model_seconds.clear()
                cpu_started, started = time.process_time(), time.perf_counter()
                model_time, old_model_time = runner(payload)
                elapsed = time.perf_counter() - started
                overheads[name].append(elapsed - model_time)
                old[name].append(elapsed - old_model_time)
                if name == "tierwise":
                    settle()  # its records committed before the bare run: the writer's CPU is tierwise's
                cpu[name] += time.process_time() - cpu_started

    ledger = "off" if args.no_ledger else "SQLite (every call record persisted)"
    print(f"{args.requests} requests, simple route (3 model calls each), scripted emulator (own process) on loopback; "
          f"tierwise ledger: {ledger}; triage strategy: {args.strategy}\n")
    print(f"{'graph':<16}{'overhead p50 ms':>17}{'mean ms':>10}{'p90 ms':>10}{'CPU ms/req':>12}")
    for name, values in overheads.items():
        ms = sorted(v * 1000 for v in values)
        print(f"{name:<16}{statistics.median(ms):>17.2f}{statistics.fmean(ms):>10.2f}{ms[int(len(ms) * .9)]:>10.2f}"
              f"{cpu[name] * 1000 / len(values):>12.2f}")
    ratio = statistics.median(overheads["tierwise"]) / statistics.median(overheads["bare LangGraph"])
    print(f"\nratio (p50 overhead, tierwise / bare): {ratio:.2f}x   target <= 1.5x")
    if args.old_boundary:
        old_ratio = statistics.median(old["tierwise"]) / statistics.median(old["bare LangGraph"])
        print(f"old boundary (bare: its whole structured-output chain is model time; tierwise: its records' "
              f"latency): p50 {statistics.median(old['tierwise']) * 1000:.2f} vs "
              f"{statistics.median(old['bare LangGraph']) * 1000:.2f} ms, {old_ratio:.2f}x")


if __name__ == "__main__":
    main()
