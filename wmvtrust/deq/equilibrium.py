"""The layer ``z -> tanh(W z + U x + b)``, its equilibria, and diagnostics of its Jacobian there.

Rows are examples: ``X`` is (B, p) and a state ``Z`` is (B, d). At an equilibrium
``z* = f(z*)`` the layer Jacobian is ``J = diag(s) W``, with ``s`` the activation's slope
(``1 - z*²`` for tanh).
"""

from collections.abc import Callable
from typing import TypeAlias

import numpy as np
from numpy.typing import NDArray

from .._validation import check_choice, check_same_shape
from .solvers import FloatArray, SolverResult, StateMap, solve

JAC_ESTIMATORS = ("exact", "hutchinson")
STARTS = ("swap", "noise")

Params: TypeAlias = dict[str, FloatArray]
"""Parameters by name: ``W`` (d, d), ``U`` (d, p), ``b`` (d,) of the layer; ``V`` (L, d), ``c`` (L,) of the head."""
Elementwise: TypeAlias = Callable[[FloatArray], FloatArray]

# activation(a), and its slope and the slope's derivative, both as functions of the output y = activation(a)
_ACTIVATIONS: dict[str, tuple[Elementwise, Elementwise, Elementwise]] = {
    "tanh": (np.tanh, lambda y: 1.0 - y * y, lambda y: -2.0 * y),
    "linear": (lambda a: a, np.ones_like, np.zeros_like),
}


def activation_functions(activation: str) -> tuple[Elementwise, Elementwise, Elementwise]:
    """``(activation, slope, slope's derivative)`` of a named activation, checked; slopes take the output."""
    return _ACTIVATIONS[check_choice(activation, "activation", tuple(_ACTIVATIONS))]


def layer(params: Params, X: FloatArray, Z: FloatArray, *, activation: str = "tanh") -> FloatArray:
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
    act, _, _ = activation_functions(activation)
    return act(Z @ params["W"].T + X @ params["U"].T + params["b"])


def solve_layer(params: Params, X: FloatArray, z0: FloatArray, *, solver: str, max_iter: int, tol: float,
                stop_mode: str, fallback: bool) -> SolverResult:
    """Solve the layer for every row of ``X``; re-solve the stragglers with Broyden when ``fallback``."""
    def on_rows(rows: NDArray[np.intp]) -> StateMap:
        return lambda z: layer(params, X[rows], z)

    return solve(lambda z: layer(params, X, z), z0, solver=solver, max_iter=max_iter, tol=tol, stop_mode=stop_mode,
                 on_rows=on_rows if fallback else None)


def jacobian_term(W: FloatArray, Z: FloatArray, probes: FloatArray | None,
                  activation: str) -> tuple[FloatArray, FloatArray, FloatArray]:
    """||J||_F² per row (exact, or Hutchinson with ``probes``) and the gradients of its mean / d."""
    _, slope, dslope = activation_functions(activation)
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


def jacobian_fro2(params: Params, Z: FloatArray, *, probes: FloatArray | None = None,
                  activation: str = "tanh") -> FloatArray:
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
    activation_functions(activation)  # the name is checked before the probes
    if probes is not None:
        check_same_shape(np.asarray(probes), np.shape(Z), "probes", f"have the shape of Z, {np.shape(Z)}",
                         f"got shape {np.shape(probes)}")
    return jacobian_term(params["W"], Z, probes, activation)[0]


def spectral_radius(params: Params, Z: FloatArray) -> FloatArray:
    """Spectral radius of ``J = diag(1 - z²) W`` at each (tanh) equilibrium state, a row of ``Z``."""
    jac = (1.0 - Z * Z)[:, :, None] * params["W"][None, :, :]
    return np.abs(np.linalg.eigvals(jac)).max(axis=1)


def path_independence(params: Params, X: FloatArray, *, budget: int, start: str,
                      rng: np.random.Generator) -> FloatArray:
    """Per example the cosine between the states reached after ``budget`` plain steps from zero and from ``start``.

    ``start`` is ``"swap"`` (another example's reached state, along a random cycle drawn from
    ``rng``; needs two rows) or ``"noise"`` (a standard Gaussian state from ``rng``). The
    cosine is 1 where both states are zero and 0 where only one is.
    """
    def run(z: FloatArray) -> FloatArray:
        for _ in range(budget):
            z = layer(params, X, z)
        return z

    n, d = len(X), params["W"].shape[0]
    reached = run(np.zeros((n, d)))
    if start == "swap":
        cycle = rng.permutation(n)
        partner = np.empty(n, dtype=np.int64)
        partner[cycle] = np.roll(cycle, -1)
        other = run(reached[partner])
    else:
        other = run(rng.standard_normal((n, d)))
    norms = np.linalg.norm(reached, axis=1) * np.linalg.norm(other, axis=1)
    both_zero = (np.linalg.norm(reached, axis=1) == 0) & (np.linalg.norm(other, axis=1) == 0)
    cos = (reached * other).sum(axis=1) / np.where(norms > 0, norms, 1.0)
    return np.where(both_zero, 1.0, np.clip(cos, -1.0, 1.0))
