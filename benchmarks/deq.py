"""Benchmark of wmvtrust's deep-equilibrium companion (wmvtrust.deq) and trust-weighted ensemble against baselines.

Prints one markdown table of medians and ratios (baseline / wmvtrust), all measured in
this run. Protocol: ``time.perf_counter``; each timed call is made once as a warm-up,
then at least ``k`` times (``--repeat``, default 3; the scipy and plain-Python
baselines at least ``min(k, 3)`` times), and more until 0.2 s have passed (a fit: ``k``
times, no more), and the median is reported. numba's compile time is excluded from the
table: the process's first ``wmvtrust.warm_up()`` is timed and printed above it. BLAS
runs with its default thread count unless a row says ``1 BLAS thread``
(``threadpoolctl.threadpool_limits(1, "blas")`` around all of its calls, as ``fit``
sets for itself). Every baseline computes the same thing as the library and is checked
to agree with it before the table is printed.

Data: scikit-learn's digits (1,797 images of 8 x 8 pixels, ``X / 16``), split
stratified 60/20/20 (train 1,078, validation 359, test 360) by ``train_test_split``
twice with ``random_state=0``. One width-64 member, ``DEQClassifier(width=64,
epochs=12, seed=0)``, is trained on the training set at the start (its test accuracy
is printed above the table).

Cases:
1. Forward solve of the 360 test images through that member,
   ``model.solve(X_test, solver=s, tol=1e-10, max_iter=100)`` for s = anderson,
   broyden, fixed_point (with the Broyden fallback, the default), against
   ``scipy.optimize.root(method="hybr")`` per example on ``F(z) = z - tanh(W z + U x + b)``
   with its analytic Jacobian ``I - diag(1 - tanh²) W``, from z = 0; the states must
   agree to 1e-8.
2. Implicit gradient of the mean cross-entropy of 64 training examples at their fixed
   points: ``loss_and_gradient(params, X, codes, Z, grad="implicit")`` against a
   Python loop over the examples, ``np.linalg.solve`` of ``(I - Jᵀ) w = g`` per example
   and the parameter gradients accumulated by outer products; loss and the gradients
   of W, U, b, V, c must agree to 1e-8.
3. Training: ``DEQClassifier(width=w, epochs=12, seed=0).fit(X_train, y_train)`` for
   w = 32 and 64, in seconds per epoch; targets from the team's research note:
   <= 0.25 s/epoch at width 32 and <= 0.5 s/epoch at width 64, on 2 cores. Every
   timed fit must give the same parameters as the first (fit is seeded).
4. Ensemble voting: 9 simulated members that err together (member i right with
   probability ``a_i ~ U(0.9, 0.97)``, otherwise a uniformly drawn wrong digit, except
   on a hard 10% of examples where each is right with probability 0.3 and otherwise
   votes the example's one shared wrong digit; a signal drawn
   from Beta(5, 2) when right and Beta(2, 5) when wrong; all from
   ``np.random.default_rng(0)``) on the validation and test images:
   ``TrustEnsemble().fit(votes_val, y_val)``, ``.predict_proba(votes_test)`` and
   ``.belief(votes_test, y_test)``, with one trust per member and with 4 signal bins.
   ``predict_proba`` is compared with plain Python computing the posterior per example,
   ``prod_i (t_i if vote_i == label else (1 - t_i) / (L - 1))`` normalised (its trust
   counted in plain Python from the validation record), to 1e-12.

The script is a report: it exits with 0 even when a target is missed.

    python benchmarks/deq.py             # about a minute on 2 cores
    python benchmarks/deq.py --repeat 1  # quicker
"""

import argparse
import bisect
import contextlib
import os
import platform
import time

import numba
import numpy as np
import scipy
import sklearn
import threadpoolctl
from scipy.optimize import root
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_info, threadpool_limits

import wmvtrust as wt
from _table import Row, fmt_ratio, fmt_time, median_time, print_table, run_cases, targets_met
from wmvtrust.deq import DEQClassifier, loss_and_gradient
from wmvtrust.ensemble import TrustEnsemble

