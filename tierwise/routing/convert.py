"""Convert the RouteLLM evaluation data (GPT-4 vs Mixtral on MMLU, GSM8K, MT-Bench) into outcome tables.

The source stores correctness (or judge scores) but no tokens, so cost is estimated here: input = the prompt
plus the few-shot prefix that was sent with it, output = the response, at ~4 characters per token, times a
price table (default: Gemini-like lite price for Mixtral, pro price for GPT-4; see pricing.py). Prompts that
RouteLLM found in its training data (`contaminated_prompts.jsonl`) are dropped, as RouteLLM does.
Source: https://github.com/lm-sys/RouteLLM (Apache-2.0).
"""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tierwise.strict import InputFileError

from .errors import OutcomeError
from .formats import write_rows
from .pricing import LITE_PRICE, PRO_PRICE, TokenPrice, estimate_tokens, parse_prices

WEAK = "mistralai/Mixtral-8x7B-Instruct-v0.1"
STRONG = "gpt-4-1106-preview"
DEFAULT_PRICES: dict[str, TokenPrice] = {WEAK: LITE_PRICE, STRONG: PRO_PRICE}
BENCHMARKS = ("mmlu", "gsm8k", "mt_bench")
COLUMNS = (
    "prompt_id",
    "prompt",
    "model",
    "quality",
    "cost_usd",
    "input_tokens",
    "output_tokens",
    "response",
    "category",
)
MMLU_SHOTS, MMLU_PREFIX_CAP = 5, 1536  # generate_responses.py: 5-shot dev prefix, shortened to ≤ 1536 tokens
GSM8K_SHOTS = 8


