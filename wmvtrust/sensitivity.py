"""Sensitivity of weighted majority voting to trustworthiness and to trust (docs/design.md, section 7).

- To trustworthiness: ``A(q, w)`` is affine in each ``q_i``, so its derivative is the
  exact difference ``A(q with q_i = 1) - A(q with q_i = 0)``: the prior-weighted,
  tie-weighted probability that source ``i`` is decisive (negative for a negative weight).
- To trust: the rule ``w(t)`` changes its decisions only when some profile's weighted
  sum changes sign. The decision margin ``min_x |w.x + b|`` measures how close the
  nearest profile is; ``trust_radius`` turns it into the smallest max-norm change of
  the trust that changes a decision; ``accuracy_loss_curve`` shows what such changes cost.
"""

import itertools

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import special

from . import _kernels as kn
from ._validation import (check_at_most_sources, check_choice, check_finite_weights, check_fraction,
                          check_open_probabilities, check_positive_int, check_probabilities, check_seed, check_sizes,
                          check_weights)
from .accuracy import accuracy, accuracy_rows
from .voting import bias, log_odds_weights, tie_tolerance

MAX_MARGIN_SOURCES = 44  # meet-in-the-middle over 2 x 2**22 sums
MAX_RADIUS_SOURCES = 24  # the probability-space radius visits every profile
SPACES = ("logit", "probability")


def derivatives(q: ArrayLike, weights: ArrayLike, prior: float = 0.5) -> NDArray[np.float64]:
    """Exact derivatives ``dA(q, w) / dq_i`` of the accuracy with respect to each trustworthiness.

    ``A`` is affine in ``q_i``, so ``dA/dq_i = A(q; q_i = 1) - A(q; q_i = 0)``: the
    probability that source ``i`` is decisive, ties counting 1/2, averaged over the
    truth; in [0, 1] for ``w_i >= 0`` and in [-1, 0] for ``w_i < 0``.

    Parameters
    ----------
    q : array_like of shape (n_sources,)
        Trustworthiness, in [0, 1].
    weights : array_like of shape (n_sources,)
        Vote weights; ``±inf`` allowed. At most 52 sources.
    prior : float, default=0.5
        Prior probability that the truth is +1.

    Returns
    -------
    ndarray of shape (n_sources,)

    Examples
    --------
    >>> derivatives([0.9, 0.6, 0.6], [3.0, 1.0, 1.0]).tolist()  # the first source decides alone
    [1.0, 0.0, 0.0]
    >>> derivatives([0.7, 0.7, 0.7], [1.0, 1.0, 1.0]).round(12).tolist()  # pivotal when the others split
    [0.42, 0.42, 0.42]
    """
    q = check_probabilities(q, "q")
    w = check_weights(weights, q.size)
    prior = check_fraction(prior, "prior")
    rows = np.tile(q, (2 * q.size, 1))
    rows[np.arange(q.size), np.arange(q.size)] = 1.0
    rows[q.size + np.arange(q.size), np.arange(q.size)] = 0.0
    a = accuracy_rows(rows, np.broadcast_to(w, rows.shape), prior)
    return a[:q.size] - a[q.size:]


def decision_margin(weights: ArrayLike, prior: float = 0.5) -> float:
    """The decision margin ``min over vote profiles x of |sum_i w_i x_i + b|``.

    How far the closest profile is from a tie; 0 when some profile ties. Exact, by
    meet-in-the-middle over sorted subset sums (n <= 44).

    Parameters
    ----------
    weights : array_like of shape (n_sources,)
        Finite vote weights.
    prior : float, default=0.5
        Prior probability of +1; its bias ``b = ln(prior / (1 - prior))`` enters the sum.

    Returns
    -------
    float

    Examples
    --------
    >>> round(decision_margin([3.0, 1.0, 1.5]), 12)  # 3 - 1 - 1.5
    0.5
    >>> decision_margin([1.0, 1.0])  # one for, one against: a tie
    0.0
    """
    w = check_finite_weights(weights, MAX_MARGIN_SOURCES)
    b = bias(check_fraction(prior, "prior"))
    margin = float(kn.min_abs_sum(w, b))
    return 0.0 if margin <= tie_tolerance(w, b) else margin


