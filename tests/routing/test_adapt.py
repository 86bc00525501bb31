"""Fine-tuning on a user's own labels (tierwise.routing.adapt.tune_router): what the cross-validation chooses."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from tierwise.routing import adapt, table_from_rows, train_router
from tierwise.routing.adapt import ENSEMBLE, Labels, _cv_rank, _cv_scores, _split_orders, compare, tune_router
from tierwise.routing.features import Featurizer

from .synth import synthetic_rows


def _labels(n: int, seed: int) -> Labels:
    return Labels.from_table(table_from_rows(synthetic_rows(n, seed), source=f"s{seed}"), "shadow")


def _flipped(n: int, seed: int) -> Labels:
    """The same prompts with the ladder's outcomes reversed: lite solves what pro does and the other way round."""
    labels = _labels(n, seed)
    return Labels(labels.prompts, labels.models, labels.quality[:, ::-1].copy(), labels.cost_usd,
                  labels.signals, labels.ids, "flipped")


@pytest.fixture(scope="module")
def good_prior():
    return train_router(table_from_rows(synthetic_rows(400, seed=1), source="prior"))


@pytest.fixture(scope="module")
def wrong_prior():
    flipped = _flipped(400, seed=1)
    table = flipped.complete()
    assert table is not None
    return train_router(table)


def test_the_pick_is_by_routing_not_by_log_loss(good_prior) -> None:
    """Two candidates: the good prior's weights ×20 (ranks prompts well, wildly overconfident) and zero weights
    (well calibrated, ranks nothing). Log-loss prefers the second; routing is the first's, and it is picked."""
    labels = _labels(240, seed=5)
    x, used = good_prior.featurizer.transform(labels.prompts).compact()
    sharp = 20.0 * good_prior._table()[used]
    flat = np.zeros_like(sharp)
    families = [(flat, (10.0,)), (sharp, (10.0,))]
    kappa = good_prior.relative_costs(labels.prompts)
    ranked, how = _cv_rank(x, labels, families, kappa, "usd", seed=0)
    (centre, l2), _ = ranked
    assert centre is sharp and l2 == 10.0 and "quality-vs-cost curve (usd)" in how
    # the premise: without dollars on any row there is no curve, and log-loss on the same folds picks the flat one
    unpriced = Labels(labels.prompts, labels.models, labels.quality, labels.cost_usd * np.nan, labels.signals,
                      labels.ids)
    ranked, how = _cv_rank(x, unpriced, families, kappa, "usd", seed=0)
    assert ranked[0][0] is flat and "log-loss" in how


def test_the_ranking_averages_several_fold_splits(good_prior, monkeypatch) -> None:
    """One fold split's luck decided too much on a few hundred labels: candidates are ranked by their score
    averaged over CV_REPEATS different seeded splits, so the ranking is not any single split's."""
    labels = _labels(150, seed=13)
    x, used = good_prior.featurizer.transform(labels.prompts).compact()
    prior_w = good_prior._table()[used]
    families = [(prior_w, (1e-1, 1e-2, 1e-3)), (np.zeros_like(prior_w), (1e-1, 1e-2, 1e-3, 1e-4))]
    kappa = good_prior.relative_costs(labels.prompts)
    orders = _split_orders(labels.n, seed=3)
    assert len(orders) == adapt.CV_REPEATS >= 3
    assert all(sorted(o) == list(range(labels.n)) for o in orders)
    assert len({tuple(o) for o in orders}) == len(orders)  # different splits
    table = labels.complete()
    rows = np.arange(labels.n)
    per_split = [_cv_scores(x, labels, families, kappa, "usd", table, rows, o) for o in orders]
    ranked, how = _cv_rank(x, labels, families, kappa, "usd", seed=3)
    cands = [(fam, l2) for fam, (_, grid) in enumerate(families) for l2 in grid]
    got = [(next(f for f, (c, _) in enumerate(families) if c is centre), l2) for centre, l2 in ranked]
    assert got == [cands[c] for c in np.argsort(np.mean(per_split, axis=0), kind="stable")]
    assert f"x {adapt.CV_REPEATS} splits" in how
    # the premise: the splits rank these candidates differently, so averaging is not the first split alone
    assert len({tuple(np.argsort(s, kind="stable")) for s in per_split}) > 1
    monkeypatch.setattr(adapt, "CV_REPEATS", 1)  # one split: the first order's ranking, as before repeats
    single, how1 = _cv_rank(x, labels, families, kappa, "usd", seed=3)
    assert [l2 for _, l2 in single] == [cands[c][1] for c in np.argsort(per_split[0], kind="stable")]
    assert "splits" not in how1


