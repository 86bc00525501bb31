"""Which small local model should answer the offline first run? Candidates side by side on a labelled set.

    python benchmarks/local_models.py [--model NAME=PATH.gguf ...] [--data F] [--json F]

Without --model: every model tierwise can find in installed packages (tierwise.emulator.local.PACKAGED_MODELS).
Each prompt of benchmarks/data/local_models.jsonl goes through tierwise's own call path (call_stage with the
stage's prompt and schema) to the Gemini emulator serving that model through LocalBackend, exactly as
`tierwise run --backend local` does, demo output cap included. Per model it prints:

- triage: share of triage prompts whose `intent` matches the label (10 prompts, 5 intents);
- JSON: share of model calls (every attempt, triage + extract + draft) whose structured output parsed and
  validated against the stage's schema;
- extract: share of expected values (e.g. "48213", "Frankfurt") found, case-insensitively, in the extracted JSON;
- on topic: share of answer prompts whose draft answer contains at least one of the item's keywords
  (case-insensitive; e.g. "paris" for the capital of France) — a simple, stated check, not a grader;
- latency: median and total seconds per call on this machine; size of the GGUF file;
- the README's first request through the whole graph: route, judge score and the answer's first words.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from harness import scratch_dir  # noqa: E402

FIRST_RUN = "Is this ticket urgent? My card was charged twice."


def load_items(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def score_model(path: Path, items: list[dict]) -> dict:
    from tierwise import Context, ModelCallError, build_graph, call_stage
    from tierwise.calls.endpoint import LOCAL_MAX_TOKENS
    from tierwise.emulator import Emulator, LocalBackend
    from tierwise.prompts import render
    from tierwise.state import Draft, Extraction, Triage

    stages = {"triage": ("triage", Triage), "extract": ("extract", Extraction), "answer": ("draft", Draft)}
    hits = {"triage": [], "extract": [], "answer": []}
    attempts, seconds, samples = [], [], {}
    with Emulator(LocalBackend(model_path=path, max_tokens_cap=LOCAL_MAX_TOKENS)) as emu:
        context = Context(base_url=emu.base_url)
        call_stage("draft", render("draft", input="Hello"), schema=Draft, context=context)  # load the weights
        for item in items:
            stage, schema = stages[item["kind"]]
            started = time.perf_counter()
            try:
                result = call_stage(stage, render(stage, input=item["input"]), schema=schema, context=context)
                records, value = result.records, result.value
            except ModelCallError as exc:  # every model of the stage's chain answered unusably
                records, value = exc.records, None
            seconds.append(time.perf_counter() - started)
            attempts += [r.outcome == "ok" for r in records]
            if item["kind"] == "triage":
                hits["triage"].append(value is not None and value.intent == item["intent"])
            elif item["kind"] == "extract":
                found = json.dumps(value.model_dump(), ensure_ascii=False).lower() if value is not None else ""
                hits["extract"] += [expected.lower() in found for expected in item["values"]]
            else:
                answer = value.answer.lower() if value is not None else ""
                hits["answer"].append(any(word in answer for word in item["keywords"]))
                samples.setdefault(item["input"], value.answer if value is not None else None)
        started = time.perf_counter()
        run = build_graph().invoke({"input": FIRST_RUN}, context=context)
        run_seconds = time.perf_counter() - started
    share = {k: sum(v) / len(v) for k, v in hits.items() if v}
    return {
        "model": path.name,
        "size_mb": round(path.stat().st_size / 1e6, 1),
        "triage_accuracy": round(share.get("triage", 0.0), 2),
        "valid_json": round(sum(attempts) / len(attempts), 2),
        "extract_recall": round(share.get("extract", 0.0), 2),
        "answer_on_topic": round(share.get("answer", 0.0), 2),
        "median_call_s": round(statistics.median(seconds), 2),
        "total_s": round(sum(seconds), 1),
        "first_run": {
            "route": run.get("route"), "steps": run.get("steps"), "score": run.get("score"),
            "escalated": run.get("escalated"), "seconds": round(run_seconds, 1), "answer": run.get("answer"),
        },
        "sample_answers": samples,
    }


def print_table(rows: list[dict]) -> None:
    head = ("model", "size MB", "triage acc", "valid JSON", "extract", "on topic", "median s/call", "total s")
    keys = ("model", "size_mb", "triage_accuracy", "valid_json", "extract_recall", "answer_on_topic",
            "median_call_s", "total_s")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        print("| " + " | ".join(str(row[k]) for k in keys) + " |")
    for row in rows:
        first = row["first_run"]
        answer = " ".join((first["answer"] or "").split())
        print(f"\n{row['model']}: first run route {first['route']} {' → '.join(first['steps'] or [])}, "
              f"judge score {first['score']}, escalated {first['escalated']}, {first['seconds']} s\n  {answer[:300]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", default=[], metavar="NAME=PATH",
                        help="a GGUF to compare (repeatable); default: every packaged model installed")
    parser.add_argument("--data", type=Path, default=REPO / "benchmarks" / "data" / "local_models.jsonl")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()

    scratch_dir(no_ledger=True)
    if args.model:
        models = [Path(spec.partition("=")[2] or spec) for spec in args.model]
    else:
        from tierwise.emulator.local import installed_models

        models = [path for _, path in installed_models()]
    if not models:
        raise SystemExit("no local model installed: pip install 'tierwise[local]'")
    items = load_items(args.data)
    rows = [score_model(path, items) for path in models]
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
