"""The pivotality bound on the SoO gap by Monte Carlo over vote profiles (proofs/soo_pivotal_bound.md).

For a row P of trustworthiness and the trust t, with Q^(k) = (P_1..P_k, t_(k+1)..t_n), the bound's integrand is
``sum_k (P_k - t_k) (h_k(P_k) - h_k(t_k))``, where ``h_k(x)`` is the signed probability that source k is pivotal
for WMV with weights ``w(Q^(k))`` (or ``w(Q^(k-1))`` at ``x = t_k``): the credit with source k right minus the
credit with it wrong, expected over the other sources, j < k right with probability P_j and j > k with t_j. One
profile of uniforms serves every k (common random numbers), so each profile costs O(n).
"""

import numba as nb
import numpy as np
from numba import prange

from .common import GOLDEN, neumaier_add, profile_credit, stream, threshold, uniform_bits


@nb.njit(cache=True, inline="always")
def _pivot(count, s, v, others_abs, bias, prior, rtol):
    """Credit with the source right minus credit with it wrong, its weight ``v`` (``±inf`` allowed).

    ``count`` and ``s`` are the others' signed count of infinite-weight votes and finite sum; ``others_abs``
    the sum of their |finite weights|: the rule's tolerance is ``rtol`` times that plus |v| (when finite)
    plus |bias|.
    """
    if np.isinf(v):
        step = 1.0 if v > 0.0 else -1.0
        tol = rtol * (others_abs + abs(bias))
        return profile_credit(count + step, s, bias, prior, tol) - profile_credit(count - step, s, bias, prior, tol)
    if count != 0.0:
        return 0.0  # the others' infinite weights decide, whatever this source votes
    tol = rtol * (others_abs + abs(v) + abs(bias))
    return profile_credit(0.0, s + v, bias, prior, tol) - profile_credit(0.0, s - v, bias, prior, tol)


@nb.njit(cache=True, inline="always")
def _split(q):
    """(finite weight or 0, sign of an infinite weight or 0) of ``w(q) = ln(q / (1 - q))``."""
    if q == 1.0:
        return 0.0, 1.0
    if q == 0.0:
        return 0.0, -1.0
    return np.log(q / (1.0 - q)), 0.0


