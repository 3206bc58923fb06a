"""``DEQClassifier``: the scikit-learn-style estimator around the layer, its training and its diagnostics."""

from typing import Any, Self, TypedDict, Unpack

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import (check_choice, check_enough_rows, check_fitted, check_fraction_upto_one, check_labels,
                           check_nonnegative_real, check_positive_int, check_positive_real, check_real_matrix,
                           check_rng, check_same_shape, check_seed, check_two_classes)
from . import equilibrium
from ._threads import one_blas_thread
from .equilibrium import Params
from .gradients import GRADIENTS, log_softmax
from .solvers import SOLVERS, STOP_MODES, FloatArray, SolverResult
from .training import train


class _TrainOptions(TypedDict):
    """The constructor's parameters, checked: the keyword arguments of ``train``."""

    width: int
    solver: str
    max_iter: int
    tol: float
    stop_mode: str
    grad: str
    phantom_steps: int
    tau: float
    jac_weight: float
    jac_estimator: str
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    clip: float
    init_scale: float
    seed: int | None


class _SolveOptions(TypedDict, total=False):
    """The keyword options of ``DEQClassifier._solve``, which ``_proba`` passes on."""

    z0: ArrayLike | None
    solver: str | None
    max_iter: int | None
    tol: float | None
    fallback: bool


