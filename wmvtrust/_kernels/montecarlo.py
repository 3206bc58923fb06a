"""Monte Carlo accuracy with an inline counter-based generator (SplitMix64).

Trials are cut into fixed chunks; chunk ``c`` draws from its own stream keyed
by (key, c), so the result is bit-identical whatever the number of threads.
"""

import numba as nb
import numpy as np
from numba import prange

from .common import GOLDEN, credit, stream, uniform_bits

CHUNK = 1 << 14  # trials per chunk


def thresholds(q):
    """Integer thresholds: a uniform k * 2**-53 is below q exactly when k < ceil(q * 2**53)."""
    return np.ceil(np.asarray(q) * 2.0**53).astype(np.uint64)


@nb.njit(cache=True, parallel=True)
def accuracy_mc(thr, w, thr_inf, sign_inf, bias, prior, tol, trials, key):
    """Sum and sum of squares of the per-trial credit over ``trials`` draws.

    Finite-weight sources: thresholds ``thr``, weights ``w``. Infinite-weight sources:
    thresholds ``thr_inf``, weight signs ``sign_inf`` (+1.0 or -1.0); they decide
    whenever their signed count is non-zero. Each trial credits
    prior * g(S + bias) + (1 - prior) * g(S - bias): the expectation over the truth.
    """
    n_chunks = (trials + CHUNK - 1) // CHUNK
    sums, squares = np.empty(n_chunks), np.empty(n_chunks)
    for c in prange(n_chunks):
        state = stream(key, c)
        s1, s2 = 0.0, 0.0
        for _ in range(c * CHUNK, min(trials, (c + 1) * CHUNK)):
            count = 0.0
            for i in range(thr_inf.shape[0]):
                state += GOLDEN
                count += sign_inf[i] if uniform_bits(state) < thr_inf[i] else -sign_inf[i]
            s = 0.0
            for i in range(thr.shape[0]):
                state += GOLDEN
                s += w[i] if uniform_bits(state) < thr[i] else -w[i]
            if count != 0.0:
                x = 1.0 if count > 0.0 else 0.0
            else:
                x = prior * credit(s + bias, tol) + (1.0 - prior) * credit(s - bias, tol)
            s1 += x
            s2 += x * x
        sums[c], squares[c] = s1, s2
    total, total_sq = 0.0, 0.0
    for c in range(n_chunks):  # in a fixed order
        total += sums[c]
        total_sq += squares[c]
    return total, total_sq
