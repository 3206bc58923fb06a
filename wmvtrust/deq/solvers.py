"""Fixed-point solvers for ``z = f(z)``, batched over rows, with per-example convergence reports.

Every solver reports per example whether it converged, its residuals and the evaluations it
used; ``solve`` picks a solver by name and re-solves the examples it leaves unconverged with
Broyden's method, marking them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import (check_callable, check_choice, check_fraction_upto_one, check_positive_int,
                           check_positive_real, check_real_matrix)

SOLVERS = ("fixed_point", "anderson", "broyden")
STOP_MODES = ("abs", "rel")

FloatArray: TypeAlias = NDArray[np.float64]
StateMap: TypeAlias = Callable[[FloatArray], FloatArray]
"""A map of a (B, d) batch of states to their images, row by row: the ``f`` of ``z = f(z)``."""


@dataclass(frozen=True)
class SolverResult:
    """What a fixed-point solver found, per example (row).

    Attributes
    ----------
    z : ndarray of shape (B, d)
        Per example the iterate with the lowest residual in ``stop_mode``.
    abs_lowest : ndarray of shape (B,)
        Lowest absolute residual ``||f(z) - z||_2`` seen.
    rel_lowest : ndarray of shape (B,)
        Lowest relative residual ``||f(z) - z|| / (||f(z)|| + 1e-9)`` seen.
    abs_trace, rel_trace : ndarray of shape (B, nfe)
        Residual of the point evaluated at each step; NaN where an example was
        not evaluated (the Broyden fallback runs on the stragglers only).
    nstep : ndarray of shape (B,)
        The step (1-based column of the traces) at which ``z`` was evaluated.
    nfe : int
        Function evaluations (calls of ``f`` on the batch) used.
    converged : ndarray of shape (B,)
        Whether the lowest residual in ``stop_mode`` is <= ``tol``.
    resolved : ndarray of shape (B,)
        Whether the example was re-solved by the Broyden fallback.
    """

    z: FloatArray
    abs_lowest: FloatArray
    rel_lowest: FloatArray
    abs_trace: FloatArray
    rel_trace: FloatArray
    nstep: NDArray[np.int64]
    nfe: int
    converged: NDArray[np.bool_]
    resolved: NDArray[np.bool_]


def _check_solver_args(f: StateMap, z0: ArrayLike, max_iter: int, tol: float,
                       stop_mode: str) -> tuple[FloatArray, int, float, str]:
    check_callable(f, "f", "be a callable mapping a (B, d) batch to (B, d)")
    return (check_real_matrix(z0, "z0"), check_positive_int(max_iter, "max_iter"), check_positive_real(tol, "tol"),
            check_choice(stop_mode, "stop_mode", STOP_MODES))


class _Tracker:
    """Residuals per step, the lowest-residual iterate per example, and the stopping rule."""

    z: FloatArray
    tol: float
    use_abs: bool
    abs_lowest: FloatArray
    rel_lowest: FloatArray
    key: FloatArray
    abs_trace: FloatArray
    rel_trace: FloatArray
    nstep: NDArray[np.int64]
    nfe: int

    def __init__(self, z0: FloatArray, max_iter: int, tol: float, stop_mode: str) -> None:
        b = z0.shape[0]
        self.z, self.tol, self.use_abs = z0.copy(), tol, stop_mode == "abs"
        self.abs_lowest, self.rel_lowest, self.key = np.full(b, np.inf), np.full(b, np.inf), np.full(b, np.inf)
        self.abs_trace, self.rel_trace = np.full((b, max_iter), np.nan), np.full((b, max_iter), np.nan)
        self.nstep, self.nfe = np.zeros(b, dtype=np.int64), 0

    def record(self, z: FloatArray, fz: FloatArray) -> bool:
        """Record the residuals of the point ``z`` with image ``fz``; True once every example has converged."""
        r_abs = np.linalg.norm(fz - z, axis=1)
        r_rel = r_abs / (np.linalg.norm(fz, axis=1) + 1e-9)
        self.abs_trace[:, self.nfe], self.rel_trace[:, self.nfe] = r_abs, r_rel
        self.nfe += 1
        key = r_abs if self.use_abs else r_rel
        better = key < self.key  # NaN (a diverged iterate) is never better
        self.key[better], self.z[better], self.nstep[better] = key[better], z[better], self.nfe
        np.fmin(self.abs_lowest, r_abs, out=self.abs_lowest)
        np.fmin(self.rel_lowest, r_rel, out=self.rel_lowest)
        return bool((self.key <= self.tol).all())

    def result(self) -> SolverResult:
        return SolverResult(self.z, self.abs_lowest, self.rel_lowest, self.abs_trace[:, :self.nfe],
                            self.rel_trace[:, :self.nfe], self.nstep, self.nfe, self.key <= self.tol,
                            np.zeros(self.z.shape[0], dtype=bool))


def fixed_point_iter(f: StateMap, z0: ArrayLike, *, max_iter: int = 50, tol: float = 1e-4, stop_mode: str = "rel",
                     tau: float = 1.0) -> SolverResult:
    """Damped fixed-point iteration ``z <- tau f(z) + (1 - tau) z``, batched over rows.

    Parameters
    ----------
    f : callable
        Maps a (B, d) batch of states to their images, row by row.
    z0 : array_like of shape (B, d)
        Starting states.
    max_iter : int, default=50
        Largest number of evaluations of ``f``.
    tol : float, default=1e-4
        An example has converged when its lowest residual (in ``stop_mode``) is <= ``tol``;
        the solver stops when every example has, or after ``max_iter`` evaluations.
    stop_mode : {"rel", "abs"}, default="rel"
        Which residual ``tol`` applies to: ``||f(z) - z||`` or that over ``||f(z)||``.
    tau : float in (0, 1], default=1.0
        Damping; 1 is plain iteration.

    Returns
    -------
    SolverResult
        Per example the lowest-residual iterate, its residuals and traces, and ``converged``.

    Examples
    --------
    >>> res = fixed_point_iter(lambda z: 0.5 * z + 1.0, np.zeros((2, 1)), tol=1e-8)
    >>> res.z.round(6).ravel().tolist(), bool(res.converged.all()), res.nfe  # residual halves per step
    ([2.0, 2.0], True, 27)
    """
    z, max_iter, tol, stop_mode = _check_solver_args(f, z0, max_iter, tol, stop_mode)
    tau = check_fraction_upto_one(tau, "tau")
    track = _Tracker(z, max_iter, tol, stop_mode)
    for _ in range(max_iter):
        fz = f(z)
        if track.record(z, fz):
            break
        z = tau * fz + (1.0 - tau) * z
    return track.result()


def anderson(f: StateMap, z0: ArrayLike, *, max_iter: int = 50, tol: float = 1e-4, stop_mode: str = "rel", m: int = 5,
             lam: float = 1e-3, beta: float = 1.0) -> SolverResult:
    """Anderson acceleration with a ridge relative to the residual scale, batched over rows.

    Per example it keeps the last ``m`` iterates ``x_j`` and images ``f_j``, finds
    mixing weights ``alpha`` (summing to one) that minimise ``||sum_j alpha_j (f_j - x_j)||²
    + lam * s * ||alpha||²`` with ``s`` the mean squared residual in the window, and moves
    to ``sum_j alpha_j (beta f_j + (1 - beta) x_j)``. An absolute ridge would flatten the
    weights to a plain average once the residuals are small and stall the solver.

    Parameters
    ----------
    f : callable
        Maps a (B, d) batch of states to their images, row by row.
    z0 : array_like of shape (B, d)
        Starting states.
    max_iter : int, default=50
        Largest number of evaluations of ``f``.
    tol : float, default=1e-4
        Convergence threshold for the lowest residual in ``stop_mode`` (see ``fixed_point_iter``).
    stop_mode : {"rel", "abs"}, default="rel"
        Which residual ``tol`` applies to.
    m : int, default=5
        Window: how many past iterates are mixed.
    lam : float, default=1e-3
        Ridge, relative to the mean squared residual in the window.
    beta : float in (0, 1], default=1.0
        Mixing between images (1) and iterates.

    Returns
    -------
    SolverResult
        Per example the lowest-residual iterate, its residuals and traces, and ``converged``.

    Examples
    --------
    >>> res = anderson(np.cos, np.zeros((1, 1)), tol=1e-12, stop_mode="abs", m=2)  # z = cos(z)
    >>> round(float(res.z[0, 0]), 9), bool(res.converged[0]), res.nfe  # plain iteration needs 70
    (0.739085133, True, 10)
    """
    z, max_iter, tol, stop_mode = _check_solver_args(f, z0, max_iter, tol, stop_mode)
    m, lam = check_positive_int(m, "m"), check_positive_real(lam, "lam")
    beta = check_fraction_upto_one(beta, "beta")
    b, d = z.shape
    xs, fs = np.zeros((b, m, d)), np.zeros((b, m, d))
    track = _Tracker(z, max_iter, tol, stop_mode)
    for k in range(max_iter):
        fz = f(z)
        if track.record(z, fz):
            break
        xs[:, k % m], fs[:, k % m] = z, fz  # a ring buffer: the weights do not depend on the order
        n = min(k + 1, m)
        g = fs[:, :n] - xs[:, :n]
        gram = g @ g.transpose(0, 2, 1)
        scale = np.trace(gram, axis1=1, axis2=2) / n
        scale = np.where(scale > 0, scale, 1.0)  # an exact fixed point: any weights will do
        alpha = np.linalg.solve(gram + (lam * scale)[:, None, None] * np.eye(n), np.ones((b, n, 1)))[..., 0]
        alpha /= alpha.sum(axis=1, keepdims=True)  # > 0: the ridged Gram matrix is positive definite
        z = np.einsum("bn,bnd->bd", alpha, beta * fs[:, :n] + (1.0 - beta) * xs[:, :n])
    return track.result()


def broyden(f: StateMap, z0: ArrayLike, *, max_iter: int = 50, tol: float = 1e-4,
            stop_mode: str = "rel") -> SolverResult:
    """Broyden's ("good") quasi-Newton method for ``g(z) = f(z) - z = 0``, batched over rows.

    Per example it keeps a dense estimate ``H`` of the inverse Jacobian of ``g``,
    starting at ``-I`` (so the first step is a plain fixed-point step), moves by
    ``-H g(z)`` and updates ``H += (dz - H dg) dzᵀH / (dzᵀ H dg)``; the update is skipped
    where that denominator is numerically zero (e.g. an example already at its fixed point).

    Parameters
    ----------
    f : callable
        Maps a (B, d) batch of states to their images, row by row.
    z0 : array_like of shape (B, d)
        Starting states.
    max_iter : int, default=50
        Largest number of evaluations of ``f``.
    tol : float, default=1e-4
        Convergence threshold for the lowest residual in ``stop_mode`` (see ``fixed_point_iter``).
    stop_mode : {"rel", "abs"}, default="rel"
        Which residual ``tol`` applies to.

    Returns
    -------
    SolverResult
        Per example the lowest-residual iterate, its residuals and traces, and ``converged``.

    Examples
    --------
    >>> A = np.array([[0.0, 2.0], [-2.0, 0.0]])  # spectral radius 2: plain iteration diverges
    >>> res = broyden(lambda z: z @ A.T + 1.0, np.zeros((1, 2)), tol=1e-12, stop_mode="abs")
    >>> res.z.round(9).tolist(), bool(res.converged[0])  # (I - A) z = 1
    ([[0.6, -0.2]], True)
    """
    z, max_iter, tol, stop_mode = _check_solver_args(f, z0, max_iter, tol, stop_mode)
    b, d = z.shape
    track = _Tracker(z, max_iter, tol, stop_mode)
    fz = f(z)
    g = fz - z
    if track.record(z, fz):
        return track.result()
    h = np.broadcast_to(-np.eye(d), (b, d, d)).copy()
    for _ in range(max_iter - 1):
        dz = -np.einsum("bij,bj->bi", h, g)
        z = z + dz
        fz = f(z)
        g_new = fz - z
        if track.record(z, fz):
            break
        h_dg = np.einsum("bij,bj->bi", h, g_new - g)
        dz_h = np.einsum("bi,bij->bj", dz, h)
        denom = (dz * h_dg).sum(axis=1)
        ok = np.abs(denom) > 1e-12 * np.linalg.norm(dz, axis=1) * np.linalg.norm(h_dg, axis=1)
        ok &= np.isfinite(denom) & (denom != 0)
        if ok.any():  # a zero update where skipped: no masked copies of the (B, d, d) stack
            step = np.where(ok[:, None], (dz - h_dg) / np.where(ok, denom, 1.0)[:, None], 0.0)
            h += np.einsum("bi,bj->bij", step, np.where(ok[:, None], dz_h, 0.0))
        g = g_new
    return track.result()


class _Solver(Protocol):
    """What the three solvers share: their extra options (``tau``; ``m``, ``lam``, ``beta``) have defaults."""

    def __call__(self, f: StateMap, z0: ArrayLike, *, max_iter: int = ..., tol: float = ...,
                 stop_mode: str = ...) -> SolverResult: ...


# annotated: the three functions' signatures differ, and their inferred join (``function``) cannot be called
_SOLVER_FUNCTIONS: dict[str, _Solver] = {"fixed_point": fixed_point_iter, "anderson": anderson, "broyden": broyden}


def solve(f: StateMap, z0: ArrayLike, *, solver: str = "anderson", max_iter: int = 50, tol: float = 1e-4,
          stop_mode: str = "rel", on_rows: Callable[[NDArray[np.intp]], StateMap] | None = None) -> SolverResult:
    """Solve ``z = f(z)`` with the named solver; with ``on_rows``, re-solve the stragglers with Broyden.

    The examples the solver leaves unconverged are re-solved by ``broyden`` from their
    best iterate, with the same budget, on those rows only. Per example, ``z`` is the better
    of the two solves' iterates, ``converged`` is the re-solve's verdict and ``resolved``
    marks the re-solved examples.

    Parameters
    ----------
    f : callable
        Maps a (B, d) batch of states to their images, row by row.
    z0 : array_like of shape (B, d)
        Starting states.
    solver : {"anderson", "fixed_point", "broyden"}, default="anderson"
        The first solver.
    max_iter : int, default=50
        Largest number of evaluations of ``f`` by each solve.
    tol : float, default=1e-4
        Convergence threshold for the lowest residual in ``stop_mode`` (see ``fixed_point_iter``).
    stop_mode : {"rel", "abs"}, default="rel"
        Which residual ``tol`` applies to.
    on_rows : callable, optional
        ``on_rows(rows)`` is ``f`` restricted to the rows of an index array; default: no re-solve.

    Returns
    -------
    SolverResult
        With the re-solve, ``nfe`` counts both solves and the traces have NaN where an
        example was not evaluated.

    Examples
    --------
    >>> A = np.array([[0.0, 2.0], [-2.0, 0.0]])  # spectral radius 2: plain iteration diverges
    >>> res = solve(lambda z: z @ A.T + 1.0, np.zeros((1, 2)), solver="fixed_point", tol=1e-12,
    ...             on_rows=lambda rows: lambda z: z @ A.T + 1.0)
    >>> res.z.round(9).tolist(), bool(res.converged[0]), bool(res.resolved[0])
    ([[0.6, -0.2]], True, True)
    """
    solver = check_choice(solver, "solver", SOLVERS)
    res = _SOLVER_FUNCTIONS[solver](f, z0, max_iter=max_iter, tol=tol, stop_mode=stop_mode)
    todo = np.flatnonzero(~res.converged)
    if on_rows is None or todo.size == 0:
        return res
    sub = broyden(on_rows(todo), res.z[todo], max_iter=max_iter, tol=tol, stop_mode=stop_mode)
    key, sub_key = (res.abs_lowest, sub.abs_lowest) if stop_mode == "abs" else (res.rel_lowest, sub.rel_lowest)
    better = sub_key < key[todo]
    z, nstep = res.z.copy(), res.nstep.copy()
    z[todo[better]], nstep[todo[better]] = sub.z[better], res.nfe + sub.nstep[better]
    traces: list[FloatArray] = []
    for first, second in ((res.abs_trace, sub.abs_trace), (res.rel_trace, sub.rel_trace)):
        trace = np.full((len(z), res.nfe + sub.nfe), np.nan)
        trace[:, :res.nfe], trace[todo, res.nfe:] = first, second
        traces.append(trace)
    abs_lowest, rel_lowest = res.abs_lowest.copy(), res.rel_lowest.copy()
    abs_lowest[todo] = np.fmin(abs_lowest[todo], sub.abs_lowest)
    rel_lowest[todo] = np.fmin(rel_lowest[todo], sub.rel_lowest)
    converged, resolved = res.converged.copy(), np.zeros(len(z), dtype=bool)
    converged[todo], resolved[todo] = sub.converged, True
    return SolverResult(z, abs_lowest, rel_lowest, traces[0], traces[1], nstep, res.nfe + sub.nfe, converged,
                        resolved)