class DEQClassifier:
    """A deep equilibrium classifier: ``z* = tanh(W z* + U x + b)``, class scores ``V z* + c``.

    Trained by Adam with cosine learning-rate decay, a global gradient-norm clip and an
    L2 penalty on ``W, U, V``; the forward pass solves for ``z*`` from zero, the backward
    pass uses the chosen gradient mode. BLAS is limited to one thread in ``fit`` and in every
    solve when threadpoolctl is installed (tiny batched products run several times slower on
    more; parallelise over members instead); the same seed gives bit-identical parameters.
    As in scikit-learn, the constructor only stores its parameters; ``fit`` checks them.

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

    classes_: NDArray[Any]
    params_: Params
    history_: list[float]
    unconverged_: list[int]
    n_features_in_: int

    def __init__(self, width: int = 32, *, solver: str = "anderson", max_iter: int = 30, tol: float = 1e-4,
                 stop_mode: str = "rel", grad: str = "implicit", phantom_steps: int = 5, tau: float = 0.8,
                 jac_weight: float = 0.0, jac_estimator: str = "exact", epochs: int = 12, batch_size: int = 64,
                 lr: float = 1e-2, weight_decay: float = 1e-4, clip: float = 1.0, init_scale: float = 0.9,
                 seed: int | None = 0) -> None:
        self.width = width
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.stop_mode = stop_mode
        self.grad = grad
        self.phantom_steps = phantom_steps
        self.tau = tau
        self.jac_weight = jac_weight
        self.jac_estimator = jac_estimator
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.clip = clip
        self.init_scale = init_scale
        self.seed = seed

    def __repr__(self) -> str:
        return f"DEQClassifier(width={self.width}, solver={self.solver!r}, grad={self.grad!r}, seed={self.seed})"

    def _checked_params(self) -> _TrainOptions:
        """The constructor's parameters, checked, as keyword arguments of ``train``."""
        return {"width": check_positive_int(self.width, "width"),
                "solver": check_choice(self.solver, "solver", SOLVERS),
                "max_iter": check_positive_int(self.max_iter, "max_iter"),
                "tol": check_positive_real(self.tol, "tol"),
                "stop_mode": check_choice(self.stop_mode, "stop_mode", STOP_MODES),
                "grad": check_choice(self.grad, "grad", GRADIENTS),
                "phantom_steps": check_positive_int(self.phantom_steps, "phantom_steps"),
                "tau": check_fraction_upto_one(self.tau, "tau"),
                "jac_weight": check_nonnegative_real(self.jac_weight, "jac_weight"),
                "jac_estimator": check_choice(self.jac_estimator, "jac_estimator", equilibrium.JAC_ESTIMATORS),
                "epochs": check_positive_int(self.epochs, "epochs"),
                "batch_size": check_positive_int(self.batch_size, "batch_size"),
                "lr": check_positive_real(self.lr, "lr"),
                "weight_decay": check_nonnegative_real(self.weight_decay, "weight_decay"),
                "clip": check_positive_real(self.clip, "clip"),
                "init_scale": check_positive_real(self.init_scale, "init_scale"),
                "seed": check_seed(self.seed)}

    def fit(self, X: ArrayLike, y: ArrayLike) -> Self:
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
        options = self._checked_params()
        X = check_real_matrix(X, "X")
        classes, codes = np.unique(check_labels(y, len(X)), return_inverse=True)
        check_two_classes(classes)
        self.params_, self.history_, self.unconverged_ = train(X, codes, len(classes), **options)
        self.classes_, self.n_features_in_ = classes, X.shape[1]
        return self

    def _checked_input(self, X: ArrayLike) -> FloatArray:
        check_fitted(self, "params_", "DEQClassifier", "fit(X, y)")
        return check_real_matrix(X, "X", self.n_features_in_, "features, as in fit")

    def solve(self, X: ArrayLike, *, z0: ArrayLike | None = None, solver: str | None = None,
              max_iter: int | None = None, tol: float | None = None, fallback: bool = True) -> SolverResult:
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
        X = self._checked_input(X)
        return self._solve(X, z0=z0, solver=solver, max_iter=max_iter, tol=tol, fallback=fallback)

    @one_blas_thread()
    def _solve(self, X: FloatArray, *, z0: ArrayLike | None = None, solver: str | None = None,
               max_iter: int | None = None, tol: float | None = None, fallback: bool = True) -> SolverResult:
        """``solve`` of inputs already checked."""
        shape = (len(X), self.width)
        z0 = np.zeros(shape) if z0 is None else check_real_matrix(z0, "z0")
        check_same_shape(z0, shape, "z0", f"have shape {shape}, one state of width {self.width} per row of X",
                         f"got shape {z0.shape}")
        solver = self.solver if solver is None else check_choice(solver, "solver", SOLVERS)
        max_iter = self.max_iter if max_iter is None else check_positive_int(max_iter, "max_iter")
        tol = self.tol if tol is None else check_positive_real(tol, "tol")
        return equilibrium.solve_layer(self.params_, X, z0, solver=solver, max_iter=max_iter, tol=tol,
                                       stop_mode=self.stop_mode, fallback=bool(fallback))

    def predict_proba(self, X: ArrayLike, *, max_iter: int | None = None, solver: str | None = None,
                      fallback: bool = True) -> FloatArray:
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
        X = self._checked_input(X)
        return self._proba(X, max_iter=max_iter, solver=solver, fallback=fallback)

    def _proba(self, X: FloatArray, **solve_options: Unpack[_SolveOptions]) -> FloatArray:
        """``predict_proba`` of inputs already checked."""
        z = self._solve(X, **solve_options).z
        return np.exp(log_softmax(z @ self.params_["V"].T + self.params_["c"]))

    def predict(self, X: ArrayLike, *, max_iter: int | None = None, solver: str | None = None,
                fallback: bool = True) -> NDArray[Any]:
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
        X = self._checked_input(X)
        return self.classes_[self._proba(X, max_iter=max_iter, solver=solver, fallback=fallback).argmax(axis=1)]

    @one_blas_thread()
    def path_independence(self, X: ArrayLike, *, budget: int | None = None, start: str = "swap",
                          seed: int | np.random.Generator | None = 0) -> FloatArray:
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
        X = self._checked_input(X)
        budget = self.max_iter if budget is None else check_positive_int(budget, "budget")
        start = check_choice(start, "start", equilibrium.STARTS)
        rng = check_rng(seed)
        if start == "swap":
            check_enough_rows(X, 2, "start='swap'", "Use start='noise' for a single example.")
        return equilibrium.path_independence(self.params_, X, budget=budget, start=start, rng=rng)

    @one_blas_thread()
    def jacobian_fro2(self, X: ArrayLike) -> FloatArray:
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
        X = self._checked_input(X)
        return equilibrium.jacobian_fro2(self.params_, self._solve(X).z)

    @one_blas_thread()
    def spectral_radius(self, X: ArrayLike) -> FloatArray:
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
        X = self._checked_input(X)
        return equilibrium.spectral_radius(self.params_, self._solve(X).z)
