"""A deep equilibrium (DEQ) classifier in numpy: its solvers, gradients and diagnostics.

The model's hidden state is the fixed point ``z* = tanh(W z* + U x + b)`` of one
layer; the class scores are ``V z* + c``. Rows are examples: ``X`` is
(n, n_features) and a state ``Z`` is (n, width).

Training needs ``dz*/dθ``. Differentiating ``z* = f(z*, θ)`` gives
``(I - J) dz* = (∂f/∂θ) dθ`` with ``J = ∂f/∂z = diag(1 - z*²) W``, so for a loss
with ``g = ∂L/∂z*`` the parameter gradient is ``wᵀ ∂f/∂θ`` where ``w`` solves
the linear system ``(I - Jᵀ) w = g`` (the implicit gradient; this is why the
backward pass needs a solve of its own). Phantom gradients replace
``(I - J)⁻¹`` by a few damped unrolled steps of the layer.

Nothing is hidden: every solver reports per example whether it converged, its
residuals and the evaluations it used; ``DEQClassifier.solve`` re-solves the
examples that did not converge with Broyden's method and marks them.
"""

import contextlib
import functools
from dataclasses import dataclass

import numpy as np

from ._validation import (check_choice, check_fraction_upto_one, check_nonnegative_real, check_positive_int,
                          check_positive_real, check_real_matrix, check_rng, check_seed, fail)

SOLVERS = ("fixed_point", "anderson", "broyden")
GRADIENTS = ("implicit", "phantom", "one_step")
JAC_ESTIMATORS = ("exact", "hutchinson")
STOP_MODES = ("abs", "rel")
STARTS = ("swap", "noise")

# activation(a), and its slope and the slope's derivative, both as functions of the output y = activation(a)
_ACTIVATIONS = {
    "tanh": (np.tanh, lambda y: 1.0 - y * y, lambda y: -2.0 * y),
    "linear": (lambda a: a, np.ones_like, np.zeros_like),
}


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

    z: np.ndarray
    abs_lowest: np.ndarray
    rel_lowest: np.ndarray
    abs_trace: np.ndarray
    rel_trace: np.ndarray
    nstep: np.ndarray
    nfe: int
    converged: np.ndarray
    resolved: np.ndarray


# ---------------------------------------------------------------------------------------------------------------
# validation


def _check_solver_args(f, z0, max_iter, tol, stop_mode):
    if not callable(f):
        raise fail("f", "be a callable mapping a (B, d) batch to (B, d)", f"got {type(f).__name__}", error=TypeError)
    return (check_real_matrix(z0, "z0"), check_positive_int(max_iter, "max_iter"), check_positive_real(tol, "tol"),
            check_choice(stop_mode, "stop_mode", STOP_MODES))


# ---------------------------------------------------------------------------------------------------------------
# solvers


class _Tracker:
    """Residuals per step, the lowest-residual iterate per example, and the stopping rule."""

    def __init__(self, z0, max_iter, tol, stop_mode):
        b = z0.shape[0]
        self.z, self.tol, self.use_abs = z0.copy(), tol, stop_mode == "abs"
        self.abs_lowest, self.rel_lowest, self.key = np.full(b, np.inf), np.full(b, np.inf), np.full(b, np.inf)
        self.abs_trace, self.rel_trace = np.full((b, max_iter), np.nan), np.full((b, max_iter), np.nan)
        self.nstep, self.nfe = np.zeros(b, dtype=np.int64), 0

    def record(self, z, fz):
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

    def result(self):
        return SolverResult(self.z, self.abs_lowest, self.rel_lowest, self.abs_trace[:, :self.nfe],
                            self.rel_trace[:, :self.nfe], self.nstep, self.nfe, self.key <= self.tol,
                            np.zeros(self.z.shape[0], dtype=bool))


def fixed_point_iter(f, z0, *, max_iter=50, tol=1e-4, stop_mode="rel", tau=1.0):
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


def anderson(f, z0, *, max_iter=50, tol=1e-4, stop_mode="rel", m=5, lam=1e-3, beta=1.0):
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


def broyden(f, z0, *, max_iter=50, tol=1e-4, stop_mode="rel"):
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


_SOLVER_FUNCTIONS = {"fixed_point": fixed_point_iter, "anderson": anderson, "broyden": broyden}


# ---------------------------------------------------------------------------------------------------------------
# the layer and its gradients