def trust_radius(trust: ArrayLike, prior: float = 0.5, space: str = "logit") -> float:
    """The smallest change of trust that changes a decision of the rule ``w(trust)``.

    The change is measured in the max norm: every source's trust may move by up to
    the radius, in logit space (``|w'_i - w_i| <= r``) or in probability space
    (``|t'_i - t_i| <= r``). A decision changes when a decided profile becomes a tie
    or flips; a rule with a tied profile has radius 0.

    - logit space: exactly ``(decision_margin(w(t), prior) - tol) / n``, since moving
      every weight by ``r`` against a profile changes its sum by ``n r``, and a sum
      within the tie tolerance ``tol`` of 0 is a tie;
    - probability space: the logit map is not linear, so every profile is checked
      (n <= 24) and the radius found by bisection to relative precision 1e-12. If no
      decision changes before some trust reaches 0 or 1 (where its weight becomes
      infinite), that distance, ``min_i min(t_i, 1 - t_i)``, is returned.

    Parameters
    ----------
    trust : array_like of shape (n_sources,)
        Trust in each source, strictly between 0 and 1.
    prior : float, default=0.5
        Prior probability of +1 (its bias is not perturbed).
    space : {"logit", "probability"}, default="logit"

    Returns
    -------
    float

    Examples
    --------
    >>> t = [0.9, 0.6, 0.6]  # ln 9 = 2.197 against 2 ln 1.5 = 0.811: margin 2.197 - 0.811
    >>> round(trust_radius(t), 6), round(float(np.log(9) - 2 * np.log(1.5)) / 3, 6)
    (0.462098, 0.462098)
    """
    t = check_open_probabilities(trust, "trust")
    check_choice(space, "space", SPACES)
    prior = check_fraction(prior, "prior")
    w = log_odds_weights(t)
    b = bias(prior)
    tol = tie_tolerance(w, b)
    if space == "logit":
        check_at_most_sources(t.size, MAX_MARGIN_SOURCES, "trust")
        return max(decision_margin(w, prior) - tol, 0.0) / t.size  # a sum within tol of 0 is a tie
    check_at_most_sources(t.size, MAX_RADIUS_SOURCES, "trust", " for space='probability'", "Use space='logit'.")
    if decision_margin(w, prior) == 0.0:
        return 0.0

    def moves(r: float) -> bool:
        return kn.any_decision_moves(w, log_odds_weights(t - r), log_odds_weights(t + r), b, tol)

    lo, hi = 0.0, float(np.minimum(t, 1.0 - t).min())
    if not moves(hi * (1.0 - 1e-12)):
        return hi
    while hi - lo > 1e-12 * hi:
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if moves(mid) else (mid, hi)
    return hi


def accuracy_loss_curve(p: ArrayLike, sizes: ArrayLike, *, space: str = "logit", draws: int = 200,
                        seed: int | None = 0, prior: float = 0.5) -> pd.DataFrame:
    """Accuracy lost by voting on perturbed trust: ``A(p, w(p)) - A(p, w(t'))`` against perturbation size.

    For each size ``r``, ``draws`` trust vectors ``t'`` are drawn uniformly in the
    max-norm ball of radius ``r`` around ``p`` (in logit space, or in probability space
    intersected with [0, 1]); with at most 10 sources, the ball's ``2**n`` corners are
    added. The loss of each is exact.

    Parameters
    ----------
    p : array_like of shape (n_sources,)
        Trustworthiness, strictly between 0 and 1; the oracle votes with ``w(p)``.
    sizes : array_like of float
        Perturbation sizes, each >= 0.
    space : {"logit", "probability"}, default="logit"
    draws : int, default=200
        Random perturbations per size.
    seed : int, default=0
        Root seed; each size draws from its own spawned stream.
    prior : float, default=0.5
        Prior probability of +1.

    Returns
    -------
    pandas.DataFrame
        One row per size: ``size``, ``mean_loss`` (over the random draws), ``stderr``,
        ``worst_loss`` (over draws and corners: a lower bound on the worst case).

    Examples
    --------
    >>> curve = accuracy_loss_curve([0.8, 0.7, 0.6], [0.0, 0.5, 2.0], seed=1)
    >>> curve["size"].tolist(), bool(curve["mean_loss"].iloc[0] == 0.0), bool((curve["worst_loss"] >= 0).all())
    ([0.0, 0.5, 2.0], True, True)
    """
    p = check_open_probabilities(p, "p")
    sizes = check_sizes(sizes)
    check_choice(space, "space", SPACES)
    draws, prior = check_positive_int(draws, "draws"), check_fraction(prior, "prior")
    streams = np.random.SeedSequence(check_seed(seed)).spawn(sizes.size)  # one per size: rows independent
    best = accuracy(p, log_odds_weights(p), prior).value
    corners = np.array(list(itertools.product((-1.0, 1.0), repeat=p.size))) if p.size <= 10 else np.empty((0, p.size))
    rows = []
    for r, stream in zip(sizes, streams):
        shifts = np.vstack([np.random.default_rng(stream).uniform(-r, r, size=(draws, p.size)), r * corners])
        if space == "logit":
            t = special.expit(log_odds_weights(p) + shifts)
        else:
            t = np.clip(p + shifts, 0.0, 1.0)  # the ball intersected with [0, 1]: trust is a probability
        w = log_odds_weights(t.ravel()).reshape(t.shape)
        loss = best - accuracy_rows(np.broadcast_to(p, t.shape), w, prior)
        sampled = loss[:draws]
        rows.append({"size": float(r), "mean_loss": float(sampled.mean()),
                     "stderr": float(sampled.std(ddof=1) / np.sqrt(draws)) if draws > 1 else float("nan"),
                     "worst_loss": float(loss.max())})
    return pd.DataFrame(rows)
