"""Stability of correctness and of optimality (docs/design.md, sections 5 and 6).

For a trust model (independent random trustworthiness ``P`` with means ``t``):

- believed accuracy ``A(t, w(t))``;
- expected actual accuracy ``E[A(P, w)]``, computed by its definition (never by
  Theorem 1): exactly over a discrete model's joint support, by tensor Gauss-Jacobi
  quadrature for a Beta model with few sources, by Monte Carlo over ``P``
  with the exact accuracy of each draw, or, for large panels, by Monte Carlo over ``P``
  and vote profiles given ``P`` (O(n) per profile);
- the SoC gap ``E[A(P, w(t))] - A(t, w(t))`` (0 by Theorem 1 for unbiased trust: the model's ``P_i`` are independent);
- the SoO gap ``E[A(P, w(P)) - A(P, w(t))] >= 0``, with the bound of Theorem 3, the
  sign-aware bound (proofs/theorem3_soo_bound.md) and the pivotality bound, which charges
  each source only where it can change the decision (proofs/soo_pivotal_bound.md);
- their frequentist counterparts for fixed trustworthiness ``p`` and trust
  estimated from ``m`` observations per source, and the observations needed for
  a regret below a target.
"""

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import TypeGuard, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from ._kernels import gap_profiles, pivotal_bound_profiles, thresholds
from ._stats import beta_mean, first_below
from ._validation import (Number, check_beta_prior, check_choice, check_fraction, check_grid_size, check_instance,
                          check_model_method, check_nonnegative_int, check_positive_int, check_positive_real,
                          check_probabilities,
                          check_reachable, check_same_shape, check_seed, check_weights, renamed)
from .accuracy import accuracy, accuracy_fraction, accuracy_rows
from .trust import BetaTrust, DiscreteTrust, TrustModel
from .voting import TIE_RTOL, bias, log_odds_weights

EXPECTATION_METHODS = ("auto", "exact", "quadrature", "montecarlo", "profiles")
MAX_POINTS = 200_000  # joint support or quadrature points evaluated at once, at most
DEFAULT_DRAWS = 10_000
DEFAULT_ORDER = 8  # Gauss-Jacobi nodes per source
PROFILES_FROM = 26  # sources: from here, "auto" Monte Carlo scores vote profiles instead of exact accuracies
PROFILES_PER_DRAW = 64  # vote profiles scored per draw of P by the "profiles" method
PROFILE_BLOCK = 1 << 21  # draws x sources of P sampled at once by the "profiles" method (16 MB)
PIVOT_LEVELS = 8  # refinement points per source of the pivotality bound: B^(8) <= 2 D_O + B / 256
PIVOT_PROFILES = 16  # vote profiles per draw of P for the pivotality bound


@dataclass(frozen=True)
class Estimate:
    """A value computed by a stability analysis.

    Attributes
    ----------
    value : float or Fraction
        The quantity (a Fraction when computed exactly from a rational model).
    method : str
        ``"exact"``, ``"quadrature"``, ``"montecarlo"`` (over P, exact accuracy per draw) or
        ``"profiles"`` (over P and vote profiles given P).
    stderr : float or None
        Standard error, for Monte Carlo.
    ci_low, ci_high : float or None
        Normal confidence interval at level ``confidence``, for Monte Carlo.
    lower_bound, upper_bound : float or None
        For the SoO gap: 0 (Theorem 2) and ``sum_i E|P_i - t_i|`` (Theorem 3).
    sign_aware_bound : float or None
        For the SoO gap: ``sum_i E[(P_i - t_i)^+ 1{P_i >= 1/2} + (t_i - P_i)^+ 1{P_i < 1/2}]``.
    pivotal_bound, pivotal_bound_stderr : float or None
        For the SoO gap: the pivotality bound ``B^(8)`` (``soo_pivotal_bound``) and its Monte
        Carlo standard error.
    """

    value: float | Fraction
    method: str
    stderr: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    lower_bound: float | None = None
    upper_bound: float | None = None
    sign_aware_bound: float | None = None
    pivotal_bound: float | None = None
    pivotal_bound_stderr: float | None = None

    def __float__(self) -> float:
        return float(self.value)


def _model(model: TrustModel) -> TrustModel:
    return check_instance(model, "model", (BetaTrust, DiscreteTrust), "a BetaTrust or a DiscreteTrust")


def _is_rational(model: TrustModel) -> TypeGuard[DiscreteTrust]:
    return isinstance(model, DiscreteTrust) and all(
        isinstance(x, (int, Fraction)) for xs in model.support + model.probabilities for x in xs)


def _summary(values: NDArray[np.float64], method: str, confidence: float, weights: NDArray[np.float64] | None = None
             ) -> Estimate:
    """Mean of ``values`` (weighted, or Monte Carlo with its standard error and interval)."""
    if weights is not None:
        return Estimate(float(math.fsum(weights * values)), method)
    mean = float(values.mean())
    stderr = float(values.std(ddof=1) / np.sqrt(values.size)) if values.size > 1 else math.inf
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    return Estimate(mean, method, stderr, mean - z * stderr, mean + z * stderr)


