"""Trust-weighted voting of model ensembles: the members are the sources, their trust is learned on validation.

Member ``i`` right on ``c_i`` of ``n`` validation examples has the Beta posterior
``Beta(a + c_i, b + n - c_i)`` and trust its mean; with a per-example signal (softmax
confidence, path independence, solver residual) the validation set is cut into
quantile bins of each member's signal and the record is counted per bin, so the
trust stays a posterior mean given what the decision maker knows about the example.
Decisions are weighted plurality votes with weights ``ln((L - 1) t / (1 - t))``.

What the ensemble may believe about its own accuracy (``TrustEnsemble.belief``):

- ``independent``: the mean over examples of P(decision right | votes) when members
  err independently (given the signal bins): Theorem 1's belief, exact in
  expectation if independence holds; with two labels and global trust also
  ``A(t, w(t))`` by the exact kernels;
- ``latent``: the same under conditional independence given a latent difficulty
  class, fitted on the joint validation record (proofs/soc_latent_class.md);
- ``latent_agree``: ``sum_d pi_d A(t_d, w)`` by the exact kernels, the latent-class
  model's prior accuracy when the members who err agree on one wrong label: equal
  in expectation to ``latent`` for two labels, and for more labels, when every weight
  is positive, a lower bound on the model's accuracy however the wrong votes of a
  class split (proofs/soc_latent_class.md, Proposition E). ``latent`` (symmetric
  noise) is not an upper bound: wrong votes that split more evenly do better
  (the counterexample after Proposition E);
- ``latent_distractor`` (more than two labels): the latent class in which the members
  who err lean towards one shared wrong label per example, with a pull ``rho`` per class
  fitted by EM (proofs/soc_latent_class.md, (f)); ``rho = 0`` is ``latent``, ``rho -> 1``
  approaches ``latent_agree``. At fixed trusts and class weights the accuracy falls as
  ``rho`` grows when the weights are equal (Proposition G); with unequal weights, as
  here, a pull can raise it above its ``rho = 0`` value, so that ordering is typical,
  not guaranteed;
- ``record``: the rule's own cross-fitted accuracy on validation, a Beta posterior
  mean that needs no independence at all.

All of these assume that the held-out examples are drawn like the validation set. Without
that, and without labels: ``test_one_coin`` and ``test_hard_class`` are fitted on the held-out
votes themselves (they read agreement as accuracy, so they overstate when a shift makes the
members err together); ``atc`` and ``doc`` read the fall of the members' confidence
(``wmvtrust.shift``) and ``calibrated`` carries over their calibration on the prior-matched
scores; ``label_free``, the recommended belief, is ``prior_matched_accuracy`` of the decisions on
the members' mean probabilities. ``retrust`` re-learns the trust on unlabelled votes.
"""

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Self, cast

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ._labels.codes import Codes
from ._labels.latent import distractor_em, distractor_posterior, hard_class_em, latent_class_em, latent_class_posterior
from ._labels.models import OneCoinFit, dawid_skene_em, most_probable, one_coin_em, posterior, symmetric_weights
from ._stats import beta_mean, wilson
from ._validation import (check_beta_prior, check_choice, check_fitted, check_folds, check_fraction,
                          check_label_matrix, check_labels, check_positive_int, check_predictions, check_probability_rows,
                          check_rng, check_signal_given_alike, check_signal_matrix, check_signal_option, fail, plain, renamed)
from .accuracy import accuracy
from .shift import (GATE_BANDWIDTH, atc_accuracy, column_labels, doc_accuracy, gated, gated_interval, label_prior,
                    matched_scores, platt_average)
from .stability import believed_accuracy
from .trust import BetaTrust

SIGNALS = ("confidence",)
RETRUST_METHODS = ("calibrated", "em")
EM_ITERATIONS = 1000


def plurality_vote(votes: ArrayLike, *, seed: int | np.random.Generator | None = 0) -> NDArray[Any]:
    """The most frequent label per example, ties broken by a seeded fair choice.

    Parameters
    ----------
    votes : array_like of shape (n_examples, n_members)
        Each member's predicted label per example.
    seed : int or numpy.random.Generator, default=0
        Seed of the tie-breaking choice.

    Returns
    -------
    ndarray of shape (n_examples,)
        The chosen labels.

    Examples
    --------
    >>> plurality_vote([[0, 1, 1], [2, 2, 0]]).tolist()
    [1, 2]
    """
    votes = check_label_matrix(votes)
    labels, codes = np.unique(votes, return_inverse=True)
    codes = codes.reshape(votes.shape)
    counts = np.zeros((votes.shape[0], labels.size))
    np.add.at(counts, (np.arange(votes.shape[0])[:, None], codes), 1.0)
    return labels[most_probable(counts, "coin", check_rng(seed))]


