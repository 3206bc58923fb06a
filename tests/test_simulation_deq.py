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


def test_shift_strengths_grow_from_mild_to_strong():
    rng = np.random.default_rng(3)
    X = rng.random((400, 64)) * 0.5 + 0.25  # away from the clipping bounds
    sd = [np.std(d.shifted(X, f"noise {s}".strip(), np.random.default_rng(0)) - X) for s in d.STRENGTHS]
    assert sd[0] < sd[1] < sd[2]
    for strength, side in zip(d.STRENGTHS, d.OCCLUSION):
        occluded = d.shifted(X, f"occlude {strength}".strip(), np.random.default_rng(1)).reshape(-1, 8, 8)
        changed = (occluded != X.reshape(-1, 8, 8)).sum(axis=(1, 2))
        assert (changed == side * side).all(), strength  # one side x side square inside the image, nothing else
    with pytest.raises(ValueError, match="unknown shift 'noise loud'"):
        d.shifted(X, "noise loud", rng)
    assert d.LABEL_FREE_SETS[0] == "clean" and set(d.TEST_SETS) <= set(d.LABEL_FREE_SETS)
    assert len(d.LABEL_FREE_SETS) == 1 + 3 * len(d.STRENGTHS)


def label_free_rows():
    """Two repetitions of every (task, test set, estimator), believed = realised + an offset per estimator."""
    offsets = {"recommended": 0.01, "ATC": -0.05, "DoC": 0.10, "one-coin EM": 0.2, "hard class": 0.15,
               "independence": 0.3}
    return pd.DataFrame([dict(repetition=r, seed=r, task=t, test_set=k, estimator=e, realised=0.8 - 0.1 * r,
                              believed=0.8 - 0.1 * r + off * (1 + r), low=0.7, high=0.9)
                         for t in d.TASKS for k in d.LABEL_FREE_SETS for e, off in offsets.items() for r in range(2)])


def test_label_free_summary_averages_over_repetitions():
    out = d.label_free_summary(label_free_rows())
    assert list(out.columns) == ["task", "test_set", "estimator", "believed", "realised", "error", "stderr"]
    assert list(out["test_set"].drop_duplicates()) == list(d.LABEL_FREE_SETS)
    row = out[(out["task"] == "binary") & (out["test_set"] == "rotate") & (out["estimator"] == "DoC")].iloc[0]
    assert row["realised"] == pytest.approx(0.75) and row["error"] == pytest.approx((0.10 + 0.20) / 2)
    assert row["stderr"] == pytest.approx(np.std([0.10, 0.20], ddof=1) / np.sqrt(2))


def test_label_free_checks_compare_the_mean_absolute_errors():
    checks = d.label_free_checks({"label_free": label_free_rows()})
    assert len(checks) == len(d.TASKS) * len(d.LABEL_FREE_SETS)
    for passed, ahead, task, kind, rec, atc, doc, limit in checks:
        assert rec == pytest.approx(0.015) and atc == pytest.approx(0.075) and doc == pytest.approx(0.15)
        assert ahead and passed  # 1.5 points, below ATC's 7.5 and DoC's 15, within every limit
    rows = label_free_rows()
    rows.loc[(rows["estimator"] == "recommended") & (rows["test_set"] == "rotate strong"), "believed"] += 0.2
    failed = [(task, kind) for passed, _, task, kind, *_ in d.label_free_checks({"label_free": rows}) if not passed]
    assert failed == [("digits", "rotate strong"), ("binary", "rotate strong")]


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