def layer(params, X, Z, *, activation="tanh"):
    """One application of the layer: ``activation(Z Wᵀ + X Uᵀ + b)``, row by row.

    Parameters
    ----------
    params : dict
        ``W`` (d, d), ``U`` (d, p), ``b`` (d,); ``V`` and ``c`` (the head) are not used.
    X : ndarray of shape (B, p)
        Inputs.
    Z : ndarray of shape (B, d)
        States.
    activation : {"tanh", "linear"}, default="tanh"
        ``"linear"`` (the identity) is there for checks against closed forms.

    Returns
    -------
    ndarray of shape (B, d)
        The images of the states.

    Examples
    --------
    >>> params = {"W": np.eye(2) / 2, "U": np.ones((2, 1)), "b": np.zeros(2)}
    >>> layer(params, np.ones((1, 1)), np.zeros((1, 2)), activation="linear").tolist()
    [[1.0, 1.0]]
    """
    act = _ACTIVATIONS[check_choice(activation, "activation", tuple(_ACTIVATIONS))][0]
    return act(Z @ params["W"].T + X @ params["U"].T + params["b"])


def implicit_gradient(params, X, Z, *, activation="tanh"):
    """Exact implicit gradient at an equilibrium ``Z``, by a batched direct solve.

    For ``G = ∂L/∂z*`` it solves ``(I - Jᵀ) w = G`` per example, with
    ``J = diag(s) W`` and ``s`` the activation's slope at the equilibrium
    (``1 - z*²`` for tanh), and returns ``∂L/∂W = Σ δ z*ᵀ``, ``∂L/∂U = Σ δ xᵀ``,
    ``∂L/∂b = Σ δ`` with ``δ = s ⊙ w``, summed over the batch. The formula is that of
    the exact fixed point; evaluated at an approximate one it is approximate too.

    Parameters
    ----------
    params : dict
        ``W``, ``U``, ``b`` of the layer.
    X : ndarray of shape (B, p)
        Inputs.
    Z : ndarray of shape (B, d)
        The equilibrium states (from a solver).
    activation : {"tanh", "linear"}, default="tanh"
        The layer's activation.

    Returns
    -------
    z : ndarray of shape (B, d)
        The state to evaluate the loss at: ``Z`` itself.
    vjp : callable
        Maps ``G = ∂L/∂z`` of shape (B, d) to a dict of gradients ``W``, ``U``, ``b``.

    Examples
    --------
    >>> params = {"W": np.array([[0.5]]), "U": np.array([[1.0]]), "b": np.zeros(1)}
    >>> z, vjp = implicit_gradient(params, np.ones((1, 1)), np.array([[2.0]]), activation="linear")
    >>> float(vjp(np.ones((1, 1)))["b"][0])  # z* = x / (1 - W): dz*/db = 1 / (1 - 0.5)
    2.0
    """
    _, slope, _ = _ACTIVATIONS[check_choice(activation, "activation", tuple(_ACTIVATIONS))]
    s = slope(Z)  # at an equilibrium the layer's output is Z itself
    d = Z.shape[1]
    lhs = np.eye(d) - params["W"].T[None, :, :] * s[:, None, :]  # I - Jᵀ = I - Wᵀ diag(s)

    def vjp(G):
        delta = s * np.linalg.solve(lhs, G[:, :, None])[:, :, 0]
        return {"W": delta.T @ Z, "U": delta.T @ X, "b": delta.sum(axis=0)}

    return Z, vjp