SPLIT_SEED = 0
WIDTH = 64  # the member of cases 1 and 2
EPOCHS = 12
MODEL_SEED = 0
SOLVERS = ("anderson", "broyden", "fixed_point")
SOLVE_TOL = 1e-10
SOLVE_MAX_ITER = 100
HYBR_XTOL = 1e-13
STATE_TOL = 1e-8  # states and gradients must agree with the baselines to this
BATCH = 64  # examples of the gradient case: the first 64 training examples
TRAIN_TARGETS = ((32, 0.25), (64, 0.5))  # (width, seconds per epoch), from the research note
MEMBERS = 9
VOTE_SEED = 0
BINS = 4
PROBA_TOL = 1e-12


# ---------------------------------------------------------------- data


def digits_split():
    """(X_train, X_val, X_test, y_train, y_val, y_test): digits / 16, stratified 60/20/20."""
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_rest, y_train, y_rest = train_test_split(X, y, test_size=0.4, stratify=y, random_state=SPLIT_SEED)
    X_val, X_test, y_val, y_test = train_test_split(X_rest, y_rest, test_size=0.5, stratify=y_rest,
                                                    random_state=SPLIT_SEED)
    return X_train, X_val, X_test, y_train, y_val, y_test


HARD_SHARE, HARD_ACCURACY = 0.1, 0.3  # members err together on hard examples


def simulated_votes(y_val, y_test, n_labels):
    """Member accuracies, then (votes, signal) for validation and for test, from one seeded rng."""
    rng = np.random.default_rng(VOTE_SEED)
    accuracy = rng.uniform(0.9, 0.97, MEMBERS)

    def draw(y):
        hard = rng.random(y.size) < HARD_SHARE
        right = rng.random((y.size, MEMBERS)) < np.where(hard[:, None], HARD_ACCURACY, accuracy)
        wrong = (y[:, None] + rng.integers(1, n_labels, (y.size, MEMBERS))) % n_labels  # uniform among the others
        shared = (y + rng.integers(1, n_labels, y.size)) % n_labels  # on a hard example, the wrong digit they share
        wrong = np.where(hard[:, None], shared[:, None], wrong)
        votes = np.where(right, y[:, None], wrong)
        signal = np.where(right, rng.beta(5.0, 2.0, right.shape), rng.beta(2.0, 5.0, right.shape))
        return votes, signal

    return accuracy, draw(y_val), draw(y_test)


def blas_threads(limited):
    """BLAS limited to one thread for the whole timing (per call, re-raising the limit costs milliseconds)."""
    return threadpool_limits(limits=1, user_api="blas") if limited else contextlib.nullcontext()


# ---------------------------------------------------------------- baselines


def solve_scipy(params, X):
    """Equilibrium states by scipy.optimize.root (hybr, analytic Jacobian), one example at a time, from zero."""
    W, U, b = params["W"], params["U"], params["b"]
    d = W.shape[0]
    eye = np.eye(d)
    Z = np.empty((X.shape[0], d))
    failed = 0
    for k, x in enumerate(X):
        drive = U @ x + b

        def fun(z):
            f = np.tanh(W @ z + drive)
            return z - f, eye - (1.0 - f * f)[:, None] * W

        sol = root(fun, np.zeros(d), jac=True, method="hybr", options={"xtol": HYBR_XTOL})
        failed += not sol.success
        Z[k] = sol.x
    return Z, failed


def gradient_loop(params, X, codes, Z):
    """Mean cross-entropy and its implicit gradient: per example, np.linalg.solve of (I - Jᵀ) w = g."""
    W, V, c = params["W"], params["V"], params["c"]
    n, (d, _) = X.shape[0], W.shape
    eye = np.eye(d)
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    loss = 0.0
    for x, k, z in zip(X, codes, Z):
        logits = V @ z + c
        top = logits.max()
        log_norm = top + np.log(np.exp(logits - top).sum())
        loss -= (logits[k] - log_norm) / n
        dlogits = np.exp(logits - log_norm)
        dlogits[k] -= 1.0
        dlogits /= n
        s = 1.0 - z * z  # tanh's slope at the equilibrium
        w = np.linalg.solve(eye - W.T * s, V.T @ dlogits)  # I - Jᵀ with J = diag(s) W
        delta = s * w
        grads["W"] += np.outer(delta, z)
        grads["U"] += np.outer(delta, x)
        grads["b"] += delta
        grads["V"] += np.outer(dlogits, z)
        grads["c"] += dlogits
    return loss, grads


