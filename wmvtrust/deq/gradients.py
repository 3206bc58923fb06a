"""Gradients through the equilibrium: implicit, phantom and one-step, and the training loss with its gradient.

Differentiating ``z* = f(z*, θ)`` gives ``(I - J) dz* = (∂f/∂θ) dθ`` with
``J = ∂f/∂z = diag(1 - z*²) W``, so for a loss with ``g = ∂L/∂z*`` the parameter gradient
is ``wᵀ ∂f/∂θ`` where ``w`` solves the linear system ``(I - Jᵀ) w = g`` (the implicit
gradient; this is why the backward pass needs a solve of its own). Phantom gradients
replace ``(I - J)⁻¹`` by a few damped unrolled steps of the layer.
"""

from collections.abc import Callable
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

from .._validation import check_choice, check_fraction_upto_one, check_positive_int
from .equilibrium import Params, activation_functions, jacobian_term
from .solvers import FloatArray

GRADIENTS = ("implicit", "phantom", "one_step")

VJP: TypeAlias = Callable[[FloatArray], Params]
"""A vector-Jacobian product: ``G = ∂L/∂z`` of shape (B, d) to the gradients ``W``, ``U``, ``b``."""


def implicit_gradient(params: Params, X: FloatArray, Z: FloatArray, *,
                      activation: str = "tanh") -> tuple[FloatArray, VJP]:
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
    _, slope, _ = activation_functions(activation)
    s = slope(Z)  # at an equilibrium the layer's output is Z itself
    d = Z.shape[1]
    lhs = np.eye(d) - params["W"].T[None, :, :] * s[:, None, :]  # I - Jᵀ = I - Wᵀ diag(s)

    def vjp(G: FloatArray) -> Params:
        delta = s * np.linalg.solve(lhs, G[:, :, None])[:, :, 0]
        return {"W": delta.T @ Z, "U": delta.T @ X, "b": delta.sum(axis=0)}

    return Z, vjp


def phantom_gradient(params: Params, X: FloatArray, Z: FloatArray, *, steps: int = 5, tau: float = 0.8,
                     activation: str = "tanh") -> tuple[FloatArray, VJP]:
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
    act, slope, _ = activation_functions(activation)
    steps, tau = check_positive_int(steps, "steps"), check_fraction_upto_one(tau, "tau")
    states, slopes = [Z], []
    for _ in range(steps):
        y = act(states[-1] @ params["W"].T + X @ params["U"].T + params["b"])
        slopes.append(slope(y))
        states.append(tau * y + (1.0 - tau) * states[-1])

    def vjp(G: FloatArray) -> Params:
        grad_w, delta_sum, g = np.zeros_like(params["W"]), np.zeros_like(G), G
        for t in reversed(range(steps)):
            delta = tau * slopes[t] * g
            grad_w += delta.T @ states[t]
            delta_sum += delta
            g = (1.0 - tau) * g + delta @ params["W"]  # not propagated into the detached start
        return {"W": grad_w, "U": delta_sum.T @ X, "b": delta_sum.sum(axis=0)}

    return states[-1], vjp


def log_softmax(logits: FloatArray) -> FloatArray:
    """Log-probabilities of the rows of ``logits``, shifted by their maxima for stability."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def loss_and_gradient(params: Params, X: FloatArray, y: NDArray[np.integer[Any]], Z: FloatArray, *,
                      grad: str = "implicit", phantom_steps: int = 5, tau: float = 0.8, jac_weight: float = 0.0,
                      probes: FloatArray | None = None, activation: str = "tanh") -> tuple[float, Params]:
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
    >>> from wmvtrust.deq import fixed_point_iter, layer
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
    log_p = log_softmax(z @ params["V"].T + params["c"])
    rows = np.arange(len(y))
    loss = -log_p[rows, y].mean()
    dlogits = np.exp(log_p)
    dlogits[rows, y] -= 1.0
    dlogits /= len(y)
    dz = dlogits @ params["V"]
    if jac_weight:
        values, jac_w, jac_z = jacobian_term(params["W"], z, probes, activation)
        loss += jac_weight * values.mean() / z.shape[1]
        dz = dz + jac_weight * jac_z
    grads = vjp(dz)
    if jac_weight:
        grads["W"] = grads["W"] + jac_weight * jac_w
    grads["V"], grads["c"] = dlogits.T @ z, dlogits.sum(axis=0)
    return float(loss), grads
