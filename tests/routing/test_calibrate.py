"""Calibration: the draft cascade by hand, the chosen setting meets the target at least cost, TOML merging."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from tierwise.routing import calibrate, cascade, table_from_rows, train_router, write_settings

from .synth import synthetic_rows


def test_cascade_by_hand() -> None:
    rows = []
    # one prompt, three rungs costing 1, 2, 4; drafts scored 5, 8, - ; qualities 0, 1, 1
    for m, q, c, d in (("lite", 0, 1, 5), ("flash", 1, 2, 8), ("pro", 1, 4, 1)):
        rows.append(
            {"prompt_id": "p", "prompt": "x", "model": m, "quality": q, "cost_usd": c, "draft_score": d}
        )
    t = table_from_rows(rows, source="toy")
    start = np.array([0])
    q, cost, final = cascade(t, start, draft_score=7, confidence=None)
    assert (q[0], cost[0], final[0]) == (1, 3, 1)  # lite's 5 fails, flash's 8 ships: paid 1 + 2
    q, cost, final = cascade(t, start, draft_score=9, confidence=None)
    assert (q[0], cost[0], final[0]) == (1, 7, 2)  # nothing ships before pro: 1 + 2 + 4
    q, cost, final = cascade(t, start, draft_score=5, confidence=None)
    assert (q[0], cost[0], final[0]) == (0, 1, 0)  # the bad draft ships
    q, cost, final = cascade(t, np.array([1]), draft_score=9, confidence=None)
    assert (cost[0], final[0]) == (6, 2)  # routed to flash first: 2 + 4


def test_calibration_meets_the_target_cheaper_than_top() -> None:
    table = table_from_rows(synthetic_rows(300, seed=8), source="cal")
    result, router = calibrate(table, target=0.95, folds=4)
    assert result.met and result.cross_fitted
    assert result.quality >= 0.95 * result.top_quality
    assert result.cost < result.top_cost and result.saving == pytest.approx(1 - result.cost / result.top_cost)
    assert router.threshold == result.threshold
    # any cheaper point of the (cross-fitted) curve misses the target
    cheaper = result.curve.cost < result.cost - 1e-12
    assert (result.curve.quality[cheaper] < 0.95 * result.top_quality + 1e-12).all()


def test_unreachable_target_returns_best_quality() -> None:
    table = table_from_rows(synthetic_rows(200, seed=9), source="cal")
    router = train_router(table)
    result, _ = calibrate(table, router, target=1.4)
    assert not result.met and not result.cross_fitted
    assert result.quality == pytest.approx(result.curve.quality.max())


def test_write_settings_merges(tmp_path: Path) -> None:
    table = table_from_rows(synthetic_rows(200, seed=10, drafts=True), source="cal")
    result, _ = calibrate(table, train_router(table), target=0.9)
    toml = tmp_path / "tierwise.toml"
    toml.write_text('[thresholds]\ndraft_score = 7\nconfidence = 0.5\n[other]\nx = "y"\n')
    write_settings(toml, result, tmp_path / "r.json")
    doc = tomllib.loads(toml.read_text())
    assert doc["other"] == {"x": "y"}
    assert doc["router"] == {"strategy": "learned", "model_path": "r.json", "threshold": result.threshold,
                             "hybrid_margin": result.hybrid_margin}
    assert doc["thresholds"]["draft_score"] == result.draft_score
    bad = tmp_path / "bad.toml"
    bad.write_text("[[[")
    with pytest.raises(ValueError, match="not valid TOML"):
        write_settings(bad, result, tmp_path / "r.json")


def test_the_uncertain_band_holds_the_picks_that_were_often_wrong() -> None:
    import numpy as np

    from tierwise.routing.calibration import uncertain_margin

    rng = np.random.default_rng(0)
    n = 1000
    gain = rng.uniform(-0.5, 1.5, n)  # predicted: cheap 1 - gain/2 ... top; threshold 0.5 picks top iff gain > 0.5
    sure = np.abs(gain - 0.5) > 0.3  # margin = |gain - 0.5|: beyond 0.3 the pick is right, within it mostly wrong
    top_needed = np.where(sure, gain > 0.5, (gain > 0.5) ^ (rng.random(n) < 0.7))
    table = table_from_rows([
        {"prompt_id": str(i), "prompt": f"p{i}", "model": m, "quality": q, "cost_usd": c}
        for i in range(n)
        for m, q, c in (("cheap", 0.0 if top_needed[i] else 1.0, 0.0), ("top", 1.0, 0.5))
    ])
    pred = np.stack([0.5 - gain / 2, gain / 2 + 0.5], axis=1)
    kappa = np.tile([0.0, 0.5], (n, 1))
    band = uncertain_margin(table, pred, kappa, 0.5)
    assert 0.2 <= band <= 0.4  # the region where picks were right 30% of the time (margin < 0.3), to a bin's width
    assert uncertain_margin(table, pred, kappa, 0.5, min_accuracy=0.0) == 0.0
