"""Regenerate the vendored RouteLLM subset from a full copy of the data (not run by the tests).

    python tests/data/routing/make_subset.py /path/to/shared/data/routing

Writes, next to this file: routellm_mmlu_subset.csv and routellm_gsm8k_subset.csv (outcome tables) and raw/,
a few rows in RouteLLM's own layout for the converter's tests. Seed fixed; see ATTRIBUTION.md.
"""

from __future__ import annotations

import csv
import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from tierwise.routing.convert import COLUMNS, routellm_rows  # noqa: E402
from tierwise.routing.formats import write_rows  # noqa: E402

MMLU_PROMPTS, GSM8K_PROMPTS, SEED = 240, 60, 0


def sample_table(src: Path, bench: str, k: int, drop: tuple[str, ...] = ()) -> None:
    rows = list(routellm_rows(src, bench))
    ids = sorted({r["prompt_id"] for r in rows})
    keep = set(random.Random(SEED).sample(ids, k))
    cols = [c for c in COLUMNS if c not in drop]
    write_rows(HERE / f"routellm_{bench}_subset.csv", [r for r in rows if r["prompt_id"] in keep], cols)


def copy_raw(src: Path) -> None:
    root = src / "routellm_gpt4_mixtral"
    raw = HERE / "raw" / "routellm_gpt4_mixtral"
    contaminated = [json.loads(line) for line in (root / "mmlu" / "contaminated_prompts.jsonl").open()]
    poisoned = contaminated[2]["eval_prompt"]  # the machine_learning question RouteLLM drops
    for subject, n in (("anatomy", 12), ("machine_learning", 12)):
        with (root / "mmlu" / "responses" / f"mmlu_{subject}.csv").open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        picked = rows[:n]
        if subject == "machine_learning" and all(r["prompt"] != poisoned for r in picked):
            picked += [r for r in rows if r["prompt"] == poisoned][:1]
        _write_csv(raw / "mmlu" / "responses" / f"mmlu_{subject}.csv", picked)
    _write_jsonl(raw / "mmlu" / "contaminated_prompts.jsonl", [{"eval_prompt": poisoned}])
    with (root / "gsm8k" / "gsm8k_responses.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))[:10]  # the first one is in the contaminated list
    _write_csv(raw / "gsm8k" / "gsm8k_responses.csv", rows)
    _write_jsonl(raw / "gsm8k" / "contaminated_prompts.jsonl", [{"eval_prompt": rows[0]["prompt"]}])
    questions = [json.loads(line) for line in (root / "mt_bench" / "question.jsonl").open()]
    picked_q = [q for q in questions if q["question_id"] in (81, 101, 131)]  # 81 is contaminated
    _write_jsonl(raw / "mt_bench" / "question.jsonl", picked_q)
    ids = {q["question_id"] for q in picked_q}
    judgements = [json.loads(line) for line in (root / "mt_bench" / "judgements.jsonl").open()]
    _write_jsonl(raw / "mt_bench" / "judgements.jsonl", [j for j in judgements if j["question_id"] in ids])
    _write_jsonl(raw / "mt_bench" / "contaminated_prompts.jsonl", [{"eval_prompt": picked_q[0]["turns"][0]}])


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


if __name__ == "__main__":
    source = Path(sys.argv[1] if len(sys.argv) > 1 else HERE.parents[3] / "shared" / "data" / "routing")
    sample_table(source, "mmlu", MMLU_PROMPTS, drop=("response",))
    sample_table(source, "gsm8k", GSM8K_PROMPTS)
    copy_raw(source)
