"""Trust models: what the decision maker knows about each source's trustworthiness.

A trust model describes independent random trustworthiness ``P_i`` whose means
are the trust ``t_i`` (docs/design.md, section 4). Two models are provided:

- ``BetaTrust``: ``P_i ~ Beta(alpha_i, beta_i)``, the posterior of a track record;
- ``DiscreteTrust``: finitely many support points per source, so that every
  expectation is a finite sum, exact in rational arithmetic when given Fractions.

Both offer ``mean`` (the trust), ``variance``, ``mad`` (mean absolute deviation
``E|P_i - t_i|``), ``sign_aware_mad`` (the per-source terms of the tighter
stability-of-optimality bound, proofs/theorem3_soo_bound.md) and seeded ``sample``.
"""

import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from fractions import Fraction
from typing import Self, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from ._validation import (Number, check_beta_prior, check_counts, check_discrete_model, check_positive_array,
                          check_positive_int, check_rng, check_same_length, renamed)


def _mass_beyond(t: NDArray[np.float64], a: NDArray[np.float64], b: NDArray[np.float64], c: NDArray[np.float64]
                 ) -> NDArray[np.float64]:
    """t c^a (1-c)^b / (a B(a, b)) = E[(P - t) 1{P >= c}] for c >= t, = E[(t - P) 1{P < c}] for c <= t."""
    with np.errstate(divide="ignore"):
        log = np.log(t) + special.xlogy(a, c) + special.xlog1py(b, -c) - np.log(a) - special.betaln(a, b)
    return np.exp(log)


