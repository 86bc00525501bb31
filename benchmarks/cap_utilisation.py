"""How close to a hard cap spend gets, beside the overshoot (which must be $0), with 64 requests in flight.

The pipeline's simple route against the scripted emulator in its own process: half the requests get a weak draft
and escalate to Pro (polish), whose worst case (its whole max_output_tokens) is more than the cap itself. 64
workers send requests until the cap refuses theirs. Each attempt reserves its worst case before it goes out, so
the cap holds exactly; held in full, spend stops once the next worst case no longer fits. With
`[budget] fit_output_near_cap` (the default), an attempt near the cap runs with the output limit what is left pays
for, down to what the stage has been seen to need (its answers' output tokens at the 99th percentile, x1.5).

A warm-up of 40 requests without a cap gives the stages their history; the cap is then set to today's spend so far
plus `--cap`, and utilisation is what the run adds, over `--cap`.

    python benchmarks/cap_utilisation.py [--cap 0.02] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import emulator_process, scratch_dir  # noqa: E402 - the benchmarks' shared helpers

from tierwise import Context, Runtime, build_graph  # noqa: E402

RULES = [
    {"system": "triage step", "reply": {"intent": "question", "complexity": 1, "confidence": "high"}},
    {"system": "answer requests briefly", "reply": {"answer": "Refund the duplicate charge.", "confidence": "high"}},
    {"system": "grade an answer", "user": "escalate", "reply": {"score": 3, "reason": "Too thin."}},
    {"system": "grade an answer", "reply": {"score": 9, "reason": "Correct."}},
    {"system": "You get a request and a draft", "thoughts": 150,
     "reply": "A duplicate charge is a billing error: refund it today and tell the customer when it will show."},
]


def requests(n: int) -> list[str]:
    return [f"Request {i}: my card was charged twice{' (escalate)' if i % 2 else ''}. Urgent?" for i in range(n)]


async def run(graph, context: Context, concurrency: int) -> dict[str, int]:
    counts = {"answered": 0, "escalated": 0, "refused": 0}
    texts = iter(requests(100_000))

    async def worker() -> None:
        while True:
            result = await graph.ainvoke({"input": next(texts)}, context=context)
            if (result.get("failure") or {}).get("kind") == "budget":
                counts["refused"] += 1
                return
            counts["answered"] += 1
            counts["escalated"] += bool(result.get("escalated")) and "polish" in result["steps"]

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return counts


def measure(base_url: str, cap: float, concurrency: int, fit: bool) -> dict:
    from tierwise.ledger import open_ledger

    scratch = scratch_dir()  # a fresh ledger for each measure
    with Runtime() as rt:
        graph = build_graph(runtime=rt)
        warm = Context(base_url=base_url, registry_path=str(_registry(scratch, "warm.toml", "")))
        asyncio.run(_warm_up(graph, warm))
        with open_ledger() as ledger:
            before = ledger.spend().day_usd
        capped = _registry(scratch, "capped.toml", f"[budget]\nhard_daily_usd = {before + cap!r}\n"
                                                   f"fit_output_near_cap = {'true' if fit else 'false'}\n")
        counts = asyncio.run(run(graph, Context(base_url=base_url, registry_path=str(capped)), concurrency))
    with open_ledger() as ledger:
        spend = ledger.spend()
    spent = spend.day_usd - before
    return {**counts, "spent": spent, "utilisation": spent / cap, "overshoot": max(0.0, spent - cap),
            "left_reserved": spend.reserved_day_usd}


async def _warm_up(graph, context: Context) -> None:
    await asyncio.gather(*(graph.ainvoke({"input": text}, context=context) for text in requests(40)))


def _registry(scratch: Path, name: str, text: str) -> Path:
    path = scratch / name
    path.write_text(text)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cap", type=float, default=0.02)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    with emulator_process(scratch_dir(), RULES) as base_url:
        for fit, name in ((False, "worst case held in full (fit_output_near_cap = false)"),
                          (True, "fitting the output limit near the cap (the default)")):
            m = measure(base_url, args.cap, args.concurrency, fit)
            print(f"{name}:\n  spent ${m['spent']:.4f} of a ${args.cap} cap = {m['utilisation']:.1%}; overshoot "
                  f"${m['overshoot']:.4f}; {m['answered']} requests answered ({m['escalated']} escalated to Pro), "
                  f"{m['refused']} refused; left reserved ${m['left_reserved']:.4f}")


if __name__ == "__main__":
    main()
