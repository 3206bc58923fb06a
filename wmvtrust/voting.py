"""Weights from trust, and the weighted majority decision."""

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import check_choice, check_fraction, check_probabilities, check_rng, check_votes, check_weights

TIE_RTOL = 1e-12
"""The one tie tolerance, relative to the size of what is compared.

A weighted sum S is a tie when |S| <= TIE_RTOL * (sum of |finite weights| + |bias|); among
labels, a label ties with the most probable one when its posterior probability (or vote count)
is within TIE_RTOL times the largest. A reported tie is the value that is no decision: 0 for
the signs +1 and -1, -1 for label codes.
"""
TIES = ("coin", "report")
"""What to do with a tie: break it by a fair coin (a uniform draw among the tied labels), or report it."""


def log_odds_weights(trust: ArrayLike) -> NDArray[np.float64]:
    """Log-odds weights ``w_i = ln(t_i / (1 - t_i))``, optimal for trustworthiness ``t``.

    Parameters
    ----------
    trust : array_like of shape (n_sources,)
        Trust in each source, in [0, 1].

    Returns
    -------
    ndarray of shape (n_sources,)
        The weights; ``+inf`` at trust 1 and ``-inf`` at trust 0.

    Examples
    --------
    >>> log_odds_weights([0.5, 0.75, 1.0, 0.0]).tolist()
    [0.0, 1.0986122886681098, inf, -inf]
    """
    t = check_probabilities(trust, "trust")
    with np.errstate(divide="ignore"):
        return np.log(t / (1.0 - t))


def bias(prior: float) -> float:
    """The decision bias ``ln(prior / (1 - prior))`` of the prior P(y = +1)."""
    return float(np.log(prior) - np.log1p(-prior))


def tie_tolerance(finite_weights: NDArray[np.float64], offset: float) -> float:
    """The tie tolerance for finite weights and a bias (see ``TIE_RTOL``)."""
    return TIE_RTOL * (float(np.abs(finite_weights).sum()) + abs(offset))


def decide(votes: ArrayLike, weights: ArrayLike, prior: float = 0.5, *, ties: str = "coin",
           seed: int | np.random.Generator | None = None) -> NDArray[np.int8]:
    """Weighted majority decisions for a batch of vote profiles.

    Decides ``sign(sum_i w_i x_i + b)`` with bias ``b = ln(prior / (1 - prior))``.
    Infinite weights decide first: the signed count of votes with weight ``±inf``
    settles the decision when it is not zero, and the finite sum only when it is.
    A finite sum with ``|S| <= TIE_RTOL * (sum |w_i| + |b|)`` is a tie.

    Parameters
    ----------
    votes : array_like of shape (n_sources,) or (n_profiles, n_sources)
        Each entry +1 or -1.
    weights : array_like of shape (n_sources,)
        Vote weights, e.g. ``log_odds_weights(trust)``; ``±inf`` allowed.
    prior : float, default=0.5
        Prior probability that the truth is +1, in (0, 1).
    ties : {"coin", "report"}, default="coin"
        ``"coin"`` breaks each tie by a fair coin; ``"report"`` returns 0 for a tie.
    seed : None, int or numpy.random.Generator, default=None
        Source of the coin flips (only drawn from when there is a tie).

    Returns
    -------
    ndarray of int8, shape ``votes.shape[:-1]``
        The decisions, +1 or -1 (or 0 for a reported tie).

    Examples
    --------
    >>> w = log_odds_weights([0.9, 0.6, 0.6])
    >>> decide([[1, -1, -1], [-1, 1, 1]], w).tolist()  # the 0.9 source outvotes the others
    [1, -1]
    >>> decide([1, -1], [1.0, 1.0], ties="report").item()
    0
    """
    check_choice(ties, "ties", TIES)
    rng = check_rng(seed)
    w = check_weights(weights)
    x = check_votes(votes, w.size)
    b = bias(check_fraction(prior, "prior"))
    finite = np.isfinite(w)
    count = x[..., ~finite] @ np.sign(w[~finite])
    s = x[..., finite] @ w[finite] + b
    tol = tie_tolerance(w[finite], b)
    decision = np.where(count != 0, np.sign(count), (s > tol).astype(np.int8) - (s < -tol)).astype(np.int8)
    if ties == "coin":
        tied = decision == 0
        decision[tied] = rng.choice(np.array([-1, 1], dtype=np.int8), size=int(tied.sum()))
    return decision