def test_a_prior_that_does_not_fit_the_traffic_is_overruled(good_prior, wrong_prior) -> None:
    labels = _labels(240, seed=5)
    tuned = tune_router(labels, wrong_prior, seed=0)
    assert "quality-vs-cost curve (usd)" in tuned.meta["selected_by"]
    rows = {r["router"]: r for r in compare(_labels(300, seed=9), {"wrong": wrong_prior, "good": good_prior,
                                                                   "tuned": tuned})}
    assert rows["wrong"]["cost_relative_at_95"] > 0.8
    assert rows["tuned"]["cost_relative_at_95"] < rows["good"]["cost_relative_at_95"] + 0.1


def test_judge_only_labels_are_chosen_by_log_loss(good_prior) -> None:
    """A judged cheap draft says nothing of the top tier: no row prices both, so no cost curve to score by."""
    labels = _labels(120, seed=6)
    quality = labels.quality.copy()
    quality[:, 1:] = np.nan
    partial = Labels(labels.prompts, labels.models, quality, labels.cost_usd, ("judge",) * labels.n, labels.ids)
    router = tune_router(partial, good_prior, seed=0)
    assert "log-loss" in router.meta["selected_by"]
    assert "quality-vs-cost" not in router.meta["selected_by"]


def test_few_labels_use_the_default_and_a_given_l2_is_kept(good_prior) -> None:
    few = tune_router(_labels(20, seed=7), good_prior)
    assert few.meta["selected_by"].startswith("default") and few.meta["l2"] == pytest.approx(1e-2)
    given = tune_router(_labels(100, seed=7), good_prior, l2=3e-3)
    assert given.meta["selected_by"] == "given" and given.meta["l2"] == pytest.approx(3e-3)


def test_a_word_seen_in_one_labelled_prompt_only_gets_no_weight() -> None:
    """From 50 labels on, as train_router does: a word in one prompt only memorises that prompt's outcome."""
    fz = Featurizer()
    bucket = zlib.crc32(b"zebracorn") & (fz.n_features - 1)

    def with_rare_word(n: int) -> Labels:
        labels = _labels(n, seed=8)
        prompts = ("zebracorn " + labels.prompts[0], *labels.prompts[1:])
        return Labels(prompts, labels.models, labels.quality, labels.cost_usd, labels.signals, labels.ids)

    assert bucket not in set(tune_router(with_rare_word(60), None, l2=1e-3).buckets.tolist())
    assert bucket in set(tune_router(with_rare_word(40), None, l2=1e-3).buckets.tolist())


def test_repeated_prompts_share_a_fold() -> None:
    """Traffic repeats itself: the same prompt asked twice must not be scored by a fit that trained on it."""
    labels = _labels(60, seed=10)
    twice = labels.subset(np.concatenate([np.arange(60), np.arange(60)]))
    router = tune_router(twice, None, seed=0)
    assert "curve" in router.meta["selected_by"] and router.meta["prompts"] == 120


def test_the_router_is_the_logit_mean_of_the_best_candidates() -> None:
    labels = _labels(150, seed=11)
    router = tune_router(labels, None, seed=0)
    ensemble = router.meta["ensemble"]
    assert len(ensemble) == ENSEMBLE and {e["start"] for e in ensemble} == {"scratch"}
    assert router.meta["l2"] == ensemble[0]["l2"] and len({e["l2"] for e in ensemble}) == ENSEMBLE
    probe = _labels(40, seed=12).prompts

    def logit(r) -> np.ndarray:
        p = r.predict_many(probe)
        return np.log(p / (1 - p))

    singles = [tune_router(labels, None, l2=e["l2"]) for e in ensemble]
    assert np.allclose(logit(router), np.mean([logit(r) for r in singles], axis=0), atol=1e-6)


@pytest.mark.parametrize(
    ("current", "new", "verdict"),
    [
        ((0.60, 0.30), (0.55, 0.40), (True, "cost at 95% of top quality")),  # routes cheaper, worse log-loss
        ((0.55, 0.40), (0.60, 0.30), (False, "cost at 95% of top quality")),
        ((None, 0.40), (0.70, 0.50), (True, "cost at 95% of top quality")),  # only the new one reaches 95%
        ((None, 0.40), (None, 0.30), (True, "log-loss")),  # too few complete rows for a curve
        ((None, 0.30), (None, 0.40), (False, "log-loss")),
    ],
)
def test_router_train_from_ledger_writes_what_routes_no_worse(current, new, verdict) -> None:
    from tierwise.routing.cli import _not_worse

    def row(v: tuple) -> dict:
        return {"cost_relative_at_95": v[0], "log_loss": v[1]}

    assert _not_worse(row(current), row(new)) == verdict