def _method(model: TrustModel, method: str, order: int, smooth: bool = True) -> str:
    """The method ``"auto"`` stands for: exact for a small discrete model, quadrature for a Beta model with few
    sources (if the integrand is ``smooth``), else Monte Carlo over P with exact accuracies, or over P and vote
    profiles from ``PROFILES_FROM`` sources."""
    if method != "auto":
        return method
    if isinstance(model, DiscreteTrust) and model.n_joint <= MAX_POINTS:
        return "exact"
    if isinstance(model, BetaTrust) and smooth and order ** model.n_sources <= MAX_POINTS:
        return "quadrature"
    return "montecarlo" if model.n_sources < PROFILES_FROM else "profiles"


def _points(model: TrustModel, method: str, draws: int, seed: int | None, order: int
            ) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
    """(rows of P, their probability weights or None for Monte Carlo) for a method other than "profiles"."""
    if method == "exact":
        model = check_model_method(method, model, DiscreteTrust, "'quadrature', 'montecarlo' or 'profiles'")
        check_grid_size(method, model.n_joint, MAX_POINTS, f"have at most {MAX_POINTS} joint support points",
                        f"the model has {model.n_joint}", "Use method='montecarlo' or 'profiles'.")
        probs, rows = zip(*model.joint())
        return np.array(rows, dtype=float), np.array([float(p) for p in probs])
    if method == "quadrature":
        model = check_model_method(method, model, BetaTrust, "'exact', 'montecarlo' or 'profiles'")
        check_grid_size(method, order ** model.n_sources, MAX_POINTS, f"have order ** n_sources <= {MAX_POINTS}",
                        f"{order} ** {model.n_sources} points", "Use a lower order, method='montecarlo' or 'profiles'.")
        nodes, weights = model.quadrature(order)
        index = np.array(list(itertools.product(range(order), repeat=model.n_sources)))
        cols = np.arange(model.n_sources)
        return nodes[cols, index], np.prod(weights[cols, index], axis=1)
    return model.sample(draws, seed), None


ProfileTerms = Callable[[NDArray[np.float64], np.uint64], NDArray[np.float64]]


