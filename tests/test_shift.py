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
    (lambda: wt.doc_accuracy(VAL, [True, False], [[0.2, 0.3, 0.5]]), "test_proba must have 2 columns, one per label, "
                                                                      "as the validation probabilities; got shape (1, 3)"),
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
