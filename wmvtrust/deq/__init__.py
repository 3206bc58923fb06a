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

Data flow one way through the modules: ``solvers`` (fixed-point iteration, Anderson,
Broyden, the Broyden fallback) -> ``equilibrium`` (the layer, its solve, its Jacobian
norm, spectral radius and path independence) -> ``gradients`` (implicit, phantom,
one-step, the loss) -> ``training`` (initialisation, Adam, schedule, clipping, the loop)
-> ``classifier`` (``DEQClassifier``); ``_threads`` keeps BLAS on one thread.
"""

from .classifier import DEQClassifier
from .equilibrium import JAC_ESTIMATORS, STARTS, jacobian_fro2, layer
from .gradients import GRADIENTS, implicit_gradient, loss_and_gradient, phantom_gradient
from .solvers import SOLVERS, STOP_MODES, SolverResult, anderson, broyden, fixed_point_iter

__all__ = ["DEQClassifier", "GRADIENTS", "JAC_ESTIMATORS", "SOLVERS", "STARTS", "STOP_MODES", "SolverResult",
           "anderson", "broyden", "fixed_point_iter", "implicit_gradient", "jacobian_fro2", "layer",
           "loss_and_gradient", "phantom_gradient"]
