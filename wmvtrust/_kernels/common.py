"""Pieces shared by the accuracy kernels."""

import numba as nb


@nb.njit(cache=True, inline="always")
def credit(s, tol):
    """g(s): 1 for a correct decision, 1/2 for a tie (|s| <= tol), 0 otherwise; branch-free."""
    return 0.5 * ((s > tol) + (s >= -tol))


@nb.njit(cache=True, inline="always")
def neumaier_add(total, comp, x):
    """One step of Neumaier's compensated summation; returns the new (total, comp)."""
    t = total + x
    if abs(total) >= abs(x):
        comp += (total - t) + x
    else:
        comp += (x - t) + total
    return t, comp