class TrustEnsemble:
    """Weighted plurality voting of ensemble members with trust learned on a validation set.

    Parameters
    ----------
    members : sequence of fitted classifiers, optional
        Objects with ``predict`` (and ``predict_proba`` for ``signal="confidence"``);
        ``fit``, ``predict`` and ``belief`` then take the inputs ``X``. Without
        members they take the matrix of member predictions, shape
        ``(n_examples, n_members)``, and the signal values as ``signal=``.
    signal : None, "confidence" or callable, optional
        With members: the per-example signal that trust is conditioned on;
        ``"confidence"`` is the largest predicted probability, a callable is called as
        ``signal(member, X)`` and returns one value per example (for ``wmvtrust.deq``
        members, e.g. ``lambda m, X: m.path_independence(X, budget=10)`` or
        ``lambda m, X: -np.log(m.solve(X, fallback=False).rel_lowest)``). None: one
        global trust per member.
    bins : int, default=4
        Quantile bins of each member's validation signal (fewer when quantiles coincide).
    beta_prior : (float, float), default=(1, 1)
        Beta prior of every member's accuracy in every bin.
    prior : (float, float), optional
        The former name of ``beta_prior``, accepted until the next release (FutureWarning).
    seed : int, default=0
        Seed of the tie-breaking choice (and of the label-free belief's bootstrap).
    proba_labels : array_like, optional
        The label of each column of the members' probabilities (``proba=`` or their
        ``predict_proba``); several columns may share a label, e.g. the ten digits of members
        whose votes say "digit >= 5" or not. Default: the labels, in order.

    Attributes
    ----------
    labels_ : ndarray
        The labels, sorted (those of the validation truth and predictions).
    trust_ : pandas.DataFrame
        Per (member, bin): signal range ``low``/``high``, validation examples ``n``, Beta
        posterior ``alpha``, ``beta`` and its ``mean``, the trust.
    best_member_ : int
        The member with the highest validation accuracy.

    Examples
    --------
    >>> votes = [[0, 0, 1], [1, 1, 1], [0, 1, 1], [1, 0, 0]]
    >>> ensemble = TrustEnsemble().fit(votes, [0, 1, 1, 0])
    >>> ensemble.trust_["mean"].round(3).tolist()  # right on 2, 4 and 3 of 4: (1 + c) / (2 + 4)
    [0.5, 0.833, 0.667]
    >>> ensemble.predict([[1, 0, 0], [0, 1, 1]]).tolist()  # member 0 has weight ln 1 = 0
    [0, 1]
    """

    members: Sequence[Any] | None
    signal: Literal["confidence"] | Callable[[Any, Any], ArrayLike] | None
    bins: int
    beta_prior: tuple[float, float]
    seed: int | np.random.Generator | None
    proba_labels: ArrayLike | None
    # set by fit
    labels_: NDArray[Any]
    n_members_: int
    edges_: list[NDArray[np.float64]] | None  # per member; None without a signal
    trust_: pd.DataFrame
    best_member_: int
    _alpha: NDArray[np.float64]
    _beta: NDArray[np.float64]
    _validation: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64] | None]  # codes, truth, signal
    _val_proba: NDArray[np.float64] | None  # the members' validation probabilities, (n_examples, n_members, n_columns)
    _columns: NDArray[np.int64] | None  # the label code of each probability column

    def __init__(self, members: Sequence[Any] | None = None, *,
                 signal: Literal["confidence"] | Callable[[Any, Any], ArrayLike] | None = None, bins: int = 4,
                 beta_prior: tuple[float, float] = (1, 1), seed: int | np.random.Generator | None = 0,
                 prior: tuple[float, float] | None = None, proba_labels: ArrayLike | None = None) -> None:
        self.members, self.signal, self.bins, self.seed, self.proba_labels = members, signal, bins, seed, proba_labels
        self.beta_prior = renamed(beta_prior, prior, "beta_prior", "prior")

    def fit(self, X: ArrayLike, y: ArrayLike, *, signal: ArrayLike | None = None, proba: ArrayLike | None = None
            ) -> Self:
        """Learn each member's trust (per signal bin) from its validation record.

        Parameters
        ----------
        X : array_like
            Validation inputs (with members) or the matrix of member predictions.
        y : array_like of shape (n_examples,)
            The true labels.
        signal : array_like of shape (n_examples, n_members), optional
            Signal values, without members only.
        proba : array_like of shape (n_examples, n_members, n_columns), optional
            The members' predicted probabilities, without members only (members with
            ``predict_proba`` give them); the label-free belief and ``retrust`` need them.

        Returns
        -------
        self
        """
        votes, values = self._inputs(X, signal)
        y = check_labels(y, votes.shape[0])
        self.labels_ = np.unique(np.concatenate([y, votes.ravel()]))
        self.n_members_ = votes.shape[1]
        self.edges_ = _edges(values, check_positive_int(self.bins, "bins"))
        codes, truth = np.searchsorted(self.labels_, votes), np.searchsorted(self.labels_, y)
        self._validation = codes, truth, values
        self._val_proba = self._probabilities(X, proba, votes.shape[0], None)
        self._columns = None if self._val_proba is None else self._column_codes(self._val_proba.shape[2])
        self._set_trust(*_record(codes, truth, _bin_index(values, self.edges_), self.bins, check_beta_prior(self.beta_prior)))
        self.best_member_ = int(np.argmax(((codes == truth[:, None])).mean(axis=0)))
        return self

    def _set_trust(self, alpha: NDArray[np.float64], beta: NDArray[np.float64]) -> None:
        """The Beta posteriors per (member, bin), shape (n_members, n_bins), and the ``trust_`` table."""
        self._alpha, self._beta = alpha, beta
        n_members, n_bins = alpha.shape
        edges = self.edges_ or [np.empty(0)] * n_members
        pad = [np.full(n_bins - 1 - e.size, np.nan) for e in edges]
        low = [np.concatenate([[-np.inf], e, p]) for e, p in zip(edges, pad)]
        high = [np.concatenate([e, [np.inf], p]) for e, p in zip(edges, pad)]
        index = pd.MultiIndex.from_product([range(n_members), range(n_bins)], names=["member", "bin"])
        table = pd.DataFrame({"low": np.ravel(low), "high": np.ravel(high), "n": (alpha + beta - sum(self.beta_prior)).ravel(),
                              "alpha": alpha.ravel(), "beta": beta.ravel(), "mean": (alpha / (alpha + beta)).ravel()},
                             index=index)
        self.trust_ = table[table["low"].notna()]

    def predict_proba(self, X: ArrayLike, *, signal: ArrayLike | None = None) -> NDArray[np.float64]:
        """P(truth = each label | the votes) when members err independently given their bins.

        Parameters
        ----------
        X : array_like
            Inputs (with members) or the matrix of member predictions.
        signal : array_like of shape (n_examples, n_members), optional
            Signal values, without members only.

        Returns
        -------
        ndarray of shape (n_examples, n_labels)
        """
        codes, values = self._codes(X, signal)
        return _posterior(codes, _bin_index(values, self.edges_), self._alpha, self._beta, self.labels_.size)

    def predict(self, X: ArrayLike, *, signal: ArrayLike | None = None) -> NDArray[Any]:
        """The weighted plurality decision per example.

        Parameters
        ----------
        X : array_like
            Inputs (with members) or the matrix of member predictions.
        signal : array_like of shape (n_examples, n_members), optional
            Signal values, without members only.

        Returns
        -------
        ndarray of shape (n_examples,)
        """
        probas = self.predict_proba(X, signal=signal)  # checks first that the ensemble is fitted
        return self.labels_[most_probable(probas, "coin", check_rng(self.seed))]

    def belief(self, X: ArrayLike, y: ArrayLike | None = None, *, signal: ArrayLike | None = None,
               proba: ArrayLike | None = None, prior: ArrayLike | None = None, latent_classes: int = 2, folds: int = 5,
               confidence: float = 0.95) -> "EnsembleBelief":
        """The accuracy believed under each model on held-out examples, beside the accuracy realised there if ``y`` is given.

        Without labels (``y`` None) the beliefs are label-free. The models learned on
        validation (``independent``, ``latent``, ``latent_agree``, ``latent_distractor``,
        ``record``, ``theorem1``) assume the test set is drawn like the validation set;
        ``test_one_coin`` and ``test_hard_class`` are fitted on the test votes themselves;
        with the members' probabilities on validation (given to ``fit``) and here, ``atc``,
        ``doc``, ``calibrated`` and the recommended ``label_free`` read the shift from the
        confidences. ``label_free`` is ``prior_matched_accuracy`` of the ensemble's decisions
        on the members' mean probabilities, its interval a bootstrap over validation and test
        examples (sampling error only, not the error of its assumptions); ``calibrated`` is
        ``calibrated_accuracy`` on the same prior-matched scores. Where the two disagree, so do
        their assumptions: ``label_free`` suits shifts that make the members over-confident
        (as rotated and occluded digits make DEQ members, simulation (e)), ``calibrated``
        shifts that keep the calibration learned on validation.

        Parameters
        ----------
        X : array_like
            Held-out inputs (with members) or the matrix of member predictions.
        y : array_like of shape (n_examples,), optional
            Their true labels.
        signal : array_like of shape (n_examples, n_members), optional
            Signal values, without members only.
        proba : array_like of shape (n_examples, n_members, n_columns), optional
            The members' predicted probabilities, without members only.
        prior : array_like of shape (n_labels,), optional
            The label frequencies of the held-out examples, in the order of ``labels_``, for
            ``label_free``; default those of the validation labels.
        latent_classes : int, default=2
            Difficulty classes of the latent-class belief (fitted by EM on validation).
        folds : int, default=5
            Folds of the validation set for the cross-fitted record belief.
        confidence : float, default=0.95
            Level of the realised accuracy's Wilson interval and of ``label_free``'s interval.

        Returns
        -------
        EnsembleBelief

        Examples
        --------
        >>> rng = np.random.default_rng(0)
        >>> truth = rng.integers(0, 2, 400)
        >>> hard = rng.random(400) < 0.2  # on hard examples every member flips a coin
        >>> right = np.where(hard[:, None], rng.random((400, 5)) < 0.5, rng.random((400, 5)) < 0.97)
        >>> votes = np.where(right, truth[:, None], 1 - truth[:, None])
        >>> ensemble = TrustEnsemble().fit(votes[:200], truth[:200])
        >>> b = ensemble.belief(votes[200:], truth[200:])
        >>> b.independent > b.ci_high, b.ci_low <= b.latent <= b.ci_high  # independence is too sure of itself
        (True, True)
        """
        codes, values = self._codes(X, signal)
        folds = check_folds(folds)
        confidence = check_fraction(confidence, "confidence")
        n_labels = self.labels_.size
        probas = _posterior(codes, _bin_index(values, self.edges_), self._alpha, self._beta, n_labels)
        decision = most_probable(probas, "coin", check_rng(self.seed))
        rows = np.arange(codes.shape[0])
        beta_prior = check_beta_prior(self.beta_prior)
        v_codes, v_truth, _ = self._validation
        right = (v_codes == v_truth[:, None]).ravel()
        task, member = np.repeat(np.arange(v_codes.shape[0]), v_codes.shape[1]), _worker(v_codes.shape, None, 1)
        latent_classes = check_positive_int(latent_classes, "latent_classes")
        em = {"n_workers": v_codes.shape[1], "n_classes": latent_classes, "beta_prior": beta_prior}
        classes = latent_class_em(task, member, right, n_labels=max(n_labels, 2), max_iter=1000, tol=1e-9,
                                  rng=check_rng(self.seed), **em)
        by_member = Codes.dense(codes, max(n_labels, 2))
        latent = latent_class_posterior(by_member, classes.trust, classes.class_weights, max(n_labels, 2))
        distractor = None
        if n_labels > 2:  # with two labels the distractor is the other label: the model above
            shared = distractor_em(task, member, v_codes.ravel(), v_truth, n_labels=n_labels, max_iter=2000, tol=1e-6,
                                   rng=check_rng(self.seed), **em)
            distractor = float(distractor_posterior(by_member, shared.trust, shared.rho, shared.class_weights,
                                                    n_labels)[rows, decision].mean())
        realised = ci_low = ci_high = None
        if y is not None:
            truth = np.searchsorted(self.labels_, check_labels(y, codes.shape[0], self.labels_))
            realised = float((decision == truth).mean())
            ci_low, ci_high = wilson(realised, truth.size, confidence)
        theorem1 = latent_agree = one_coin = None
        if values is None:  # one weight per member: the exact binary kernels apply
            w = symmetric_weights(self._alpha[:, 0] / (self._alpha[:, 0] + self._beta[:, 0]), max(n_labels, 2))
            latent_agree = float(sum(pi * accuracy(t, w).value for t, pi in zip(classes.trust.T, classes.class_weights)))
            if n_labels == 2:  # float trust: the value is a float, never a Fraction
                theorem1 = cast(float, believed_accuracy(BetaTrust(self._alpha[:, 0], self._beta[:, 0])).value)
            one_coin = float(self._one_coin(by_member).probas[rows, decision].mean())
        hard = hard_class_em(by_member, dawid_skene_em(by_member, truth=np.full(codes.shape[0], -1)))
        test_proba = self._new_probabilities(X, proba, codes.shape[0])
        confidences: dict[str, float | None] = dict.fromkeys(("label_free", "label_free_low", "label_free_high",
                                                               "calibrated", "atc", "doc"))
        if test_proba is not None:
            confidences = self._confidence_beliefs(test_proba, decision, prior, confidence)
        return EnsembleBelief(realised=realised, ci_low=ci_low, ci_high=ci_high, n_examples=codes.shape[0],
                              confidence=confidence, independent=float(probas[rows, decision].mean()),
                              latent=float(latent[rows, decision].mean()), latent_agree=latent_agree,
                              latent_distractor=distractor, record=self._record_belief(folds, beta_prior),
                              theorem1=theorem1, test_one_coin=one_coin,
                              test_hard_class=float(hard.probas[rows, decision].mean()), **confidences)

    def retrust(self, X: ArrayLike, *, proba: ArrayLike | None = None,
                method: Literal["calibrated", "em"] = "calibrated", prior: ArrayLike | None = None) -> "TrustEnsemble":
        """A copy whose trust is re-learned on unlabelled examples (e.g. a shifted test set); global trust only.

        - ``"calibrated"``: each member's accuracy on ``X`` estimated without labels from its
          own probabilities, ``calibrated_accuracy`` of its votes on prior-matched scores
          (validation and ``X``), taken as ``n`` observations: ``Beta(a + n e, b + n (1 - e))``
          with ``n`` the examples of ``X``. Needs the members' probabilities. It carries over
          each member's calibration map, so it reads a calibrated member's fall of confidence
          right, and overstates the members a shift makes over-confident, but alike, so that
          their weights keep their order.
        - ``"em"``: one-coin EM on the votes of ``X``, each member's validation posterior its
          prior: the trust that explains the new votes best, given the validation record.

        The validation record stays: ``belief``'s validation models still describe it.

        Parameters
        ----------
        X : array_like
            Unlabelled inputs (with members) or the matrix of member predictions.
        proba : array_like of shape (n_examples, n_members, n_columns), optional
            The members' predicted probabilities on ``X``, without members only.
        method : {"calibrated", "em"}, default="calibrated"
            How the trust is re-learned.
        prior : array_like of shape (n_labels,), optional
            The label frequencies of ``X`` (in the order of ``labels_``) for ``"calibrated"``;
            default those of the validation labels.

        Returns
        -------
        TrustEnsemble
            A fitted copy with the new trust; this ensemble is unchanged.

        Examples
        --------
        >>> rng = np.random.default_rng(1)
        >>> truth = rng.integers(0, 2, 600)
        >>> trust = np.array([0.9, 0.8, 0.8, 0.7, 0.7])
        >>> shifted = np.array([0.55, 0.8, 0.8, 0.7, 0.7])  # on new data member 0 is nearly a coin
        >>> def votes(p):
        ...     right = rng.random((600, 5)) < p
        ...     return np.where(right, truth[:, None], 1 - truth[:, None])
        >>> ensemble = TrustEnsemble().fit(votes(trust)[:300], truth[:300])
        >>> again = ensemble.retrust(votes(shifted), method="em")
        >>> ensemble.trust_["mean"].round(2).tolist()
        [0.9, 0.76, 0.79, 0.69, 0.69]
        >>> again.trust_["mean"].round(2).tolist()  # member 0 falls: 300 validation votes and 600 new ones
        [0.71, 0.77, 0.78, 0.7, 0.68]
        """
        check_fitted(self, "labels_", "the ensemble", "fit(X, y)")
        if self.edges_ is not None:
            raise fail("retrust", "be called on an ensemble with one global trust per member",
                       "this one has trust per signal bin", "Fit it without a signal.", error=TypeError)
        method = check_choice(method, "method", RETRUST_METHODS)
        codes, _ = self._codes(X, None)
        new = copy.copy(self)
        if method == "em":
            fit = self._one_coin(Codes.dense(codes, max(self.labels_.size, 2)))
            new._set_trust(fit.alpha[:, None], fit.beta[:, None])
            return new
        test_proba = self._new_probabilities(X, proba, codes.shape[0])
        if test_proba is None or self._val_proba is None:
            raise fail("proba", "be given to fit and here (or by the members' predict_proba) for method='calibrated'",
                       "there are no probabilities", "Pass proba=, or use method='em'.")
        v_codes, v_truth, _ = self._validation
        frequencies = label_prior(prior, v_truth, self.labels_.size)
        columns = cast(NDArray[np.int64], self._columns)  # set with the validation probabilities
        estimate = np.array([platt_average(*matched_scores(self._val_proba[:, i], v_truth, v_codes[:, i],
                                                           test_proba[:, i], codes[:, i], columns, frequencies))
                             for i in range(self.n_members_)])
        a0, b0 = check_beta_prior(self.beta_prior)
        n = codes.shape[0]
        new._set_trust((a0 + n * estimate)[:, None], (b0 + n * (1.0 - estimate))[:, None])
        return new

    def _one_coin(self, codes: Codes) -> OneCoinFit:
        """One-coin EM on new votes, each member's validation Beta posterior its prior (global trust)."""
        return one_coin_em(codes, beta_prior=(self._alpha[:, 0], self._beta[:, 0]), n_labels=max(self.labels_.size, 2),
                           max_iter=EM_ITERATIONS, tol=1e-9)

    def _confidence_beliefs(self, test_proba: NDArray[np.float64], decision: NDArray[np.int64],
                            prior: ArrayLike | None, confidence: float) -> dict[str, float | None]:
        """The recommended label-free belief and its interval, the calibrated belief, ATC and DoC: on the members' mean
        probabilities."""
        val_proba, columns = cast(NDArray[np.float64], self._val_proba), cast(NDArray[np.int64], self._columns)
        v_codes, v_truth, v_values = self._validation
        v_decision = most_probable(_posterior(v_codes, _bin_index(v_values, self.edges_), self._alpha, self._beta,
                                              self.labels_.size), "coin", check_rng(self.seed))
        val_soft, test_soft = val_proba.mean(axis=1), test_proba.mean(axis=1)
        scores = matched_scores(val_soft, v_truth, v_decision, test_soft, decision, columns,
                                label_prior(prior, v_truth, self.labels_.size))
        low, high = gated_interval(*scores, GATE_BANDWIDTH, confidence, check_rng(self.seed))
        per_label = column_labels(columns, self.labels_.size)
        right = v_decision == v_truth
        return {"label_free": gated(*scores, GATE_BANDWIDTH), "label_free_low": low, "label_free_high": high,
                "calibrated": platt_average(*scores), "atc": atc_accuracy(val_soft @ per_label, right, test_soft @ per_label),
                "doc": doc_accuracy(val_soft @ per_label, right, test_soft @ per_label)}

    def _record_belief(self, folds: int, beta_prior: tuple[float, float]) -> float:
        """Beta posterior mean of the rule's accuracy on validation, trust learned on the other folds."""
        codes, truth, values = self._validation
        fold = check_rng(self.seed).permutation(codes.shape[0]) % folds
        right = 0
        for k in range(folds):
            held, train = fold == k, fold != k
            if not held.any() or not train.any():
                continue
            part = None if values is None else values[train]
            edges = _edges(part, self.bins)
            alpha, beta = _record(codes[train], truth[train], _bin_index(part, edges), self.bins, beta_prior)
            probas = _posterior(codes[held], _bin_index(None if values is None else values[held], edges), alpha, beta,
                                self.labels_.size)
            right += int((most_probable(probas, "coin", check_rng(self.seed)) == truth[held]).sum())
        return beta_mean(right, codes.shape[0], beta_prior)

    def _inputs(self, X: ArrayLike, signal: ArrayLike | None) -> tuple[NDArray[Any], NDArray[np.float64] | None]:
        """The vote matrix and the signal matrix (or None) for inputs or predictions."""
        check_signal_option(self.signal, self.members, signal, SIGNALS)
        if self.members is None:
            votes = check_label_matrix(X, "X")
            return votes, None if signal is None else check_signal_matrix(signal, votes.shape)
        votes = check_label_matrix(np.column_stack([np.asarray(m.predict(X)) for m in self.members]), "the members' predictions")
        if self.signal is None:
            return votes, None
        if callable(self.signal):
            values = np.column_stack([np.asarray(self.signal(m, X)) for m in self.members])
        else:
            values = np.column_stack([np.asarray(m.predict_proba(X)).max(axis=1) for m in self.members])
        return votes, check_signal_matrix(values, votes.shape)

    def _probabilities(self, X: ArrayLike, proba: ArrayLike | None, n_examples: int,
                       n_columns: int | None) -> NDArray[np.float64] | None:
        """The members' probabilities, (n_examples, n_members, n_columns): given, from the members, or None."""
        shape = (n_examples, self.n_members_, n_columns)
        like = "as at fit" if n_columns is not None else ""
        if self.members is not None:
            if proba is not None:
                raise fail("proba", "be None with members", "got an array", "Their predict_proba gives it.")
            if not all(hasattr(m, "predict_proba") for m in self.members):
                return None
            proba = np.stack([np.asarray(m.predict_proba(X)) for m in self.members], axis=1)
            return check_probability_rows(proba, "the members' probabilities", shape, like)
        return None if proba is None else check_probability_rows(proba, "proba", shape, like)

    def _new_probabilities(self, X: ArrayLike, proba: ArrayLike | None, n_examples: int) -> NDArray[np.float64] | None:
        """The members' probabilities on new examples, with the columns of the validation ones; None without those."""
        if self._val_proba is None:
            if proba is not None:
                raise fail("proba", "be given to fit as well", "fit had none", "Fit with proba= first.")
            return None
        return self._probabilities(X, proba, n_examples, self._val_proba.shape[2])

    def _column_codes(self, n_columns: int) -> NDArray[np.int64]:
        """The label code of each probability column, every label with at least one."""
        if self.proba_labels is None:
            if n_columns != self.labels_.size:
                raise fail("proba", f"have {self.labels_.size} columns, one per label {self.labels_.tolist()}",
                           f"got {n_columns}", "Give proba_labels= for finer columns.")
            return np.arange(n_columns)
        given = np.asarray(self.proba_labels)
        if given.shape != (n_columns,):
            raise fail("proba_labels", f"hold one label per probability column ({n_columns})", f"got shape {given.shape}")
        unknown = ~np.isin(given, self.labels_)
        if unknown.any():
            first = int(np.flatnonzero(unknown)[0])
            raise fail("proba_labels", f"hold labels of the ensemble, {self.labels_.tolist()}",
                       f"proba_labels[{first}] = {plain(given[first])!r}")
        codes = np.searchsorted(self.labels_, given)
        missing = np.setdiff1d(np.arange(self.labels_.size), codes)
        if missing.size:
            raise fail("proba_labels", "give every label at least one column",
                       f"label {plain(self.labels_[missing[0]])!r} has none")
        return codes

    def _codes(self, X: ArrayLike, signal: ArrayLike | None) -> tuple[NDArray[np.int64], NDArray[np.float64] | None]:
        """Label codes and signal values of new examples, checked against what was fitted."""
        check_fitted(self, "labels_", "the ensemble", "fit(X, y)")
        votes, values = self._inputs(X, signal)
        check_predictions(votes, self.n_members_, self.labels_)
        check_signal_given_alike(values, self._validation[2])
        return np.searchsorted(self.labels_, votes), values