def trust_python(votes, y, signal=None, edges=None):
    """Beta(1, 1) posterior mean of each member's accuracy (per signal bin), counted in plain Python."""
    n_bins = 1 if edges is None else len(edges[0]) + 1
    hits = [[0] * n_bins for _ in range(MEMBERS)]
    cast = [[0] * n_bins for _ in range(MEMBERS)]
    for k, (row, truth) in enumerate(zip(votes.tolist(), y.tolist())):
        for i, vote in enumerate(row):
            j = 0 if edges is None else bisect.bisect_right(edges[i], float(signal[k, i]))
            cast[i][j] += 1
            hits[i][j] += vote == truth
    return [[(1 + h) / (2 + m) for h, m in zip(hs, ms)] for hs, ms in zip(hits, cast)]


def posterior_python(votes, trust, n_labels, signal=None, edges=None):
    """P(truth = label | votes) per example: prod_i (t_i if vote_i == label else (1 - t_i) / (L - 1)), normalised."""
    rows = votes.tolist()
    values = None if signal is None else signal.tolist()
    out = []
    for k, row in enumerate(rows):
        p = [1.0] * n_labels
        for i, vote in enumerate(row):
            t = trust[i][0 if edges is None else bisect.bisect_right(edges[i], values[k][i])]
            off = (1.0 - t) / (n_labels - 1)
            for label in range(n_labels):
                p[label] *= t if label == vote else off
        total = sum(p)
        out.append([x / total for x in p])
    return out


# ---------------------------------------------------------------- cases


def check(label, diff, limit):
    print(f"check: {label} = {diff:.2g} (limit {limit:g})")
    assert diff <= limit, f"{label} = {diff:.3g} exceeds {limit:g}"


def forward(model, X_test, repeat, python_repeat):
    params = model.params_
    d = params["W"].shape[0]
    assert params["W"].shape == (d, d) and params["U"].shape == (d, X_test.shape[1]) and params["b"].shape == (d,)
    assert params["V"].shape == (model.classes_.size, d) and params["c"].shape == (model.classes_.size,)
    t_base, (z_base, failed) = median_time(lambda: solve_scipy(params, X_test), python_repeat)
    check(f"examples where scipy's hybr reports failure ({len(X_test)} solved)", failed, 0)
    case = f"forward solve, {len(X_test)} test images, width {d}"
    baseline = f"scipy.optimize.root(method='hybr', jac=True, xtol={HYBR_XTOL:g}) per example"
    rows = []
    for solver in SOLVERS:
        def ours():
            return model.solve(X_test, solver=solver, tol=SOLVE_TOL, max_iter=SOLVE_MAX_ITER)

        for limited in (False, True):
            with blas_threads(limited):
                t, res = median_time(ours, repeat)
            check(f"unconverged examples (solver={solver!r}{', 1 BLAS thread' if limited else ''})",
                  int((~res.converged).sum()), 0)
            check(f"max |z - z_scipy| (solver={solver!r}{', 1 BLAS thread' if limited else ''})",
                  float(np.abs(res.z - z_base).max()), STATE_TOL)
            timed = (f"solve(solver='{solver}', tol={SOLVE_TOL:g}, max_iter={SOLVE_MAX_ITER}): nfe {res.nfe}, "
                     f"{int(res.resolved.sum())} re-solved by Broyden" + (", 1 BLAS thread" if limited else ""))
            rows.append(Row(case, timed, fmt_time(t), baseline, fmt_time(t_base), fmt_ratio(t_base / t)))
    return rows


