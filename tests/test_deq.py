"""The deep equilibrium classifier: gradients against finite differences and closed forms, solvers against
each other and scipy, honest convergence reports, path independence, and a small model on sklearn digits."""

import numpy as np
import pytest
from scipy import optimize

from wmvtrust import deq
from wmvtrust.deq import DEQClassifier, anderson, broyden, fixed_point_iter, layer, loss_and_gradient

SOLVERS = {"fixed_point": fixed_point_iter, "anderson": anderson, "broyden": broyden}


def random_params(seed, d=8, p=5, n_classes=3, w_norm=None, w_scale=1.0, u_scale=0.3):
    """Layer and head parameters; ``W`` rescaled to spectral norm ``w_norm`` if given."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(d, d)) * w_scale / np.sqrt(d)
    if w_norm is not None:
        w *= w_norm / np.linalg.norm(w, 2)
    return {"W": w, "U": rng.normal(size=(d, p)) * u_scale / np.sqrt(p), "b": 0.1 * rng.normal(size=d),
            "V": rng.normal(size=(n_classes, d)), "c": 0.1 * rng.normal(size=n_classes)}


def inputs(seed, n=6, p=5, n_classes=3):
    rng = np.random.default_rng(seed + 1000)
    return rng.normal(size=(n, p)), rng.integers(0, n_classes, n)


def equilibrium(params, X, tol=1e-14):
    """A tight Broyden solve, asserted converged: the reference fixed point of the exact checks."""
    res = broyden(lambda z: layer(params, X, z), np.zeros((len(X), params["W"].shape[0])), max_iter=300, tol=tol,
                  stop_mode="abs")
    assert res.converged.all()
    return res.z


def spectral_radii(params, Z):
    return np.abs(np.linalg.eigvals((1.0 - Z * Z)[:, :, None] * params["W"])).max(axis=1)


def model_with(params, **options):
    """A DEQClassifier carrying given parameters, as if fitted."""
    d, p = params["U"].shape
    clf = DEQClassifier(width=d, **options)
    clf.params_, clf.classes_, clf.n_features_in_ = params, np.arange(len(params["c"])), p
    return clf


def flat(grads, keys=("W", "U", "b", "V", "c")):
    return np.concatenate([np.ravel(grads[k]) for k in keys])


# ---------------------------------------------------------------------------------------------------------------
# the implicit gradient


@pytest.mark.parametrize("jac", [None, "exact", "hutchinson"])
@pytest.mark.parametrize("seed, w_scale", [(0, 1.2), (4, 1.2)])
def test_implicit_gradient_matches_central_differences_beyond_contraction(seed, w_scale, jac):
    params, (X, y) = random_params(seed, w_scale=w_scale), inputs(seed)
    rng = np.random.default_rng(seed)
    probes = rng.normal(size=(len(X), 8)) if jac == "hutchinson" else None
    weight = 0.0 if jac is None else 0.5

    def loss(p):
        return loss_and_gradient(p, X, y, equilibrium(p, X), jac_weight=weight, probes=probes)[0]

    z = equilibrium(params, X)
    assert spectral_radii(params, z).max() > 1.05  # not a contraction: plain iteration would not even converge
    _, grads = loss_and_gradient(params, X, y, z, jac_weight=weight, probes=probes)
    _, one_step = loss_and_gradient(params, X, y, z, grad="one_step", jac_weight=weight, probes=probes)
    errors, one_step_errors, eps = [], [], 1e-6
    for _ in range(5):
        v = {k: rng.normal(size=a.shape) for k, a in params.items()}
        fd = (loss({k: params[k] + eps * v[k] for k in params})
              - loss({k: params[k] - eps * v[k] for k in params})) / (2 * eps)
        errors.append(abs(fd - flat(grads) @ flat(v)) / abs(fd))
        one_step_errors.append(abs(fd - flat(one_step) @ flat(v)) / abs(fd))
    assert max(errors) < 1e-5
    assert max(one_step_errors) > 1e-2  # the check has teeth: an approximate gradient fails it


def test_implicit_gradient_of_a_linear_layer_is_the_inverse():
    params, (X, _) = random_params(3, d=6, w_norm=0.7), inputs(3)
    d = 6
    z = np.linalg.solve(np.eye(d) - params["W"], (X @ params["U"].T + params["b"]).T).T  # z = W z + U x + b
    out, vjp = deq.implicit_gradient(params, X[:1], z[:1], activation="linear")
    inverse = np.linalg.inv(np.eye(d) - params["W"])
    rows = np.array([vjp(e[None])["b"] for e in np.eye(d)])  # row i: e_iᵀ dz*/db
    np.testing.assert_allclose(rows, inverse, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(out, z[:1])


def test_iterative_backward_solves_agree_with_the_direct_one():
    params, X, _ = contractive_layer(n=6)
    z = equilibrium(params, X)
    s, g = 1 - z ** 2, np.random.default_rng(8).normal(size=z.shape)
    direct = np.array([deq.implicit_gradient(params, X[i:i + 1], z[i:i + 1])[1](g[i:i + 1])["b"] / s[i]
                       for i in range(len(X))])  # one example: ∂L/∂b = s ⊙ w
    backward = lambda w: (s * w) @ params["W"] + g  # w = Jᵀ w + g, J = diag(s) W
    for name, solve in SOLVERS.items():
        res = solve(backward, np.zeros_like(g), max_iter=500, tol=1e-10, stop_mode="abs")
        assert res.converged.all(), name
        error = np.linalg.norm(res.z - direct, axis=1) / np.linalg.norm(direct, axis=1)
        assert error.max() < 1e-5, (name, error)


# ---------------------------------------------------------------------------------------------------------------
# phantom gradients


@pytest.mark.parametrize("tau, last", [(1.0, 1e-5), (0.6, 1e-3)])
def test_phantom_gradient_approaches_the_implicit_one(tau, last):
    params, (X, y) = random_params(4, w_norm=0.8), inputs(4, n=16)  # ρ(J) <= ||J||₂ <= ||W||₂ = 0.8
    z = equilibrium(params, X)
    keys = ("W", "U", "b")
    exact = flat(loss_and_gradient(params, X, y, z)[1], keys)
    errors = []
    for k in (1, 5, 20, 80):
        approx = flat(loss_and_gradient(params, X, y, z, grad="phantom", phantom_steps=k, tau=tau)[1], keys)
        errors.append(np.linalg.norm(approx - exact) / np.linalg.norm(exact))
    assert all(a > b for a, b in zip(errors, errors[1:])), errors
    assert errors[0] > 0.05 and errors[-1] < last, errors
    one_step = loss_and_gradient(params, X, y, z, grad="one_step")[1]
    same = loss_and_gradient(params, X, y, z, grad="phantom", phantom_steps=1, tau=1.0)[1]
    np.testing.assert_array_equal(flat(one_step), flat(same))


@pytest.mark.parametrize("steps", [1, 3, 7])
@pytest.mark.parametrize("tau", [1.0, 0.6])
def test_phantom_matrix_of_a_linear_layer_is_the_damped_neumann_sum(steps, tau):
    params, (X, _) = random_params(5, d=6, w_scale=1.3), inputs(5)
    d, x, z = 6, X[:1], np.random.default_rng(5).normal(size=(1, 6))  # any start: the Jacobian is W everywhere
    _, vjp = deq.phantom_gradient(params, x, z, steps=steps, tau=tau, activation="linear")
    phantom = np.array([vjp(e[None])["b"] for e in np.eye(d)])  # row i: e_iᵀ A, as ∂f/∂b = I
    damped = tau * params["W"] + (1 - tau) * np.eye(d)
    power, brute = np.eye(d), np.zeros((d, d))
    for _ in range(steps):
        brute += tau * power
        power = power @ damped
    np.testing.assert_allclose(phantom, brute, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(vjp(np.ones((1, d)))["U"], (brute.T @ np.ones(d))[:, None] * x, rtol=1e-12)


# ---------------------------------------------------------------------------------------------------------------
# Jacobian norm


def test_closed_form_and_hutchinson_estimate_of_the_jacobian_norm():
    rng = np.random.default_rng(6)
    d, n, draws = 8, 6, 4000
    params = {"W": rng.normal(size=(d, d)) / np.sqrt(d)}
    z = np.tanh(rng.normal(size=(n, d)))
    exact = deq.jacobian_fro2(params, z)
    brute = [np.linalg.norm((1 - zi ** 2)[:, None] * params["W"], "fro") ** 2 for zi in z]
    np.testing.assert_allclose(exact, brute, rtol=1e-12)
    samples = deq.jacobian_fro2(params, np.tile(z, (draws, 1)), probes=rng.normal(size=(draws * n, d)))
    samples = samples.reshape(draws, n)
    mean, se = samples.mean(axis=0), samples.std(axis=0, ddof=1) / np.sqrt(draws)
    assert (np.abs(mean - exact) < 4 * se).all(), (mean - exact) / se
    ignoring_slopes = np.full(n, (params["W"] ** 2).sum())
    assert (np.abs(mean - ignoring_slopes) > 4 * se).any()  # a wrong target would be detected


# ---------------------------------------------------------------------------------------------------------------
# solvers


def contractive_layer(seed=7, n=8, d=10, w_norm=0.9):
    params, (X, _) = random_params(seed, d=d, p=5, w_norm=w_norm, u_scale=1.0), inputs(seed, n=n)
    return params, X, (lambda z: layer(params, X, z))


def test_solvers_agree_with_each_other_and_with_scipy():
    params, X, f = contractive_layer()
    z0 = np.zeros((len(X), 10))
    found = {name: solve(f, z0, max_iter=1000, tol=1e-10, stop_mode="abs") for name, solve in SOLVERS.items()}
    found["damped"] = fixed_point_iter(f, z0, max_iter=1000, tol=1e-10, stop_mode="abs", tau=0.7)
    for res in found.values():
        assert res.converged.all()
    zs = [res.z for res in found.values()]
    assert max(np.abs(a - b).max() for a in zs for b in zs) < 1e-8
    for i in range(3):
        ref = optimize.root(lambda v: layer(params, X[i:i + 1], v[None])[0] - v, np.zeros(10), tol=1e-14)
        assert ref.success
        assert max(np.abs(z[i] - ref.x).max() for z in zs) < 1e-8
    assert found["anderson"].nfe < found["fixed_point"].nfe  # acceleration accelerates


@pytest.mark.parametrize("name", list(SOLVERS))
def test_convergence_statistics_are_consistent(name):
    params, X, f = contractive_layer()
    tol, max_iter = 1e-6, 200
    res = SOLVERS[name](f, np.zeros((len(X), 10)), max_iter=max_iter, tol=tol)
    assert res.converged.all() and res.rel_lowest.max() <= tol
    assert res.abs_trace.shape == res.rel_trace.shape == (len(X), res.nfe)
    assert ((1 <= res.nstep) & (res.nstep <= res.nfe)).all() and res.nfe <= max_iter
    np.testing.assert_array_equal(res.abs_lowest, res.abs_trace.min(axis=1))
    np.testing.assert_array_equal(res.rel_lowest, res.rel_trace.min(axis=1))
    np.testing.assert_array_equal(res.rel_trace[np.arange(len(X)), res.nstep - 1], res.rel_lowest)  # z's step
    fz = f(res.z)
    own = np.linalg.norm(fz - res.z, axis=1) / (np.linalg.norm(fz, axis=1) + 1e-9)
    np.testing.assert_allclose(own, res.rel_lowest, rtol=1e-9)  # the residual reported is that of z
    running = np.minimum.accumulate(res.rel_trace, axis=1)
    assert (running[:, -2] > tol).any()  # it stopped at the first step where every example had converged
    assert not res.resolved.any()


def test_plain_iteration_residuals_fall_on_a_contraction():
    _, X, f = contractive_layer()
    res = fixed_point_iter(f, np.zeros((len(X), 10)), max_iter=100, tol=1e-9, stop_mode="abs")  # above roundoff
    assert (np.diff(res.abs_trace, axis=1) <= 0).all()  # ||f(f(z)) - f(z)|| <= 0.9 ||f(z) - z||
    np.testing.assert_array_equal(res.nstep, res.nfe)


@pytest.mark.parametrize("name", list(SOLVERS))
def test_a_non_convergent_solve_is_reported_not_hidden(name):
    _, X, f = contractive_layer(w_norm=3.0)
    tol = 1e-8
    res = SOLVERS[name](f, np.zeros((len(X), 10)), max_iter=5, tol=tol)
    assert not res.converged.all() and res.nfe == 5
    np.testing.assert_array_equal(res.converged, res.rel_lowest <= tol)
    assert np.isfinite(res.z).all()


def test_the_broyden_fallback_marks_and_re_solves_the_stragglers():
    params, X, _ = contractive_layer(w_norm=3.0, n=12)
    clf = model_with(params, solver="fixed_point", max_iter=100, tol=1e-8)
    first = clf.solve(X, fallback=False)
    assert not first.converged.all() and not first.resolved.any()
    res = clf.solve(X)
    np.testing.assert_array_equal(res.resolved, ~first.converged)
    assert res.converged.all()  # Broyden finds the equilibria plain iteration oscillates around
    assert res.nfe > first.nfe
    np.testing.assert_array_equal(res.rel_trace[:, :first.nfe], first.rel_trace)
    np.testing.assert_array_equal(np.isnan(res.rel_trace[:, first.nfe]), ~res.resolved)
    rows = np.arange(len(X))
    np.testing.assert_array_equal(res.rel_trace[rows, res.nstep - 1], res.rel_lowest)
    np.testing.assert_array_equal(res.rel_lowest, np.nanmin(res.rel_trace, axis=1))
    fz = layer(params, X, res.z)
    assert (np.linalg.norm(fz - res.z, axis=1) / np.linalg.norm(fz, axis=1) <= 1e-8).all()
    short = clf.solve(X, max_iter=3)  # too short a budget even for Broyden: still reported
    assert short.resolved.any() and not short.converged.all()
    np.testing.assert_array_equal(short.converged, short.rel_lowest <= 1e-8)


# ---------------------------------------------------------------------------------------------------------------
# path independence


@pytest.mark.parametrize("start", ["swap", "noise"])
def test_path_independence_of_a_contraction(start):
    params, X, _ = contractive_layer(w_norm=0.9, n=10)
    clf = model_with(params)
    np.testing.assert_allclose(clf.path_independence(X, budget=300, start=start), 1.0, rtol=0, atol=1e-10)
    short = clf.path_independence(X, budget=1, start=start, seed=3)
    assert short.min() < 1 - 1e-3 and (np.abs(short) <= 1).all()
    np.testing.assert_array_equal(short, clf.path_independence(X, budget=1, start=start, seed=3))
    assert not np.array_equal(short, clf.path_independence(X, budget=1, start=start, seed=4))


@pytest.mark.parametrize("start", ["swap", "noise"])
def test_path_independence_is_a_cosine(start):
    params, X, _ = contractive_layer(w_norm=4.0, n=30)
    clf = model_with(params, max_iter=7)
    scores = np.concatenate([clf.path_independence(X, start=start, seed=s) for s in range(5)])
    assert ((-1 <= scores) & (scores <= 1)).all() and scores.min() < 0.99


# ---------------------------------------------------------------------------------------------------------------
# training


@pytest.fixture(scope="module")
def digits():
    datasets = pytest.importorskip("sklearn.datasets")
    model_selection = pytest.importorskip("sklearn.model_selection")
    X, y = datasets.load_digits(return_X_y=True)
    return model_selection.train_test_split(X / 16, y, test_size=0.2, stratify=y, random_state=0)


@pytest.fixture(scope="module")
def member(digits):
    X_train, _, y_train, _ = digits
    return DEQClassifier(width=32, epochs=12, seed=0).fit(X_train, y_train)


@pytest.fixture(scope="module")
def regularised_member(digits):
    X_train, _, y_train, _ = digits
    return DEQClassifier(width=32, epochs=12, seed=0, jac_weight=1.0).fit(X_train, y_train)


def test_a_small_member_learns_digits(member, digits):
    _, X_test, _, y_test = digits
    assert (member.predict(X_test) == y_test).mean() >= 0.90
    assert member.history_[-1] < member.history_[0] / 5
    res = member.solve(X_test, max_iter=100)
    assert res.converged.all() and res.rel_lowest.max() <= member.tol


def test_jacobian_regularisation_lowers_the_jacobian_norm(member, regularised_member, digits):
    _, X_test, _, _ = digits
    plain, regularised = (m.jacobian_fro2(X_test).mean() / m.width for m in (member, regularised_member))
    assert regularised < plain / 2, (plain, regularised)


@pytest.mark.parametrize("options", [
    {},
    {"grad": "phantom", "solver": "broyden", "jac_weight": 0.3, "jac_estimator": "hutchinson"},
    {"grad": "one_step", "solver": "fixed_point", "stop_mode": "abs"},
])
def test_same_seed_gives_bit_identical_parameters(digits, options):
    X_train, _, y_train, _ = digits
    fit = lambda seed: DEQClassifier(width=8, epochs=2, seed=seed, **options).fit(X_train[:300], y_train[:300])
    a, b, c = fit(1), fit(1), fit(2)
    assert all(np.array_equal(a.params_[k], b.params_[k]) for k in a.params_) and a.history_ == b.history_
    assert not np.array_equal(a.params_["W"], c.params_["W"])
    assert a.history_[-1] < a.history_[0]


def test_labels_come_from_classes():
    X = np.array([[0.0, 1.0], [0.2, 0.9], [1.0, 0.1], [0.9, 0.0]] * 5)
    y = np.array(["cat", "cat", "dog", "dog"] * 5)
    clf = DEQClassifier(width=4, epochs=20, batch_size=8).fit(X, y)
    assert clf.classes_.tolist() == ["cat", "dog"] and clf.n_features_in_ == 2
    assert (clf.predict(X) == y).all()
    assert clf.predict_proba(X).shape == (20, 2)


# ---------------------------------------------------------------------------------------------------------------
# errors

X4 = np.zeros((4, 3))
Y4 = np.array([0, 1, 0, 1])


@pytest.fixture(scope="module")
def tiny():
    return DEQClassifier(width=4, epochs=1).fit(X4, Y4)


@pytest.mark.parametrize("options, error, match", [
    ({"solver": "newton"}, ValueError, r"solver must be one of 'fixed_point', 'anderson', 'broyden'; got 'newton'"),
    ({"grad": "shine"}, ValueError, r"grad must be one of 'implicit', 'phantom', 'one_step'; got 'shine'"),
    ({"jac_estimator": "rademacher"}, ValueError, r"jac_estimator must be one of 'exact', 'hutchinson'"),
    ({"stop_mode": "max"}, ValueError, r"stop_mode must be one of 'abs', 'rel'; got 'max'"),
    ({"max_iter": 0}, ValueError, r"max_iter must be a whole number >= 1; got max_iter = 0"),
    ({"max_iter": 2.5}, TypeError, r"max_iter must be a whole number >= 1; got 2.5"),
    ({"epochs": 0}, ValueError, r"epochs must be a whole number >= 1; got epochs = 0"),
    ({"batch_size": -1}, ValueError, r"batch_size must be a whole number >= 1; got batch_size = -1"),
    ({"width": 0}, ValueError, r"width must be a whole number >= 1; got width = 0"),
    ({"phantom_steps": 0}, ValueError, r"phantom_steps must be a whole number >= 1; got phantom_steps = 0"),
    ({"tau": 0.0}, ValueError, r"tau must lie in \(0, 1\]; got tau = 0.0"),
    ({"tau": 1.5}, ValueError, r"tau must lie in \(0, 1\]; got tau = 1.5"),
    ({"tol": 0}, ValueError, r"tol must be a finite real number > 0; got tol = 0.0"),
    ({"jac_weight": -1}, ValueError, r"jac_weight must be a finite real number >= 0; got jac_weight = -1.0"),
    ({"seed": -1}, ValueError, r"seed must be None or a whole number >= 0"),
])
def test_bad_options_are_named(options, error, match):
    clf = DEQClassifier(**options)  # the constructor only stores its parameters; fit checks them (scikit-learn)
    assert [getattr(clf, name) for name in options] == list(options.values())
    with pytest.raises(error, match=match):
        clf.fit(X4, Y4)


@pytest.mark.parametrize("call, error, match", [
    (lambda c: c.fit(np.zeros(4), Y4), ValueError, r"X must be two-dimensional .*; got shape \(4,\)"),
    (lambda c: c.fit(X4, Y4[:3]), ValueError, r"y must hold one label per example; y has shape \(3,\) for 4 examples"),
    (lambda c: c.fit(np.where(np.eye(4, 3) > 0, np.nan, 0.0), Y4), ValueError,
     r"X must be finite \(no NaN or inf\); X\[0, 0\] = nan \(2 more entries are not finite\)"),
    (lambda c: c.fit(np.array([["a"] * 3] * 4), Y4), TypeError, r"X must be an array of real numbers; got dtype <U1"),
    (lambda c: c.fit(X4, [1, 1, 1, 1]), ValueError, r"y must contain at least two classes; got only \[1\]"),
    (lambda c: c.predict(X4), RuntimeError,
     r"DEQClassifier must be fitted first; params_ is not set. Call fit\(X, y\) first."),
    (lambda c: c.solve(X4), RuntimeError, r"DEQClassifier must be fitted first"),
])
def test_bad_training_input_is_named(call, error, match):
    with pytest.raises(error, match=match):
        call(DEQClassifier(width=4, epochs=1))


@pytest.mark.parametrize("call, error, match", [
    (lambda c: c.predict(np.zeros((2, 5))), ValueError, r"X must have 3 features, as in fit; got shape \(2, 5\)"),
    (lambda c: c.solve(np.full((2, 3), np.nan)), ValueError, r"X must be finite .*X\[0, 0\] = nan"),
    (lambda c: c.solve(X4, z0=np.zeros((4, 3))), ValueError,
     r"z0 must have shape \(4, 4\), one state of width 4 per row of X; got shape \(4, 3\)"),
    (lambda c: c.solve(X4, solver="newton"), ValueError, r"solver must be one of"),
    (lambda c: c.solve(X4, max_iter=0), ValueError, r"max_iter must be a whole number >= 1; got max_iter = 0"),
    (lambda c: c.predict_proba(X4, max_iter=-2), ValueError, r"max_iter must be a whole number >= 1"),
    (lambda c: c.path_independence(X4, start="zero"), ValueError, r"start must be one of 'swap', 'noise'; got 'zero'"),
    (lambda c: c.path_independence(X4, budget=0), ValueError, r"budget must be a whole number >= 1; got budget = 0"),
    (lambda c: c.path_independence(X4[:1]), ValueError, r"X must have at least 2 rows for start='swap'; got 1"),
    (lambda c: c.jacobian_fro2(np.zeros((1, 2))), ValueError, r"X must have 3 features"),
    (lambda c: c.spectral_radius(np.zeros(3)), ValueError, r"X must be two-dimensional"),
])
def test_bad_prediction_input_is_named(tiny, call, error, match):
    with pytest.raises(error, match=match):
        call(tiny)


@pytest.mark.parametrize("call, error, match", [
    (lambda: fixed_point_iter(np.tanh, np.zeros(3)), ValueError, r"z0 must be two-dimensional"),
    (lambda: fixed_point_iter("tanh", np.zeros((1, 3))), TypeError, r"f must be a callable .*; got str"),
    (lambda: fixed_point_iter(np.tanh, np.zeros((1, 3)), tau=2), ValueError, r"tau must lie in \(0, 1\]"),
    (lambda: anderson(np.tanh, np.zeros((1, 3)), m=0), ValueError, r"m must be a whole number >= 1; got m = 0"),
    (lambda: anderson(np.tanh, np.zeros((1, 3)), lam=0), ValueError, r"lam must be a finite real number > 0"),
    (lambda: anderson(np.tanh, np.zeros((1, 3)), beta=0), ValueError, r"beta must lie in \(0, 1\]; got beta = 0.0"),
    (lambda: broyden(np.tanh, np.zeros((1, 3)), stop_mode="l2"), ValueError, r"stop_mode must be one of 'abs', 'rel'"),
    (lambda: broyden(np.tanh, np.zeros((1, 3)), max_iter=0), ValueError, r"max_iter must be a whole number >= 1"),
    (lambda: deq.phantom_gradient({}, X4, X4, steps=0), ValueError, r"steps must be a whole number >= 1"),
    (lambda: deq.implicit_gradient({}, X4, X4, activation="relu"), ValueError, r"activation must be one of 'tanh'"),
    (lambda: deq.jacobian_fro2({"W": np.eye(3)}, X4, probes=np.ones((2, 3))), ValueError,
     r"probes must have the shape of Z, \(4, 3\); got shape \(2, 3\)"),
])
def test_bad_solver_and_gradient_arguments_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()