def phantom_gradient(params, X, Z, *, steps=5, tau=0.8, activation="tanh"):
    """Phantom gradient: back-propagation through ``steps`` damped layer steps from ``Z``.

    Starting from the (detached) equilibrium ``Z``, it runs
    ``z <- tau f(z) + (1 - tau) z`` ``steps`` times; the loss is evaluated at the last
    state and differentiated through these steps only. At an exact fixed point this
    replaces ``(I - J)⁻¹`` by ``tau Σ_{j<steps} (tau J + (1 - tau) I)^j``, which tends to
    it as ``steps`` grows when that matrix's spectral radius is below 1. ``steps=1,
    tau=1`` is the one-step (Jacobian-free) gradient.

    Parameters
    ----------
    params : dict
        ``W``, ``U``, ``b`` of the layer.
    X : ndarray of shape (B, p)
        Inputs.
    Z : ndarray of shape (B, d)
        The equilibrium states (from a solver).
    steps : int, default=5
        Unrolled steps ``k``.
    tau : float in (0, 1], default=0.8
        Damping of the unrolled steps.
    activation : {"tanh", "linear"}, default="tanh"
        The layer's activation.

    Returns
    -------
    z : ndarray of shape (B, d)
        The state after the unrolled steps, to evaluate the loss at.
    vjp : callable
        Maps ``G = ∂L/∂z`` of shape (B, d) to a dict of gradients ``W``, ``U``, ``b``.

    Examples
    --------
    >>> params = {"W": np.array([[0.5]]), "U": np.array([[1.0]]), "b": np.zeros(1)}
    >>> z, vjp = phantom_gradient(params, np.ones((1, 1)), np.array([[2.0]]), steps=3, tau=1.0,
    ...                           activation="linear")
    >>> float(vjp(np.ones((1, 1)))["b"][0])  # 1 + 0.5 + 0.25, on its way to 2
    1.75
    """
    act, slope, _ = _ACTIVATIONS[check_choice(activation, "activation", tuple(_ACTIVATIONS))]
    steps, tau = check_positive_int(steps, "steps"), check_fraction_upto_one(tau, "tau")
    states, slopes = [Z], []
    for _ in range(steps):
        y = act(states[-1] @ params["W"].T + X @ params["U"].T + params["b"])
        slopes.append(slope(y))
        states.append(tau * y + (1.0 - tau) * states[-1])

    def vjp(G):
        grad_w, delta_sum, g = np.zeros_like(params["W"]), np.zeros_like(G), G
        for t in reversed(range(steps)):
            delta = tau * slopes[t] * g
            grad_w += delta.T @ states[t]
            delta_sum += delta
            g = (1.0 - tau) * g + delta @ params["W"]  # not propagated into the detached start
        return {"W": grad_w, "U": delta_sum.T @ X, "b": delta_sum.sum(axis=0)}

    return states[-1], vjp


def _jacobian_term(W, Z, probes, activation):
    """||J||_F² per row (exact, or Hutchinson with ``probes``) and the gradients of its mean / d."""
    _, slope, dslope = _ACTIVATIONS[activation]
    s = slope(Z)  # J = diag(s) W at an equilibrium Z
    scale = 2.0 / Z.size  # d(mean over the batch of ||J||²/d) = 2 / (B d) * ...
    if probes is None:
        row2 = (W * W).sum(axis=1)
        values = (s * s) @ row2
        grad_w = scale * (s * s).sum(axis=0)[:, None] * W
        grad_s = scale * s * row2
    else:
        es = probes * s
        v = es @ W  # one Hutchinson sample per row: ||(ε ⊙ s)ᵀ W||²
        values = (v * v).sum(axis=1)
        grad_w = scale * es.T @ v
        grad_s = scale * probes * (v @ W.T)
    return values, grad_w, grad_s * dslope(Z)


def jacobian_fro2(params, Z, *, probes=None, activation="tanh"):
    """``||J||_F²`` per example at equilibrium states, exact or by Hutchinson's estimator.

    With ``J = diag(s) W`` and ``s = 1 - z²`` (tanh), the exact value is
    ``Σ_i s_i² ||W_i||²``. Hutchinson's estimate from a probe ``ε ~ N(0, I)`` is
    ``||(ε ⊙ s)ᵀ W||²``, unbiased because ``E[ε εᵀ] = I``.

    Parameters
    ----------
    params : dict
        ``W`` of the layer (other entries are ignored).
    Z : ndarray of shape (B, d)
        Equilibrium states.
    probes : ndarray of shape (B, d), optional
        One probe vector per example; default: the exact value.
    activation : {"tanh", "linear"}, default="tanh"
        The layer's activation.

    Returns
    -------
    ndarray of shape (B,)
        The squared Frobenius norm of the layer Jacobian, or its estimate.

    Examples
    --------
    >>> params = {"W": np.array([[1.0, 2.0], [0.0, 1.0]])}
    >>> jacobian_fro2(params, np.zeros((1, 2))).tolist()  # s = 1: ||W||_F² = 1 + 4 + 1
    [6.0]
    >>> jacobian_fro2(params, np.zeros((1, 2)), probes=np.array([[1.0, 0.0]])).tolist()  # ||W_0||²
    [5.0]
    """
    check_choice(activation, "activation", tuple(_ACTIVATIONS))
    if probes is not None and np.shape(probes) != np.shape(Z):
        raise fail("probes", f"have the shape of Z, {np.shape(Z)}", f"got shape {np.shape(probes)}")
    return _jacobian_term(params["W"], Z, probes, activation)[0]