class BetaTrust:
    """Independent Beta trustworthiness: ``P_i ~ Beta(alpha_i, beta_i)``, trust ``t_i = E[P_i]``.

    Parameters
    ----------
    alpha, beta : array_like of shape (n_sources,)
        Shape parameters, each > 0.

    Examples
    --------
    >>> model = BetaTrust.from_track_record([8, 3], [2, 1])  # prior Beta(1, 1)
    >>> model.alpha.tolist(), model.beta.tolist(), model.mean.round(4).tolist()
    ([9.0, 4.0], [3.0, 2.0], [0.75, 0.6667])
    """

    alpha: NDArray[np.float64]
    beta: NDArray[np.float64]

    def __init__(self, alpha: ArrayLike, beta: ArrayLike) -> None:
        self.alpha, self.beta = check_positive_array(alpha, "alpha"), check_positive_array(beta, "beta")
        check_same_length(self.alpha, self.beta, "alpha", "beta")

    @classmethod
    def from_track_record(cls, successes: ArrayLike, failures: ArrayLike, beta_prior: tuple[float, float] = (1, 1), *,
                          prior: tuple[float, float] | None = None) -> Self:
        """The Beta posterior after ``successes`` right and ``failures`` wrong reports.

        Parameters
        ----------
        successes, failures : array_like of shape (n_sources,)
            Counts per source, each >= 0 (fractional counts, e.g. expected counts, are allowed).
        beta_prior : (float, float), default=(1, 1)
            The prior Beta(alpha0, beta0); (1, 1) is the Beta reputation system's uniform prior.
        prior : (float, float), optional
            The former name of ``beta_prior``, accepted until the next release (FutureWarning).

        Returns
        -------
        BetaTrust
            ``alpha = alpha0 + successes``, ``beta = beta0 + failures``.

        Examples
        --------
        >>> BetaTrust.from_track_record([18], [2]).mean.tolist()
        [0.8636363636363636]
        """
        s, f = check_counts(successes, "successes"), check_counts(failures, "failures")
        check_same_length(s, f, "successes", "failures")
        a0, b0 = check_beta_prior(renamed(beta_prior, prior, "beta_prior", "prior"))
        return cls(a0 + s, b0 + f)

    def __repr__(self) -> str:
        return f"BetaTrust(alpha={self.alpha.tolist()}, beta={self.beta.tolist()})"

    @property
    def n_sources(self) -> int:
        return self.alpha.size

    @property
    def mean(self) -> NDArray[np.float64]:
        """The trust ``t_i = alpha_i / (alpha_i + beta_i)``."""
        return self.alpha / (self.alpha + self.beta)

    @property
    def variance(self) -> NDArray[np.float64]:
        s = self.alpha + self.beta
        return self.alpha * self.beta / (s * s * (s + 1.0))

    @property
    def mad(self) -> NDArray[np.float64]:
        """``E|P_i - t_i| = 2 a^a b^b / (B(a, b) (a + b)^(a + b + 1))`` (proofs/beta_mean_absolute_deviation.md)."""
        a, b = self.alpha, self.beta
        return 2.0 * np.exp(special.xlogy(a, a) + special.xlogy(b, b) - special.betaln(a, b)
                            - (a + b + 1.0) * np.log(a + b))

    @property
    def sign_aware_mad(self) -> NDArray[np.float64]:
        """``E[(P_i - t_i)^+ 1{P_i >= 1/2} + (t_i - P_i)^+ 1{P_i < 1/2}]``, in closed form."""
        t, a, b = self.mean, self.alpha, self.beta
        return _mass_beyond(t, a, b, np.maximum(t, 0.5)) + _mass_beyond(t, a, b, np.minimum(t, 0.5))

    def sample(self, size: int, seed: int | np.random.Generator | None = None) -> NDArray[np.float64]:
        """``size`` independent draws of P, an array of shape (size, n_sources).

        Examples
        --------
        >>> BetaTrust([2.0, 5.0], [2.0, 1.0]).sample(3, seed=0).shape
        (3, 2)
        """
        size = check_positive_int(size, "size")
        return check_rng(seed).beta(self.alpha, self.beta, size=(size, self.n_sources))

    def posterior_mean(self, successes: NDArray[np.float64], trials: int) -> NDArray[np.float64]:
        """The trust after ``trials`` more observations per source, ``successes`` of them right.

        ``(alpha_i + k_i) / (alpha_i + beta_i + m)``, for ``successes`` of shape (..., n_sources).
        Validated input is assumed (counts from ``0`` to ``trials``): this is the planning step of
        ``planned_soo_gap``.

        Examples
        --------
        >>> BetaTrust([1.0, 2.0], [1.0, 2.0]).posterior_mean(np.array([3.0, 0.0]), 4).tolist()
        [0.6666666666666666, 0.25]
        """
        return (self.alpha + successes) / (self.alpha + self.beta + trials)

    def quadrature(self, order: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Gauss-Jacobi nodes and weights per source: ``E[f(P_i)] = sum_j weights[i, j] f(nodes[i, j])``.

        Exact for polynomials of degree up to ``2 order - 1``.

        Returns
        -------
        nodes, weights : ndarray of shape (n_sources, order)

        Examples
        --------
        >>> nodes, weights = BetaTrust([2.0], [3.0]).quadrature(2)  # one row per source
        >>> round(float(weights[0] @ nodes[0]), 12), round(float(weights[0] @ nodes[0] ** 2), 12)  # E[P], E[P^2]
        (0.4, 0.2)
        """
        order = check_positive_int(order, "order")
        nodes, weights = np.empty((self.n_sources, order)), np.empty((self.n_sources, order))
        for i, (a, b) in enumerate(zip(self.alpha, self.beta)):
            x, v = special.roots_jacobi(order, b - 1.0, a - 1.0)  # weight (1 - x)^(b-1) (1 + x)^(a-1) on [-1, 1]
            nodes[i], weights[i] = (1.0 + x) / 2.0, v / v.sum()
        return nodes, weights


def _exact_sum(values: list[Number]) -> Number:
    return sum(values, Fraction(0)) if all(isinstance(v, (int, Fraction)) for v in values) else math.fsum(values)


class DiscreteTrust:
    """Independent trustworthiness with finitely many values per source.

    Source ``i`` has trustworthiness ``support[i][j]`` with probability
    ``probabilities[i][j]``. Given ``fractions.Fraction`` (or int) values, every
    exact quantity (``mean_exact``, ``joint``) stays rational.

    Parameters
    ----------
    support : sequence of n_sources sequences of numbers in [0, 1]
    probabilities : sequence of n_sources sequences of numbers >= 0, each summing to 1

    Examples
    --------
    >>> from fractions import Fraction as F
    >>> model = DiscreteTrust([[F(1, 2), F(1)], [F(3, 4)]], [[F(1, 3), F(2, 3)], [F(1)]])
    >>> model.mean_exact()
    [Fraction(5, 6), Fraction(3, 4)]
    """

    support: list[list[Number]]
    probabilities: list[list[Number]]

    def __init__(self, support: Sequence[Iterable[Number]], probabilities: Sequence[Iterable[Number]]) -> None:
        self.support, self.probabilities = check_discrete_model(support, probabilities, _exact_sum)

    def __repr__(self) -> str:
        return f"DiscreteTrust(support={self.support!r}, probabilities={self.probabilities!r})"

    @property
    def n_sources(self) -> int:
        return len(self.support)

    def mean_exact(self) -> list[Number]:
        """The trust ``t_i = sum_j p_ij x_ij``, as Fractions when the model is rational."""
        return [_exact_sum([p * x for p, x in zip(ps, xs)]) for xs, ps in zip(self.support, self.probabilities)]

    @property
    def mean(self) -> NDArray[np.float64]:
        return np.array([float(t) for t in self.mean_exact()])

    def _moment(self, f: Callable[[float, float], float]) -> NDArray[np.float64]:
        t = self.mean
        return np.array([math.fsum(float(p) * f(float(x), t[i]) for x, p in zip(xs, ps))
                         for i, (xs, ps) in enumerate(zip(self.support, self.probabilities))])

    @property
    def variance(self) -> NDArray[np.float64]:
        return self._moment(lambda x, t: (x - t) ** 2)

    @property
    def mad(self) -> NDArray[np.float64]:
        return self._moment(lambda x, t: abs(x - t))

    @property
    def sign_aware_mad(self) -> NDArray[np.float64]:
        return self._moment(lambda x, t: max(x - t, 0.0) if x >= 0.5 else max(t - x, 0.0))

    def joint(self) -> Iterator[tuple[Number, tuple[Number, ...]]]:
        """Every joint support point with its probability: an iterator of (probability, point)."""
        for combo in itertools.product(*(list(zip(ps, xs)) for xs, ps in zip(self.support, self.probabilities))):
            yield math.prod(p for p, _ in combo), tuple(x for _, x in combo)

    @property
    def n_joint(self) -> int:
        """Number of joint support points."""
        return math.prod(len(s) for s in self.support)

    def posterior_mean(self, successes: NDArray[np.float64], trials: int) -> NDArray[np.float64]:
        """The trust after ``trials`` more observations per source, ``successes`` of them right.

        ``E[P_i | k_i] = sum_j p_ij x_ij^(k_i + 1) (1 - x_ij)^(m - k_i) / sum_j p_ij x_ij^k_i (1 - x_ij)^(m - k_i)``,
        for ``successes`` of shape (..., n_sources), in floating point (the likelihoods in logs,
        ``0^0 = 1``). Validated input is assumed (counts from ``0`` to ``trials``).

        Examples
        --------
        >>> model = DiscreteTrust([[0.5, 1.0]], [[0.5, 0.5]])
        >>> model.posterior_mean(np.array([[2.0], [1.0]]), 2).ravel().tolist()  # 2 of 2 right; 1 of 2: it is 1/2
        [0.9, 0.5]
        """
        k = np.asarray(successes, dtype=float)
        out = np.empty(k.shape)
        for i, (xs, ps) in enumerate(zip(self.support, self.probabilities)):
            x, w = np.array(xs, dtype=float), np.array(ps, dtype=float)
            with np.errstate(divide="ignore"):  # a support point of probability 0 has no weight
                log_w = np.log(w) + special.xlogy(k[..., i, None], x) + special.xlog1py(trials - k[..., i, None], -x)
            weights = np.exp(log_w - log_w.max(axis=-1, keepdims=True))
            out[..., i] = (weights * x).sum(axis=-1) / weights.sum(axis=-1)
        return out

    def sample(self, size: int, seed: int | np.random.Generator | None = None) -> NDArray[np.float64]:
        """``size`` independent draws of P, an array of shape (size, n_sources), as floats."""
        size, rng = check_positive_int(size, "size"), check_rng(seed)
        out = np.empty((size, self.n_sources))
        for i, (xs, ps) in enumerate(zip(self.support, self.probabilities)):
            out[:, i] = rng.choice(np.array(xs, dtype=float), size=size, p=np.array(ps, dtype=float))
        return out


TrustModel: TypeAlias = BetaTrust | DiscreteTrust
"""A trust model: the distribution of the trustworthiness P."""
