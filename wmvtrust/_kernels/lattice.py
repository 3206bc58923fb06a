"""Distribution of an integer-weighted count: the dynamic program behind the lattice methods."""

import numba as nb
import numpy as np

from .common import credit


MAX_TAPS = 16  # sources are convolved in blocks whose own pmf has at most this many points
TINY = 1e-280  # probabilities below this are dropped from the tails of a pmf (far below any result's precision)


@nb.njit(cache=True)
def lattice_step(a, max_denominator, max_support, rtol):
    """Smallest k <= max_denominator with a_i = (min a / k) * steps_i for integer steps_i, or 0.

    ``a`` >= 0, not all zero. "=" means sum_i |a_i - step * steps_i| <= rtol * sum_i a_i,
    and the lattice must have fewer than ``max_support`` points.
    """
    smallest, total = np.inf, 0.0
    for x in a:
        total += x
        if 0.0 < x < smallest:
            smallest = x
    for k in range(1, max_denominator + 1):
        step = smallest / k
        if total / step >= max_support:
            return 0
        err = 0.0
        for x in a:
            err += abs(x - step * np.rint(x / step))
            if err > rtol * total:
                break
        if err <= rtol * total:
            return k
    return 0


@nb.njit(cache=True)
def _block_pmf(steps, r, start, stop):
    # pmf of the block's own sum, a short dense array
    size = 1
    for i in range(start, stop):
        size += steps[i]
    pmf = np.zeros(size)
    pmf[0] = 1.0
    support = 1
    for i in range(start, stop):
        a, up = steps[i], r[i]
        for u in range(support + a - 1, -1, -1):  # downwards, so u - a is still the old state
            p = pmf[u] * (1.0 - up) if u < support else 0.0
            if u >= a:
                p += pmf[u - a] * up
            pmf[u] = p
        support += a
    return pmf


@nb.njit(cache=True)
def _convolve(cur, nxt, block, lo, hi):
    # nxt[lo : hi + len(block) - 1] = block * cur[lo:hi]; the views let LLVM vectorise each pass
    nxt[lo:hi + block.shape[0] - 1] = 0.0
    src = cur[lo:hi]
    for k in range(block.shape[0]):
        c = block[k]
        if c != 0.0:
            dst = nxt[lo + k:hi + k]
            for j in range(hi - lo):
                dst[j] += c * src[j]


@nb.njit(cache=True)
def lattice_pmf(steps, r):
    """pmf of U = sum_i steps[i] Z_i with independent Z_i ~ Bernoulli(r[i]), steps int64 >= 0.

    Returns an array of length sum(steps) + 1. Consecutive sources are gathered in
    blocks whose own pmf has at most ``MAX_TAPS`` points, and each block is convolved
    into the running pmf in one pass: for majority voting, one pass per 15 sources.
    Only the window between the first and the last point above ``TINY`` is carried:
    the tails outside it, each point under ``TINY``, are dropped, which keeps
    subnormal numbers (slow on every CPU) out of the loop.
    O(n * window), at most O(n * sum(steps)).
    """
    size = 1
    for a in steps:
        size += a
    cur, nxt = np.zeros(size), np.zeros(size)
    cur[0] = 1.0
    lo, hi = 0, 1  # the window: cur is zero outside [lo, hi)
    start = 0
    while start < steps.shape[0]:
        stop, width = start + 1, 1 + steps[start]
        while stop < steps.shape[0] and width + steps[stop] <= MAX_TAPS:
            width += steps[stop]
            stop += 1
        _convolve(cur, nxt, _block_pmf(steps, r, start, stop), lo, hi)
        cur, nxt = nxt, cur
        hi += width - 1
        while hi - lo > 1 and cur[lo] < TINY:
            lo += 1
        while hi - lo > 1 and cur[hi - 1] < TINY:
            hi -= 1
        start = stop
    out = np.zeros(size)
    out[lo:hi] = cur[lo:hi]
    return out


@nb.njit(cache=True)
def lattice_accuracy(pmf, step, offset, tol):
    """sum_u pmf[u] g(step * (2u - M) + offset), M = len(pmf) - 1: the accuracy on a lattice."""
    total = pmf.shape[0] - 1
    acc = 0.0
    for u in range(pmf.shape[0]):
        acc += pmf[u] * credit(step * (2 * u - total) + offset, tol)
    return acc


@nb.njit(cache=True)
def lattice_pmf_ranges(steps, errors, r):
    """pmf of U = sum_i steps[i] Z_i and, for each u, the range of E = sum_i errors[i] (2 Z_i - 1).

    Returns ``pmf, lo, hi`` with ``lo[u] <= E <= hi[u]`` on every profile with U = u
    (``lo = inf``, ``hi = -inf`` where no profile has U = u). Used to bound the effect
    of rounding weights ``|w_i| = step * steps[i] + errors[i]`` to a lattice.
    """
    size = 1
    for a in steps:
        size += a
    pmf, lo, hi = np.zeros(size), np.full(size, np.inf), np.full(size, -np.inf)
    pmf[0], lo[0], hi[0] = 1.0, 0.0, 0.0
    support = 1
    for i in range(steps.shape[0]):
        a, e, up = steps[i], errors[i], r[i]
        for u in range(support + a - 1, -1, -1):  # downwards, so u - a is still the old state
            p, l, h = 0.0, np.inf, -np.inf
            if u < support:  # source i on the negative side
                p, l, h = pmf[u] * (1.0 - up), lo[u] - e, hi[u] - e
            if a <= u < support + a:  # source i on the positive side
                p += pmf[u - a] * up
                l, h = min(l, lo[u - a] + e), max(h, hi[u - a] + e)
            pmf[u], lo[u], hi[u] = p, l, h
        support += a
    return pmf, lo, hi


@nb.njit(cache=True)
def lattice_interval(pmf, lo, hi, step, offset, tol):
    """Bounds on sum_u pmf[u] g(step (2u - M) + E + offset) given lo[u] <= E <= hi[u]; g is monotone."""
    total = pmf.shape[0] - 1
    lower, upper = 0.0, 0.0
    for u in range(pmf.shape[0]):
        if pmf[u] > 0.0:
            s = step * (2 * u - total) + offset
            lower += pmf[u] * credit(s + lo[u], tol)
            upper += pmf[u] * credit(s + hi[u], tol)
    return lower, upper