def convert_routellm(
    src_dir: str | Path,
    benchmark: str,
    out_path: str | Path,
    *,
    prices: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write one RouteLLM benchmark as an outcome table (format from `out_path`'s extension).

    `src_dir` is the `routellm_gpt4_mixtral` folder (or its parent). Returns a summary dict.
    """
    from tierwise.outputs import atomic_path

    rows = list(routellm_rows(src_dir, benchmark, prices=prices))
    with atomic_path(out_path) as tmp:  # whole or not at all
        write_rows(tmp, rows, COLUMNS)
    prompts = {r["prompt_id"] for r in rows}
    return {"benchmark": _name(benchmark), "prompts": len(prompts), "rows": len(rows), "out": str(out_path)}


def routellm_rows(
    src_dir: str | Path, benchmark: str, *, prices: Mapping[str, Any] | None = None
) -> Iterator[dict[str, Any]]:
    """Outcome rows for one benchmark, without writing them (the benchmark script uses this)."""
    root = _root(Path(src_dir))
    table = dict(DEFAULT_PRICES)
    table.update(parse_prices(prices or {}))
    name = _name(benchmark)
    reader = {"mmlu": _mmlu, "gsm8k": _gsm8k, "mt_bench": _mt_bench}[name]
    try:
        for row in reader(root):
            price = table[row["model"]]
            row["cost_usd"] = round(price.cost(row["input_tokens"], row["output_tokens"]), 10)
            yield row
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        if isinstance(exc, InputFileError):
            raise  # already names the file and line
        # A file of the right name but another shape (edited, truncated, another release): named, not a traceback.
        raise OutcomeError(root, f"the {name} files are not in the RouteLLM format this converter reads "
                                 f"({type(exc).__name__}: {exc})") from None


def _name(benchmark: str) -> str:
    name = benchmark.lower().replace("-", "_")
    if name not in BENCHMARKS:
        raise ValueError(f"unknown RouteLLM benchmark {benchmark!r}; choose one of {', '.join(BENCHMARKS)}")
    return name


def _root(src: Path) -> Path:
    if (src / "routellm_gpt4_mixtral").is_dir():
        src = src / "routellm_gpt4_mixtral"
    if not src.is_dir():
        raise OutcomeError(src, "no such directory (expected the RouteLLM data folder)")
    return src


def _contaminated(path: Path) -> set[str]:
    if not path.is_file():
        return set()
    return {row["eval_prompt"] for row in _jsonl(path)}


def _jsonl(path: Path) -> Iterator[Any]:
    """The rows of a JSON Lines file, each through the strict parser (named file and line on any error)."""
    from tierwise.strict import loads_json

    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if line.strip():
                yield loads_json(line, source=path, line=number)


def _csv(path: Path) -> list[dict[str, str]]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _correct(value: str) -> float:
    return 1.0 if str(value).strip().lower() == "true" else 0.0


def _mmlu(root: Path) -> Iterator[dict[str, Any]]:
    files = sorted((root / "mmlu" / "responses").glob("mmlu_*.csv"))
    if not files:
        raise OutcomeError(root / "mmlu" / "responses", "no mmlu_<subject>.csv files")
    skip = _contaminated(root / "mmlu" / "contaminated_prompts.jsonl")
    for path in files:
        subject = path.stem.removeprefix("mmlu_")
        rows = _csv(path)
        # The dev examples are not stored: estimate the prefix from this subject's own questions.
        mean_q = sum(estimate_tokens(r["prompt"]) for r in rows) / max(len(rows), 1)
        header = estimate_tokens(
            f"The following are multiple choice questions (with answers) about {subject}."
        )
        prefix = min(MMLU_PREFIX_CAP, round(header + MMLU_SHOTS * (mean_q + 2)))
        for i, r in enumerate(rows):
            if r["prompt"] in skip:
                continue
            for model in (WEAK, STRONG):
                yield {
                    "prompt_id": f"mmlu/{subject}/{i}",
                    "prompt": r["prompt"],
                    "model": model,
                    "quality": _correct(r[model]),
                    "input_tokens": prefix + estimate_tokens(r["prompt"]),
                    "output_tokens": 1,  # max_new_tokens=1
                    "response": None,
                    "category": subject,
                }


def _gsm8k(root: Path) -> Iterator[dict[str, Any]]:
    path = root / "gsm8k" / "gsm8k_responses.csv"
    if not path.is_file():
        raise OutcomeError(path, "no such file")
    rows = _csv(path)
    skip = _contaminated(root / "gsm8k" / "contaminated_prompts.jsonl")
    # 8-shot chain-of-thought prefix: 8 × (a question + a worked answer), sized from the data itself.
    n = max(len(rows), 1)
    mean_q = sum(estimate_tokens(r["prompt"]) for r in rows) / n
    mean_a = sum(estimate_tokens(r[f"{WEAK}_response"]) for r in rows) / n
    prefix = round(GSM8K_SHOTS * (mean_q + mean_a))
    for i, r in enumerate(rows):
        if r["prompt"] in skip:
            continue
        for model in (WEAK, STRONG):
            response = r[f"{model}_response"]
            yield {
                "prompt_id": f"gsm8k/{i}",
                "prompt": r["prompt"],
                "model": model,
                "quality": _correct(r[model]),
                "input_tokens": prefix + estimate_tokens(r["prompt"]),
                "output_tokens": estimate_tokens(response),
                "response": response,
                "category": "gsm8k",
            }


_TURN = re.compile(
    r"### Assistant A:\n(.*?)(?=\n\n### User:|\n\n<\|The End of Assistant A's Conversation)", re.S
)


def _mt_bench(root: Path) -> Iterator[dict[str, Any]]:
    """Per question: quality = mean judge score of both turns / 10; a router sees the turn-1 prompt."""
    base = root / "mt_bench"
    for name in ("question.jsonl", "judgements.jsonl"):
        if not (base / name).is_file():
            raise OutcomeError(base / name, "no such file")
    skip = _contaminated(base / "contaminated_prompts.jsonl")
    questions = list(_jsonl(base / "question.jsonl"))
    scores: dict[tuple[int, str], list[float]] = {}
    answers: dict[tuple[int, str], list[str]] = {}
    for j in _jsonl(base / "judgements.jsonl"):
        key = (j["question_id"], j["model"])
        if j["score"] >= 0:  # -1: the judge's output could not be parsed
            scores.setdefault(key, []).append(float(j["score"]))
        if j["turn"] == 2:
            answers[key] = _TURN.findall(j["user_prompt"])
    for q in questions:
        t1, t2 = q["turns"][0], q["turns"][1]
        if t1 in skip or t2 in skip:
            continue
        for model in (WEAK, STRONG):
            key = (q["question_id"], model)
            if not scores.get(key):
                continue
            a = answers.get(key) or ["", ""]
            a1, a2 = (a + ["", ""])[:2]
            inp = estimate_tokens(t1) + estimate_tokens(t1) + estimate_tokens(a1) + estimate_tokens(t2)
            yield {
                "prompt_id": f"mt_bench/{q['question_id']}",
                "prompt": t1,
                "model": model,
                "quality": round(sum(scores[key]) / len(scores[key]) / 10.0, 6),
                "input_tokens": inp,
                "output_tokens": estimate_tokens(a1) + estimate_tokens(a2),
                "response": a1,
                "category": q.get("category", ""),
            }