@dataclass(frozen=True, kw_only=True)
class EnsembleBelief:
    """The accuracy believed under each model on held-out examples, and the accuracy realised there if known."""

    realised: float | None  # None without labels
    ci_low: float | None  # Wilson interval of the realised accuracy
    ci_high: float | None
    n_examples: int
    confidence: float
    independent: float  # mean P(decision right | votes), members independent given their bins
    latent: float  # the same, conditionally independent given a latent difficulty class
    latent_agree: float | None  # sum_d pi_d A(t_d, w) by the exact kernels (global trust only)
    latent_distractor: float | None  # mean P(decision right | votes), latent class with a shared distractor (L > 2)
    record: float  # cross-fitted validation accuracy of the rule (Beta posterior mean)
    theorem1: float | None  # A(t, w(t)) by the exact kernels: two labels, global trust only
    test_one_coin: float | None  # mean P(decision right | votes), one-coin EM on the test votes (global trust only)
    test_hard_class: float  # the same, Dawid-Skene with a share of hard examples fitted on the test votes
    label_free: float | None  # the recommended label-free belief (needs the members' probabilities)
    label_free_low: float | None  # its bootstrap interval (sampling error only)
    label_free_high: float | None
    calibrated: float | None  # calibrated_accuracy of the decisions on the same prior-matched scores
    atc: float | None  # ATC on the members' mean probabilities
    doc: float | None  # DoC on the same

    def errors(self) -> dict[str, float]:
        """Believed minus realised accuracy for each belief model defined here.

        Returns
        -------
        dict
            ``{"independent": ..., "latent": ..., "record": ..., "test_hard_class": ...}`` and the
            other models when defined (``label_free`` and not its interval's ends).

        Raises
        ------
        ValueError
            Without a realised accuracy (``belief`` called without ``y``).

        Examples
        --------
        >>> b = EnsembleBelief(realised=0.9, ci_low=0.85, ci_high=0.94, n_examples=200, confidence=0.95,
        ...                    independent=0.999, latent=0.91, latent_agree=None, latent_distractor=None, record=0.88,
        ...                    theorem1=None, test_one_coin=None, test_hard_class=0.93, label_free=0.89,
        ...                    label_free_low=0.85, label_free_high=0.92, calibrated=0.92, atc=0.95, doc=0.97)
        >>> {k: round(v, 3) for k, v in b.errors().items()}
        {'independent': 0.099, 'latent': 0.01, 'record': -0.02, 'test_hard_class': 0.03, 'label_free': -0.01, 'calibrated': 0.02, 'atc': 0.05, 'doc': 0.07}
        """
        if self.realised is None:
            raise fail("errors()", "be asked of a belief with a realised accuracy", "this one has none",
                       "Call belief(X, y) with the labels.")
        models = {"independent": self.independent, "latent": self.latent, "latent_agree": self.latent_agree,
                  "latent_distractor": self.latent_distractor, "record": self.record, "theorem1": self.theorem1,
                  "test_one_coin": self.test_one_coin, "test_hard_class": self.test_hard_class,
                  "label_free": self.label_free, "calibrated": self.calibrated, "atc": self.atc, "doc": self.doc}
        return {name: value - self.realised for name, value in models.items() if value is not None}


