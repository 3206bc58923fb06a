"""The confidence-based label-free baselines ATC and DoC (wmvtrust.shift), against their definitions written here."""

import math
import re

import numpy as np
import pytest

import wmvtrust as wt


def negative_entropy(p):
    return sum(x * math.log(x) for x in p if x > 0)


def atc_by_definition(val, right, test, score):
    """The threshold t with #{validation scores > t} = #right (t between two sorted scores, or beyond them all),
    found by trying every midpoint; then the share of test scores above it."""
    s_val = sorted(score(row) for row in val)
    candidates = [s_val[0] - 1.0] + [(a + b) / 2 for a, b in zip(s_val, s_val[1:])] + [s_val[-1] + 1.0]
    t = next(c for c in candidates if sum(s > c for s in s_val) == sum(right))
    return sum(score(row) > t for row in test) / len(test)


def random_probabilities(rng, n, labels, sharpness):
    return rng.dirichlet(np.full(labels, 1.0 / sharpness), size=n)


@pytest.mark.parametrize("score", ["entropy", "confidence"])
@pytest.mark.parametrize("labels", [2, 10])
def test_atc_is_its_definition(score, labels):
    """Distinct scores (continuous Dirichlet rows): the threshold passes exactly as many validation examples as were
    right, and the estimate is the share of test examples above it."""
    rng = np.random.default_rng(labels)
    val, test = random_probabilities(rng, 300, labels, 2.0), random_probabilities(rng, 200, labels, 3.0)
    right = rng.random(300) < val.max(axis=1)
    f = negative_entropy if score == "entropy" else max
    assert wt.atc_accuracy(val, right, test, score=score) == atc_by_definition(val, right, test, f)
    # on the validation set itself ATC returns the validation accuracy
    assert wt.atc_accuracy(val, right, val, score=score) == pytest.approx(right.mean(), abs=1e-15)


def test_atc_at_the_ends_and_as_scores_rise():
    val = [[0.9, 0.1], [0.7, 0.3], [0.6, 0.4]]
    test = [[0.99, 0.01], [0.5, 0.5]]
    assert wt.atc_accuracy(val, [True] * 3, test) == 1.0  # every validation example right: everything passes
    assert wt.atc_accuracy(val, [False] * 3, test) == 0.0  # none right: nothing passes
    low, high = np.array([[0.62, 0.38]] * 5), np.array([[0.8, 0.2]] * 5)
    assert wt.atc_accuracy(val, [True, True, False], low, score="confidence") == 0.0  # threshold 0.65
    assert wt.atc_accuracy(val, [True, True, False], high, score="confidence") == 1.0


def test_doc_is_its_definition_and_unbiased_for_a_calibrated_classifier():
    """A calibrated classifier (right with probability its confidence) on a validation set and a shifted test set
    with a lower confidence law: E[DoC] = the test accuracy, so over 20,000 examples each DoC lies within 5 of its
    standard errors of the realised test accuracy; ATC is not unbiased in general and is not asked to be."""
    rng = np.random.default_rng(3)
    conf_val, conf_test = 0.5 + 0.5 * rng.beta(5, 2, 20_000), 0.5 + 0.5 * rng.beta(2, 3, 20_000)
    val, test = np.column_stack([conf_val, 1 - conf_val]), np.column_stack([conf_test, 1 - conf_test])
    right_val, right_test = rng.random(20_000) < conf_val, rng.random(20_000) < conf_test
    doc = wt.doc_accuracy(val, right_val, test)
    assert doc == pytest.approx(right_val.mean() - conf_val.mean() + conf_test.mean(), abs=1e-12)
    stderr = math.sqrt(np.var(right_val ^ 0) / 20_000 + np.var(right_test ^ 0) / 20_000)
    assert abs(doc - right_test.mean()) <= 5 * stderr
    assert right_val.mean() - right_test.mean() > 20 * stderr  # the shift is real


VAL = [[0.9, 0.1], [0.4, 0.6]]
CASES = [
    (lambda: wt.atc_accuracy([[0.9, 0.2]], [True], VAL), "val_proba must have rows that sum to 1 (within 1e-06); "
                                                          "row 0 sums to 1.1"),
    (lambda: wt.atc_accuracy([[1.5, -0.5]], [True], VAL), "val_proba must hold probabilities in [0, 1]; "
                                                          "val_proba[0, 0] = 1.5"),
    (lambda: wt.doc_accuracy(VAL, [True, False], [[0.2, 0.3, 0.5]]), "test_proba must have length 2 along axis 1, one "
                                                                      "column per label as in the validation "
                                                                      "probabilities; got shape (1, 3)"),
    (lambda: wt.doc_accuracy(VAL, [True], VAL), "val_correct must hold one value per validation example; got shape "
                                                "(1,) for 2 examples"),
    (lambda: wt.atc_accuracy(VAL, [1, 2], VAL), "val_correct must hold booleans (or 0 and 1); val_correct[1] = 2"),
    (lambda: wt.atc_accuracy(VAL, [1, 0], VAL, score="energy"), "score must be one of 'entropy', 'confidence'; "
                                                                "got 'energy'"),
    (lambda: wt.doc_accuracy(VAL, [1, 0], [[np.nan, 1.0]]), "test_proba must be finite"),
]


