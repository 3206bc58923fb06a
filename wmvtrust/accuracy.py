"""Accuracy of weighted majority voting: exact, certified and Monte Carlo.

For trustworthiness ``q`` and weights ``w``, the accuracy ``A(q, w)`` is the
probability that the rule decides the truth, a tie earning 1/2 (docs/design.md,
section 3). Sources with infinite weight are split off first: their signed
count decides when it is not zero, so only the finite-weight sources reach the
kernels, once for each sign of the bias.
"""

import itertools
import math
import sys
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Self, cast, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _kernels as kn
from ._stats import wilson
from ._validation import (Number, check_at_most_sources, check_bounds_options, check_choice, check_exact_method,
                          check_fraction, check_lattice_size, check_positive_int, check_probabilities, check_seed,
                          check_weights)
from .voting import TIE_RTOL, bias, decide, tie_tolerance

METHODS = ("auto", "enumerate", "mitm", "lattice", "bounds")
MAX_SOURCES = {"enumerate": 30, "mitm": 52}  # mitm at n = 52 holds about 4.8 GB
MITM_PARALLEL_FROM = 28  # below, one thread: a fork and join costs more than it saves
LATTICE_MAX_SUPPORT = 1 << 26  # lattice points: the dynamic program holds two float64 buffers
LATTICE_MAX_DENOMINATOR = 64  # lattice steps tried: min |w| / k for k = 1..64
BOUNDS_START_RESOLUTION = 256
BOUNDS_MAX_WORK = 4e9  # sources x lattice points for the certified interval (a few seconds)


@dataclass(frozen=True)
class Accuracy:
    """An exact or certified accuracy.

    Attributes
    ----------
    value : float
        The accuracy; for ``method="bounds"`` the midpoint of the interval.
    method : str
        The algorithm that computed it.
    lower, upper : float or None
        For ``method="bounds"``, an interval that provably contains the accuracy;
        None for the exact methods.
    """

    value: float
    method: str
    lower: float | None = None
    upper: float | None = None

    def __float__(self) -> float:
        return self.value


@dataclass(frozen=True)
class MonteCarloAccuracy:
    """A Monte Carlo estimate of the accuracy.

    Attributes
    ----------
    value : float
        Mean credit over the trials (1 correct, 1/2 tie, 0 wrong, averaged over the truth).
    stderr : float
        Standard error of ``value``.
    ci_low, ci_high : float
        Wilson score interval at level ``confidence``; conservative for any credit in [0, 1].
    trials : int
        Number of simulated profiles.
    seed : int
        The seed that reproduces this estimate (drawn from the OS when none was given).
    confidence : float
        Level of the interval.
    """

    value: float
    stderr: float
    ci_low: float
    ci_high: float
    trials: int
    seed: int
    confidence: float

    def __float__(self) -> float:
        return self.value


