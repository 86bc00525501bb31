"""The learned router: training, the decision rule, save/load round trips (JSON and npz), bad files."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tierwise.routing import (
    OutcomeError,
    RouterDecision,
    evaluate,
    load_outcomes,
    load_router,
    table_from_rows,
    train_router,
)

from .synth import synthetic_rows


@pytest.fixture(scope="module")
def trained():
    table = table_from_rows(synthetic_rows(400, seed=1), source="train")
    return table, train_router(table)


def test_learns_which_rung_a_topic_needs(trained) -> None:
    _, router = trained
    assert router.models == ("lite-1", "flash-2", "pro-3") and router.objective == "usd"
    easy = router.decide("capital colour fruit of the what is")
    hard = router.decide("eigenvalue topology proof of the what is", threshold=0.95)
    assert easy.probabilities["lite-1"] > 0.8 > 0.5 > hard.probabilities["lite-1"]
    assert hard.probabilities["pro-3"] > hard.probabilities["flash-2"] + 0.3
    assert easy.model == "lite-1" and easy.index == 0
    assert hard.model == "pro-3" and hard.index == 2
    assert isinstance(easy, RouterDecision) and set(easy.probabilities) == set(router.models)
    assert easy.confidence == pytest.approx(easy.probabilities["lite-1"])


def test_threshold_ends(trained) -> None:
    _, router = trained
    prompt = "derivative enzyme statute consider"
    assert router.decide(prompt, threshold=0.0).index == 0
    best = max(router.models, key=lambda m: router.decide(prompt, 1.0).probabilities[m])
    assert router.decide(prompt, threshold=1.0).model == best
    with pytest.raises(ValueError):
        router.decide(prompt, threshold=1.5)


def test_beats_random_on_prompts_it_never_saw(trained) -> None:
    _, router = trained
    unseen = table_from_rows(synthetic_rows(300, seed=2), source="unseen")
    rows = {r["router"]: r for r in evaluate(unseen, router)["routers"]}
    assert rows["learned"]["apgr"] > rows["random"]["apgr"] + 0.1
    assert rows["learned"]["cost_relative_at_95"] < rows["random"]["cost_relative_at_95"]


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_save_load_round_trip(trained, tmp_path: Path, suffix: str) -> None:
    table, router = trained
    path = router.save(tmp_path / f"router{suffix}")
    again = load_router(path)
    assert again.models == router.models and again.threshold == router.threshold
    np.testing.assert_allclose(
        again.predict_many(table.prompts[:50]), router.predict_many(table.prompts[:50]), atol=1e-4
    )
    assert [again.decide(p).model for p in table.prompts[:50]] == [
        router.decide(p).model for p in table.prompts[:50]
    ]
    if suffix == ".json":
        assert json.loads(path.read_text())["format"] == "tierwise-router"


def test_router_files_are_not_pickles(trained, tmp_path: Path) -> None:
    _, router = trained
    path = router.save(tmp_path / "r.npz")
    with np.load(path, allow_pickle=False) as z:  # would raise if anything needed unpickling
        assert set(z.files) == {"header", "buckets", "weights", "bias"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "unreadable"),
        ('{"format": "other"}', "not a tierwise router"),
        ("[]", "not a tierwise router"),
    ],
)
def test_bad_router_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(content)
    with pytest.raises(OutcomeError, match=message):
        load_router(path)
    with pytest.raises(OutcomeError, match="no such router file"):
        load_router(tmp_path / "missing.json")


def test_calls_objective_without_dollars(tmp_path: Path) -> None:
    rows = [{k: v for k, v in r.items() if k != "cost_usd"} for r in synthetic_rows(120, seed=4)]
    table = table_from_rows(rows, source="calls")
    router = train_router(table)
    assert router.objective == "calls" and router.cost_model is None
    with pytest.raises(OutcomeError, match="needs dollar costs"):
        train_router(table, objective="usd")


def test_decision_is_fast(trained) -> None:
    table, router = trained
    router.decide(table.prompts[0])
    times = []
    for p in table.prompts[:300]:
        t0 = time.perf_counter()
        router.decide(p)
        times.append(time.perf_counter() - t0)
    assert np.median(times) < 1e-3  # the budget is 1 ms p50 on 2 cores; typically ~0.07 ms


def test_vendored_subset_trains(mmlu_subset: Path) -> None:
    router = train_router(load_outcomes(mmlu_subset))
    assert router.meta["prompts"] == 240 and router.meta["l2"] > 0


def test_importing_the_package_is_light() -> None:
    code = "import sys, tierwise.routing; print(any(m in sys.modules for m in ('typer', 'rich', 'numpy')))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.stdout.strip() == "False"