def _log_softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def loss_and_gradient(params, X, y, Z, *, grad="implicit", phantom_steps=5, tau=0.8, jac_weight=0.0, probes=None,
                      activation="tanh"):
    """Mean cross-entropy (plus Jacobian penalty) of a batch, and its gradient in every parameter.

    The loss is ``mean_b CE(V z_b + c, y_b) + jac_weight * mean_b ||J(z_b)||_F² / d``,
    with ``z`` the equilibrium ``Z`` (``grad="implicit"``) or the state after the
    phantom steps. The penalty's gradient reaches ``W`` directly and through the state:
    its ``∂/∂z`` is added to ``∂L/∂z`` before the gradient mode carries it to ``W, U, b``.

    Parameters
    ----------
    params : dict
        ``W`` (d, d), ``U`` (d, p), ``b`` (d,), ``V`` (L, d), ``c`` (L,).
    X : ndarray of shape (B, p)
        Inputs.
    y : ndarray of shape (B,)
        Class codes 0 .. L-1.
    Z : ndarray of shape (B, d)
        Equilibrium states (from a solver).
    grad : {"implicit", "phantom", "one_step"}, default="implicit"
        Gradient mode; ``"one_step"`` is ``"phantom"`` with one step and ``tau = 1``.
    phantom_steps : int, default=5
        Unrolled steps of the phantom gradient.
    tau : float in (0, 1], default=0.8
        Damping of the phantom gradient.
    jac_weight : float, default=0.0
        Weight of the Jacobian penalty.
    probes : ndarray of shape (B, d), optional
        Hutchinson probes for the penalty; default: its exact value.
    activation : {"tanh", "linear"}, default="tanh"
        The layer's activation.

    Returns
    -------
    loss : float
        The batch loss.
    grads : dict
        Its gradient: ``W``, ``U``, ``b``, ``V``, ``c``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> params = {"W": 0.1 * rng.normal(size=(3, 3)), "U": rng.normal(size=(3, 2)), "b": np.zeros(3),
    ...           "V": rng.normal(size=(2, 3)), "c": np.zeros(2)}
    >>> X = rng.normal(size=(4, 2))
    >>> Z = fixed_point_iter(lambda z: layer(params, X, z), np.zeros((4, 3)), tol=1e-12).z
    >>> loss, grads = loss_and_gradient(params, X, np.array([0, 1, 1, 0]), Z)
    >>> sorted(grads), grads["W"].shape
    (['U', 'V', 'W', 'b', 'c'], (3, 3))
    """
    grad = check_choice(grad, "grad", GRADIENTS)
    if grad == "implicit":
        z, vjp = implicit_gradient(params, X, Z, activation=activation)
    else:
        steps, tau = (phantom_steps, tau) if grad == "phantom" else (1, 1.0)
        z, vjp = phantom_gradient(params, X, Z, steps=steps, tau=tau, activation=activation)
    log_p = _log_softmax(z @ params["V"].T + params["c"])
    rows = np.arange(len(y))
    loss = -log_p[rows, y].mean()
    dlogits = np.exp(log_p)
    dlogits[rows, y] -= 1.0
    dlogits /= len(y)
    dz = dlogits @ params["V"]
    if jac_weight:
        values, jac_w, jac_z = _jacobian_term(params["W"], z, probes, activation)
        loss += jac_weight * values.mean() / z.shape[1]
        dz = dz + jac_weight * jac_z
    grads = vjp(dz)
    if jac_weight:
        grads["W"] = grads["W"] + jac_weight * jac_w
    grads["V"], grads["c"] = dlogits.T @ z, dlogits.sum(axis=0)
    return float(loss), grads


def _solve_layer(params, X, z0, solver, max_iter, tol, stop_mode, fallback):
    """Solve the layer for every row of X; re-solve the stragglers with Broyden when ``fallback``."""
    res = _SOLVER_FUNCTIONS[solver](lambda z: layer(params, X, z), z0, max_iter=max_iter, tol=tol,
                                    stop_mode=stop_mode)
    todo = np.flatnonzero(~res.converged)
    if not fallback or todo.size == 0:
        return res
    sub = broyden(lambda z: layer(params, X[todo], z), res.z[todo], max_iter=max_iter, tol=tol, stop_mode=stop_mode)
    key, sub_key = (res.abs_lowest, sub.abs_lowest) if stop_mode == "abs" else (res.rel_lowest, sub.rel_lowest)
    better = sub_key < key[todo]
    z, nstep = res.z.copy(), res.nstep.copy()
    z[todo[better]], nstep[todo[better]] = sub.z[better], res.nfe + sub.nstep[better]
    traces = []
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


