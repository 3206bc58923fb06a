"""Label-free accuracy under distribution shift: the confidence-based baselines.

A classifier's accuracy on an unlabelled test set, estimated from its predicted
probabilities there and a labelled validation set:

- ATC, average thresholded confidence: the threshold on a confidence score above which
  the share of validation examples equals the validation accuracy; the estimate is the
  share of test examples above it. Its score is the largest probability or the negative
  entropy of the predicted distribution (the latter is the better of the two in the
  paper that proposed the method).
- DoC, difference of confidences: the validation accuracy moved by the change of the mean
  largest probability from validation to test. Exact in expectation for a classifier
  calibrated on both sets.

Both assume that the relation between confidence and correctness learned on validation
carries over to the test set; a shift that makes the classifier confidently wrong breaks
them.
"""

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import check_choice, check_real_matrix, fail, plain

SCORES = ("entropy", "confidence")
ROW_SUM_ATOL = 1e-6  # a row of probabilities must sum to 1 within this


def _probabilities(x: ArrayLike, name: str, n_labels: int | None = None) -> NDArray[np.float64]:
    """Rows of predicted probabilities: in [0, 1], each summing to 1 within ROW_SUM_ATOL."""
    proba = check_real_matrix(x, name, n_labels, "columns, one per label, as the validation probabilities")
    outside = (proba < 0.0) | (proba > 1.0)
    if outside.any():
        row, col = np.argwhere(outside)[0]
        raise fail(name, "hold probabilities in [0, 1]", f"{name}[{row}, {col}] = {float(proba[row, col])!r}")
    sums = proba.sum(axis=1)
    off = np.abs(sums - 1.0) > ROW_SUM_ATOL
    if off.any():
        row = int(off.argmax())
        raise fail(name, f"have rows that sum to 1 (within {ROW_SUM_ATOL:g})", f"row {row} sums to {float(sums[row]):.12g}")
    return proba


def _correct(x: ArrayLike, n: int) -> NDArray[np.bool_]:
    """One boolean per validation example: was the classifier right?"""
    arr = np.asarray(x)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise fail("val_correct", "hold one value per validation example", f"got shape {arr.shape} for {n} examples")
    if arr.dtype.kind not in "biuf":
        raise fail("val_correct", "hold booleans (or 0 and 1)", f"got dtype {arr.dtype}", error=TypeError)
    bad = ~np.isin(arr, (0, 1))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise fail("val_correct", "hold booleans (or 0 and 1)", f"val_correct[{first}] = {plain(arr[first])!r}")
    return arr.astype(bool)


def _score(proba: NDArray[np.float64], score: str) -> NDArray[np.float64]:
    """The largest probability, or the negative entropy ``sum_l p_l ln p_l`` (0 ln 0 = 0), per row."""
    if score == "confidence":
        return proba.max(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(proba > 0.0, proba * np.log(proba), 0.0)
    return terms.sum(axis=1)


def atc_accuracy(val_proba: ArrayLike, val_correct: ArrayLike, test_proba: ArrayLike, *,
                 score: Literal["entropy", "confidence"] = "entropy") -> float:
    """Average thresholded confidence: the share of test examples whose score passes the validation threshold.

    The threshold lies midway between the k-th and the (k + 1)-th largest validation
    score, k the number of validation examples the classifier got right, so that the
    share of validation scores above it is the validation accuracy (up to ties at the
    threshold); the 0-th largest is taken as +inf and the (n_val + 1)-th as -inf, so with
    every validation example right every test example passes, and with none right none.

    Parameters
    ----------
    val_proba : array_like of shape (n_val, n_labels)
        Predicted probabilities on the labelled validation set.
    val_correct : array_like of shape (n_val,)
        Whether the classifier's decision was right on each validation example.
    test_proba : array_like of shape (n_test, n_labels)
        Predicted probabilities on the unlabelled test set.
    score : {"entropy", "confidence"}, default="entropy"
        The negative entropy of each row or its largest probability.

    Returns
    -------
    float
        The estimated test accuracy, in [0, 1].

    Examples
    --------
    >>> val = [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]]  # largest probabilities 0.9, 0.8, 0.7, 0.6
    >>> test = [[0.95, 0.05], [0.72, 0.28], [0.5, 0.5], [0.85, 0.15]]
    >>> atc_accuracy(val, [True, False, True, False], test, score="confidence")  # threshold 0.75
    0.5
    """
    val = _probabilities(val_proba, "val_proba")
    test = _probabilities(test_proba, "test_proba", val.shape[1])
    right = _correct(val_correct, val.shape[0])
    score = check_choice(score, "score", SCORES)
    ordered = np.concatenate([[np.inf], np.sort(_score(val, score))[::-1], [-np.inf]])
    k = int(right.sum())
    threshold = 0.5 * (ordered[k] + ordered[k + 1])
    return float((_score(test, score) > threshold).mean())


def doc_accuracy(val_proba: ArrayLike, val_correct: ArrayLike, test_proba: ArrayLike) -> float:
    """Difference of confidences: validation accuracy minus the fall of the mean largest probability.

    ``mean(val_correct) - (mean max val_proba - mean max test_proba)``, not clipped: a
    value outside [0, 1] says the confidences moved more than an accuracy can.

    Parameters
    ----------
    val_proba : array_like of shape (n_val, n_labels)
        Predicted probabilities on the labelled validation set.
    val_correct : array_like of shape (n_val,)
        Whether the classifier's decision was right on each validation example.
    test_proba : array_like of shape (n_test, n_labels)
        Predicted probabilities on the unlabelled test set.

    Returns
    -------
    float
        The estimated test accuracy.

    Examples
    --------
    >>> val = [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]]  # mean confidence 0.75, accuracy 0.5
    >>> round(doc_accuracy(val, [1, 0, 1, 0], [[0.6, 0.4], [0.5, 0.5]]), 12)  # test confidence 0.55
    0.3
    """
    val = _probabilities(val_proba, "val_proba")
    test = _probabilities(test_proba, "test_proba", val.shape[1])
    right = _correct(val_correct, val.shape[0])
    return float(right.mean() - (val.max(axis=1).mean() - test.max(axis=1).mean()))
