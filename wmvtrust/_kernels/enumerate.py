"""Exact accuracy by enumerating all 2**n correctness profiles (the reference method)."""

import numba as nb
import numpy as np

from .common import credit

LOW_BITS = 12  # sources tabulated in the inner, vectorised block of 2**12 profiles


@nb.njit(cache=True)
def subset_table(q, w):
    """Sums and probabilities of all 2**k profiles of k sources, built by doubling.

    Entry ``j`` has source ``i`` correct when bit ``i`` of ``j`` is set.
    """
    size = 1 << q.shape[0]
    sums = np.zeros(size)
    probs = np.ones(size)
    half = 1
    for i in range(q.shape[0]):
        for j in range(half):
            sums[j + half] = sums[j] + w[i]
            probs[j + half] = probs[j] * q[i]
            sums[j] -= w[i]
            probs[j] *= 1.0 - q[i]
        half *= 2
    return sums, probs


@nb.njit(cache=True, fastmath={"reassoc", "contract"})
def _block(offset, low_sums, low_probs, tol):
    # fastmath only reorders this probability sum; each profile's sum is formed exactly once
    acc = 0.0
    for j in range(low_sums.shape[0]):
        acc += low_probs[j] * credit(offset + low_sums[j], tol)
    return acc


@nb.njit(cache=True)
def accuracy_enumerate(q, w, offset, tol):
    """sum over c in {0,1}^n of P(c) g(S_w(c) + offset); q, w contiguous float64, w finite."""
    n_low = min(q.shape[0], LOW_BITS)
    low_sums, low_probs = subset_table(q[:n_low], w[:n_low])
    high_sums, high_probs = subset_table(q[n_low:], w[n_low:])
    total = 0.0
    for h in range(high_sums.shape[0]):
        total += high_probs[h] * _block(offset + high_sums[h], low_sums, low_probs, tol)
    return total