def _profile_values(model: TrustModel, terms: ProfileTerms, draws: int, seed: int | None) -> NDArray[np.float64]:
    """Per-draw values ``terms(P, key)`` over ``draws`` draws of P, sampled in blocks of ``PROFILE_BLOCK`` numbers
    from ``np.random.default_rng(seed)``, each block's kernel key drawn from it after the block."""
    rng = np.random.default_rng(seed)
    block = max(1, PROFILE_BLOCK // model.n_sources)
    values = []
    for start in range(0, draws, block):
        p = model.sample(min(block, draws - start), rng)
        values.append(terms(p, rng.integers(0, 2 ** 64, dtype=np.uint64)))
    return np.concatenate(values)


def _gap_profiles(p: NDArray[np.float64], rule: NDArray[np.float64], trust: NDArray[np.float64], prior: float,
                  key: np.uint64) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """The kernel ``gap_profiles`` on rows ``p`` for the weights ``rule`` (one row, or one per row of p) and the
    trust the SoC coupling draws from: per-draw (actual, soc, soo), ``PROFILES_PER_DRAW`` profiles each."""
    return gap_profiles(p, np.ascontiguousarray(np.atleast_2d(rule)), thresholds(trust), bias(prior), prior,
                        TIE_RTOL, PROFILES_PER_DRAW, key)


def _expectation(model: TrustModel, f: Callable[[NDArray[np.float64]], NDArray[np.float64]], method: str, draws: int,
                 seed: int | None, order: int, confidence: float, profile_terms: ProfileTerms, smooth: bool = True
                 ) -> Estimate:
    """The expectation over P of ``f`` (exact accuracies of rows of P), or, by the "profiles" method, of
    ``profile_terms`` (Monte Carlo over vote profiles given each draw)."""
    model = _model(model)
    check_choice(method, "method", EXPECTATION_METHODS)
    draws, order = check_positive_int(draws, "draws"), check_positive_int(order, "order")
    confidence, seed = check_fraction(confidence, "confidence"), check_seed(seed)
    method = _method(model, method, order, smooth)
    if method == "profiles":
        return _summary(_profile_values(model, profile_terms, draws, seed), method, confidence)
    rows, weights = _points(model, method, draws, seed, order)
    return _summary(f(rows), method, confidence, weights)


def _trust(trust: ArrayLike) -> NDArray[np.float64]:
    return check_probabilities(trust, "trust")


def believed_accuracy(model_or_trust: TrustModel | ArrayLike, prior: float = 0.5) -> Estimate:
    """The accuracy the decision maker believes: ``A(t, w(t))`` for its trust ``t``.

    Parameters
    ----------
    model_or_trust : BetaTrust, DiscreteTrust or array_like of shape (n_sources,)
        A trust model (its mean is the trust) or the trust itself.
    prior : float, default=0.5
        Prior probability that the truth is +1.

    Returns
    -------
    Estimate
        ``value``, with ``method="exact"``.

    Examples
    --------
    >>> model = BetaTrust.from_track_record([8, 3, 3], [0, 0, 0])  # trust 0.9, 0.8, 0.8
    >>> round(believed_accuracy(model).value, 12)  # ln 9 < 2 ln 4: the majority of three decides
    0.928
    """
    t = model_or_trust.mean if isinstance(model_or_trust, (BetaTrust, DiscreteTrust)) else _trust(model_or_trust)
    return Estimate(accuracy(t, log_odds_weights(t), prior).value, "exact")


def expected_actual_accuracy(model: TrustModel, weights: ArrayLike | None = None, prior: Number = 0.5, *,
                             method: str = "auto", draws: int = DEFAULT_DRAWS, seed: int | None = None,
                             order: int = DEFAULT_ORDER, confidence: float = 0.95) -> Estimate:
    """``E[A(P, w)]``: the accuracy that a fixed rule really achieves, on average over P.

    Computed from its definition, independently of Theorem 1: exactly over the
    joint support of a discrete model (as a Fraction when the model and the prior
    are rational), by tensor Gauss-Jacobi quadrature for a Beta model with few
    sources, by Monte Carlo over P with the exact accuracy of every draw, or by Monte
    Carlo over P and vote profiles given P, O(n) per profile where an exact accuracy per
    draw, O(2^(n/2)), costs too much.

    Parameters
    ----------
    model : BetaTrust or DiscreteTrust
        The distribution of the trustworthiness P.
    weights : array_like of shape (n_sources,), optional
        The rule; default ``log_odds_weights(model.mean)``, voting on trust.
    prior : float or Fraction, default=0.5
        Prior probability that the truth is +1.
    method : {"auto", "exact", "quadrature", "montecarlo", "profiles"}, default="auto"
        ``"auto"``: exact for a discrete model with at most 200,000 joint support points,
        quadrature for a Beta model when ``order ** n_sources <= 200,000``; otherwise
        ``"montecarlo"`` (exact accuracy per draw of P) below 26 sources and ``"profiles"``
        from 26 sources on (64 vote profiles per draw of P, scored under the rule, and
        for the gaps under the rule at the trust and under the oracle on the same
        random numbers, so differences have small variance). The estimate's
        ``method`` says which was used.
    draws : int, default=10,000
        Monte Carlo draws of P.
    seed : int, optional
        Seed of the Monte Carlo draws.
    order : int, default=8
        Quadrature nodes per source.
    confidence : float, default=0.95
        Level of the Monte Carlo confidence interval.

    Returns
    -------
    Estimate
        ``value``, ``method`` and, for Monte Carlo, ``stderr`` and the interval.

    Examples
    --------
    >>> from fractions import Fraction as F
    >>> model = DiscreteTrust([[F(1, 2), F(1)], [F(3, 4)], [F(3, 5)]], [[F(1, 2)] * 2, [F(1)], [F(1)]])
    >>> expected_actual_accuracy(model).value  # = A(t, w(t)) = 9/16 + (6/16)(3/5): Theorem 1
    Fraction(63, 80)
    """
    model = _model(model)
    w = log_odds_weights(model.mean) if weights is None else check_weights(weights, model.n_sources, like="the model")
    check_fraction(prior, "prior")
    if method in ("auto", "exact") and _is_rational(model) and model.n_joint <= MAX_POINTS:
        prior = Fraction(prior)  # a float prior is a dyadic rational: exact too
        return Estimate(sum((p * accuracy_fraction(point, w, prior) for p, point in model.joint()), Fraction(0)),
                        "exact")
    prior = float(prior)
    return _expectation(model, lambda rows: accuracy_rows(rows, np.broadcast_to(w, rows.shape), prior),
                        method, draws, seed, order, confidence,
                        lambda p, key: _gap_profiles(p, w, model.mean, prior, key)[0])


def soc_gap(model: TrustModel, trust: ArrayLike | None = None, prior: float = 0.5, *, method: str = "auto",
            draws: int = DEFAULT_DRAWS, seed: int | None = None, order: int = DEFAULT_ORDER, confidence: float = 0.95
            ) -> Estimate:
    """Stability-of-correctness gap ``E[A(P, w(t))] - A(t, w(t))``: actual minus believed accuracy.

    Zero for unbiased trust, the model's ``P_i`` being independent given what the decision
    maker knows, with means ``t`` (Theorem 1, proofs/theorem1_soc.md). Passing a biased
    ``trust`` (e.g. ``tempered_trust(model.mean, 2)``) shows the gap it opens.

    Parameters
    ----------
    model : BetaTrust or DiscreteTrust
        The distribution of the trustworthiness P given what the decision maker knows.
    trust : array_like of shape (n_sources,), optional
        The trust the decision maker votes on and believes; default ``model.mean``.
    prior, method, draws, seed, order, confidence : see ``expected_actual_accuracy``

    Returns
    -------
    Estimate

    Examples
    --------
    >>> model = BetaTrust.from_track_record([16, 14, 12], [4, 6, 8])
    >>> abs(soc_gap(model).value) < 1e-12  # quadrature: exact for this multi-affine integrand
    True
    """
    model, prior = _model(model), check_fraction(prior, "prior")
    t = model.mean if trust is None else _trust(trust)
    check_same_shape(t, (model.n_sources,), "trust", "have one entry per source, like the model",
                     f"trust has shape {t.shape} but the model has {model.n_sources} sources")
    w = log_odds_weights(t)

    def gap(rows: NDArray[np.float64]) -> NDArray[np.float64]:  # the profiles never need the believed accuracy
        return accuracy_rows(rows, np.broadcast_to(w, rows.shape), prior) - accuracy(t, w, prior).value

    return _expectation(model, gap, method, draws, seed, order, confidence,
                        lambda p, key: _gap_profiles(p, w, t, prior, key)[1])


def soo_bounds(model: TrustModel) -> tuple[float, float]:
    """Upper bounds on the SoO gap: (Theorem 3 ``sum E|P_i - t_i|``, the tighter sign-aware bound).

    Parameters
    ----------
    model : BetaTrust or DiscreteTrust
        The distribution of the trustworthiness P.

    Returns
    -------
    (float, float)
        ``sum_i E|P_i - t_i|`` and ``sum_i E[(P_i - t_i)^+ 1{P_i >= 1/2} + (t_i - P_i)^+ 1{P_i < 1/2}]``.

    Examples
    --------
    >>> theorem3, sign_aware = soo_bounds(BetaTrust([16.0, 9.0], [4.0, 11.0]))
    >>> bool(0 < sign_aware < theorem3)
    True
    """
    model = _model(model)
    return float(model.mad.sum()), float(model.sign_aware_mad.sum())


def soo_gap(model: TrustModel, prior: float = 0.5, *, method: str = "auto", draws: int = DEFAULT_DRAWS,
            seed: int | None = None, order: int = DEFAULT_ORDER, confidence: float = 0.95,
            pivotal_bound: bool = True) -> Estimate:
    """Stability-of-optimality gap ``E[A(P, w(P)) - A(P, w(t))]``: what knowing P would add.

    The expected value of perfect information about the trustworthiness; equal to
    ``E[A*(P)] - A*(t)`` by Theorem 1. With exact accuracies (methods other than
    ``"profiles"``) each draw's term is the accuracy of the oracle rule minus that of
    the trust rule on the same P, so every term is >= 0 (Theorem 2) up to the tie
    tolerance; with ``"profiles"`` it is the oracle's credit minus the rule's on the
    same vote profiles, >= 0 only on average. On a near tie of the oracle's weights
    (``0 < |S| <= TIE_RTOL * (sum |w_i(P)| + |b|)``) the oracle tosses a coin where the
    Bayes rule would decide, which can make a term negative by at most a quarter of that
    tolerance (proofs/theorem2_soo_nonnegative.md, "The tie tolerance"). The Monte Carlo
    variance is small. Reported with its bounds: 0 (exact ties), the pivotality bound
    ``B^(8)`` (``soo_pivotal_bound``, by Monte Carlo on ``draws`` draws of its own), the
    sign-aware bound and Theorem 3's ``sum_i E|P_i - t_i|`` (with the tolerance, each upper
    bound plus at most ``TIE_RTOL * (sum |w_i(t)| + |b|) / 4``, the pivotality bound plus that
    once per refinement point: proofs/soo_pivotal_bound.md).

    Parameters
    ----------
    model : BetaTrust or DiscreteTrust
        The distribution of the trustworthiness P.
    prior, method, draws, seed, order, confidence : see ``expected_actual_accuracy``
        Except that ``"auto"`` never chooses quadrature (the integrand is not smooth, so
        quadrature gives no error estimate; ask for it with ``method="quadrature"``).
    pivotal_bound : bool, default=True
        Estimate the pivotality bound too (``soo_pivotal_bound``, on ``draws`` draws); its
        Monte Carlo costs about as much as the gap's by vote profiles. False leaves the
        estimate's ``pivotal_bound`` None.

    Returns
    -------
    Estimate
        With ``lower_bound``, ``pivotal_bound`` (and its ``pivotal_bound_stderr``),
        ``sign_aware_bound`` and ``upper_bound``.

    Examples
    --------
    >>> model = BetaTrust.from_track_record([16, 14, 12, 11, 10], [4, 6, 8, 9, 10])
    >>> gap = soo_gap(model, draws=4000, seed=0)
    >>> bool(0 <= gap.ci_low <= gap.value <= gap.upper_bound), gap.method
    (True, 'montecarlo')
    """
    model, prior = _model(model), check_fraction(prior, "prior")
    w = log_odds_weights(model.mean)

    def gain(rows: NDArray[np.float64]) -> NDArray[np.float64]:
        return accuracy_rows(rows, log_odds_weights(rows.ravel()).reshape(rows.shape), prior) \
            - accuracy_rows(rows, np.broadcast_to(w, rows.shape), prior)

    est = _expectation(model, gain, method, draws, seed, order, confidence,
                       lambda p, key: _gap_profiles(p, w, model.mean, prior, key)[2], smooth=False)
    theorem3, sign_aware = soo_bounds(model)
    pivotal = soo_pivotal_bound(model, prior, draws=draws, seed=seed, confidence=confidence) if pivotal_bound else None
    ci_low = None if est.ci_low is None else max(est.ci_low, 0.0)  # every term is >= 0 up to the tie tolerance (< 1e-12)
    return Estimate(est.value, est.method, est.stderr, ci_low, est.ci_high, 0.0, theorem3, sign_aware,
                    None if pivotal is None else float(pivotal), None if pivotal is None else pivotal.stderr)


def soo_pivotal_bound(model: TrustModel, prior: float = 0.5, *, levels: int = PIVOT_LEVELS,
                      draws: int = DEFAULT_DRAWS, seed: int | None = None, confidence: float = 0.95) -> Estimate:
    """The pivotality bound on the SoO gap: each source charged only where it can change the decision.

    Replacing the trust by the trustworthiness one source at a time, in order, with
    ``Q^(k) = (P_1..P_k, t_(k+1)..t_n)``, and using that the oracle's accuracy is convex in
    each coordinate, ``D_O <= B = sum_k E[(P_k - t_k)(h_k(P_k) - h_k(t_k))]``, where ``h_k(x)``
    is the signed probability that source ``k`` is pivotal for the oracle's rule at ``Q^(k)``
    with ``P_k`` replaced by ``x``: it pays only when the other sources' margin falls between
    ``w(t_k)`` and ``w(P_k)``. ``B`` is at most the sign-aware bound (Theorem 3'). With
    ``levels=m`` each step from ``t_k`` to ``P_k`` is cut at ``m`` points closing in on
    ``P_k`` geometrically, and the refined ``B^(m)`` lies between the gap and
    ``min(B, 2 D_O + 2**-m B)`` (the second when every ``P_i`` is in (0, 1), as for Beta
    trust): proofs/soo_pivotal_bound.md, Theorem P and Proposition R. On every panel of
    simulation (b), ``B^(8)`` is 1.0 to 1.7 times the gap.

    Assumes, as Theorem 3 does, independent ``P_i`` with means ``t_i``. Estimated by Monte
    Carlo over P and 16 vote profiles per draw (O(n (m + 2)) per profile, the streams as in
    ``soo_gap``'s ``"profiles"`` method), so the bound holds for the estimate only up to its
    own standard error.

    Parameters
    ----------
    model : BetaTrust or DiscreteTrust
        The distribution of the trustworthiness P.
    prior : float, default=0.5
        Prior probability that the truth is +1.
    levels : int, default=8
        Refinement points per source, m >= 0; 0 gives ``B``.
    draws, seed, confidence : see ``expected_actual_accuracy``

    Returns
    -------
    Estimate
        ``value``, ``stderr`` and the interval; ``method="profiles"``.

    Examples
    --------
    >>> model = BetaTrust.from_track_record([12, 9, 7, 8, 10], [3, 5, 6, 4, 5])
    >>> gap = soo_gap(model, draws=4000, seed=1)
    >>> bound = soo_pivotal_bound(model, levels=0, draws=4000, seed=1).value
    >>> bool(gap.value < gap.pivotal_bound < bound < gap.sign_aware_bound / 3)
    True
    """
    model, prior = _model(model), check_fraction(prior, "prior")
    levels, draws = check_nonnegative_int(levels, "levels"), check_positive_int(draws, "draws")
    confidence, t = check_fraction(confidence, "confidence"), model.mean
    values = _profile_values(model, lambda p, key: pivotal_bound_profiles(
        p, t, bias(prior), prior, TIE_RTOL, PIVOT_PROFILES, key, levels), draws, check_seed(seed))
    return _summary(values, "profiles", confidence)


class _GapCurve:
    """The expected SoO gap after m more observations per source, on one set of random numbers for every m.

    P is drawn from the model and a uniform U per source and draw; the record after m
    observations is the U-quantile of Binomial(m, P), so records grow with m and the gaps
    of different m are estimated on the same draws (common random numbers). Below
    ``PROFILES_FROM`` sources each draw's gap is exact; from there on it is scored on vote
    profiles given P, the same profiles for every m.
    """

    def __init__(self, model: TrustModel, prior: float, draws: int, seed: int | None, confidence: float) -> None:
        rng = np.random.default_rng(seed)
        self.model, self.prior, self.confidence = model, prior, confidence
        self.p = model.sample(draws, rng)  # the draws of soo_gap with this seed
        self.u = 1.0 - rng.random(self.p.shape)  # in (0, 1]: the quantile 0 of a binomial would be -1
        self.method = "montecarlo" if model.n_sources < PROFILES_FROM else "profiles"
        if self.method == "profiles":
            self.key = rng.integers(0, 2 ** 64, dtype=np.uint64)
        else:
            self.oracle = accuracy_rows(self.p, log_odds_weights(self.p.ravel()).reshape(self.p.shape), prior)
        self.cache: dict[int, Estimate] = {}

    def __call__(self, m: int) -> Estimate:
        if m not in self.cache:
            k = stats.binom.ppf(self.u, m, self.p)
            t = self.model.posterior_mean(k, m)
            rules = log_odds_weights(t.ravel()).reshape(t.shape)
            if self.method == "profiles":
                gaps = _gap_profiles(self.p, rules, self.model.mean, self.prior, self.key)[2]
            else:
                gaps = self.oracle - accuracy_rows(self.p, rules, self.prior)
            self.cache[m] = _summary(gaps, self.method, self.confidence)
        return self.cache[m]


def planned_soo_gap(model: TrustModel, observations: int, prior: float = 0.5, *, draws: int = DEFAULT_DRAWS,
                    seed: int | None = None, confidence: float = 0.95) -> Estimate:
    """The expected SoO gap after ``observations`` more gold observations per source.

    ``E[A(P, w(P)) - A(P, w(T_m))]`` with ``P`` drawn from the model (the prior, before the
    observations), ``K_i ~ Binomial(m, P_i)`` the new records and ``T_m = E[P | K]`` the
    trust after them (``model.posterior_mean``): what voting on trust will still cost once
    the gold is collected. By Monte Carlo over P and the records, with the exact accuracy of
    each draw below 26 sources (at ``observations=0`` it is then ``soo_gap`` on the same
    draws) and from 26 sources on over 64 vote profiles per draw, the same profiles for
    every m, scored under both rules (``method="profiles"``). It never increases
    with m in expectation: the records of m + 1 observations tell more than those of m, and
    ``w(T_m)`` is the Bayes rule given them (Theorems 1 and 2).

    Parameters
    ----------
    model : BetaTrust or DiscreteTrust
        What is known of the trustworthiness before the new observations.
    observations : int
        New gold observations per source, m >= 0.
    prior : float, default=0.5
        Prior probability that the truth is +1.
    draws : int, default=10,000
        Monte Carlo draws of (P, records).
    seed : int, optional
        Seed of the draws.
    confidence : float, default=0.95
        Level of the confidence interval.

    Returns
    -------
    Estimate
        ``value``, ``stderr`` and the interval, ``method="montecarlo"`` or ``"profiles"``.

    Examples
    --------
    >>> model = BetaTrust([1.0] * 5, [1.0] * 5)  # five sources, nothing known yet
    >>> now, later = (planned_soo_gap(model, m, draws=4000, seed=0).value for m in (0, 20))
    >>> bool(later < now / 2), abs(now - soo_gap(model, draws=4000, seed=0).value) < 1e-15
    (True, True)
    """
    model, prior = _model(model), check_fraction(prior, "prior")
    m = check_nonnegative_int(observations, "observations")
    draws, confidence = check_positive_int(draws, "draws"), check_fraction(confidence, "confidence")
    return _GapCurve(model, prior, draws, check_seed(seed), confidence)(m)


ESTIMATORS = ("mean", "mle")


def _frequentist(p: ArrayLike, observations: int, estimator: str, beta_prior: tuple[float, float], draws: int,
                 seed: int | None, confidence: float, which: str) -> Estimate:
    """E over the track records K_i ~ Binomial(m, p_i) of believed - actual, or of the regret."""
    p = check_probabilities(p, "p")
    m = check_positive_int(observations, "observations")
    check_choice(estimator, "estimator", ESTIMATORS)
    a0, b0 = check_beta_prior(beta_prior)
    draws, confidence = check_positive_int(draws, "draws"), check_fraction(confidence, "confidence")
    if (m + 1) ** p.size <= MAX_POINTS:  # every joint outcome, weighted by its binomial probability
        k = np.array(list(itertools.product(range(m + 1), repeat=p.size)), dtype=float)
        weights, method = np.prod(stats.binom.pmf(k, m, p), axis=1), "exact"
    else:
        k = np.random.default_rng(check_seed(seed)).binomial(m, p, size=(draws, p.size)).astype(float)
        weights, method = None, "montecarlo"
    t = beta_mean(k, m, (a0, b0)) if estimator == "mean" else k / m
    w = log_odds_weights(t.ravel()).reshape(t.shape)
    actual = accuracy_rows(np.broadcast_to(p, t.shape), w)
    other = accuracy_rows(t, w) if which == "soc" else accuracy(p, log_odds_weights(p)).value
    return _summary(other - actual, method, confidence, weights)


def frequentist_soc_gap(p: ArrayLike, observations: int, *, estimator: str = "mean",
                        beta_prior: tuple[float, float] = (1, 1), draws: int = DEFAULT_DRAWS, seed: int | None = None,
                        confidence: float = 0.95, prior: tuple[float, float] | None = None) -> Estimate:
    """``E_T[A(T, w(T)) - A(p, w(T))]``: believed minus actual accuracy for fixed trustworthiness ``p``.

    The frequentist reading: ``p`` is fixed and the trust ``T`` is estimated from
    ``m`` observations per source (``K_i ~ Binomial(m, p_i)``). Theorem 1 does not
    apply; the gap is not zero in general (proofs/soc_necessary_conditions.md).
    Summed exactly over all ``(m + 1) ** n`` outcomes when there are at most 200,000,
    by Monte Carlo otherwise.

    Parameters
    ----------
    p : array_like of shape (n_sources,)
        Fixed trustworthiness.
    observations : int
        Gold observations per source, m >= 1.
    estimator : {"mean", "mle"}, default="mean"
        ``"mean"``: the Beta posterior mean ``(K + a0) / (m + a0 + b0)``; ``"mle"``: ``K / m``.
    beta_prior : (float, float), default=(1, 1)
        The Beta prior of the ``"mean"`` estimator.
    draws : int, default=10,000
        Monte Carlo draws of the track records.
    seed : int, optional
        Their seed.
    confidence : float, default=0.95
        Level of the Monte Carlo confidence interval.
    prior : (float, float), optional
        The former name of ``beta_prior``, accepted until the next release (FutureWarning).

    Returns
    -------
    Estimate

    Examples
    --------
    >>> frequentist_soc_gap([0.5], 2, estimator="mle").value  # E|K/2 - 1/2| for K ~ Binomial(2, 1/2)
    0.25
    """
    return _frequentist(p, observations, estimator, renamed(beta_prior, prior, "beta_prior", "prior"), draws, seed,
                        confidence, "soc")


def expected_regret(p: ArrayLike, observations: int, *, estimator: str = "mean",
                    beta_prior: tuple[float, float] = (1, 1), draws: int = DEFAULT_DRAWS, seed: int | None = None,
                    confidence: float = 0.95, prior: tuple[float, float] | None = None) -> Estimate:
    """``E_T[A(p, w(p)) - A(p, w(T))]``: accuracy lost by voting on trust learned from ``m`` observations.

    Computed as ``frequentist_soc_gap``: exactly over all outcomes when few, by Monte Carlo otherwise.

    Parameters
    ----------
    p : array_like of shape (n_sources,)
        Fixed trustworthiness.
    observations : int
        Gold observations per source, m >= 1.
    estimator, beta_prior, draws, seed, confidence, prior : see ``frequentist_soc_gap``

    Returns
    -------
    Estimate

    Examples
    --------
    >>> regret = expected_regret([0.8, 0.7, 0.6], 5)
    >>> regret.method, bool(0 < regret.value < 0.1)
    ('exact', True)
    """
    return _frequentist(p, observations, estimator, renamed(beta_prior, prior, "beta_prior", "prior"), draws, seed,
                        confidence, "regret")


@dataclass(frozen=True)
class ObservationsNeeded:
    """The result of ``observations_needed``.

    Attributes
    ----------
    observations : int
        Gold observations per source: the fewest with the criterion below ``epsilon``.
    value : float
        The criterion at that number of observations.
    criterion : str
        ``"expected gap"`` or ``"theorem 3 bound"`` (a prior), ``"regret"`` (fixed trustworthiness).
    epsilon : float
        The target.
    stderr : float or None
        Standard error of ``value``, for Monte Carlo.
    low, high : int or None
        For Monte Carlo, the answer at the two ends of the confidence interval: the fewest
        observations whose interval's lower end, and whose upper end, is below ``epsilon``
        (``high`` None when that is not reached within ``max_observations``).
    """

    observations: int
    value: float
    criterion: str
    epsilon: float
    stderr: float | None = None
    low: int | None = None
    high: int | None = None


PLANNING_CRITERIA = ("expected gap", "theorem 3 bound")


def _expected_posterior_mad(model: BetaTrust, m: int) -> float:
    """sum_i E_K[E|P_i - t_i| after m more observations], K ~ BetaBinomial(m, alpha_i, beta_i)."""
    k = np.arange(m + 1)[:, None]
    pmf = stats.betabinom.pmf(k, m, model.alpha, model.beta)
    return float((pmf * BetaTrust((model.alpha + k).ravel(), (model.beta + m - k).ravel())
                  .mad.reshape(pmf.shape)).sum())


def _or(end: float | None, value: float | Fraction) -> float | Fraction:
    return value if end is None else end


def observations_needed(p_or_prior: ArrayLike | TrustModel, epsilon: float, *, criterion: str | None = None,
                        max_observations: int = 100_000, estimator: str = "mean", draws: int | None = None,
                        seed: int | None = 0, confidence: float = 0.95) -> ObservationsNeeded:
    """The fewest gold observations per source that bring the loss below ``epsilon``.

    - Given a prior (a ``BetaTrust`` or ``DiscreteTrust`` describing the sources before the
      observations), by default the expected SoO gap itself after m observations
      (``planned_soo_gap``: Monte Carlo with the exact accuracy of every draw, one set of
      random numbers for every m); ``criterion="theorem 3 bound"`` uses the expected
      Theorem 3 bound ``sum_i E[E|P_i - t_i| | K_i]`` instead (``K_i`` Beta-binomial,
      exactly; a ``BetaTrust`` only), which is far larger than the gap and asks for far
      more observations.
    - Given fixed trustworthiness ``p`` (an array): the expected regret
      ``E[A(p, w(p)) - A(p, w(T_m))]`` (``expected_regret``: exact over all records when
      few, Monte Carlo with one seed for every m otherwise).

    The search doubles m until the criterion is below ``epsilon``, then bisects between
    the last two values tried: it returns an m with the criterion below ``epsilon`` at m and
    not at m - 1, the smallest such m when the criterion decreases with m (the expected gap
    does; the regret of small m can wobble with its parity). For Monte Carlo the same
    search on the two ends of the confidence interval gives ``low`` and ``high``.

    Parameters
    ----------
    p_or_prior : array_like of shape (n_sources,), BetaTrust or DiscreteTrust
    epsilon : float
        The target, > 0.
    criterion : {"expected gap", "theorem 3 bound"}, optional
        For a prior; default ``"expected gap"``. For fixed ``p`` the criterion is the regret.
    max_observations : int, default=100,000
        Give up beyond this.
    estimator : {"mean", "mle"}, default="mean"
        The trust estimator of the regret (see ``expected_regret``).
    draws : int, optional
        Monte Carlo draws: default 10,000 for the expected gap, 2,000 for the regret.
    seed : int, default=0
        Seed of the Monte Carlo draws.
    confidence : float, default=0.95
        Level of the interval behind ``low`` and ``high``.

    Returns
    -------
    ObservationsNeeded

    Examples
    --------
    >>> prior = BetaTrust([1.0] * 5, [1.0] * 5)  # five sources, nothing known yet
    >>> needed = observations_needed(prior, 0.01, draws=4000)
    >>> needed.criterion, needed.low <= needed.observations <= needed.high, needed.value < 0.01
    ('expected gap', True, True)
    >>> observations_needed(prior, 0.01, criterion="theorem 3 bound").observations > 100 * needed.observations
    True
    """
    epsilon = check_positive_real(epsilon, "epsilon")
    max_observations = check_positive_int(max_observations, "max_observations")
    confidence = check_fraction(confidence, "confidence")
    if isinstance(p_or_prior, (BetaTrust, DiscreteTrust)):
        criterion = check_choice("expected gap" if criterion is None else criterion, "criterion", PLANNING_CRITERIA)
        if criterion == "theorem 3 bound":
            model = cast(BetaTrust, check_instance(p_or_prior, "p_or_prior", BetaTrust,  # checked just now
                                                   "a BetaTrust for criterion='theorem 3 bound'"))
            curve: Callable[[int], Estimate] = lambda m: Estimate(_expected_posterior_mad(model, m), "exact")
        else:
            draws = check_positive_int(DEFAULT_DRAWS if draws is None else draws, "draws")
            curve = _GapCurve(p_or_prior, 0.5, draws, check_seed(seed), confidence)
    else:
        check_probabilities(p_or_prior, "p")
        criterion = check_choice("regret" if criterion is None else criterion, "criterion", ("regret",))
        draws = 2_000 if draws is None else draws
        curve = lambda m: expected_regret(p_or_prior, m, estimator=estimator, draws=draws, seed=seed,
                                          confidence=confidence)
    m = check_reachable(first_below(lambda m: float(curve(m).value), epsilon, max_observations), max_observations,
                        lambda m: float(curve(m).value), criterion)
    at = curve(m)
    if at.stderr is None:
        return ObservationsNeeded(m, float(at.value), criterion, epsilon)
    # an exact value (the regret of few records) is its own interval
    low = first_below(lambda m: float(_or(curve(m).ci_low, curve(m).value)), epsilon, max_observations)
    high = first_below(lambda m: float(_or(curve(m).ci_high, curve(m).value)), epsilon, max_observations)
    return ObservationsNeeded(m, float(at.value), criterion, epsilon, at.stderr, low, high)
