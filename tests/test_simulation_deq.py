"""The DEQ-ensemble simulation's own pieces: AUROC, the shifted test sets, the paired statistics and the answers."""

import numpy as np
import pandas as pd
import pytest

from simulations import deq_ensemble as d

sklearn_metrics = pytest.importorskip("sklearn.metrics")


@pytest.mark.parametrize("seed", range(5))
def test_auroc_equals_scikit_learn_with_ties(seed):
    rng = np.random.default_rng(seed)
    score = rng.integers(0, 6, 200).astype(float)  # many ties
    positive = rng.random(200) < 0.3 + 0.1 * score
    assert d.auroc(score, positive) == pytest.approx(sklearn_metrics.roc_auc_score(positive, score), abs=1e-12)


def test_auroc_is_undefined_with_one_class():
    assert np.isnan(d.auroc([0.1, 0.2], [True, True]))


def test_shifts_keep_pixels_in_range_and_change_what_they_say():
    rng = np.random.default_rng(0)
    X = rng.random((30, 64))
    assert d.shifted(X, "clean", rng) is X
    for kind in ("noise", "rotate", "occlude"):
        Y = d.shifted(X, kind, rng)
        assert Y.shape == X.shape and Y.min() >= 0.0 and Y.max() <= 1.0, kind
        assert not np.array_equal(Y, X), kind
    occluded = d.shifted(X, "occlude", np.random.default_rng(1)).reshape(-1, 8, 8)
    changed = (occluded != X.reshape(-1, 8, 8))
    assert (changed.sum(axis=(1, 2)) <= 16).all()  # a 4x4 block, nothing else
    assert ((occluded == 0) | ~changed).all()


def test_rotation_turns_an_image_about_its_centre():
    image = np.zeros((1, 64))
    image[0, [3 * 8 + 6, 4 * 8 + 6]] = 1.0  # right of centre
    rng = np.random.default_rng(0)
    rotated = d.shifted(image, "rotate", rng).reshape(8, 8)
    rows, cols = np.nonzero(rotated > 0.05)
    assert rotated.sum() > 0.5 and (np.abs(rows - 3.5) > 0.5).any()  # mass moved off the middle rows


def test_paired_differences_and_their_p_values():
    acc = pd.DataFrame([dict(task=t, test_set=s, repetition=r, rule=rule, accuracy=a)
                        for t in d.TASKS for s in d.TEST_SETS for r in range(4)
                        for rule, a in (("global", 0.90 + 0.01 * r), ("plurality", 0.88 + 0.01 * r + 0.001 * (r % 2)))])
    out = d.paired(acc, "global", "plurality")
    assert list(out["test_set"].astype(str)) == list(d.TEST_SETS) * 2 and list(out["task"]) == ["digits"] * 4 + ["binary"] * 4
    diffs = np.array([0.02, 0.019, 0.02, 0.019])
    assert np.allclose(out["mean"], diffs.mean())
    assert np.allclose(out["stderr"], diffs.std(ddof=1) / 2)
    assert (out["p"] < 0.001).all()  # t = 0.0195 / 0.00029 with 3 degrees of freedom


@pytest.mark.parametrize(("wins", "losses", "cells", "answer"), [
    (0, 0, 8, "No measurable difference"), (1, 0, 8, "No measurable difference"),  # one of 8 is chance
    (2, 0, 8, "Only in places"), (4, 0, 8, "Yes"), (0, 3, 8, "No, it is worse"), (3, 3, 8, "Mixed")])
def test_short_answers_discount_chance(wins, losses, cells, answer):
    assert d._answer(wins, losses, cells) == answer


def test_budget_gain_is_paired_by_member():
    rows = []
    for member in range(3):
        for budget, own in ((8, True), (64, False)):
            for group, acc in (("all", 0.8), ("high AA", 0.9), ("low AA", 0.7)):
                gain = {"all": 0.02, "high AA": 0.04, "low AA": 0.0}[group] * (budget == 64)
                rows.append(dict(repetition=0, test_set="noise", member=member, budget=budget, own=own, group=group,
                                 accuracy=acc + gain + 0.01 * member))
    out = d.budget_gain(pd.DataFrame(rows)).set_index("group")
    assert out.loc["all", "mean"] == pytest.approx(0.02)
    assert out.loc["high - low", "mean"] == pytest.approx(0.04)
    assert out.loc["high - low", "count"] == 1  # one repetition: members are averaged within it