@functools.cache
def _blas_controller():
    """threadpoolctl's view of the loaded BLAS libraries, found once (it takes milliseconds); None without it."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # optional: without it BLAS keeps its own thread count
        return None
    return ThreadpoolController()


def _single_blas_thread():
    """A context with BLAS on one thread: the products here are small, and a second thread slows them down."""
    controller = _blas_controller()
    return contextlib.nullcontext() if controller is None else controller.limit(limits=1, user_api="blas")


def _one_blas_thread(method):
    """Run ``method`` with BLAS on one thread (see ``_single_blas_thread``)."""
    @functools.wraps(method)
    def wrapped(*args, **kwargs):
        with _single_blas_thread():
            return method(*args, **kwargs)
    return wrapped


# ---------------------------------------------------------------------------------------------------------------
# the classifier


class DEQClassifier:
    """A deep equilibrium classifier: ``z* = tanh(W z* + U x + b)``, class scores ``V z* + c``.

    Trained by Adam with cosine learning-rate decay, a global gradient-norm clip and an
    L2 penalty on ``W, U, V``; the forward pass solves for ``z*`` from zero, the backward
    pass uses the chosen gradient mode. BLAS is limited to one thread in ``fit`` and in every
    solve when threadpoolctl is installed (tiny batched products run several times slower on
    more; parallelise over members instead); the same seed gives bit-identical parameters.

    Parameters
    ----------
    width : int, default=32
        Dimension ``d`` of the state.
    solver : {"anderson", "fixed_point", "broyden"}, default="anderson"
        Forward solver; examples it leaves unconverged are re-solved with Broyden.
    max_iter : int, default=30
        Evaluation budget of the forward solver (and of the fallback).
    tol : float, default=1e-4
        Forward tolerance.
    stop_mode : {"rel", "abs"}, default="rel"
        Which residual ``tol`` applies to.
    grad : {"implicit", "phantom", "one_step"}, default="implicit"
        Training gradient (see ``implicit_gradient``, ``phantom_gradient``).
    phantom_steps : int, default=5
        Unrolled steps of the phantom gradient.
    tau : float in (0, 1], default=0.8
        Damping of the phantom gradient.
    jac_weight : float, default=0.0
        Weight of the Jacobian penalty ``mean ||J(z*)||_F² / d``.
    jac_estimator : {"exact", "hutchinson"}, default="exact"
        The penalty in closed form, or one Gaussian Hutchinson probe per example and step.
    epochs : int, default=12
        Passes over the training data.
    batch_size : int, default=64
        Examples per step.
    lr : float, default=1e-2
        Initial Adam learning rate, decayed to 0 by a half cosine.
    weight_decay : float, default=1e-4
        L2 penalty ``weight_decay / 2 * ||θ||²`` on ``W, U, V``.
    clip : float, default=1.0
        Largest global norm of a step's gradient.
    init_scale : float, default=0.9
        ``W ~ N(0, init_scale² / d)`` at initialisation.
    seed : int, optional, default=0
        Seed of the initialisation, the shuffling and the Hutchinson probes.

    Attributes
    ----------
    classes_ : ndarray
        The sorted labels seen in ``fit``.
    params_ : dict
        ``W`` (d, d), ``U`` (d, p), ``b`` (d,), ``V`` (L, d), ``c`` (L,).
    history_ : list of float
        Mean training loss per epoch.
    unconverged_ : list of int
        Per epoch, training examples whose forward solve (with the fallback) did not converge.
    n_features_in_ : int
        Number of input features.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 2))
    >>> y = np.where(X[:, 0] > 0, "right", "left")
    >>> clf = DEQClassifier(width=4, epochs=10, batch_size=20).fit(X, y)
    >>> clf.classes_.tolist(), float((clf.predict(X) == y).mean()) > 0.9
    (['left', 'right'], True)
    """

    def __init__(self, width=32, *, solver="anderson", max_iter=30, tol=1e-4, stop_mode="rel", grad="implicit",
                 phantom_steps=5, tau=0.8, jac_weight=0.0, jac_estimator="exact", epochs=12, batch_size=64, lr=1e-2,
                 weight_decay=1e-4, clip=1.0, init_scale=0.9, seed=0):
        self.width = check_positive_int(width, "width")
        self.solver = check_choice(solver, "solver", SOLVERS)
        self.max_iter = check_positive_int(max_iter, "max_iter")
        self.tol = check_positive_real(tol, "tol")
        self.stop_mode = check_choice(stop_mode, "stop_mode", STOP_MODES)
        self.grad = check_choice(grad, "grad", GRADIENTS)
        self.phantom_steps = check_positive_int(phantom_steps, "phantom_steps")
        self.tau = check_fraction_upto_one(tau, "tau")
        self.jac_weight = check_nonnegative_real(jac_weight, "jac_weight")
        self.jac_estimator = check_choice(jac_estimator, "jac_estimator", JAC_ESTIMATORS)
        self.epochs = check_positive_int(epochs, "epochs")
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.lr = check_positive_real(lr, "lr")
        self.weight_decay = check_nonnegative_real(weight_decay, "weight_decay")
        self.clip = check_positive_real(clip, "clip")
        self.init_scale = check_positive_real(init_scale, "init_scale")
        self.seed = check_seed(seed)

    def __repr__(self):
        return f"DEQClassifier(width={self.width}, solver={self.solver!r}, grad={self.grad!r}, seed={self.seed})"

    def fit(self, X, y):
        """Train on ``X`` (n, n_features) and labels ``y`` (n,).

        Parameters
        ----------
        X : array_like of shape (n, n_features)
            Finite inputs.
        y : array_like of shape (n,)
            Labels (any sortable values), at least two distinct ones.

        Returns
        -------
        DEQClassifier
            ``self``, fitted.

        Examples
        --------
        >>> X = np.array([[0.0], [0.1], [0.9], [1.0]])
        >>> clf = DEQClassifier(width=3, epochs=2).fit(X, [0, 0, 1, 1])
        >>> clf.params_["W"].shape, clf.n_features_in_, len(clf.history_)
        ((3, 3), 1, 2)
        """
        X = check_real_matrix(X, "X")
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(X):
            raise fail("X and y", "have the same length, one label per row of X",
                       f"X has {len(X)} rows and y has shape {y.shape}")
        classes, codes = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise fail("y", "contain at least two classes", f"got only {classes.tolist()!r}")
        n, p = X.shape
        d, n_classes = self.width, len(classes)
        rng = np.random.default_rng(self.seed)
        params = {"W": rng.standard_normal((d, d)) * self.init_scale / np.sqrt(d),
                  "U": rng.standard_normal((d, p)) / np.sqrt(p), "b": np.zeros(d),
                  "V": rng.standard_normal((n_classes, d)) / np.sqrt(d), "c": np.zeros(n_classes)}
        moment1 = {k: np.zeros_like(v) for k, v in params.items()}
        moment2 = {k: np.zeros_like(v) for k, v in params.items()}
        per_epoch = -(-n // self.batch_size)
        total, step = self.epochs * per_epoch, 0
        history, unconverged = [], []
        with _single_blas_thread():
            for _ in range(self.epochs):
                order, losses, missed = rng.permutation(n), [], 0
                for start in range(0, n, self.batch_size):
                    rows = order[start:start + self.batch_size]
                    xb = X[rows]
                    res = _solve_layer(params, xb, np.zeros((len(rows), d)), self.solver, self.max_iter, self.tol,
                                       self.stop_mode, True)
                    missed += int((~res.converged).sum())
                    hutchinson = self.jac_weight > 0 and self.jac_estimator == "hutchinson"
                    probes = rng.standard_normal(res.z.shape) if hutchinson else None
                    loss, grads = loss_and_gradient(params, xb, codes[rows], res.z, grad=self.grad,
                                                    phantom_steps=self.phantom_steps, tau=self.tau,
                                                    jac_weight=self.jac_weight, probes=probes)
                    for k in ("W", "U", "V"):
                        grads[k] += self.weight_decay * params[k]
                    norm = np.sqrt(sum(float((g * g).sum()) for g in grads.values()))
                    shrink = min(1.0, self.clip / norm) if norm > 0 else 1.0
                    step += 1
                    rate = self.lr * 0.5 * (1.0 + np.cos(np.pi * (step - 1) / total))
                    for k, g in grads.items():
                        g = g * shrink
                        moment1[k] = 0.9 * moment1[k] + 0.1 * g
                        moment2[k] = 0.999 * moment2[k] + 0.001 * g * g
                        m_hat, v_hat = moment1[k] / (1 - 0.9 ** step), moment2[k] / (1 - 0.999 ** step)
                        params[k] = params[k] - rate * m_hat / (np.sqrt(v_hat) + 1e-8)
                    losses.append(loss * len(rows))
                history.append(float(sum(losses) / n))
                unconverged.append(missed)
        self.classes_, self.params_, self.n_features_in_ = classes, params, p
        self.history_, self.unconverged_ = history, unconverged
        return self

    def _checked_input(self, X, method):
        if not hasattr(self, "params_"):
            raise fail("DEQClassifier", f"be fitted before {method}", "params_ is not set", "Call fit(X, y) first.",
                       error=RuntimeError)
        return check_real_matrix(X, "X", self.n_features_in_, "features, as in fit")

    @_one_blas_thread
    def solve(self, X, *, z0=None, solver=None, max_iter=None, tol=None, fallback=True):
        """Equilibrium states of the inputs, with per-example convergence statistics.

        Parameters
        ----------
        X : array_like of shape (n, n_features)
            Inputs.
        z0 : array_like of shape (n, width), optional
            Starting states; default zeros.
        solver : {"anderson", "fixed_point", "broyden"}, optional
            Default: the model's.
        max_iter : int, optional
            Evaluation budget; default: the model's.
        tol : float, optional
            Tolerance; default: the model's (``stop_mode`` is the model's).
        fallback : bool, default=True
            Re-solve the examples that did not converge with Broyden (from their best
            iterate, same budget); ``resolved`` marks them and ``converged`` is their final state.

        Returns
        -------
        SolverResult
            With the fallback, ``nfe`` counts both solves and the traces have NaN where an
            example was not evaluated.

        Examples
        --------
        >>> X = np.array([[0.0], [0.1], [0.9], [1.0]])
        >>> clf = DEQClassifier(width=3, epochs=2).fit(X, [0, 0, 1, 1])
        >>> res = clf.solve(X, tol=1e-10)
        >>> res.z.shape, bool(res.converged.all()), bool(res.resolved.any())
        ((4, 3), True, False)
        """
        X = self._checked_input(X, "solve")
        shape = (len(X), self.width)
        z0 = np.zeros(shape) if z0 is None else check_real_matrix(z0, "z0")
        if z0.shape != shape:
            raise fail("z0", f"have shape {shape}, one state of width {self.width} per row of X",
                       f"got shape {z0.shape}")
        solver = self.solver if solver is None else check_choice(solver, "solver", SOLVERS)
        max_iter = self.max_iter if max_iter is None else check_positive_int(max_iter, "max_iter")
        tol = self.tol if tol is None else check_positive_real(tol, "tol")
        return _solve_layer(self.params_, X, z0, solver, max_iter, tol, self.stop_mode, bool(fallback))

    def predict_proba(self, X, *, max_iter=None, solver=None, fallback=True):
        """Class probabilities: the softmax of ``V z* + c``.

        Parameters
        ----------
        X : array_like of shape (n, n_features)
            Inputs.
        max_iter : int, optional
            Forward budget; default: the model's.
        solver : {"fixed_point", "anderson", "broyden"}, optional
            Forward solver; default: the model's.
        fallback : bool, default=True
            Re-solve unconverged examples with Broyden (``solve`` shows which); False keeps
            the state reached within ``max_iter`` steps, for a strict test-time budget.

        Returns
        -------
        ndarray of shape (n, n_classes)
            Columns in the order of ``classes_``.

        Examples
        --------
        >>> X = np.array([[0.0], [0.1], [0.9], [1.0]])
        >>> clf = DEQClassifier(width=3, epochs=2).fit(X, [0, 0, 1, 1])
        >>> clf.predict_proba(X).sum(axis=1).round(12).tolist()
        [1.0, 1.0, 1.0, 1.0]
        """
        X = self._checked_input(X, "predict_proba")
        z = self.solve(X, max_iter=max_iter, solver=solver, fallback=fallback).z
        return np.exp(_log_softmax(z @ self.params_["V"].T + self.params_["c"]))

    def predict(self, X, *, max_iter=None, solver=None, fallback=True):
        """The most probable class of each input.

        Parameters
        ----------
        X : array_like of shape (n, n_features)
            Inputs.
        max_iter : int, optional
            Forward budget; default: the model's.
        solver : {"fixed_point", "anderson", "broyden"}, optional
            Forward solver; default: the model's.
        fallback : bool, default=True
            Re-solve unconverged examples with Broyden.

        Returns
        -------
        ndarray of shape (n,)
            Labels from ``classes_``.

        Examples
        --------
        >>> X = np.array([[0.0], [0.1], [0.9], [1.0]])
        >>> clf = DEQClassifier(width=3, epochs=2).fit(X, ["a", "a", "b", "b"])
        >>> clf.predict(X).shape
        (4,)
        """
        X = self._checked_input(X, "predict")
        return self.classes_[self.predict_proba(X, max_iter=max_iter, solver=solver, fallback=fallback).argmax(axis=1)]

    @_one_blas_thread
    def path_independence(self, X, *, budget=None, start="swap", seed=0):
        """Asymptotic-alignment score per example: does the state forget where it started?

        The cosine between the state reached after ``budget`` plain fixed-point steps from
        zero and the state reached after ``budget`` steps from a different start: another
        example's reached state (``"swap"``: a seeded random cycle through the examples, so
        no example is its own partner) or a seeded standard Gaussian state (``"noise"``).
        A contraction, given enough steps, scores 1 everywhere; a score below 1 means the
        budget did not wash out the start (or there are several fixed points).

        Parameters
        ----------
        X : array_like of shape (n, n_features)
            Inputs; ``"swap"`` needs at least two.
        budget : int, optional
            Fixed-point steps from each start; default: the model's ``max_iter``.
        start : {"swap", "noise"}, default="swap"
            The other start.
        seed : int or numpy.random.Generator, default=0
            Randomness of the partners or of the noise.

        Returns
        -------
        ndarray of shape (n,)
            Cosines in [-1, 1] (1 where both states are zero, 0 where only one is).

        Examples
        --------
        >>> X = np.array([[0.0], [0.1], [0.9], [1.0]])
        >>> clf = DEQClassifier(width=3, epochs=2).fit(X, [0, 0, 1, 1])
        >>> clf.path_independence(X, budget=100).round(10).tolist()
        [1.0, 1.0, 1.0, 1.0]
        """
        X = self._checked_input(X, "path_independence")
        budget = self.max_iter if budget is None else check_positive_int(budget, "budget")
        start = check_choice(start, "start", STARTS)
        rng = check_rng(seed)
        n = len(X)

        def run(z):
            for _ in range(budget):
                z = layer(self.params_, X, z)
            return z

        reached = run(np.zeros((n, self.width)))
        if start == "swap":
            if n < 2:
                raise fail("X", "have at least two rows for start='swap'", f"got {n}",
                           "Use start='noise' for a single example.")
            cycle = rng.permutation(n)
            partner = np.empty(n, dtype=np.int64)
            partner[cycle] = np.roll(cycle, -1)
            other = run(reached[partner])
        else:
            other = run(rng.standard_normal((n, self.width)))
        norms = np.linalg.norm(reached, axis=1) * np.linalg.norm(other, axis=1)
        both_zero = (np.linalg.norm(reached, axis=1) == 0) & (np.linalg.norm(other, axis=1) == 0)
        cos = (reached * other).sum(axis=1) / np.where(norms > 0, norms, 1.0)
        return np.where(both_zero, 1.0, np.clip(cos, -1.0, 1.0))

    @_one_blas_thread
    def jacobian_fro2(self, X):
        """``||J(z*)||_F²`` per example, in closed form at the solved equilibrium.

        Parameters
        ----------
        X : array_like of shape (n, n_features)
            Inputs.

        Returns
        -------
        ndarray of shape (n,)
            ``Σ_i (1 - z*_i²)² ||W_i||²``; divide by ``width`` for the training penalty's scale.

        Examples
        --------
        >>> X = np.array([[0.0], [0.1], [0.9], [1.0]])
        >>> clf = DEQClassifier(width=3, epochs=2).fit(X, [0, 0, 1, 1])
        >>> bool((clf.jacobian_fro2(X) <= (clf.params_["W"] ** 2).sum()).all())  # slopes are <= 1
        True
        """
        X = self._checked_input(X, "jacobian_fro2")
        return jacobian_fro2(self.params_, self.solve(X).z)

    @_one_blas_thread
    def spectral_radius(self, X):
        """Spectral radius of ``J(z*) = diag(1 - z*²) W`` per example.

        Below 1, plain fixed-point iteration converges locally at that rate.

        Parameters
        ----------
        X : array_like of shape (n, n_features)
            Inputs.

        Returns
        -------
        ndarray of shape (n,)
            Largest absolute eigenvalue of each example's Jacobian.

        Examples
        --------
        >>> X = np.array([[0.0], [0.1], [0.9], [1.0]])
        >>> clf = DEQClassifier(width=3, epochs=2).fit(X, [0, 0, 1, 1])
        >>> clf.spectral_radius(X).shape
        (4,)
        """
        X = self._checked_input(X, "spectral_radius")
        z = self.solve(X).z
        jac = (1.0 - z * z)[:, :, None] * self.params_["W"][None, :, :]
        return np.abs(np.linalg.eigvals(jac)).max(axis=1)