def gradient(model, X_train, y_train, repeat, python_repeat):
    params = model.params_
    X, codes = X_train[:BATCH], np.searchsorted(model.classes_, y_train[:BATCH])
    res = model.solve(X, tol=SOLVE_TOL, max_iter=SOLVE_MAX_ITER)
    check(f"unconverged fixed points of the {BATCH} training examples", int((~res.converged).sum()), 0)
    Z = res.z
    t_base, (loss_base, grads_base) = median_time(lambda: gradient_loop(params, X, codes, Z), python_repeat)
    rows = []
    for limited in (False, True):
        def ours():
            return loss_and_gradient(params, X, codes, Z, grad="implicit")

        with blas_threads(limited):
            t, (loss, grads) = median_time(ours, repeat)
        diff = max([abs(loss - loss_base)] + [float(np.abs(grads[k] - grads_base[k]).max()) for k in grads_base])
        check("max |loss and gradient entries - per-example loop|" + (" (1 BLAS thread)" if limited else ""),
              diff, STATE_TOL)
        rows.append(Row(f"implicit gradient, {BATCH} training examples, width {Z.shape[1]}",
                        "loss_and_gradient(grad='implicit'): batched solve of (I - Jᵀ) w = g"
                        + (", 1 BLAS thread" if limited else ""), fmt_time(t),
                        "Python loop: np.linalg.solve per example, outer products", fmt_time(t_base),
                        fmt_ratio(t_base / t)))
    return rows


def training(X_train, y_train, X_test, y_test, first, repeat):
    rows = []
    for width, limit in TRAIN_TARGETS:
        def fit():
            return DEQClassifier(width=width, epochs=EPOCHS, seed=MODEL_SEED).fit(X_train, y_train)

        t, model = median_time(fit, repeat, min_seconds=0.0)  # k fits: each takes seconds
        if width == WIDTH:
            same = all(np.array_equal(model.params_[k], first.params_[k]) for k in first.params_)
            print(f"check: width-{width} parameters identical to those of the member trained at the start: {same}")
            assert same, "a seeded fit gave different parameters"
        per_epoch = t / EPOCHS
        acc = float((model.predict(X_test) == y_test).mean())
        rows.append(Row(f"training, width {width}, {len(X_train):,} images, batch 64",
                        f"DEQClassifier(width={width}, epochs={EPOCHS}, seed={MODEL_SEED}).fit: test accuracy "
                        f"{acc:.4f}, unconverged per epoch {model.unconverged_}",
                        f"{fmt_time(t)} per fit = {fmt_time(per_epoch)}/epoch", target=f"<= {limit:g} s/epoch",
                        passed=per_epoch <= limit))
    return rows


def ensemble(y_val, y_test, repeat, python_repeat):
    n_labels = int(np.unique(np.concatenate([y_val, y_test])).size)
    accuracy, (votes_val, signal_val), (votes_test, signal_test) = simulated_votes(y_val, y_test, n_labels)
    print(f"ensemble: member accuracies {np.round(accuracy, 3).tolist()}; realised on test "
          f"{np.round((votes_test == y_test[:, None]).mean(axis=0), 3).tolist()}")
    rows = []
    for binned in (False, True):
        kw_val = {"signal": signal_val} if binned else {}
        kw_test = {"signal": signal_test} if binned else {}
        label = f"{BINS} signal bins" if binned else "one trust per member"
        case = f"ensemble, {MEMBERS} members, {len(y_test)} test images, {label}"

        t_fit, fitted = median_time(lambda: TrustEnsemble(bins=BINS).fit(votes_val, y_val, **kw_val), repeat)
        t_proba, proba = median_time(lambda: fitted.predict_proba(votes_test, **kw_test), repeat)
        t_belief, belief = median_time(lambda: fitted.belief(votes_test, y_test, **kw_test), repeat)

        # the baseline's setup (untimed): trust counted in plain Python, bin edges as the library defines them
        edges = ([np.unique(np.quantile(signal_val[:, i], np.arange(1, BINS) / BINS)).tolist()
                  for i in range(MEMBERS)] if binned else None)
        trust = trust_python(votes_val, y_val, signal_val, edges)
        check(f"max |trust counted in Python - trust_['mean']| ({label})",
              float(np.abs(np.ravel(trust) - fitted.trust_["mean"].to_numpy()).max()), PROBA_TOL)
        t_base, base = median_time(
            lambda: posterior_python(votes_test, trust, n_labels, signal_test if binned else None, edges),
            python_repeat)
        check(f"max |predict_proba - plain-Python posterior| ({label})", float(np.abs(proba - np.array(base)).max()),
              PROBA_TOL)
        errors = ", ".join(f"{k} {v:+.3f}" for k, v in belief.errors().items())
        print(f"belief ({label}): realised accuracy {belief.realised:.4f} "
              f"[{belief.ci_low:.3f}, {belief.ci_high:.3f}]; believed minus realised: {errors}")
        baseline = "plain Python: product over members per example and label, normalised"
        rows += [Row(case, f"TrustEnsemble(bins={BINS}).fit(votes_val, y_val)", fmt_time(t_fit)),
                 Row(case, "predict_proba(votes_test)", fmt_time(t_proba), baseline, fmt_time(t_base),
                     fmt_ratio(t_base / t_proba)),
                 Row(case, "belief(votes_test, y_test): latent-class and distractor EM, 5-fold record", fmt_time(t_belief))]
    return rows


