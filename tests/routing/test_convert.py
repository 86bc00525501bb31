"""The RouteLLM converter, on a few vendored rows in RouteLLM's own layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierwise.routing import OutcomeError, convert_routellm, load_outcomes
from tierwise.routing.convert import STRONG, WEAK

from .conftest import DATA

RAW = DATA / "raw"


def test_mmlu(tmp_path: Path) -> None:
    summary = convert_routellm(RAW, "mmlu", tmp_path / "mmlu.csv")
    assert summary["prompts"] == 23  # 12 + 12 rows, one of them in the contaminated list: dropped
    table = load_outcomes(tmp_path / "mmlu.csv")
    assert table.models == (WEAK, STRONG) and table.cost_unit == "usd"
    assert set(table.categories) == {"anatomy", "machine_learning"}
    assert (table.cost[:, 1] > 5 * table.cost[:, 0]).all()  # pro-like vs lite-like prices


def test_gsm8k_drops_contaminated_and_keeps_responses(tmp_path: Path) -> None:
    summary = convert_routellm(RAW / "routellm_gpt4_mixtral", "gsm8k", tmp_path / "gsm8k.jsonl")
    assert summary["prompts"] == 9
    table = load_outcomes(tmp_path / "gsm8k.jsonl")
    assert not any(p.startswith("Janet’s ducks") for p in table.prompts)
    assert set(table.quality.ravel()) <= {0.0, 1.0}


def test_mt_bench_quality_is_mean_judge_score_over_ten(tmp_path: Path) -> None:
    convert_routellm(RAW, "mt-bench", tmp_path / "mt.csv")
    table = load_outcomes(tmp_path / "mt.csv")
    assert table.n_prompts == 2  # question 81 is contaminated
    assert ((table.quality > 0) & (table.quality <= 1)).all()
    assert table.prompt_ids == ("mt_bench/101", "mt_bench/131")


def test_custom_prices_change_cost(tmp_path: Path) -> None:
    cheap = convert_routellm(RAW, "gsm8k", tmp_path / "a.csv", prices={STRONG: {"input": 0, "output": 0}})
    assert cheap["rows"] == 18
    table = load_outcomes(tmp_path / "a.csv")
    assert table.models[0] == STRONG and table.model_cost()[0] == 0  # free GPT-4 is the cheapest rung
    with pytest.raises(ValueError, match="unknown RouteLLM benchmark"):
        convert_routellm(RAW, "hellaswag", tmp_path / "b.csv")
    with pytest.raises(OutcomeError, match="no such directory"):
        convert_routellm(tmp_path / "nowhere", "mmlu", tmp_path / "c.csv")


@pytest.mark.parametrize(("line", "named"), [
    ('{"question_id": 101, "model": "gpt-4-1106-preview", "score": NaN, "turn": 1}', "NaN"),
    ('{"question_id": 101, "model": "x", "turn": 1}', "not in the RouteLLM format"),
    ("[" * 5000 + "]" * 5000, "nested deeper"),
])
def test_a_malformed_source_file_is_named_not_a_traceback(tmp_path: Path, line: str, named: str) -> None:
    import shutil

    src = tmp_path / "routellm_gpt4_mixtral"
    shutil.copytree(RAW / "routellm_gpt4_mixtral", src)
    judgements = src / "mt_bench" / "judgements.jsonl"
    judgements.write_text(judgements.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")
    from tierwise.strict import InputFileError

    with pytest.raises(InputFileError, match=named) as refused:  # OutcomeError is one of these
        convert_routellm(tmp_path, "mt-bench", tmp_path / "mt.csv")
    assert "judgements.jsonl" in str(refused.value) or str(src) in str(refused.value)
    assert not (tmp_path / "mt.csv").exists()