def _edges(values: NDArray[np.float64] | None, bins: int) -> list[NDArray[np.float64]] | None:
    """Per member, the inner quantile edges of its signal (distinct), or a single bin without a signal."""
    if values is None:
        return None
    return [np.unique(np.quantile(values[:, i], np.arange(1, bins) / bins)) for i in range(values.shape[1])]


def _bin_index(values: NDArray[np.float64] | None, edges: list[NDArray[np.float64]] | None) -> NDArray[np.int64] | None:
    """Bin of each (example, member): 0 without a signal."""
    if values is None:
        return None
    per_member = cast(list[NDArray[np.float64]], edges)  # given with the values
    return np.column_stack([np.searchsorted(e, values[:, i], side="right") for i, e in enumerate(per_member)])


def _record(codes: NDArray[np.int64], truth: NDArray[np.int64], bin_index: NDArray[np.int64] | None, bins: int,
            beta_prior: tuple[float, float]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Beta posterior (alpha, beta) per member and bin, shape (n_members, bins or 1)."""
    n_bins = 1 if bin_index is None else bins
    worker = _worker(codes.shape, bin_index, n_bins)
    right = (codes == truth[:, None]).ravel()
    size = codes.shape[1] * n_bins
    # numpy's stubs type bincount as intp, even with float weights (float64 then); the local cast hides typing.cast
    hits: NDArray[np.float64] = np.bincount(worker, weights=right, minlength=size)  # type: ignore[assignment]
    cast = np.bincount(worker, minlength=size)
    return (beta_prior[0] + hits).reshape(-1, n_bins), (beta_prior[1] + cast - hits).reshape(-1, n_bins)


def _worker(shape: tuple[int, ...], bin_index: NDArray[np.int64] | None, n_bins: int) -> NDArray[np.int64]:
    """Code of each (example, member) vote's source: member * n_bins + bin, flattened row by row."""
    member = np.tile(np.arange(shape[1]), shape[0])
    return member if bin_index is None else member * n_bins + bin_index.ravel()


def _posterior(codes: NDArray[np.int64], bin_index: NDArray[np.int64] | None, alpha: NDArray[np.float64],
               beta: NDArray[np.float64], n_labels: int) -> NDArray[np.float64]:
    """P(truth = each label | votes) with each vote weighted by its member's (bin's) trust."""
    t = (alpha / (alpha + beta)).ravel()
    data = Codes.dense(codes, n_labels, worker=_worker(codes.shape, bin_index, alpha.shape[1]), n_workers=t.size)
    return posterior(data, symmetric_weights(t, max(n_labels, 2)), np.zeros(n_labels))