# ---------------------------------------------------------------- report


def print_machine():
    print("## wmvtrust DEQ and ensemble benchmark\n")
    print(f"- CPU: {platform.processor() or platform.machine()}, os.cpu_count() = {os.cpu_count()}, "
          f"affinity = {len(os.sched_getaffinity(0))} CPUs, load average = {os.getloadavg()[0]:.2f} at start")
    blas = [f"{p['internal_api']} {p['version']} ({p['num_threads']} threads, {p['prefix']})"
            for p in threadpool_info() if p["user_api"] == "blas"]
    print(f"- BLAS: {'; '.join(blas) or '(none found)'}")
    print(f"- numba threads: {numba.get_num_threads()}; numba {numba.__version__}, numpy {np.__version__}, "
          f"scipy {scipy.__version__}, scikit-learn {sklearn.__version__}, threadpoolctl {threadpoolctl.__version__}, "
          f"Python {platform.python_version()}")
    start = time.perf_counter()
    wt.warm_up()
    print(f"- first wmvtrust.warm_up() in this process (numba compile or cache load, excluded below): "
          f"{time.perf_counter() - start:.2f} s")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3,
                        help="timed calls after the warm-up call (default 3; also the number of timed fits)")
    args = parser.parse_args(argv)
    repeat = args.repeat
    python_repeat = min(repeat, 3)

    print_machine()
    X_train, X_val, X_test, y_train, y_val, y_test = digits_split()
    start = time.perf_counter()
    model = DEQClassifier(width=WIDTH, epochs=EPOCHS, seed=MODEL_SEED).fit(X_train, y_train)
    seconds = time.perf_counter() - start
    print(f"- data: digits / 16, stratified split (random_state={SPLIT_SEED}): train {len(X_train):,}, "
          f"validation {len(X_val)}, test {len(X_test)}")
    print(f"- member of cases 1-2: DEQClassifier(width={WIDTH}, epochs={EPOCHS}, seed={MODEL_SEED}), trained in "
          f"{seconds:.2f} s: test accuracy {(model.predict(X_test) == y_test).mean():.4f} on {len(X_test)} images\n")

    cases = (("forward solve", lambda: forward(model, X_test, repeat, python_repeat)),
             ("implicit gradient", lambda: gradient(model, X_train, y_train, repeat, python_repeat)),
             ("training", lambda: training(X_train, y_train, X_test, y_test, model, repeat)),
             ("ensemble", lambda: ensemble(y_val, y_test, repeat, python_repeat)))
    rows = run_cases(cases)

    print(f"\nMedian of at least k = {repeat} calls (more until 0.2 s; fits: k = {repeat}) after one warm-up call "
          f"(scipy and plain-Python baselines: at least k = {python_repeat}); ratio = baseline / wmvtrust; "
          f"load average = {os.getloadavg()[0]:.2f} at end.\n")
    print_table(rows)
    print("\ntargets met: {} of {}".format(*targets_met(rows)))


if __name__ == "__main__":
    main()
