"""Small statistical formulas used across the library: one place each."""

from collections.abc import Callable
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray
from scipy.stats import norm


def wilson(mean: float, n: int, confidence: float) -> tuple[float, float]:
    """The Wilson score interval ``(low, high)`` of a proportion ``mean`` observed on ``n`` trials.

    Examples
    --------
    >>> [round(x, 4) for x in wilson(0.9, 100, 0.95)]
    [0.8256, 0.9448]
    """
    z = float(norm.ppf(0.5 + confidence / 2))
    centre = (mean + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(mean * (1 - mean) / n + z * z / (4 * n * n))
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


@overload
def beta_mean(successes: float, trials: float, beta_prior: tuple[float, float]) -> float: ...
@overload
def beta_mean(successes: NDArray[Any], trials: float | NDArray[Any],
              beta_prior: tuple[float, float] | tuple[NDArray[Any], NDArray[Any]]) -> NDArray[np.float64]: ...
@overload
def beta_mean(successes: float, trials: NDArray[Any], beta_prior: tuple[float, float]) -> NDArray[np.float64]: ...


def beta_mean(successes: float | NDArray[Any], trials: float | NDArray[Any],
              beta_prior: tuple[float, float] | tuple[NDArray[Any], NDArray[Any]]) -> float | NDArray[np.float64]:
    """The posterior mean ``(a0 + successes) / (a0 + b0 + trials)`` under a Beta(a0, b0) prior (arrays welcome).

    Examples
    --------
    >>> beta_mean(8, 10, (1, 1))
    0.75
    """
    a0, b0 = beta_prior
    return (a0 + successes) / (a0 + b0 + trials)


def first_below(loss: Callable[[int], float], epsilon: float, most: int) -> int | None:
    """The fewest m >= 1 with ``loss(m) < epsilon`` for a loss that decreases with m: double m, then bisect between
    the last two values tried; None if not reached by ``most``.

    Examples
    --------
    >>> first_below(lambda m: 1 / m, 0.01, 1000), first_below(lambda m: 1 / m, 0.01, 50)
    (101, None)
    """
    lo, hi = 0, 1  # loss(lo) >= epsilon (lo = 0: no observation), loss(hi) < epsilon once found
    while loss(hi) >= epsilon:
        if hi >= most:
            return None
        lo, hi = hi, min(2 * hi, most)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if loss(mid) < epsilon else (mid, hi)
    return hi