@dataclass(frozen=True)
class _Panel:
    """A validated panel: finite-weight sources, and what the infinite ones decide."""

    q: NDArray[np.float64]  # trustworthiness of the finite-weight sources
    w: NDArray[np.float64]  # their weights
    q_inf: NDArray[np.float64]  # trustworthiness of the infinite-weight sources
    sign_inf: NDArray[np.float64]  # the signs of their weights
    prior: float
    bias: float
    tol: float

    @classmethod
    def build(cls, q: ArrayLike, weights: ArrayLike, prior: float) -> Self:
        q = check_probabilities(q, "q")
        w = check_weights(weights, q.size)
        prior = check_fraction(prior, "prior")
        finite = np.isfinite(w)
        b = bias(prior)
        return cls(np.ascontiguousarray(q[finite]), np.ascontiguousarray(w[finite]),
                   np.ascontiguousarray(q[~finite]), np.sign(w[~finite]),
                   prior, b, tie_tolerance(w[finite], b))

    @overload
    def combine(self, conditional: Callable[[float], float]) -> float: ...
    @overload
    def combine(self, conditional: Callable[[float], NDArray[np.float64]]) -> NDArray[np.float64]: ...

    def combine(self, conditional: Callable[[float], float | NDArray[np.float64]]) -> float | NDArray[np.float64]:
        """Accuracy from ``conditional(offset)``, the finite part's accuracy with bias ``offset``.

        ``conditional`` may return a scalar or an array (e.g. a [lower, upper] pair).
        """
        up = np.asarray(conditional(self.bias))
        down = up if self.bias == 0.0 else np.asarray(conditional(-self.bias))
        finite_part = self.prior * up + (1.0 - self.prior) * down
        m = self.q_inf.size
        if m == 0:
            return finite_part
        # the signed count K of infinite-weight votes: U of them point to the truth, K = 2U - m
        pmf = kn.lattice_pmf(np.ones(m, dtype=np.int64), _positive_side(self.q_inf, self.sign_inf))
        tie = float(pmf[m // 2]) if m % 2 == 0 else 0.0
        return float(pmf[m // 2 + 1:].sum()) + tie * finite_part


def _lattice(w: NDArray[np.float64]) -> tuple[float, NDArray[np.int64]] | None:
    """(step, steps) with |w| = step * steps exactly enough to keep every tie, or None.

    Exactly enough: the rounding sum_i ||w_i| - step * steps_i| is under a tenth of
    the tie tolerance, so the lattice classifies every profile as the others do.
    The steps tried are min |w| / k for k = 1..LATTICE_MAX_DENOMINATOR.
    """
    a = np.abs(w)
    if not a.any():
        return 1.0, np.zeros(a.size, dtype=np.int64)
    k = kn.lattice_step(a, LATTICE_MAX_DENOMINATOR, LATTICE_MAX_SUPPORT, 0.1 * TIE_RTOL)
    if k == 0:
        return None
    step = a[a > 0].min() / k
    return step, np.rint(a / step).astype(np.int64)


def _positive_side(q: NDArray[np.float64], w: NDArray[np.float64]) -> NDArray[np.float64]:
    """Probability that each source adds +|w_i| to the weighted sum."""
    return np.where(w >= 0.0, q, 1.0 - q)


def _lattice_conditional(q: NDArray[np.float64], w: NDArray[np.float64], step: float, steps: NDArray[np.int64],
                         tol: float) -> Callable[[float], float]:
    pmf = kn.lattice_pmf(steps, _positive_side(q, w))
    return lambda offset: kn.lattice_accuracy(pmf, step, offset, tol)


def _exact_costs(panel: _Panel) -> tuple[dict[str, float], tuple[float, NDArray[np.int64]] | None]:
    """Estimated cost of each exact method that applies, and the lattice if there is one."""
    n = panel.q.size
    lattice = _lattice(panel.w)
    costs = {}
    if n <= MAX_SOURCES["enumerate"]:
        costs["enumerate"] = 2.0**n
    if n <= MAX_SOURCES["mitm"]:
        costs["mitm"] = 40.0 * 2.0 ** (n / 2) + 3e4  # + the parallel kernel's fork and join
    if lattice is not None:
        costs["lattice"] = n * (lattice[1].sum() + 1.0) / 2
    return costs, lattice


def _bounds(panel: _Panel, resolution: int | None, width: float) -> tuple[float, float]:
    """Certified [lower, upper]: round the weights to a lattice and bound the rounding's effect.

    With ``|w_i| = step * steps_i + e_i``, the weighted sum of a profile is
    ``step * (2U - M) + E`` where ``E = sum_i ±e_i``; the dynamic program tracks the
    range of ``E`` among the profiles of each ``U``, and ``g`` is monotone, so
    evaluating ``g`` at both ends of the range bounds every profile's credit.
    """
    q, w = panel.q, panel.w
    largest = float(np.abs(w).max(initial=0.0))
    slack = 4.0 * (q.size + 1) * sys.float_info.epsilon  # the dynamic program's own rounding
    res = resolution or BOUNDS_START_RESOLUTION
    best_lo, best_hi = 0.0, 1.0  # each interval is certified, so their intersection is too
    while True:
        step = largest / res if largest > 0 else 1.0
        steps = np.rint(np.abs(w) / step).astype(np.int64)
        check_lattice_size(int(steps.sum()), res, LATTICE_MAX_SUPPORT)
        ranges = kn.lattice_pmf_ranges(steps, np.abs(w) - step * steps, _positive_side(q, w))
        lo, hi = panel.combine(lambda offset: np.array(kn.lattice_interval(*ranges, step, offset, panel.tol)))
        lo, hi = max(best_lo, float(lo) - slack), min(best_hi, float(hi) + slack)  # A lies in [0, 1]
        if resolution is not None or hi - lo <= width:
            return lo, hi
        if q.size * (2 * steps.sum() + 1) > BOUNDS_MAX_WORK:
            warnings.warn(f"method='bounds' reached width {hi - lo:.3g}, not the requested {width:.3g}, "
                          f"within its budget (resolution {res}); pass a larger width or a resolution.",
                          RuntimeWarning, stacklevel=3)
            return lo, hi
        best_lo, best_hi = lo, hi
        res *= 2


def accuracy(q: ArrayLike, weights: ArrayLike, prior: float = 0.5, method: str = "auto", *,
             resolution: int | None = None, width: float | None = None) -> Accuracy:
    """Probability that weighted majority voting decides correctly.

    ``A(q, w) = sum over correctness profiles c of P(c) g(sum_i w_i (2 c_i - 1) + b)``
    with ``g`` = 1, 1/2, 0 for a correct decision, a tie and a wrong one, averaged over
    the truth drawn from the prior (bias ``b = ±ln(prior / (1 - prior))``).

    Parameters
    ----------
    q : array_like of shape (n_sources,)
        Trustworthiness: probability that each source reports the truth.
    weights : array_like of shape (n_sources,)
        Vote weights, e.g. ``log_odds_weights(t)`` for trust ``t``; ``±inf`` allowed.
    prior : float, default=0.5
        Prior probability that the truth is +1, in (0, 1).
    method : {"auto", "enumerate", "mitm", "lattice", "bounds"}, default="auto"
        ``"enumerate"``: all 2**n profiles (n <= 30). ``"mitm"``: meet-in-the-middle
        (n <= 52). ``"lattice"``: dynamic program, exact when the weights are integer
        multiples of one step (majority voting, integer weights). ``"bounds"``: a
        certified interval for any n. ``"auto"``: the cheapest exact method that applies.
    resolution : int, optional
        For ``"bounds"``: lattice points per largest weight.
    width : float, optional
        For ``"bounds"``: the interval width to reach by doubling the resolution
        (default 1e-6 when no resolution is given).

    Returns
    -------
    Accuracy
        ``value``, ``method`` and, for ``"bounds"``, ``lower <= A <= upper``.

    Examples
    --------
    >>> from wmvtrust import log_odds_weights
    >>> acc = accuracy([0.9, 0.6, 0.6], log_odds_weights([0.9, 0.6, 0.6]))
    >>> round(acc.value, 12), acc.method  # the 0.9 source outvotes the other two
    (0.9, 'enumerate')
    >>> round(accuracy([0.7] * 1001, [1.0] * 1001).value, 12)  # majority of 1001
    1.0
    >>> acc = accuracy([0.7, 0.6, 0.8, 0.55], [0.9, 0.4, 1.3, 0.2], method="bounds", resolution=64)
    >>> acc.lower <= accuracy([0.7, 0.6, 0.8, 0.55], [0.9, 0.4, 1.3, 0.2]).value <= acc.upper
    True
    """
    panel = _Panel.build(q, weights, prior)
    check_choice(method, "method", METHODS)
    resolution, width = check_bounds_options(method, resolution, width)
    if method == "bounds":
        width = 1e-6 if width is None else width
        lo, hi = _bounds(panel, resolution, width)
        return Accuracy(0.5 * (lo + hi), "bounds", lo, hi)
    costs, lattice = _exact_costs(panel)
    if method == "auto" and costs:
        method = min(costs, key=costs.__getitem__)  # as costs.get, typed as a sort key
    check_exact_method(method, panel.q.size, costs, MAX_SOURCES, LATTICE_MAX_SUPPORT)
    q, w, tol = panel.q, panel.w, panel.tol
    if method == "lattice":
        assert lattice is not None  # check_exact_method passed: 'lattice' is in costs only with a lattice
        conditional = _lattice_conditional(q, w, *lattice, tol)
    else:
        kernel = {"enumerate": kn.accuracy_enumerate,
                  "mitm": kn.accuracy_mitm if q.size >= MITM_PARALLEL_FROM else kn.accuracy_mitm_serial}[method]
        conditional = lambda offset: kernel(q, w, offset, tol)  # noqa: E731
    return Accuracy(float(panel.combine(conditional)), method)


def accuracy_mc(q: ArrayLike, weights: ArrayLike, trials: int, seed: int | None = None, prior: float = 0.5, *,
                confidence: float = 0.95) -> MonteCarloAccuracy:
    """Monte Carlo estimate of the accuracy of weighted majority voting.

    Draws ``trials`` correctness profiles and credits each with the expected
    score over the truth, ``prior g(S + b) + (1 - prior) g(S - b)``. The estimate
    is bit-identical for a given seed whatever the number of numba threads: the
    trials are cut into fixed chunks, each with its own SplitMix64 stream.

    Parameters
    ----------
    q : array_like of shape (n_sources,)
        Trustworthiness of each source.
    weights : array_like of shape (n_sources,)
        Vote weights; ``±inf`` allowed.
    trials : int
        Number of simulated profiles, >= 1.
    seed : int, optional
        Seed (>= 0); None draws one from the OS and records it in the result.
    prior : float, default=0.5
        Prior probability that the truth is +1.
    confidence : float, default=0.95
        Level of the confidence interval, in (0, 1).

    Returns
    -------
    MonteCarloAccuracy
        Estimate, standard error, confidence interval, trials and seed.

    Examples
    --------
    >>> est = accuracy_mc([0.8, 0.7, 0.6], [1.0, 1.0, 1.0], trials=200_000, seed=1)
    >>> exact = accuracy([0.8, 0.7, 0.6], [1.0, 1.0, 1.0]).value  # 0.788
    >>> bool(est.ci_low < exact < est.ci_high), abs(est.value - exact) < 4 * est.stderr
    (True, True)
    """
    panel = _Panel.build(q, weights, prior)
    trials = check_positive_int(trials, "trials")
    seed = check_seed(seed)
    confidence = check_fraction(confidence, "confidence")
    sequence = np.random.SeedSequence(seed)
    key = sequence.generate_state(1, np.uint64)[0]
    total, total_sq = kn.accuracy_mc(kn.thresholds(panel.q), panel.w, kn.thresholds(panel.q_inf),
                                     panel.sign_inf, panel.bias, panel.prior, panel.tol, trials, key)
    mean = total / trials
    variance = max(total_sq / trials - mean * mean, 0.0) * trials / max(trials - 1, 1)
    return MonteCarloAccuracy(float(mean), float(np.sqrt(variance / trials)), *wilson(mean, trials, confidence),
                              trials, int(cast(int, sequence.entropy)),  # from an int seed or None: an int
                              float(confidence))


def accuracy_rows(q: ArrayLike, weights: ArrayLike, prior: float = 0.5) -> NDArray[np.float64]:
    """Exact A(q[k], w[k]) for every row k of two (rows, n) arrays, in parallel over rows.

    For the stability analyses, whose callers build valid arrays: q in [0, 1], no NaN,
    n <= 52. Rows with an infinite weight go through ``accuracy`` one by one.
    """
    q, w = np.ascontiguousarray(q, dtype=np.float64), np.ascontiguousarray(weights, dtype=np.float64)
    check_at_most_sources(q.shape[1], MAX_SOURCES["mitm"], "q", " for an exact accuracy of each row")
    finite = np.isfinite(w).all(axis=1)
    b = bias(prior)
    out = np.empty(q.shape[0])
    fq, fw = np.ascontiguousarray(q[finite]), np.ascontiguousarray(w[finite])
    out[finite] = kn.accuracy_rows(fq, fw, b, TIE_RTOL)
    if b != 0.0:
        out[finite] = prior * out[finite] + (1.0 - prior) * kn.accuracy_rows(fq, fw, -b, TIE_RTOL)
    for k in np.flatnonzero(~finite):
        out[k] = accuracy(q[k], w[k], prior).value
    return out


def accuracy_fraction(q: Iterable[Number], weights: ArrayLike, prior: Number = Fraction(1, 2)) -> Fraction:
    """The accuracy as an exact Fraction, for rational trustworthiness and prior.

    Every profile's decision is taken by ``decide`` (floating point, the same tie rule
    as every method); its probability and credit are then summed in rational
    arithmetic, so ``A(q, w)`` is exact for Fraction ``q``. Enumerates all ``2**n``
    profiles: n <= 16.

    Parameters
    ----------
    q : sequence of Fraction or int, length n_sources
        Trustworthiness, in [0, 1].
    weights : array_like of shape (n_sources,)
        Vote weights; ``±inf`` allowed.
    prior : Fraction, default=Fraction(1, 2)
        Prior probability that the truth is +1, in (0, 1).

    Returns
    -------
    Fraction

    Examples
    --------
    >>> from fractions import Fraction as F
    >>> accuracy_fraction([F(9, 10), F(3, 5), F(3, 5)], [2.0, 1.0, 1.0])  # ties when the pair outvotes...
    Fraction(423, 500)
    >>> accuracy_fraction([F(9, 10), F(3, 5), F(3, 5)], [3.0, 1.0, 1.0])  # ...but not when the first decides
    Fraction(9, 10)
    """
    q = [Fraction(x) for x in q]
    prior = Fraction(prior)
    check_probabilities([float(x) for x in q], "q")
    check_fraction(float(prior), "prior")
    check_at_most_sources(len(q), 16, "q", " for a rational accuracy")
    right = np.array(list(itertools.product((1, -1), repeat=len(q))))  # votes when the truth is +1
    credit_up = (decide(right, weights, float(prior), ties="report") + 1).tolist()  # 2 g: 2, 1 or 0
    credit_down = (1 - decide(-right, weights, float(prior), ties="report")).tolist()
    total = Fraction(0)
    for c, up, down in zip(right.tolist(), credit_up, credit_down):
        total += math.prod(qi if ci == 1 else 1 - qi for qi, ci in zip(q, c)) * (prior * up + (1 - prior) * down)
    return total / 2
