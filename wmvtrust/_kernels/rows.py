"""Exact accuracy of many (q, w) rows at once: one row per thread, fixed work per row."""

import numba as nb
import numpy as np
from numba import prange

from .enumerate import accuracy_enumerate
from .mitm import accuracy_mitm_serial

ENUMERATE_UP_TO = 16  # sources per row: enumeration up to here, meet-in-the-middle beyond


@nb.njit(cache=True, parallel=True)
def accuracy_rows(q, w, offset, rtol):
    """A(q[k], w[k]) with bias ``offset`` for every row k; w finite, tolerance rtol * (sum |w[k]| + |offset|)."""
    out = np.empty(q.shape[0])
    for k in prange(q.shape[0]):
        tol = rtol * (np.abs(w[k]).sum() + abs(offset))
        if q.shape[1] <= ENUMERATE_UP_TO:
            out[k] = accuracy_enumerate(q[k], w[k], offset, tol)
        else:
            out[k] = accuracy_mitm_serial(q[k], w[k], offset, tol)
    return out
