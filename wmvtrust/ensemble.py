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
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Self, cast

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ._labels.codes import Codes
from ._labels.latent import distractor_em, distractor_posterior, latent_class_em, latent_class_posterior
from ._labels.models import most_probable, posterior, symmetric_weights
from ._stats import beta_mean, wilson
from ._validation import (check_beta_prior, check_fitted, check_folds, check_fraction, check_label_matrix,
                          check_labels, check_positive_int, check_predictions, check_rng, check_signal_given_alike,
                          check_signal_matrix, check_signal_option, renamed)
from .accuracy import accuracy
from .stability import believed_accuracy
from .trust import BetaTrust

SIGNALS = ("confidence",)


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
        Seed of the tie-breaking choice.

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
    # set by fit
    labels_: NDArray[Any]
    n_members_: int
    edges_: list[NDArray[np.float64]] | None  # per member; None without a signal
    trust_: pd.DataFrame
    best_member_: int
    _alpha: NDArray[np.float64]
    _beta: NDArray[np.float64]
    _validation: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64] | None]  # codes, truth, signal

    def __init__(self, members: Sequence[Any] | None = None, *,
                 signal: Literal["confidence"] | Callable[[Any, Any], ArrayLike] | None = None, bins: int = 4,
                 beta_prior: tuple[float, float] = (1, 1), seed: int | np.random.Generator | None = 0,
                 prior: tuple[float, float] | None = None) -> None:
        self.members, self.signal, self.bins, self.seed = members, signal, bins, seed
        self.beta_prior = renamed(beta_prior, prior, "beta_prior", "prior")

    def fit(self, X: ArrayLike, y: ArrayLike, *, signal: ArrayLike | None = None) -> Self:
        """Learn each member's trust (per signal bin) from its validation record.

        Parameters
        ----------
        X : array_like
            Validation inputs (with members) or the matrix of member predictions.
        y : array_like of shape (n_examples,)
            The true labels.
        signal : array_like of shape (n_examples, n_members), optional
            Signal values, without members only.

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
        alpha, beta = _record(codes, truth, _bin_index(values, self.edges_), self.bins, check_beta_prior(self.beta_prior))
        self._alpha, self._beta = alpha, beta
        self._validation = codes, truth, values
        n_bins = alpha.shape[1]
        edges = self.edges_ or [np.empty(0)] * votes.shape[1]
        pad = [np.full(n_bins - 1 - e.size, np.nan) for e in edges]
        low = [np.concatenate([[-np.inf], e, p]) for e, p in zip(edges, pad)]
        high = [np.concatenate([e, [np.inf], p]) for e, p in zip(edges, pad)]
        index = pd.MultiIndex.from_product([range(votes.shape[1]), range(n_bins)], names=["member", "bin"])
        table = pd.DataFrame({"low": np.ravel(low), "high": np.ravel(high), "n": (alpha + beta - sum(self.beta_prior)).ravel(),
                              "alpha": alpha.ravel(), "beta": beta.ravel(), "mean": (alpha / (alpha + beta)).ravel()},
                             index=index)
        self.trust_ = table[table["low"].notna()]
        self.best_member_ = int(np.argmax(((codes == truth[:, None])).mean(axis=0)))
        return self

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

    def belief(self, X: ArrayLike, y: ArrayLike, *, signal: ArrayLike | None = None, latent_classes: int = 2,
               folds: int = 5, confidence: float = 0.95) -> "EnsembleBelief":
        """Believed accuracy under each model beside the accuracy realised on ``(X, y)``.

        Parameters
        ----------
        X : array_like
            Held-out inputs (with members) or the matrix of member predictions.
        y : array_like of shape (n_examples,)
            Their true labels.
        signal : array_like of shape (n_examples, n_members), optional
            Signal values, without members only.
        latent_classes : int, default=2
            Difficulty classes of the latent-class belief (fitted by EM on validation).
        folds : int, default=5
            Folds of the validation set for the cross-fitted record belief.
        confidence : float, default=0.95
            Level of the realised accuracy's Wilson interval.

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
        y = check_labels(y, codes.shape[0], self.labels_)
        truth = np.searchsorted(self.labels_, y)
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
        by_member = Codes.dense(codes, n_labels)
        latent = latent_class_posterior(by_member, classes.trust, classes.class_weights, max(n_labels, 2))
        distractor = None
        if n_labels > 2:  # with two labels the distractor is the other label: the model above
            shared = distractor_em(task, member, v_codes.ravel(), v_truth, n_labels=n_labels, max_iter=2000, tol=1e-6,
                                   rng=check_rng(self.seed), **em)
            distractor = float(distractor_posterior(by_member, shared.trust, shared.rho, shared.class_weights,
                                                    n_labels)[rows, decision].mean())
        realised = float((decision == truth).mean())
        ci_low, ci_high = wilson(realised, truth.size, check_fraction(confidence, "confidence"))
        theorem1 = latent_agree = None
        if values is None:  # one weight per member: the exact binary kernels apply
            w = symmetric_weights(self._alpha[:, 0] / (self._alpha[:, 0] + self._beta[:, 0]), max(n_labels, 2))
            latent_agree = float(sum(pi * accuracy(t, w).value for t, pi in zip(classes.trust.T, classes.class_weights)))
            if n_labels == 2:  # float trust: the value is a float, never a Fraction
                theorem1 = cast(float, believed_accuracy(BetaTrust(self._alpha[:, 0], self._beta[:, 0])).value)
        return EnsembleBelief(realised=realised, ci_low=ci_low, ci_high=ci_high, n_examples=codes.shape[0],
                              confidence=confidence, independent=float(probas[rows, decision].mean()),
                              latent=float(latent[rows, decision].mean()), latent_agree=latent_agree,
                              latent_distractor=distractor, record=self._record_belief(folds, beta_prior),
                              theorem1=theorem1)

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

    def _codes(self, X: ArrayLike, signal: ArrayLike | None) -> tuple[NDArray[np.int64], NDArray[np.float64] | None]:
        """Label codes and signal values of new examples, checked against what was fitted."""
        check_fitted(self, "labels_", "the ensemble", "fit(X, y)")
        votes, values = self._inputs(X, signal)
        check_predictions(votes, self.n_members_, self.labels_)
        check_signal_given_alike(values, self._validation[2])
        return np.searchsorted(self.labels_, votes), values


