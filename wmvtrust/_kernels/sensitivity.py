"""Kernels for the sensitivity to trust: the decision margin and the trust radius."""

import numba as nb
import numpy as np

from .mitm import sorted_half_sums


@nb.njit(cache=True)
def min_abs_sum(w, offset):
    """min over x in {-1, +1}^n of |sum_i w_i x_i + offset|, by meet-in-the-middle (w finite)."""
    k = w.shape[0] // 2
    sa, _ = sorted_half_sums(np.full(k, 0.5), w[:k])
    sb, _ = sorted_half_sums(np.full(w.shape[0] - k, 0.5), w[k:])
    best = np.inf
    j = sb.shape[0]  # first index with a + sb[j] >= 0; moves down as a grows
    for i in range(sa.shape[0]):
        a = sa[i] + offset
        while j > 0 and a + sb[j - 1] >= 0.0:
            j -= 1
        if j < sb.shape[0]:
            best = min(best, a + sb[j])
        if j > 0:
            best = min(best, -(a + sb[j - 1]))
    return best


@nb.njit(cache=True)
def any_decision_moves(w, down, up, offset, tol):
    """Whether some decided profile (|S| > tol, S = w.x + offset) can be brought within tol of 0 or past it.

    For source i voting x_i = +1 the sum can fall to ``down[i]`` (its smallest weight) and
    rise to ``up[i]``; voting -1 it contributes ``-up[i]`` at the least and ``-down[i]`` at
    the most. Every profile is visited in Gray-code order (n <= 24).
    """
    n = w.shape[0]
    x = -np.ones(n)
    s, lowest, highest = offset, offset, offset
    for i in range(n):
        s -= w[i]
        lowest -= up[i]
        highest -= down[i]
    for step in range(1 << n):
        if (s > tol and lowest <= tol) or (s < -tol and highest >= -tol) or abs(s) <= tol:
            return True
        if step + 1 == 1 << n:
            break
        i = 0  # the bit that changes from step to step + 1: the lowest set bit of step + 1
        while ((step + 1) >> i) & 1 == 0:
            i += 1
        if x[i] < 0:
            s += 2.0 * w[i]
            lowest += up[i] + down[i]
            highest += down[i] + up[i]
        else:
            s -= 2.0 * w[i]
            lowest -= up[i] + down[i]
            highest -= down[i] + up[i]
        x[i] = -x[i]
    return False
