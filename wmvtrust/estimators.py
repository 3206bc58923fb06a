"""Estimators that turn vote records into trust, and biased ones as negative controls.

Votes are an (n_tasks, n_sources) array of +1 and -1, with 0 where a source did
not vote on a task.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from ._labels.codes import Codes
from ._labels.models import one_coin_em
from ._validation import (check_beta_prior, check_positive_int, check_positive_real, check_records, check_signs,
                          check_vote_matrix, renamed)
from .trust import BetaTrust
from .voting import log_odds_weights


def trust_from_gold(votes: ArrayLike, truth: ArrayLike, beta_prior: tuple[float, float] = (1, 1), *,
                    prior: tuple[float, float] | None = None) -> BetaTrust:
    """Beta posterior trust per source from votes on tasks whose truth is known.

    Parameters
    ----------
    votes : array_like of shape (n_tasks, n_sources)
        +1 or -1, or 0 where the source did not vote.
    truth : array_like of shape (n_tasks,)
        The true answer of each task, +1 or -1.
    beta_prior : (float, float), default=(1, 1)
        Beta prior of every source's trustworthiness.
    prior : (float, float), optional
        The former name of ``beta_prior``, accepted until the next release (FutureWarning).

    Returns
    -------
    BetaTrust
        ``alpha = alpha0 + (right votes)``, ``beta = beta0 + (wrong votes)``.

    Examples
    --------
    >>> votes = [[1, 1, -1], [-1, 1, -1], [1, 1, 1]]
    >>> trust_from_gold(votes, [1, -1, 1])
    BetaTrust(alpha=[4.0, 3.0, 3.0], beta=[1.0, 2.0, 2.0])
    """
    x = check_vote_matrix(votes)
    y = check_signs(truth, x.shape[0], "truth", "votes")
    right = (x == y[:, None]).sum(axis=0)
    wrong = (x == -y[:, None]).sum(axis=0)
    return BetaTrust.from_track_record(right, wrong, renamed(beta_prior, prior, "beta_prior", "prior"))


@dataclass(frozen=True)
class EMTrust:
    """The result of ``trust_em``.

    Attributes
    ----------
    trust : BetaTrust
        Posterior of each source's accuracy, from its expected right and wrong votes.
    posterior : ndarray of shape (n_tasks,)
        P(y_j = +1 | votes) per task under the fitted model.
    class_prior : float
        The fitted P(y = +1).
    n_iter : int
        EM iterations run.
    converged : bool
        Whether the largest change of a source's trust fell below ``tol``.
    """

    trust: BetaTrust
    posterior: NDArray[np.float64]
    class_prior: float
    n_iter: int
    converged: bool


def trust_em(votes: ArrayLike, beta_prior: tuple[float, float] = (1, 1), *, max_iter: int = 1000, tol: float = 1e-9,
             prior: tuple[float, float] | None = None) -> EMTrust:
    """Trust from unlabelled votes by EM under the one-coin model.

    Each source is right with its own probability whatever the truth, and the
    sources are independent given the truth (Dawid-Skene with one accuracy per
    source). The E-step is weighted majority voting with the current log-odds
    weights; the M-step counts each source's expected right votes. Trust enters
    the E-step as the Beta posterior mean, so it never reaches 0 or 1. Starts from
    majority voting, which fixes the labelling (sources are assumed better than chance
    on the whole).

    Parameters
    ----------
    votes : array_like of shape (n_tasks, n_sources)
        +1 or -1, or 0 where the source did not vote.
    beta_prior : (float, float), default=(1, 1)
        Beta prior of every source's accuracy.
    max_iter : int, default=1000
        Most EM iterations.
    tol : float, default=1e-9
        Stop when no source's trust changes by more.
    prior : (float, float), optional
        The former name of ``beta_prior``, accepted until the next release (FutureWarning).

    Returns
    -------
    EMTrust
        The Beta posterior trust, per-task posteriors, the class prior and convergence.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.choice([-1, 1], size=5000)
    >>> right = rng.random((5000, 5)) < [0.9, 0.8, 0.7, 0.6, 0.55]  # each source right this often
    >>> fit = trust_em(np.where(right, truth[:, None], -truth[:, None]))
    >>> fit.converged, fit.trust.mean.round(2).tolist()  # within sampling error of the truth
    (True, [0.89, 0.8, 0.71, 0.59, 0.55])
    """
    x = check_vote_matrix(votes)
    beta_prior = check_beta_prior(renamed(beta_prior, prior, "beta_prior", "prior"))
    max_iter, tol = check_positive_int(max_iter, "max_iter"), check_positive_real(tol, "tol")
    task, worker = np.nonzero(x)
    codes = Codes(task, worker, (x[task, worker] > 0).astype(np.int64), x.shape[0], x.shape[1], 2)
    fit = one_coin_em(codes, beta_prior=beta_prior, n_labels=2, max_iter=max_iter, tol=tol)
    return EMTrust(BetaTrust(fit.alpha, fit.beta), fit.probas[:, 1], float(np.exp(fit.log_prior[1])), fit.n_iter,
                   fit.converged)


def trust_mle(successes: ArrayLike, failures: ArrayLike) -> NDArray[np.float64]:
    """The maximum-likelihood trust ``K / m``: biased in the Bayesian reading, a negative control.

    Parameters
    ----------
    successes, failures : array_like of shape (n_sources,)
        Right and wrong reports per source, >= 0, not both 0.

    Returns
    -------
    ndarray of shape (n_sources,)

    Examples
    --------
    >>> trust_mle([3, 0], [1, 2]).tolist()
    [0.75, 0.0]
    """
    s, f = check_records(successes, failures)
    return s / (s + f)


def tempered_trust(trust: ArrayLike, factor: float) -> NDArray[np.float64]:
    """Trust made over- (``factor > 1``) or under-confident (``factor < 1``): ``logit t' = factor logit t``.

    A biased estimator for negative controls: it keeps each source on its side of 1/2,
    and 0 and 1 where they are (an extreme result may round to 0 or 1 in float64).

    Parameters
    ----------
    trust : array_like of shape (n_sources,)
        Unbiased trust, in [0, 1].
    factor : float
        > 0; 1 leaves the trust unchanged.

    Returns
    -------
    ndarray of shape (n_sources,)

    Examples
    --------
    >>> tempered_trust([0.75, 0.5], 2.0).round(4).tolist()  # odds 3 -> 9
    [0.9, 0.5]
    """
    factor = check_positive_real(factor, "factor")
    return special.expit(factor * log_odds_weights(trust))