@dataclass(frozen=True, kw_only=True)
class EnsembleBelief:
    """The accuracy realised on held-out examples and the accuracy believed under each model."""

    realised: float
    ci_low: float
    ci_high: float
    n_examples: int
    confidence: float
    independent: float  # mean P(decision right | votes), members independent given their bins
    latent: float  # the same, conditionally independent given a latent difficulty class
    latent_agree: float | None  # sum_d pi_d A(t_d, w) by the exact kernels (global trust only)
    latent_distractor: float | None  # mean P(decision right | votes), latent class with a shared distractor (L > 2)
    record: float  # cross-fitted validation accuracy of the rule (Beta posterior mean)
    theorem1: float | None  # A(t, w(t)) by the exact kernels: two labels, global trust only

    def errors(self) -> dict[str, float]:
        """Believed minus realised accuracy for each belief model.

        Returns
        -------
        dict
            ``{"independent": ..., "latent": ..., "record": ...}`` and ``"latent_agree"``,
            ``"latent_distractor"``, ``"theorem1"`` when defined.

        Examples
        --------
        >>> b = EnsembleBelief(realised=0.9, ci_low=0.85, ci_high=0.94, n_examples=200, confidence=0.95,
        ...                    independent=0.999, latent=0.91, latent_agree=None, latent_distractor=None, record=0.88,
        ...                    theorem1=None)
        >>> {k: round(v, 3) for k, v in b.errors().items()}
        {'independent': 0.099, 'latent': 0.01, 'record': -0.02}
        """
        models = {"independent": self.independent, "latent": self.latent, "latent_agree": self.latent_agree,
                  "latent_distractor": self.latent_distractor, "record": self.record, "theorem1": self.theorem1}
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
