"""Training the layer and its head: initial parameters, Adam, the learning-rate schedule, clipping, the loop.

The loop solves each batch's equilibria from zero (with the Broyden fallback), takes the
loss and its gradient in the chosen mode, adds the L2 penalty on ``W, U, V``, clips the
gradient's global norm and moves by one Adam step at a cosine-decayed learning rate. All
randomness (initialisation, shuffling, Hutchinson probes) comes from one seeded generator,
and BLAS runs on one thread, so the same seed gives bit-identical parameters.
"""

import numpy as np
from numpy.typing import NDArray

from ._threads import one_blas_thread
from .equilibrium import Params, solve_layer
from .gradients import loss_and_gradient
from .solvers import FloatArray


def init_params(rng: np.random.Generator, width: int, n_features: int, n_classes: int, init_scale: float) -> Params:
    """``W ~ N(0, init_scale² / d)``, ``U ~ N(0, 1 / p)``, ``V ~ N(0, 1 / d)`` (drawn in that order), zero biases."""
    d, p = width, n_features
    return {"W": rng.standard_normal((d, d)) * init_scale / np.sqrt(d),
            "U": rng.standard_normal((d, p)) / np.sqrt(p), "b": np.zeros(d),
            "V": rng.standard_normal((n_classes, d)) / np.sqrt(d), "c": np.zeros(n_classes)}


def cosine_rate(lr: float, step: int, total: int) -> float:
    """The learning rate of step ``step`` (counted from 0) of ``total``: ``lr`` decayed towards 0 by a half cosine."""
    return lr * 0.5 * (1.0 + np.cos(np.pi * step / total))


def clip_norm(grads: Params, clip: float) -> Params:
    """``grads`` scaled by one factor so that their global norm is at most ``clip``."""
    norm = np.sqrt(sum(float((g * g).sum()) for g in grads.values()))
    shrink = min(1.0, clip / norm) if norm > 0 else 1.0
    return {k: g * shrink for k, g in grads.items()}


class Adam:
    """Adam (β₁ = 0.9, β₂ = 0.999, ε = 1e-8) for a dict of parameter arrays; ``steps`` counts the updates."""

    steps: int
    moment1: Params
    moment2: Params

    def __init__(self, params: Params) -> None:
        self.steps = 0
        self.moment1 = {k: np.zeros_like(v) for k, v in params.items()}
        self.moment2 = {k: np.zeros_like(v) for k, v in params.items()}

    def update(self, params: Params, grads: Params, rate: float) -> None:
        """One step of size ``rate``: replaces the arrays of ``params``, a dict updated in place."""
        self.steps += 1
        for k, g in grads.items():
            self.moment1[k] = 0.9 * self.moment1[k] + 0.1 * g
            self.moment2[k] = 0.999 * self.moment2[k] + 0.001 * g * g
            m_hat, v_hat = self.moment1[k] / (1 - 0.9 ** self.steps), self.moment2[k] / (1 - 0.999 ** self.steps)
            params[k] = params[k] - rate * m_hat / (np.sqrt(v_hat) + 1e-8)


def train(X: FloatArray, codes: NDArray[np.intp], n_classes: int, *, width: int, solver: str, max_iter: int,
          tol: float, stop_mode: str, grad: str, phantom_steps: int, tau: float, jac_weight: float,
          jac_estimator: str, epochs: int, batch_size: int, lr: float, weight_decay: float, clip: float,
          init_scale: float, seed: int | None) -> tuple[Params, list[float], list[int]]:
    """Fitted parameters, the mean loss per epoch and the unconverged training examples per epoch.

    ``X`` (n, p) is float64, ``codes`` (n,) are class codes ``0 .. n_classes - 1``, and the
    options are those of ``DEQClassifier``, already checked.
    """
    n, p = X.shape
    rng = np.random.default_rng(seed)
    params = init_params(rng, width, p, n_classes, init_scale)
    adam = Adam(params)
    total = epochs * -(-n // batch_size)
    hutchinson = jac_weight > 0 and jac_estimator == "hutchinson"
    history, unconverged = [], []
    with one_blas_thread():
        for _ in range(epochs):
            order, losses, missed = rng.permutation(n), [], 0
            for start in range(0, n, batch_size):
                rows = order[start:start + batch_size]
                xb = X[rows]
                res = solve_layer(params, xb, np.zeros((len(rows), width)), solver=solver, max_iter=max_iter, tol=tol,
                                  stop_mode=stop_mode, fallback=True)
                missed += int((~res.converged).sum())
                probes = rng.standard_normal(res.z.shape) if hutchinson else None
                loss, grads = loss_and_gradient(params, xb, codes[rows], res.z, grad=grad, phantom_steps=phantom_steps,
                                                tau=tau, jac_weight=jac_weight, probes=probes)
                for k in ("W", "U", "V"):  # the L2 penalty weight_decay / 2 * ||θ||²
                    grads[k] += weight_decay * params[k]
                adam.update(params, clip_norm(grads, clip), cosine_rate(lr, adam.steps, total))
                losses.append(loss * len(rows))
            history.append(float(sum(losses) / n))
            unconverged.append(missed)
    return params, history, unconverged
