"""Outcome tables: formats, pivoting into a cheap→expensive ladder, and the errors bad files give."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from tierwise.routing import OutcomeError, load_outcomes, table_from_rows

from .synth import synthetic_rows, write_csv


def _rows():
    return [
        {"prompt_id": "a", "prompt": "2+2?", "model": "pro", "quality": 1, "cost_usd": 0.01},
        {"prompt_id": "a", "prompt": "2+2?", "model": "lite", "quality": 1, "cost_usd": 0.001},
        {"prompt_id": "b", "prompt": "prove it", "model": "pro", "quality": 0.8, "cost_usd": 0.02},
        {"prompt_id": "b", "prompt": "prove it", "model": "lite", "quality": 0.1, "cost_usd": 0.002},
    ]


def test_csv_and_jsonl_give_the_same_table(tmp_path: Path) -> None:
    csv_path = write_csv(tmp_path / "t.csv", _rows())
    jsonl_path = tmp_path / "t.jsonl"
    jsonl_path.write_text("".join(json.dumps(r) + "\n" for r in _rows()))
    a, b = load_outcomes(csv_path), load_outcomes(jsonl_path)
    assert a.models == b.models == ("lite", "pro")  # ladder: cheapest first, whatever the row order
    assert a.prompt_ids == ("a", "b")
    np.testing.assert_allclose(a.quality, [[1, 1], [0.1, 0.8]])
    np.testing.assert_allclose(a.quality, b.quality)
    np.testing.assert_allclose(a.cost, [[0.001, 0.01], [0.002, 0.02]])
    assert a.cost_unit == "usd" and a.top == "pro"


def test_parquet_when_pyarrow_is_installed(tmp_path: Path) -> None:
    if importlib.util.find_spec("pyarrow") is None:
        pytest.skip("pyarrow not installed")
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "t.parquet"
    pq.write_table(pa.Table.from_pylist(_rows()), path)
    assert load_outcomes(path).models == ("lite", "pro")


def test_parquet_without_pyarrow_is_a_clear_error(tmp_path: Path) -> None:
    if importlib.util.find_spec("pyarrow") is not None:
        pytest.skip("pyarrow is installed")
    path = tmp_path / "t.parquet"
    path.write_bytes(b"PAR1")
    with pytest.raises(OutcomeError, match="pyarrow"):
        load_outcomes(path)


def test_vendored_subset_loads(mmlu_subset: Path) -> None:
    table = load_outcomes(mmlu_subset)
    assert table.n_prompts == 240 and table.top == "gpt-4-1106-preview"
    assert table.cost_unit == "usd" and table.categories is not None


def test_no_cost_means_share_of_top_calls(tmp_path: Path) -> None:
    rows = [{k: v for k, v in r.items() if k != "cost_usd"} for r in _rows()]
    table = load_outcomes(write_csv(tmp_path / "t.csv", rows))
    assert table.cost_unit == "calls"
    assert table.models == ("lite", "pro")  # without cost the better model is taken as the dearer
    np.testing.assert_allclose(table.cost, [[0, 1], [0, 1]])
    assert any("share of calls" in n for n in table.notes)


def test_tokens_times_prices(tmp_path: Path) -> None:
    rows = [
        {k: v for k, v in r.items() if k != "cost_usd"} | {"input_tokens": 1000, "output_tokens": 100}
        for r in _rows()
    ]
    prices = {"lite": {"input": 0.1, "output": 0.4}, "pro": {"input": 2.0, "output": 12.0}}
    table = load_outcomes(write_csv(tmp_path / "t.csv", rows), prices=prices)
    assert table.cost_unit == "usd"
    np.testing.assert_allclose(table.cost[0], [(1000 * 0.1 + 100 * 0.4) / 1e6, (1000 * 2 + 100 * 12) / 1e6])


def test_booleans_labels_and_incomplete_prompts(tmp_path: Path) -> None:
    rows = _rows()[:3] + [
        {"prompt_id": "c", "prompt": "x", "model": "lite", "quality": "true", "cost_usd": 1}
    ]
    rows[0]["confidence"] = "high"
    table = table_from_rows(rows, source="mem")
    assert table.prompt_ids == ("a",)  # b and c lack a model: dropped, and said so
    assert any("dropped 2" in n for n in table.notes)


def test_top_drops_dearer_models(synthetic) -> None:
    table = load_outcomes(synthetic(30), top="flash-2")
    assert table.models == ("lite-1", "flash-2") and table.quality.shape == (30, 2)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "empty table"),
        ([{"prompt_id": "a", "prompt": "p", "model": "m"}], "missing required column"),
        ([{"prompt_id": "a", "prompt": "p", "model": "m", "quality": 1}], "at least two models"),
        (
            [
                {"prompt_id": "a", "prompt": "p", "model": "m", "quality": 1.5},
                {"prompt_id": "a", "prompt": "p", "model": "n", "quality": 1},
            ],
            "outside 0..1",
        ),
        ([{"prompt_id": "a", "prompt": "p", "model": "m", "quality": "good"}], "not a number"),
        ([{"prompt_id": "a", "prompt": "p", "model": "m", "quality": 1}] * 2, "duplicate row"),
        ([{"prompt_id": "a", "prompt": "p", "model": "m", "quality": 1, "cost_usd": -1}], "negative"),
    ],
)
def test_validation_errors_name_the_file_and_problem(tmp_path: Path, rows, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(OutcomeError, match=message) as info:
        load_outcomes(path)
    assert str(info.value).startswith(str(path))


def test_missing_file_and_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(OutcomeError, match="no such file"):
        load_outcomes(tmp_path / "nope.csv")
    with pytest.raises(OutcomeError, match="extension"):
        load_outcomes(tmp_path / "table.xlsx")


def test_subset_keeps_rows_aligned(tmp_path: Path) -> None:
    table = table_from_rows(synthetic_rows(20, seed=3), source="mem")
    sub = table.subset([3, 1])
    assert sub.prompt_ids == (table.prompt_ids[3], table.prompt_ids[1])
    np.testing.assert_allclose(sub.quality, table.quality[[3, 1]])
