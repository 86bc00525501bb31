"""The CLI through typer's CliRunner, mounted the way tierwise/cli.py mounts it."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tierwise.routing.cli import calibrate_command, router_app

from .synth import synthetic_rows, write_csv

app = typer.Typer()
app.add_typer(router_app, name="router")
app.command("calibrate")(calibrate_command)
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def test_train_and_eval_on_the_vendored_subset(mmlu_subset: Path, tmp_path: Path) -> None:
    router = tmp_path / "router.json"
    res = run("router", "train", "--outcomes", mmlu_subset, "--out", router)
    assert res.exit_code == 0, res.output
    assert router.is_file()
    res = run("router", "eval", "--router", router, "--outcomes", mmlu_subset)
    assert res.exit_code == 0, res.output
    for name in ("random", "prompt-length", "learned", "oracle", "APGR", "AIQ"):
        assert name in res.output


def test_eval_json_on_an_unseen_three_model_table(tmp_path: Path) -> None:
    train = write_csv(tmp_path / "train.csv", synthetic_rows(300, seed=1))
    unseen = tmp_path / "unseen.jsonl"
    unseen.write_text("".join(json.dumps(r) + "\n" for r in synthetic_rows(200, seed=7)))
    router = tmp_path / "r.npz"
    assert run("router", "train", "--outcomes", train, "--out", router).exit_code == 0
    res = run("router", "eval", "--router", router, "--outcomes", unseen, "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["reference"]["top"] == "pro-3" and len(doc["reference"]["models"]) == 3
    rows = {r["router"]: r for r in doc["routers"]}
    assert list(rows) == ["random", "prompt-length", "learned", "oracle"]
    for r in rows.values():
        assert "cost_relative_at_95" in r and "cost_relative_at_100" in r
    assert rows["random"]["cost_relative_at_100"] == pytest.approx(1.0)
    assert rows["learned"]["cost_relative_at_95"] < rows["random"]["cost_relative_at_95"]


def test_top_flag_narrows_the_ladder(tmp_path: Path) -> None:
    table = write_csv(tmp_path / "t.csv", synthetic_rows(120, seed=3))
    router = tmp_path / "r.json"
    assert run("router", "train", "--outcomes", table, "--out", router).exit_code == 0
    res = run("router", "eval", "--router", router, "--outcomes", table, "--top", "flash-2", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["reference"]["top"] == "flash-2"


def _bad(tmp_path: Path, name: str, rows: list[dict]) -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        (None, "no such file"),
        ([], "empty table"),
        ([{"prompt_id": "a", "prompt": "p", "model": "m"}], "missing required column"),
        ([{"prompt_id": "a", "prompt": "p", "model": "m", "quality": 1}], "at least two models"),
        (
            [
                {"prompt_id": "a", "prompt": "p", "model": "m", "quality": 2},
                {"prompt_id": "a", "prompt": "p", "model": "n", "quality": 1},
            ],
            "outside 0..1",
        ),
    ],
)
@pytest.mark.parametrize("command", ["train", "eval", "calibrate"])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, rows, problem: str, command: str) -> None:
    path = tmp_path / "missing.jsonl" if rows is None else _bad(tmp_path, "bad.jsonl", rows)
    good_router = tmp_path / "r.json"
    if command == "eval":
        run(
            "router",
            "train",
            "--outcomes",
            write_csv(tmp_path / "ok.csv", synthetic_rows(40, 1)),
            "--out",
            good_router,
        )
    args = {
        "train": ("router", "train", "--outcomes", path, "--out", tmp_path / "x.json"),
        "eval": ("router", "eval", "--router", good_router, "--outcomes", path),
        "calibrate": ("calibrate", "--outcomes", path, "--write", tmp_path / "t.toml"),
    }[command]
    res = run(*args)
    assert res.exit_code == 2
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in res.output
    assert str(path) in lines[0] and problem in lines[0]


def test_eval_with_a_router_for_other_models(tmp_path: Path, mmlu_subset: Path) -> None:
    router = tmp_path / "r.json"
    run(
        "router", "train", "--outcomes", write_csv(tmp_path / "s.csv", synthetic_rows(40, 1)), "--out", router
    )
    res = run("router", "eval", "--router", router, "--outcomes", mmlu_subset)
    assert res.exit_code == 2 and "knows nothing of" in res.output


def test_calibrate_writes_and_merges_toml(tmp_path: Path) -> None:
    toml = tmp_path / "tierwise.toml"
    toml.write_text('[stages.draft]\ntier = "lite"\n\n[router]\nstrategy = "llm"\nkeep = 1\n')
    table = write_csv(tmp_path / "t.csv", synthetic_rows(300, seed=5))
    res = run("calibrate", "--outcomes", table, "--target", "0.95", "--write", toml, "--json")
    assert res.exit_code == 0, res.output
    doc = tomllib.loads(toml.read_text())
    assert doc["stages"]["draft"]["tier"] == "lite" and doc["router"]["keep"] == 1  # merged, not clobbered
    assert doc["router"]["strategy"] == "learned" and doc["router"]["model_path"] == "router.json"
    assert 0.0 <= doc["router"]["threshold"] <= 1.0
    assert "thresholds" not in doc  # no draft scores in this table
    assert (tmp_path / "router.json").is_file()
    out = json.loads(res.stdout)
    assert out["met"] and out["quality_relative"] >= 0.95 and 0 < out["expected_saving"] < 1
    assert out["curve"] and out["cross_fitted"]


def test_calibrate_human_output_and_draft_thresholds(tmp_path: Path) -> None:
    toml = tmp_path / "cfg" / "tierwise.toml"
    table = write_csv(tmp_path / "d.csv", synthetic_rows(300, seed=6, drafts=True))
    router = tmp_path / "cfg" / "models" / "router.json"
    res = run("calibrate", "--outcomes", table, "--write", toml, "--router-out", router)
    assert res.exit_code == 0, res.output
    assert "expected saving" in res.output and "threshold" in res.output
    doc = tomllib.loads(toml.read_text())
    assert doc["router"]["model_path"] == "models/router.json"
    assert isinstance(doc["thresholds"]["draft_score"], int) and 1 <= doc["thresholds"]["draft_score"] <= 10
    assert 0.0 <= doc["thresholds"]["confidence"] <= 1.0


def test_calibrate_a_given_router_points_the_toml_at_it(tmp_path: Path) -> None:
    table = write_csv(tmp_path / "t.csv", synthetic_rows(300, seed=5))
    router = tmp_path / "models" / "mine.json"
    assert run("router", "train", "--outcomes", table, "--out", router).exit_code == 0
    trained = router.read_bytes()
    toml = tmp_path / "tierwise.toml"
    res = run("calibrate", "--outcomes", table, "--router", router, "--write", toml, "--json")
    assert res.exit_code == 0, res.output
    doc = tomllib.loads(toml.read_text())
    assert doc["router"]["model_path"] == "models/mine.json"
    assert router.read_bytes() == trained  # calibrated as given, not retrained over
    assert not (tmp_path / "router.json").exists()
    assert json.loads(res.stdout)["cross_fitted"] is False


def test_prices_file_turns_tokens_into_dollars(tmp_path: Path) -> None:
    rows = [
        {k: v for k, v in r.items() if k != "cost_usd"}
        | {"input_tokens": 100 * (i % 7 + 1), "output_tokens": 50}
        for i, r in enumerate(synthetic_rows(60, seed=11))
    ]
    table = write_csv(tmp_path / "tokens.csv", rows)
    prices = tmp_path / "prices.toml"
    prices.write_text(
        '[prices."lite-1"]\ninput = 0.1\noutput = 0.4\n[prices."flash-2"]\ninput = 0.3\noutput = 2.5\n'
        '[prices."pro-3"]\ninput = 1.25\noutput = 10\n'
    )
    router = tmp_path / "r.json"
    res = run("router", "train", "--outcomes", table, "--out", router, "--prices", prices, "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["cost_unit"] == "usd"
    res = run("router", "eval", "--router", router, "--outcomes", table, "--json")
    assert json.loads(res.stdout)["reference"]["cost_unit"] == "calls"  # no prices given: call share
    bad = tmp_path / "bad.toml"
    bad.write_text("[[[")
    res = run("router", "train", "--outcomes", table, "--out", router, "--prices", bad)
    assert res.exit_code == 2 and "not valid TOML" in res.output