@pytest.mark.parametrize(("call", "message"), CASES)
def test_errors_name_the_argument_and_the_value(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def ipf(s, prior, rounds=200):
    """Iterative proportional fitting written here: column weights w with mean_j (s_j w / s_j . w) = prior."""
    w = np.ones(s.shape[1])
    for _ in range(rounds):
        a = s * w / (s @ w)[:, None]
        w = w * prior / a.mean(axis=0)
    return s * w / (s @ w)[:, None]


def test_prior_match_reaches_the_marginal_by_one_weight_per_label():
    rng = np.random.default_rng(4)
    s = random_probabilities(rng, 500, 4, 2.0) * [3.0, 1.0, 1.0, 0.5]
    s /= s.sum(axis=1, keepdims=True)
    prior = np.array([0.1, 0.2, 0.3, 0.4])
    matched = wt.prior_match(s, prior)
    np.testing.assert_allclose(matched.mean(axis=0), prior, atol=1e-9)
    np.testing.assert_allclose(matched.sum(axis=1), 1.0, atol=1e-12)
    ratio = matched / s  # row-normalised s * w: the ratio of two columns is w_j / w_k in every row
    np.testing.assert_allclose(ratio[:, 1:] / ratio[:, :1], np.broadcast_to(ratio[0, 1:] / ratio[0, 0], (500, 3)),
                               rtol=1e-10)
    np.testing.assert_allclose(matched, ipf(s, prior), rtol=1e-9)


def prior_matched_by_definition(val, truth, d_val, test, d_test, bandwidth=0.08):
    """The estimator written from its definition: IPF to the validation label frequencies, the score of each
    decision, ATC (by atc_by_definition's threshold search) and DoC on it, the gate."""
    prior = np.bincount(truth, minlength=val.shape[1]) / truth.size
    c_val = ipf(val, prior)[np.arange(truth.size), d_val]
    c_test = ipf(test, prior)[np.arange(d_test.size), d_test]
    right = d_val == truth
    atc = atc_by_definition(c_val[:, None], right, c_test[:, None], lambda row: row[0])
    doc = right.mean() - c_val.mean() + c_test.mean()
    k = 0.5 * math.exp(-max(doc - atc, 0.0) / bandwidth)
    return (1 - k) * atc + k * doc, atc, doc


@pytest.mark.parametrize("tilt", [1.0, 8.0])
def test_prior_matched_accuracy_is_its_definition_and_undoes_a_tilt(tilt):
    """Ten labels, decisions the argmax of the probabilities: the estimate is its definition written here; on the
    validation set itself it is the validation accuracy; and a test set whose probabilities all lean towards label
    0 by a factor (decisions kept) gets the same estimate as the untilted one: the matching undoes the lean, where
    plain ATC reads the raised confidence as accuracy."""
    rng = np.random.default_rng(5)
    truth = rng.integers(0, 10, 600)
    val = random_probabilities(rng, 600, 10, 1.5) + 2.0 * np.eye(10)[truth] * (rng.random(600) < 0.7)[:, None]
    val /= val.sum(axis=1, keepdims=True)
    test = random_probabilities(rng, 400, 10, 1.5)
    d_val, d_test = val.argmax(axis=1), test.argmax(axis=1)
    tilted = test * np.r_[tilt, np.ones(9)]
    tilted /= tilted.sum(axis=1, keepdims=True)
    got = wt.prior_matched_accuracy(val, truth, d_val, tilted, d_test)
    assert got == pytest.approx(prior_matched_by_definition(val, truth, d_val, tilted, d_test)[0], abs=1e-9)
    assert got == pytest.approx(wt.prior_matched_accuracy(val, truth, d_val, test, d_test), abs=1e-9)
    assert wt.prior_matched_accuracy(val, truth, d_val, val, d_val) == pytest.approx((d_val == truth).mean(), abs=1e-12)
    assert 0.6 < (d_val == truth).mean() < 0.9
    if tilt > 1:
        plain_atc = wt.atc_accuracy(val, d_val == truth, tilted, score="confidence")
        assert plain_atc > wt.atc_accuracy(val, d_val == truth, test, score="confidence") + 0.05


PM_CASES = [
    (lambda: wt.prior_match([[0.5, 0.5]], [0.5, 0.6]), "prior must hold 2 label frequencies summing to 1; got "
                                                       "[0.5, 0.6]"),
    (lambda: wt.prior_match([[1.0, 0.0], [1.0, 0.0]], [0.5, 0.5]), "prior must give frequency 0 to a label no row "
                                                                   "predicts; prior[1] = 0.5"),
    (lambda: wt.prior_matched_accuracy(VAL, [0, 2], [0, 1], VAL, [0, 1]), "val_truth must hold label indices from 0 to "
                                                                          "1; val_truth[1] = 2"),
    (lambda: wt.prior_matched_accuracy(VAL, [0, 1], [0], VAL, [0, 1]), "val_decision must hold one label index per "
                                                                       "example; got shape (1,) for 2 examples"),
    (lambda: wt.prior_matched_accuracy(VAL, [0, 1], [0, 1], VAL, [0, 1], bandwidth=0.0), "bandwidth must be"),
]


@pytest.mark.parametrize(("call", "message"), PM_CASES)
def test_prior_matching_errors_name_the_argument(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()