@nb.njit(cache=True, parallel=True)
def pivotal_bound_profiles(p, t, bias, prior, rtol, profiles, key, levels=0):
    """Per-draw Monte Carlo estimates of the pivotality bound's integrand.

    Parameters
    ----------
    p : float64 array of shape (draws, n), C-contiguous
        Rows of trustworthiness P in [0, 1] (0 and 1 allowed: infinite weights).
    t : float64 array of shape (n,)
        The trust, in [0, 1].
    bias : float
        ``ln(prior / (1 - prior))``.
    prior : float
        P(truth = +1), in (0, 1).
    rtol : float
        ``TIE_RTOL``: for the rule with weights v a finite sum S is a tie when
        ``|S| <= rtol * (sum |finite v_i| + |bias|)``.
    profiles : int
        Profiles per draw, >= 1.
    key : uint64
        The run's key.
    levels : int, default 0
        m >= 0: the points ``x_i = P_k - (P_k - t_k) 2**-i``, i = 1..m, refine the step from t_k to P_k (the
        refined bound B^(m); m = 0 is B).

    Returns
    -------
    float64 array of shape (draws,)
        Draw d's mean over its profiles of ``sum_k sum_i (x_(i+1) - x_i) (H_k(w(x_(i+1))) - H_k(w(t_k)))``
        over the points ``t_k = x_0, x_1, ..., x_m, x_(m+1) = P_k`` (for m = 0 the single term
        ``(P_k - t_k) (H_k(w(P_k)) - H_k(w(t_k)))``). Profile r takes the uniforms U_j from stream
        ``stream(stream(key, d), r)`` (the (j + 1)-th step for source j, as ``gap_profiles``); the others of
        source k vote ``a_j = w(P_j) (2 [U_j < P_j] - 1)`` for j < k and ``b_j = w(t_j) (2 [U_j < t_j] - 1)`` for
        j > k (infinite weights counted apart, by sign); ``H_k(v)`` is the credit of the profile with source k
        voting right (adding v) minus voting wrong (subtracting v), each rule with its own tolerance. Given P the
        mean is ``sum_k sum_i (x_(i+1) - x_i)(h_k(x_(i+1)) - h_k(t_k))``; every term is >= 0. A draw depends only on
        (key, d, p[d], profiles, levels), whatever the number of threads.
    """
    draws, n = p.shape
    key = np.uint64(key)
    steps = levels + 1
    t_thr, wt_fin, wt_sign = np.empty(n, np.uint64), np.empty(n), np.empty(n)
    t_abs = 0.0
    for j in range(n):
        t_thr[j] = threshold(t[j])
        wt_fin[j], wt_sign[j] = _split(t[j])
        t_abs += abs(wt_fin[j])
    out = np.empty(draws)
    for d in prange(draws):
        p_thr, wp_fin, wp_sign = np.empty(n, np.uint64), np.empty(n), np.empty(n)
        v_t, others_abs = np.empty(n), np.empty(n)
        # source k's weights at the points x_1..x_(m+1) = P_k and the steps x_(i+1) - x_i
        v_x, dx = np.empty((n, steps)), np.empty((n, steps))
        live = 0
        for j in range(n):
            q = p[d, j]
            p_thr[j] = threshold(q)
            wp_fin[j], wp_sign[j] = _split(q)
            v_t[j] = wt_fin[j] if wt_sign[j] == 0.0 else wt_sign[j] * np.inf
            live += q != t[j]
            below = t[j]
            for i in range(steps):
                x = q - (q - t[j]) * 0.5 ** (i + 1) if i < levels else q
                v_x[j, i] = np.log(x / (1.0 - x)) if 0.0 < x < 1.0 else (np.inf if x == 1.0 else -np.inf)
                dx[j, i] = x - below
                below = x
        # the |finite weights| of the others of source k: P-side before k, t-side after k
        acc = t_abs - abs(wt_fin[0])
        for k in range(n):
            others_abs[k] = acc
            if k + 1 < n:
                acc += abs(wp_fin[k]) - abs(wt_fin[k + 1])
        if live == 0:  # P = t: every term is 0
            out[d] = 0.0
            continue
        a_fin, a_cnt, b_fin, b_cnt = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
        draw_key = stream(key, d)
        total = 0.0
        for r in range(profiles):
            state = stream(draw_key, r)
            for j in range(n):
                u = uniform_bits(state + np.uint64(j + 1) * GOLDEN)  # the (j + 1)-th step of the stream
                sp = 2.0 * (u < p_thr[j]) - 1.0
                st = 2.0 * (u < t_thr[j]) - 1.0
                a_fin[j], a_cnt[j] = wp_fin[j] * sp, wp_sign[j] * sp
                b_fin[j], b_cnt[j] = wt_fin[j] * st, wt_sign[j] * st
            # the others' margin of source 0: every other source on the t side (compensated sums)
            s, comp, count = 0.0, 0.0, 0.0
            for j in range(1, n):
                s, comp = neumaier_add(s, comp, b_fin[j])
                count += b_cnt[j]
            row = 0.0
            for k in range(n):
                if p[d, k] != t[k]:
                    m = s + comp
                    h_t = _pivot(count, m, v_t[k], others_abs[k], bias, prior, rtol)
                    for i in range(steps):
                        row += dx[k, i] * (_pivot(count, m, v_x[k, i], others_abs[k], bias, prior, rtol) - h_t)
                if k + 1 < n:  # source k joins the P side, source k + 1 leaves the t side
                    s, comp = neumaier_add(s, comp, a_fin[k])
                    s, comp = neumaier_add(s, comp, -b_fin[k + 1])
                    count += a_cnt[k] - b_cnt[k + 1]
            total += row
        out[d] = total / profiles
    return out
