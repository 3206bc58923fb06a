"""Exact accuracy by meet-in-the-middle over two halves of the sources.

Each half's 2**(n/2) subset sums are generated already sorted, by merging the
lists ``s - |w_j|`` and ``s + |w_j|`` one source at a time (no sort), and one
sweep with two monotone pointers then classifies every profile: for a fixed
``a`` from the first half, ``fl(a + b)`` is non-decreasing in ``b``, so the
profiles with ``a + b > tol`` (correct) and ``a + b >= -tol`` (correct or tie)
are suffixes of the sorted second half, exactly as enumeration classifies them.
"""

import numba as nb
import numpy as np
from numba import prange

from .common import neumaier_add

N_CHUNKS = 64  # the sweep's chunks: fixed, so the result does not depend on the thread count


@nb.njit(cache=True)
def _merge_step(src_s, src_p, dst_s, dst_p, m, a, r):
    # merge (s - a, p (1 - r)) and (s + a, p r), both ascending in s, into dst[:2m]
    i = 0
    j = 0
    for k in range(2 * m):
        if j >= m or (i < m and src_s[i] - a <= src_s[j] + a):
            dst_s[k] = src_s[i] - a
            dst_p[k] = src_p[i] * (1.0 - r)
            i += 1
        else:
            dst_s[k] = src_s[j] + a
            dst_p[k] = src_p[j] * r
            j += 1


@nb.njit(cache=True)
def sorted_subset_sums(q, w, out_s, out_p, tmp_s, tmp_p):
    """Fill out_s, out_p (length 2**k) with the k sources' subset sums in ascending order."""
    k = q.shape[0]
    src_s, src_p, dst_s, dst_p = out_s, out_p, tmp_s, tmp_p
    if k % 2 == 1:  # k merges alternate the buffers; the last one must land in out
        src_s, src_p, dst_s, dst_p = tmp_s, tmp_p, out_s, out_p
    src_s[0] = 0.0
    src_p[0] = 1.0
    m = 1
    for j in range(k):
        r = q[j] if w[j] >= 0.0 else 1.0 - q[j]  # probability that source j adds +|w_j|
        _merge_step(src_s, src_p, dst_s, dst_p, m, abs(w[j]), r)
        src_s, src_p, dst_s, dst_p = dst_s, dst_p, src_s, src_p
        m *= 2


@nb.njit(cache=True)
def _suffix_sums(p):
    # out[j] = sum of p[j:], compensated; out[len(p)] = 0
    out = np.empty(p.shape[0] + 1)
    total, comp = 0.0, 0.0
    out[p.shape[0]] = 0.0
    for j in range(p.shape[0] - 1, -1, -1):
        total, comp = neumaier_add(total, comp, p[j])
        out[j] = total + comp
    return out


@nb.njit(cache=True)
def _first_above(a, sb, limit, strict):
    # smallest j with fl(a + sb[j]) > limit (strict) or >= limit, by bisection
    lo, hi = 0, sb.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        s = a + sb[mid]
        if s > limit if strict else s >= limit:
            hi = mid
        else:
            lo = mid + 1
    return lo


@nb.njit(cache=True)
def _sweep(sa, pa, sb, tail, offset, tol, lo, hi):
    # sum over i in [lo, hi) of pa[i] * (P_B(a + b > tol) + 1/2 P_B(|a + b| <= tol)), a = sa[i] + offset
    if lo >= hi:
        return 0.0
    up = _first_above(sa[lo] + offset, sb, tol, True)
    tie = _first_above(sa[lo] + offset, sb, -tol, False)
    total, comp = 0.0, 0.0
    for i in range(lo, hi):
        a = sa[i] + offset
        while up > 0 and a + sb[up - 1] > tol:
            up -= 1
        while tie > 0 and a + sb[tie - 1] >= -tol:
            tie -= 1
        total, comp = neumaier_add(total, comp, pa[i] * (0.5 * (tail[up] + tail[tie])))
    return total + comp


@nb.njit(cache=True)
def sorted_half_sums(q, w):
    size = 1 << q.shape[0]
    s, p = np.empty(size), np.empty(size)
    sorted_subset_sums(q, w, s, p, np.empty(size), np.empty(size))
    return s, p


@nb.njit(cache=True)
def accuracy_mitm_serial(q, w, offset, tol):
    """sum over c in {0,1}^n of P(c) g(S_w(c) + offset), on one thread (small n: no fork and join)."""
    k = q.shape[0] // 2
    sa, pa = sorted_half_sums(q[:k], w[:k])
    sb, pb = sorted_half_sums(q[k:], w[k:])
    return _sweep(sa, pa, sb, _suffix_sums(pb), offset, tol, 0, sa.shape[0])


@nb.njit(cache=True, parallel=True)
def accuracy_mitm(q, w, offset, tol):
    """sum over c in {0,1}^n of P(c) g(S_w(c) + offset); q, w contiguous float64, w finite.

    The halves are built concurrently, and the sweep runs in ``N_CHUNKS`` fixed chunks.
    """
    k = q.shape[0] // 2
    size_a, size_b = 1 << k, 1 << (q.shape[0] - k)
    sa, pa, ta, tpa = np.empty(size_a), np.empty(size_a), np.empty(size_a), np.empty(size_a)
    sb, pb, tb, tpb = np.empty(size_b), np.empty(size_b), np.empty(size_b), np.empty(size_b)
    for half in prange(2):
        if half == 0:
            sorted_subset_sums(q[:k], w[:k], sa, pa, ta, tpa)
        else:
            sorted_subset_sums(q[k:], w[k:], sb, pb, tb, tpb)
    tail = _suffix_sums(pb)
    partial = np.empty(N_CHUNKS)
    for c in prange(N_CHUNKS):
        partial[c] = _sweep(sa, pa, sb, tail, offset, tol, c * size_a // N_CHUNKS, (c + 1) * size_a // N_CHUNKS)
    total, comp = 0.0, 0.0
    for c in range(N_CHUNKS):  # in a fixed order
        total, comp = neumaier_add(total, comp, partial[c])
    return total + comp
