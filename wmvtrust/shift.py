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
them. ``calibrated_accuracy`` carries over the calibration map instead (Platt scaling
fitted on validation), exact for a shift that keeps it. ``prior_matched_accuracy`` first
moves both sets' probabilities to the label frequencies (``prior_match``), which undoes a
shift that makes the classifier lean towards some labels, then gates between ATC and DoC.
"""

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

from ._validation import (check_choice, check_frequencies, check_positive_int, check_positive_real, check_probability_rows,
                          fail, plain)

SCORES = ("entropy", "confidence")
PRIOR_MATCH_ROUNDS = 200
BOOTSTRAP = 400  # resamples of gated_interval
LOGIT_EDGE = 1e-12  # calibrated_accuracy reads a score within this of 0 or 1 as at this distance
GATE_BANDWIDTH = 0.08  # prior_matched_accuracy's gate: measured on simulation (e), 0.02 to 0.08 alike within a point


def _probabilities(x: ArrayLike, name: str, n_labels: int | None = None) -> NDArray[np.float64]:
    """Rows of predicted probabilities, ``n_labels`` columns if given (those of the validation probabilities)."""
    return check_probability_rows(x, name, (None, n_labels), "one column per label as in the validation probabilities")


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


def _checked(val_proba: ArrayLike, val_correct: ArrayLike, test_proba: ArrayLike
             ) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.float64]]:
    """The inputs of ATC, DoC and the calibrated accuracy, checked: (validation rows, right, test rows)."""
    val = _probabilities(val_proba, "val_proba")
    test = _probabilities(test_proba, "test_proba", val.shape[1])
    return val, _correct(val_correct, val.shape[0]), test


def _score(proba: NDArray[np.float64], score: str) -> NDArray[np.float64]:
    """The largest probability, or the negative entropy ``sum_l p_l ln p_l`` (0 ln 0 = 0), per row."""
    if score == "confidence":
        return proba.max(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(proba > 0.0, proba * np.log(proba), 0.0)
    return terms.sum(axis=1)


def _atc(s_val: NDArray[np.float64], right: NDArray[np.bool_], s_test: NDArray[np.float64]) -> float:
    """The share of test scores above the threshold that passes as many validation scores as were right."""
    ordered = np.concatenate([[np.inf], np.sort(s_val)[::-1], [-np.inf]])
    k = int(right.sum())
    return float((s_test > 0.5 * (ordered[k] + ordered[k + 1])).mean())


def _doc(s_val: NDArray[np.float64], right: NDArray[np.bool_], s_test: NDArray[np.float64]) -> float:
    """Validation accuracy minus the fall of the mean score."""
    return float(right.mean() - (s_val.mean() - s_test.mean()))


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
    val, right, test = _checked(val_proba, val_correct, test_proba)
    score = check_choice(score, "score", SCORES)
    return _atc(_score(val, score), right, _score(test, score))


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
    val, right, test = _checked(val_proba, val_correct, test_proba)
    return _doc(val.max(axis=1), right, test.max(axis=1))


def calibrated_accuracy(val_proba: ArrayLike, val_correct: ArrayLike, test_proba: ArrayLike) -> float:
    """Average calibrated confidence: the mean over test examples of P(right | largest probability), fitted on validation.

    ``P(right | s) = sigmoid(a logit(s) + b)`` (Platt scaling) is fitted to the validation
    record by maximum likelihood with a standard normal prior on ``a - 1`` and ``b`` (the
    identity map, a calibrated classifier, is the prior mode; the prior keeps the fit finite
    when every validation example is right). Exact in expectation when the calibration map
    carries over to the test set, e.g. a calibrated classifier whose confidence falls: there
    ATC, which carries over a threshold, reads the fall of confidence as a fall of accuracy
    many times too large. A shift that makes the classifier confidently wrong makes it
    overstate, as DoC does.

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
        The estimated test accuracy, in [0, 1].

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> c_val, c_test = rng.uniform(0.7, 1.0, 5000), rng.uniform(0.5, 0.8, 5000)  # confidence falls...
    >>> right = rng.random(5000) < c_val  # ...and the classifier stays calibrated
    >>> val, test = np.column_stack([c_val, 1 - c_val]), np.column_stack([c_test, 1 - c_test])
    >>> round(calibrated_accuracy(val, right, test), 2), round(atc_accuracy(val, right, test), 2)  # truth: 0.65
    (0.67, 0.19)
    """
    val, right, test = _checked(val_proba, val_correct, test_proba)
    return platt_average(val.max(axis=1), right, test.max(axis=1))


def platt_average(s_val: NDArray[np.float64], right: NDArray[np.bool_], s_test: NDArray[np.float64]) -> float:
    """The mean of ``sigmoid(a logit(s) + b)`` over the test scores, (a, b) fitted on validation (``calibrated_accuracy``)."""
    x_val, x_test = (special.logit(np.clip(s, LOGIT_EDGE, 1.0 - LOGIT_EDGE)) for s in (s_val, s_test))
    y = right.astype(float)

    def loss(theta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        z = theta[0] * x_val + theta[1]
        p = special.expit(z)
        value = float(np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * ((theta[0] - 1.0) ** 2 + theta[1] ** 2))
        return value, np.array([np.dot(p - y, x_val) + theta[0] - 1.0, np.sum(p - y) + theta[1]])

    fit = optimize.minimize(loss, np.array([1.0, 0.0]), jac=True, method="BFGS")
    return float(special.expit(fit.x[0] * x_test + fit.x[1]).mean())


def _label_indices(x: ArrayLike, name: str, n: int, n_labels: int) -> NDArray[np.int64]:
    """One label per example, as a column index 0..n_labels - 1."""
    arr = np.asarray(x)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise fail(name, "hold one label index per example", f"got shape {arr.shape} for {n} examples")
    if arr.dtype.kind not in "iu":
        raise fail(name, "hold integer label indices (columns of the probabilities)", f"got dtype {arr.dtype}",
                   error=TypeError)
    bad = (arr < 0) | (arr >= n_labels)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise fail(name, f"hold label indices from 0 to {n_labels - 1}", f"{name}[{first}] = {int(arr[first])}")
    return arr.astype(np.int64)


def prior_match(proba: ArrayLike, prior: ArrayLike, *, rounds: int = PRIOR_MATCH_ROUNDS) -> NDArray[np.float64]:
    """Predicted probabilities moved to a label marginal: each label's column scaled by one weight, each row renormalised.

    Iterative proportional fitting: starting from ``w = 1``, ``a_j = s_j * w / (s_j . w)`` and
    ``w <- w * prior / mean_j a_j``, ``rounds`` times. The result is the closest set of rows (in
    Kullback-Leibler divergence) of the form ``s_j * w`` whose mean is ``prior``: what the
    classifier would predict if the labels were distributed as ``prior``.

    Parameters
    ----------
    proba : array_like of shape (n, n_labels)
        Predicted probabilities (rows summing to 1).
    prior : array_like of shape (n_labels,)
        The label frequencies to match, summing to 1; every label with a positive frequency must
        have some probability in ``proba``.
    rounds : int, default=200
        Rounds of the fitting.

    Returns
    -------
    ndarray of shape (n, n_labels)

    Examples
    --------
    >>> matched = prior_match([[0.9, 0.1], [0.6, 0.4], [0.7, 0.3]], [0.5, 0.5])
    >>> matched.mean(axis=0).round(6).tolist()  # the classifier leaned to label 0; matched, it does not
    [0.5, 0.5]
    """
    s = _probabilities(proba, "proba")
    return _prior_match(s, check_frequencies(prior, "prior", s.shape[1]), check_positive_int(rounds, "rounds"))


def _prior_match(s: NDArray[np.float64], pi: NDArray[np.float64], rounds: int) -> NDArray[np.float64]:
    """``prior_match`` of checked probabilities and frequencies: a label with frequency > 0 must have some mass."""
    empty = (s.sum(axis=0) == 0.0) & (pi > 0.0)
    if empty.any():
        raise fail("prior", "give frequency 0 to a label no row predicts",
                   f"prior[{int(empty.argmax())}] = {float(pi[empty.argmax()])!r}")
    w = np.ones(s.shape[1])
    for _ in range(rounds):
        a = s * w
        a /= a.sum(axis=1, keepdims=True)
        mean = a.mean(axis=0)
        w *= np.divide(pi, mean, out=np.zeros_like(pi), where=mean > 0.0)
    a = s * w
    return a / a.sum(axis=1, keepdims=True)


def prior_matched_accuracy(val_proba: ArrayLike, val_truth: ArrayLike, val_decision: ArrayLike, test_proba: ArrayLike,
                           test_decision: ArrayLike, *, prior: ArrayLike | None = None, columns: ArrayLike | None = None,
                           bandwidth: float = GATE_BANDWIDTH) -> float:
    """A label-free test accuracy of a classifier's decisions: ATC and DoC on prior-matched probabilities, gated.

    Both sets' probabilities are first moved to the label frequencies ``prior``
    (``prior_match``): a shift that makes the classifier lean towards some labels is undone
    before confidence is read. The score of an example is then the matched probability of
    its decision; ATC and DoC are computed on it (see ``atc_accuracy``, ``doc_accuracy``),
    and combined: ``(1 - k) ATC + k DoC`` with ``k = exp(-max(DoC - ATC, 0) / bandwidth) / 2``,
    their mean when they agree, ATC when DoC runs above it (DoC overstates under strong
    shift).

    With finer probability columns than labels (``columns``: e.g. the ten digits of a
    classifier whose decisions are "digit >= 5" or not), the matching runs on the columns,
    each label's frequency split over its columns as the mean validation probabilities
    split it, and a decision's score sums its label's columns: the finer classes show a
    shift that the coarse ones average out.

    Assumes that the test labels are distributed as ``prior`` (the validation labels' by
    default; under a label shift pass the test's: the validation probabilities are matched to
    the validation labels' frequencies), and ATC's assumption after the matching: leaning on
    ATC where DoC exceeds it, it suits shifts that make a classifier over-confident (measured
    on the DEQ ensembles of simulation (e)), and reads the fall of confidence of a classifier
    that stays calibrated as a fall of accuracy many times too large (``calibrated_accuracy``
    is exact there). Confident errors spread evenly over the labels leave the marginal
    unchanged and go unseen. Not clipped: DoC's part can take it beyond [0, 1].

    Parameters
    ----------
    val_proba, test_proba : array_like of shape (n, n_columns)
        Predicted probabilities (e.g. the members' mean) on labelled validation and on the
        unlabelled test set.
    val_truth : array_like of shape (n_val,)
        The validation labels, as label indices.
    val_decision, test_decision : array_like of shape (n,)
        The decisions whose accuracy is estimated (any rule's), as label indices.
    prior : array_like of shape (n_labels,), optional
        The test label frequencies; default those of ``val_truth``.
    columns : array_like of shape (n_columns,), optional
        The label index of each probability column, every label from 0 on having at least
        one; default: column j is label j.
    bandwidth : float, default=0.08
        How fast the gate turns to ATC as DoC exceeds it.

    Returns
    -------
    float
        The estimated accuracy of ``test_decision``.

    Examples
    --------
    >>> val = [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]]
    >>> truth, decision = [0, 1, 1, 1], [0, 0, 1, 1]  # right on 3 of 4
    >>> prior_matched_accuracy(val, truth, decision, val, decision)  # on the validation set itself
    0.75
    >>> fine = [[0.5, 0.4, 0.1], [0.4, 0.4, 0.2], [0.1, 0.2, 0.7], [0.3, 0.1, 0.6]]  # columns 0 and 1 are label 0
    >>> prior_matched_accuracy(fine, truth, decision, fine, decision, columns=[0, 0, 1])
    0.75
    """
    val = _probabilities(val_proba, "val_proba")
    test = _probabilities(test_proba, "test_proba", val.shape[1])
    labels = np.arange(val.shape[1]) if columns is None else _columns(columns, val.shape[1])
    n_labels = int(labels.max()) + 1
    truth = _label_indices(val_truth, "val_truth", val.shape[0], n_labels)
    d_val = _label_indices(val_decision, "val_decision", val.shape[0], n_labels)
    d_test = _label_indices(test_decision, "test_decision", test.shape[0], n_labels)
    pi = label_prior(prior, truth, n_labels)
    bandwidth = check_positive_real(bandwidth, "bandwidth")
    return gated(*matched_scores(val, truth, d_val, test, d_test, labels, pi), bandwidth)


def _columns(x: ArrayLike, n_columns: int) -> NDArray[np.int64]:
    """The label index of each probability column: labels 0..L-1, each with at least one column."""
    labels = _label_indices(x, "columns", n_columns, n_columns)
    missing = np.setdiff1d(np.arange(labels.max() + 1), labels)
    if missing.size:
        raise fail("columns", "give every label from 0 to the largest at least one column",
                   f"label {int(missing[0])} has none in {labels.tolist()}")
    return labels


def label_frequencies(codes: NDArray[np.int64], n_labels: int) -> NDArray[np.float64]:
    """The share of each label code ``0..n_labels-1`` among ``codes``."""
    return np.bincount(codes, minlength=n_labels) / codes.size


def label_prior(prior: ArrayLike | None, truth: NDArray[np.int64], n_labels: int) -> NDArray[np.float64]:
    """The held-out label frequencies: ``prior`` checked, or by default those of the validation labels ``truth``."""
    return label_frequencies(truth, n_labels) if prior is None else check_frequencies(prior, "prior", n_labels)


def column_labels(columns: NDArray[np.int64], n_labels: int) -> NDArray[np.float64]:
    """Shape (n_columns, n_labels): 1 where probability column j belongs to label y (``columns[j] == y``), else 0.

    ``proba @ column_labels(...)`` sums each label's columns.
    """
    return (columns[:, None] == np.arange(n_labels)).astype(float)


def matched_scores(val: NDArray[np.float64], truth: NDArray[np.int64], d_val: NDArray[np.int64],
                   test: NDArray[np.float64], d_test: NDArray[np.int64], columns: NDArray[np.int64],
                   test_prior: NDArray[np.float64]
                   ) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.float64]]:
    """Checked inputs to (validation scores, validation decision right, test scores) of ``prior_matched_accuracy``.

    ``columns`` gives each probability column's label. The validation probabilities are matched to
    the validation labels' frequencies, the test ones to ``test_prior``; each set's column
    frequencies split its label frequencies as the mean validation probabilities split them.
    """
    n_labels = test_prior.size
    one_hot = column_labels(columns, n_labels)
    mean = val.mean(axis=0)
    mass = mean @ one_hot
    short = (mass == 0.0) & (test_prior > 0.0)
    if short.any():
        raise fail("val_proba", "give some probability to every label of positive frequency",
                   f"label {int(short.argmax())} has none")

    def scores(proba: NDArray[np.float64], label_prior: NDArray[np.float64], decision: NDArray[np.int64]
               ) -> NDArray[np.float64]:
        pi = mean * (one_hot @ np.divide(label_prior, mass, out=np.zeros(n_labels), where=mass > 0.0))
        return (_prior_match(proba, pi, PRIOR_MATCH_ROUNDS) @ one_hot)[np.arange(decision.size), decision]

    return scores(val, label_frequencies(truth, n_labels), d_val), d_val == truth, scores(test, test_prior, d_test)


def gated(s_val: NDArray[np.float64], right: NDArray[np.bool_], s_test: NDArray[np.float64], bandwidth: float) -> float:
    """``(1 - k) ATC + k DoC`` on the scores, ``k = exp(-max(DoC - ATC, 0) / bandwidth) / 2``."""
    atc, doc = _atc(s_val, right, s_test), _doc(s_val, right, s_test)
    k = 0.5 * math.exp(-max(doc - atc, 0.0) / bandwidth)
    return (1.0 - k) * atc + k * doc


def gated_interval(s_val: NDArray[np.float64], right: NDArray[np.bool_], s_test: NDArray[np.float64], bandwidth: float,
                   confidence: float, rng: np.random.Generator) -> tuple[float, float]:
    """The percentile bootstrap interval of ``gated`` over validation and test examples, the scores held fixed.

    It shows the sampling error of the two sets only, not the error of the method's assumption.
    """
    values = [gated(s_val[v], right[v], s_test[t], bandwidth)
              for v, t in zip(rng.integers(0, s_val.size, (BOOTSTRAP, s_val.size)),
                              rng.integers(0, s_test.size, (BOOTSTRAP, s_test.size)))]
    low, high = np.quantile(values, [0.5 - confidence / 2, 0.5 + confidence / 2])
    return float(low), float(high)
