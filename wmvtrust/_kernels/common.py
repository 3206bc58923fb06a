"""Pieces shared by the accuracy kernels: the tie credit, compensated sums and the counter-based generator.

The generator is SplitMix64 used as a counter-based stream: ``stream(key, index)`` hashes a run's key and a
stream index into a start state; each uniform then adds ``GOLDEN`` to the state and mixes it, and
``uniform_bits(state)`` is the integer ``k`` of the uniform ``k * 2**-53``. A uniform is below ``q`` exactly
when ``k < ceil(q * 2**53)`` (``threshold``; ``montecarlo.thresholds`` for arrays). Streams keyed by an index,
not by a thread, make every kernel bit-identical whatever the number of threads.
"""

import numba as nb
import numpy as np

GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # the SplitMix64 increment (2**64 over the golden ratio)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TWO53 = 2.0**53


@nb.njit(cache=True, inline="always")
def credit(s, tol):
    """g(s): 1 for a correct decision, 1/2 for a tie (|s| <= tol), 0 otherwise; branch-free."""
    return 0.5 * ((s > tol) + (s >= -tol))


@nb.njit(cache=True, inline="always")
def profile_credit(count, s, bias, prior, tol):
    """The credit of one profile, expected over the truth: the infinite weights' signed ``count`` decides first,
    then the finite sum ``s`` shifted by the bias towards each truth."""
    if count != 0.0:
        return 1.0 if count > 0.0 else 0.0
    return prior * credit(s + bias, tol) + (1.0 - prior) * credit(s - bias, tol)


@nb.njit(cache=True, inline="always")
def neumaier_add(total, comp, x):
    """One step of Neumaier's compensated summation; returns the new (total, comp)."""
    t = total + x
    if abs(total) >= abs(x):
        comp += (total - t) + x
    else:
        comp += (x - t) + total
    return t, comp


@nb.njit(cache=True, inline="always")
def mix(z):
    """The SplitMix64 output function (a bijection of uint64)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@nb.njit(cache=True, inline="always")
def stream(key, index):
    """Start state of stream ``index`` (a non-negative integer) of the run keyed by ``key`` (uint64)."""
    return mix(key ^ mix(np.uint64(index) * GOLDEN))


@nb.njit(cache=True, inline="always")
def uniform_bits(state):
    """The 53-bit integer k of the uniform k * 2**-53 at counter ``state`` (add ``GOLDEN`` to step on)."""
    return mix(state) >> _S11


@nb.njit(cache=True, inline="always")
def threshold(q):
    """``ceil(q * 2**53)`` as uint64, for q in [0, 1]: ``uniform_bits(state) < threshold(q)`` with probability q."""
    return np.uint64(np.ceil(q * _TWO53))
