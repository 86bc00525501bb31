"""Training across sources (`groups`): a source's base rate is not learned as a word's weight, l2 is chosen by
leave-one-group-out, and the sparse helpers it needs behave."""

from __future__ import annotations

import random

import numpy as np
import pytest

from tierwise.routing import table_from_rows, train_router
from tierwise.routing.features import Csr
from tierwise.routing.learned import GROUP_L2_GRID

from .synth import synthetic_rows


def _sourced_rows(n: int, seed: int, source: str, marker: str, lite_penalty: float) -> list[dict[str, object]]:
    """Synthetic ladder rows from one source: every prompt carries the source's marker word, and on the
    'hard' source the cheapest model fails more often whatever the topic."""
    rng = random.Random(seed)
    rows = synthetic_rows(n, seed)
    for r in rows:
        r["prompt_id"] = f"{source}/{r['prompt_id']}"
        r["prompt"] = f"{marker} {r['prompt']}"
        if r["model"] == "lite-1" and rng.random() < lite_penalty:
            r["quality"] = 0.0
    return rows


@pytest.fixture(scope="module")
def two_sources():
    rows = _sourced_rows(300, 1, "forum", "zzforum", 0.0) + _sourced_rows(300, 2, "exam", "zzexam", 0.6)
    table = table_from_rows(rows, source="pooled")
    return table, [pid.split("/")[0] for pid in table.prompt_ids]


def test_group_intercepts_keep_source_words_out_of_the_weights(two_sources) -> None:
    table, groups = two_sources
    plain = train_router(table, l2=1e-3)
    grouped = train_router(table, l2=1e-3, groups=groups)
    prompt = "capital colour fruit of the what is"

    def lite_gap(router) -> float:  # how much the source marker alone moves the cheapest model's prediction
        a = router.decide(f"zzexam {prompt}").probabilities["lite-1"]
        b = router.decide(f"zzforum {prompt}").probabilities["lite-1"]
        return abs(a - b)

    assert lite_gap(plain) > 0.2  # pooled naively, "zzexam" is learned as a hard word
    assert lite_gap(grouped) < lite_gap(plain) / 3
    assert grouped.meta["groups"] == ["exam", "forum"]
    # the topic signal, which holds in both sources, is still learned
    hard = grouped.decide("eigenvalue topology proof of the what is", threshold=0.95)
    assert hard.model == "pro-3"


def test_l2_is_chosen_from_the_grid_by_leaving_a_group_out(two_sources) -> None:
    table, groups = two_sources
    router = train_router(table, groups=groups)
    assert router.meta["l2"] in GROUP_L2_GRID


def test_one_group_trains_like_no_groups() -> None:
    table = table_from_rows(synthetic_rows(200, seed=3), source="one")
    a = train_router(table, l2=1e-3)
    b = train_router(table, l2=1e-3, groups=["only"] * table.n_prompts)
    np.testing.assert_allclose(a.predict_many(table.prompts[:20]), b.predict_many(table.prompts[:20]))
    assert b.meta["groups"] is None


def test_groups_must_label_every_prompt() -> None:
    table = table_from_rows(synthetic_rows(60, seed=4), source="t")
    with pytest.raises(ValueError, match="one label per prompt"):
        train_router(table, groups=["a", "b"])


def test_csr_hstack_matches_dense() -> None:
    a = Csr(np.array([0, 2, 2, 3]), np.array([0, 2, 1]), np.array([1.0, 2.0, 3.0]), 3)
    b = Csr(np.array([0, 1, 2, 2]), np.array([1, 0]), np.array([4.0, 5.0]), 2)

    def dense(m: Csr) -> np.ndarray:
        return m.dot(np.eye(m.n_cols))

    np.testing.assert_allclose(dense(a.hstack(b)), np.hstack([dense(a), dense(b)]))
    with pytest.raises(ValueError):
        a.hstack(Csr(np.array([0, 1]), np.array([0]), np.array([1.0]), 1))


def test_sample_weight_equals_repeating_rows() -> None:
    from tierwise.routing import logreg

    rng = np.random.default_rng(0)
    n, d = 40, 5
    cols = rng.integers(0, d, size=(n, 2))
    x = Csr(np.arange(0, 2 * n + 1, 2), cols.ravel().astype(np.int64), np.ones(2 * n), d)
    y = rng.integers(0, 2, size=(n, 1)).astype(float)
    weight = np.where(np.arange(n) < 10, 2.0, 1.0)
    w1, b1 = logreg.fit(x, y, 1e-2, sample_weight=weight)
    twice = np.concatenate([np.arange(n), np.arange(10)])
    w2, b2 = logreg.fit(x.rows(twice), y[twice], 1e-2)
    np.testing.assert_allclose(w1, w2, atol=1e-4)
    np.testing.assert_allclose(b1, b2, atol=1e-4)
