"""Stability gaps by Monte Carlo over vote profiles, with common random numbers.

For each draw of the trustworthiness ``P`` (a row of ``p``) the kernel draws correctness profiles given
``P`` and scores each one under the trust rule and under the oracle ``w(P)``, and scores the profile that
the same uniforms give under the trust ``t``: O(n) per profile instead of the O(2^(n/2)) of an exact
accuracy per draw. Every draw has its own counter-based streams (``common.stream``), so the result is
bit-identical whatever the number of threads.
"""

import numba as nb
import numpy as np
from numba import prange

from .common import GOLDEN, profile_credit, stream, threshold, uniform_bits


@nb.njit(cache=True, parallel=True)
def gap_profiles(p, w_trust, t_thr, bias, prior, rtol, profiles, key):
    """Per-draw Monte Carlo estimates of the actual accuracy and of the SoC and SoO gaps.

    Parameters
    ----------
    p : float64 array of shape (draws, n), C-contiguous
        Rows of trustworthiness P in [0, 1] (0 and 1 allowed). The oracle weights of a row are
        ``w(P_i) = ln(P_i / (1 - P_i))``, infinite at 0 and 1.
    w_trust : float64 array of shape (1, n) or (draws, n), C-contiguous
        The trust rule's weights, usually ``ln(t_i / (1 - t_i))``; ``±inf`` allowed. One row for a fixed
        rule, or one row per draw (a rule learned from records drawn with P, as in planning).
    t_thr : uint64 array of shape (n,)
        ``montecarlo.thresholds(t)``: the integer thresholds of the trust t, for the SoC coupling.
    bias : float
        ``ln(prior / (1 - prior))`` (``voting.bias``).
    prior : float
        P(truth = +1), in (0, 1).
    rtol : float
        ``TIE_RTOL``: a finite sum S is a tie when ``|S| <= rtol * (sum |finite w_i| + |bias|)``, the
        tolerance of each weighting (per row for the oracle), as ``accuracy_rows`` computes it.
    profiles : int
        Profiles per draw, >= 1.
    key : uint64
        The run's key (``numpy.random.SeedSequence(seed).generate_state(1, np.uint64)[0]``).

    Returns
    -------
    actual, soc, soo : float64 arrays of shape (draws,)
        Means over the draw's ``profiles`` profiles. Profile r of draw d takes uniforms U_i from stream
        ``stream(stream(key, d), r)``; it is ``c_i = [U_i < P_i]`` under P and ``c'_i = [U_i < t_i]``
        under t. With ``C(w, c)`` the credit of weights w on profile c, expected over the truth
        (``prior g(S_c + bias) + (1 - prior) g(S_c - bias)``, ``S_c = sum_i w_i (2 c_i - 1)``, infinite
        weights deciding first by their signed count, exactly as ``voting.decide`` and ``accuracy``):

        - ``actual[d]``: ``C(w_trust, c)``; given P its mean is ``A(P, w_trust)``;
        - ``soc[d]``: ``C(w_trust, c) - C(w_trust, c')``; mean ``A(P, w_trust) - A(t, w_trust)``, whose
          expectation over P is the SoC gap; c and c' differ only where U_i lies between P_i and t_i;
        - ``soo[d]``: ``C(w(P), c) - C(w_trust, c)``; mean ``A(P, w(P)) - A(P, w_trust)``.

        The rows of P being independent draws, the per-draw values are independent, and their sample
        standard deviation over sqrt(draws) is the standard error of their mean. Draw d's values depend
        only on (key, d, p[d], profiles), not on the other rows nor on the thread count; the work is
        parallel over draws, so use at least as many draws as threads.
    """
    draws, n = p.shape
    key = np.uint64(key)
    per_draw = 1 if w_trust.shape[0] > 1 else 0
    actual, soc, soo = np.empty(draws), np.empty(draws), np.empty(draws)
    for d in prange(draws):
        # the trust rule of this draw split: finite weights (0 where infinite) and the signs of the infinite ones
        row = d * per_draw
        w_fin, w_sign = np.empty(n), np.empty(n)
        abs_sum, has_inf = 0.0, False
        for i in range(n):
            if np.isinf(w_trust[row, i]):
                w_fin[i], w_sign[i] = 0.0, (1.0 if w_trust[row, i] > 0.0 else -1.0)
                has_inf = True
            else:
                w_fin[i], w_sign[i] = w_trust[row, i], 0.0
                abs_sum += abs(w_trust[row, i])
        tol_trust = rtol * (abs_sum + abs(bias))
        # the oracle of this row: thresholds, finite weights (0 where P_i is 0 or 1), its own tolerance
        p_thr, w_or = np.empty(n, np.uint64), np.empty(n)
        sure, or_sum = 0, 0.0
        for i in range(n):
            q = p[d, i]
            p_thr[i] = threshold(q)
            if q == 0.0 or q == 1.0:
                # weight -inf at 0 (the source is always wrong), +inf at 1 (always right): every profile
                # adds +1 to the oracle's signed count, which then decides, rightly
                sure += 1
                w_or[i] = 0.0
            else:
                w_or[i] = np.log(q / (1.0 - q))
                or_sum += abs(w_or[i])
        tol_or = rtol * (or_sum + abs(bias))
        sign_p, sign_t = np.empty(n), np.empty(n)  # 2 c_i - 1 and 2 c'_i - 1 of the current profile
        draw_key = stream(key, d)
        sum_actual, sum_soc, sum_soo = 0.0, 0.0, 0.0
        for r in range(profiles):
            state = stream(draw_key, r)
            # two passes, the same numbers as one: the uniforms first (no loop-carried dependency, so the
            # compiler vectorises the mixer), then the three weighted sums in source order
            for i in range(n):
                u = uniform_bits(state + np.uint64(i + 1) * GOLDEN)  # the (i + 1)-th step of the stream
                sign_p[i] = 2.0 * (u < p_thr[i]) - 1.0
                sign_t[i] = 2.0 * (u < t_thr[i]) - 1.0
            s_p, s_t, s_o, k_p, k_t = 0.0, 0.0, 0.0, 0.0, 0.0
            for i in range(n):
                s_p += w_fin[i] * sign_p[i]
                s_t += w_fin[i] * sign_t[i]
                s_o += w_or[i] * sign_p[i]
            if has_inf:
                for i in range(n):
                    k_p += w_sign[i] * sign_p[i]
                    k_t += w_sign[i] * sign_t[i]
            x_p = profile_credit(k_p, s_p, bias, prior, tol_trust)
            x_t = profile_credit(k_t, s_t, bias, prior, tol_trust)
            x_o = 1.0 if sure > 0 else profile_credit(0.0, s_o, bias, prior, tol_or)
            sum_actual += x_p
            sum_soc += x_p - x_t
            sum_soo += x_o - x_p
        actual[d], soc[d], soo[d] = sum_actual / profiles, sum_soc / profiles, sum_soo / profiles
    return actual, soc, soo
