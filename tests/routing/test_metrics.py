"""Metrics against hand-computed values on a 3-model toy ladder.

Ladder lite ($1) → flash ($2) → pro ($4); four prompts:
    p1 all right · p2 flash and pro right · p3 only pro right · p4 all wrong.
Always-lite: quality .25, cost 1. Always-flash: .5, 2. Always-pro: .75, 4.
The oracle sends p1→lite, p2→flash, p3→pro, p4→lite: quality .75 at cost 2, top share .25.
"""

from __future__ import annotations

import numpy as np
import pytest

from tierwise.routing import (
    aiq,
    apgr,
    at_quality,
    choose,
    cpt,
    learned_curve,
    oracle_curve,
    random_curve,
    summarize,
    table_from_rows,
)
from tierwise.routing.curves import curve_from_assignments

Q = {"lite": [1, 0, 0, 0], "flash": [1, 1, 0, 0], "pro": [1, 1, 1, 0]}
PRICE = {"lite": 1.0, "flash": 2.0, "pro": 4.0}


def toy(with_cost: bool = True):
    rows = [
        {"prompt_id": f"p{i + 1}", "prompt": f"prompt {i + 1}", "model": m, "quality": Q[m][i]}
        | ({"cost_usd": PRICE[m]} if with_cost else {})
        for m in Q
        for i in range(4)
    ]
    return table_from_rows(rows, source="toy")


def oracle_point(table):
    return curve_from_assignments("point", table, np.array([[0, 1, 2, 0]]), np.array([0.5]))


def test_toy_ladder() -> None:
    t = toy()
    assert t.models == ("lite", "flash", "pro")
    np.testing.assert_allclose(t.model_quality(), [0.25, 0.5, 0.75])
    np.testing.assert_allclose(t.model_cost(), [1, 2, 4])


def test_apgr_on_calls_and_dollars() -> None:
    t = toy()
    c = oracle_point(t)
    # calls axis: (0, PGR 0) → (.25, 1) → (1, 1): .25·.5 + .75·1
    assert apgr(c, t, "calls") == pytest.approx(0.875)
    # dollar axis, (cost-1)/3: (0, 0) → (1/3, 1) → (1, 1): 1/6 + 2/3
    assert apgr(c, t, "usd") == pytest.approx(5 / 6)


def test_cpt() -> None:
    t = toy()
    c = oracle_point(t)
    assert cpt(c, t, 0.5) == pytest.approx(0.125)
    assert cpt(c, t, 0.8) == pytest.approx(0.2)
    assert cpt(c, t, 0.5, "usd") == pytest.approx(1 / 6)


def test_at_quality() -> None:
    t = toy()
    c = oracle_point(t)
    p95 = at_quality(c, t, 0.95)  # target .7125 on the way from (1, .25) to (2, .75): cost 1.925
    assert p95.cost == pytest.approx(1.925)
    assert p95.cost_relative == pytest.approx(1.925 / 4)
    assert p95.top_share == pytest.approx(0.925 * 0.25)
    p100 = at_quality(c, t, 1.0)
    assert p100.cost_relative == pytest.approx(0.5) and p100.top_share == pytest.approx(0.25)
    assert at_quality(c, t, 1.1) is None  # never reached: None, not a number


def test_aiq() -> None:
    t = toy()
    # hull (1, .25) → (2, .75) → (4, .75) over [1, 4]: (.5 + 1.5) / 3
    assert aiq(oracle_point(t), t) == pytest.approx(2 / 3)
    # random: the hull of the single models (1, .25) (2, .5) (4, .75): (.375 + 1.25) / 3
    assert aiq(random_curve(t), t) == pytest.approx(1.625 / 3)


def test_random_and_oracle_curves() -> None:
    t = toy()
    r = random_curve(t)
    np.testing.assert_allclose(r.cost, [1, 2, 4])
    # flash costs no top-model calls: on the calls axis random gets PGR .5 for free, then a line to pro
    assert apgr(r, t, "calls") == pytest.approx(0.75)
    assert apgr(r, t, "usd") == pytest.approx(1 / 12 + 0.5)
    o = oracle_curve(t)
    assert o.quality.max() == pytest.approx(0.75)
    assert o.cost[np.argmax(o.quality)] == pytest.approx(2.0)
    assert summarize(o, t)["cost_relative_at_100"] == pytest.approx(0.5)


def test_two_model_random_is_the_diagonal() -> None:
    rows = [
        {"prompt_id": str(i), "prompt": str(i), "model": m, "quality": q}
        for i, (w, s) in enumerate([(0, 1), (1, 1), (0, 1), (1, 0)])  # weak .5, strong .75
        for m, q in (("weak", w), ("strong", s))
    ]
    t = table_from_rows(rows, source="two")
    s = summarize(random_curve(t), t)
    assert s["apgr"] == pytest.approx(0.5)
    assert s["cpt50"] == pytest.approx(0.5)


def test_choose_rule() -> None:
    pred = np.array([[0.9, 0.95, 0.97], [0.2, 0.5, 0.9]])
    kappa = np.tile([0.0, 0.5, 1.0], (2, 1))
    np.testing.assert_array_equal(choose(pred, kappa, 1.0), [2, 2])  # best predicted, cost ignored
    np.testing.assert_array_equal(choose(pred, kappa, 0.0), [0, 0])  # λ = 1: gains < cost steps
    np.testing.assert_array_equal(choose(pred, kappa, 0.8), [0, 2])  # λ = .2: only big gains pay
    t = toy()
    c = learned_curve("l", t, np.array(t.quality, float), np.tile([0.0, 0.25, 1.0], (4, 1)))
    assert c.quality.max() == pytest.approx(0.75)  # perfect predictions reach the oracle's quality
