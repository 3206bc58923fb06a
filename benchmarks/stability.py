"""Benchmark of wmvtrust's stability gaps against numpy baselines, small and large panels, and the default example.

Prints one markdown table of medians and their ratio, all measured in this run, then
the default example. Protocol: ``time.perf_counter``; numba's compile time is
excluded from the table (the process's first ``wmvtrust.warm_up()`` is timed and
printed above it); each timed call is made once as a warm-up, then ``--repeat``
times (default 5), and the median is reported.

Case: n = 10 sources whose trust comes from 20 gold observations each (a seeded
track record), ``P_i ~ Beta(1 + s_i, 1 + f_i)``; the SoO gap
``E[A(P, w(P)) - A(P, w(t))]`` by Monte Carlo over 10^4 posterior draws, with the
exact accuracy of every draw (all 2^10 profiles). The numpy baseline computes the
same estimator on the same draws (``model.sample(10_000, seed=0)``), enumerating the
profiles as a matrix, and must agree with wmvtrust to 1e-12.

Large panels, 100 and 1,000 Beta sources (trust from a seeded track record: p ~ U(0.45, 0.65)
and 20 gold observations each for 100 sources; p ~ U(0.48, 0.56) and 500 each for 1,000, weak
sources that still err together): ``soo_gap`` and ``soc_gap`` with ``method="auto"``, which
scores vote profiles given each draw of P (``method="profiles"``), with as many draws as a
pilot call of 2,000 draws says reach a standard error of 1e-4, plus 25% (the pilot is not timed). The
numpy baseline computes the same estimator on its own random numbers (P from the same seed,
uniforms from numpy), vectorised over blocks of draws, and must agree within 5 combined
standard errors. ``soo_gap`` is timed with ``pivotal_bound=False``, the baseline computing the
gap only; one more row times the default call, which adds the pivotality bound on the same
draws. At 30 sources, the exact accuracy of every draw (``method="montecarlo"``,
2,000 draws) is timed against ``"profiles"`` with the draws that reach the same standard error.

The script is a report: it exits with 0 even when a target is missed.

    python benchmarks/stability.py
"""

import argparse
import math
import os
import platform
import time
from functools import partial

import numba
import numpy as np
import scipy

import wmvtrust as wt
from _table import Row, fmt_ratio, fmt_time, median_time, print_table

N_SOURCES = 10
OBSERVATIONS = 20
RECORD_SEED = 20  # the track record: p ~ U(0.55, 0.9), successes ~ Binomial(20, p)
DRAWS = 10_000
DRAW_SEED = 0
TARGET_SECONDS = 2.0
EXACT_TOL = 1e-12
BLOCK = 500  # draws per block of the numpy baseline: 3 arrays of BLOCK x 1024 float64
REGRET_EPSILON = 0.01
LARGE = {100: (0.45, 0.65, 20, 5.0), 1_000: (0.48, 0.56, 500, 30.0)}  # n: p range, observations, target seconds
TARGET_STDERR = 1e-4
PILOT_DRAWS = 2_000
CROSSOVER_SOURCES, CROSSOVER_DRAWS = 30, 2_000
PROFILE_ELEMENTS = 1 << 22  # uniforms per block of the numpy profile baseline (32 MB)


def track_record():
    """(p, successes, failures) of the seeded track record."""
    rng = np.random.default_rng(RECORD_SEED)
    p = rng.uniform(0.55, 0.9, N_SOURCES)
    successes = rng.binomial(OBSERVATIONS, p)
    return p, successes, OBSERVATIONS - successes


# ---------------------------------------------------------------- the numpy baseline


def soo_gap_numpy(rows, trust):
    """Mean and standard error of A(P, w(P)) - A(P, w(t)) over the rows of P, by profile-matrix enumeration.

    X (2^n x n) holds every correctness profile; per block of draws, the weighted sums are
    ``(2X - 1) @ w`` (one weight vector per draw for the oracle rule, the trust's for the
    other), the profile probabilities ``exp(X @ ln P + (1 - X) @ ln(1 - P))``, and a sum
    within the library's tie tolerance 1e-12 * sum |w| earns 1/2.
    """
    n = rows.shape[1]
    x = ((np.arange(1 << n)[:, None] >> np.arange(n)) & 1).astype(float)  # bit i: source i correct
    signs = 2.0 * x - 1.0
    w_trust = np.log(trust / (1.0 - trust))
    s_trust = signs @ w_trust
    tol_trust = wt.TIE_RTOL * np.abs(w_trust).sum()
    credit_trust = (s_trust > tol_trust) + 0.5 * (np.abs(s_trust) <= tol_trust)
    terms = np.empty(rows.shape[0])
    for start in range(0, rows.shape[0], BLOCK):
        p = rows[start:start + BLOCK]
        w = np.log(p / (1.0 - p))
        prob = np.exp(np.log(p) @ x.T + np.log1p(-p) @ (1.0 - x).T)
        s = w @ signs.T
        tol = wt.TIE_RTOL * np.abs(w).sum(axis=1, keepdims=True)
        credit = (s > tol) + 0.5 * (np.abs(s) <= tol)
        terms[start:start + BLOCK] = (prob * credit).sum(axis=1) - prob @ credit_trust
    return terms.mean(), terms.std(ddof=1) / np.sqrt(terms.size)


def gaps_numpy(model, draws, seed, which, profiles=64):
    """Mean and standard error of the SoO or SoC gap by the profile estimator, in numpy.

    Per draw of P (``model.sample`` from ``default_rng(seed)``, in blocks), ``profiles`` vectors of
    uniforms U; source i is right under P when U_i < P_i and under t when U_i < t_i. SoO: the
    oracle's credit minus the trust rule's, both on the profile under P; SoC: the trust rule's on
    the profile under P minus its credit on the profile under t (prior 1/2, finite weights; a
    sum within 1e-12 * sum |w| earns 1/2). The per-draw mean over the profiles is the term.
    """
    rng = np.random.default_rng(seed)
    t = model.mean
    w = np.log(t / (1.0 - t))
    tol = wt.TIE_RTOL * np.abs(w).sum()
    block = max(1, PROFILE_ELEMENTS // (profiles * t.size))
    terms = []
    for start in range(0, draws, block):
        p = model.sample(min(block, draws - start), rng)
        u = rng.random((p.shape[0], profiles, t.size))
        signs_p = 2.0 * (u < p[:, None, :]) - 1.0
        s_rule = signs_p @ w
        rule = (s_rule > tol) + 0.5 * (np.abs(s_rule) <= tol)
        if which == "soo":
            w_p = np.log(p / (1.0 - p))
            s_or = np.einsum("dri,di->dr", signs_p, w_p)
            tol_or = wt.TIE_RTOL * np.abs(w_p).sum(axis=1, keepdims=True)
            other = (s_or > tol_or) + 0.5 * (np.abs(s_or) <= tol_or)
            terms.append((other - rule).mean(axis=1))
        else:
            s_t = (2.0 * (u < t) - 1.0) @ w
            terms.append((rule - (s_t > tol) - 0.5 * (np.abs(s_t) <= tol)).mean(axis=1))
    terms = np.concatenate(terms)
    return terms.mean(), terms.std(ddof=1) / np.sqrt(terms.size)


def large_model(n):
    low, high, observations, _ = LARGE[n]
    rng = np.random.default_rng(RECORD_SEED)
    successes = rng.binomial(observations, rng.uniform(low, high, n))
    return wt.BetaTrust.from_track_record(successes, observations - successes)


# ---------------------------------------------------------------- report


def print_machine():
    print("## wmvtrust stability benchmark\n")
    print(f"- CPU: {platform.processor() or platform.machine()}, os.cpu_count() = {os.cpu_count()}, "
          f"affinity = {len(os.sched_getaffinity(0))} CPUs, load average = {os.getloadavg()[0]:.2f} at start")
    print(f"- numba threads: {numba.get_num_threads()} (NUMBA_NUM_THREADS = {numba.config.NUMBA_NUM_THREADS}); "
          f"numba {numba.__version__}, numpy {np.__version__}, scipy {scipy.__version__}, "
          f"Python {platform.python_version()}")
    start = time.perf_counter()
    wt.warm_up()
    print(f"- first wmvtrust.warm_up() in this process (numba compile or cache load, excluded below): "
          f"{time.perf_counter() - start:.2f} s; threading layer: {numba.threading_layer()}")


def benchmark(model, repeat):
    """The table rows, and the number of targets met and set."""
    def library():
        return wt.soo_gap(model, method="montecarlo", draws=DRAWS, seed=DRAW_SEED, pivotal_bound=False)

    def baseline():
        return soo_gap_numpy(model.sample(DRAWS, seed=DRAW_SEED), model.mean)

    t_lib, gap = median_time(library, repeat)
    t_np, (value, stderr) = median_time(baseline, repeat)
    diff = abs(value - gap.value)
    print(f"check: |numpy baseline - wmvtrust| = {diff:.2g} on the value (limit {EXACT_TOL:g}), "
          f"{abs(stderr - gap.stderr):.2g} on the standard error")
    assert diff <= EXACT_TOL, f"the numpy baseline disagrees with wmvtrust by {diff:.3g}"
    rows = [Row(f"SoO gap, n = {N_SOURCES} Beta sources, {DRAWS:,} draws",
                f"soo_gap(model, method='montecarlo', draws={DRAWS:_}, seed={DRAW_SEED}, pivotal_bound=False) = "
                f"{gap.value:.6f} "
                f"± {gap.stderr:.2g}", fmt_time(t_lib),
                f"numpy: profile matrix (2^{N_SOURCES} x {N_SOURCES}), weights per draw, blocks of {BLOCK} draws",
                fmt_time(t_np), fmt_ratio(t_np / t_lib), f"< {TARGET_SECONDS:g} s", t_lib < TARGET_SECONDS)]
    for n, (low, high, observations, target) in LARGE.items():
        large = large_model(n)
        for name, which, label in (("soo_gap", "soo", "SoO"), ("soc_gap", "soc", "SoC")):
            function = partial(wt.soo_gap, pivotal_bound=False) if name == "soo_gap" else wt.soc_gap
            pilot = function(large, draws=PILOT_DRAWS, seed=DRAW_SEED)
            draws = math.ceil(PILOT_DRAWS * (pilot.stderr / TARGET_STDERR) ** 2 * 1.25)
            t_lib, est = median_time(lambda: function(large, draws=draws, seed=DRAW_SEED), repeat)
            t_np, (value, stderr) = median_time(lambda: gaps_numpy(large, draws, DRAW_SEED, which), 1)
            z = abs(value - est.value) / math.hypot(stderr, est.stderr)
            print(f"check: {name}, n = {n}: numpy baseline {value:.6f} ± {stderr:.2g}, wmvtrust {est.value:.6f} "
                  f"± {est.stderr:.2g} ({z:.1f} combined standard errors apart, limit 5)")
            assert z <= 5, f"the numpy profile baseline disagrees with wmvtrust by {z:.1f} standard errors"
            rows.append(Row(f"{label} gap, n = {n:,} Beta sources (p ~ U({low}, {high}), "
                            f"{observations} observations), standard error <= {TARGET_STDERR:g}",
                            f"{name}(model, draws={draws:_}, seed={DRAW_SEED}"
                            f"{', pivotal_bound=False' if name == 'soo_gap' else ''}) = {est.value:.6f} ± {est.stderr:.2g} "
                            f"(method '{est.method}')", fmt_time(t_lib),
                            "numpy: the same profile estimator, 64 profiles per draw, vectorised over blocks",
                            fmt_time(t_np), fmt_ratio(t_np / t_lib), f"< {target:g} s",
                            t_lib < target and est.stderr <= TARGET_STDERR))
            if name == "soo_gap":  # with the pivotality bound on the same draws: the call's default
                t_full, full = median_time(lambda: wt.soo_gap(large, draws=draws, seed=DRAW_SEED), 1)
                rows.append(Row(f"SoO gap and its pivotality bound, n = {n:,}",
                                f"soo_gap(model, draws={draws:_}, seed={DRAW_SEED}): bound {full.pivotal_bound:.6f} "
                                f"± {full.pivotal_bound_stderr:.2g}", fmt_time(t_full)))
    small = large_model(100)
    small = wt.BetaTrust(small.alpha[:CROSSOVER_SOURCES], small.beta[:CROSSOVER_SOURCES])
    t_exact, exact = median_time(lambda: wt.soo_gap(small, method="montecarlo", draws=CROSSOVER_DRAWS,
                                                    seed=DRAW_SEED, pivotal_bound=False), 1)
    pilot = wt.soo_gap(small, method="profiles", draws=PILOT_DRAWS, seed=DRAW_SEED, pivotal_bound=False)
    draws = math.ceil(PILOT_DRAWS * (pilot.stderr / exact.stderr) ** 2)
    t_prof, prof = median_time(lambda: wt.soo_gap(small, method="profiles", draws=draws, seed=DRAW_SEED,
                                                  pivotal_bound=False), repeat)
    rows.append(Row(f"SoO gap, n = {CROSSOVER_SOURCES} (the first 30 sources of the 100), the standard error of "
                    f"{CROSSOVER_DRAWS:,} exact draws",
                    f"soo_gap(model, method='profiles', draws={draws:_}, pivotal_bound=False) = {prof.value:.5f} "
                    f"± {prof.stderr:.2g}",
                    fmt_time(t_prof), f"wmvtrust, method='montecarlo' (exact accuracy per draw, meet in the middle): "
                    f"{exact.value:.5f} ± {exact.stderr:.2g}", fmt_time(t_exact), fmt_ratio(t_exact / t_prof)))
    print(f"\nMedian of k = {repeat} calls after one warm-up call (the numpy profile baselines and the exact "
          f"30-source row: one call after the warm-up); load average = {os.getloadavg()[0]:.2f} at end.\n")
    print_table(rows)
    return sum(bool(row.passed) for row in rows), sum(row.passed is not None for row in rows)


def default_example(model, p, successes):
    print("\n## Default example\n")
    print(f"{N_SOURCES} sources, trust from {OBSERVATIONS} gold observations each: trustworthiness "
          f"p ~ U(0.55, 0.9) and successes ~ Binomial({OBSERVATIONS}, p) from np.random.default_rng({RECORD_SEED}); "
          "prior Beta(1, 1).\n")
    print(f"- p (hidden):  {np.round(p, 3).tolist()}")
    print(f"- successes:   {successes.tolist()} of {OBSERVATIONS}")
    print(f"- trust t:     {np.round(model.mean, 4).tolist()}")
    believed = wt.believed_accuracy(model)
    print(f"- believed accuracy A(t, w(t)) = {believed.value:.6f} ({believed.method})")
    soc = wt.soc_gap(model, method="montecarlo", draws=DRAWS, seed=DRAW_SEED)
    print(f"- SoC gap E[A(P, w(t))] - A(t, w(t)), Monte Carlo over {DRAWS:,} draws: {soc.value:.3g} "
          f"± {soc.stderr:.2g}, 95% CI [{soc.ci_low:.3g}, {soc.ci_high:.3g}] "
          f"(contains 0, as Theorem 1 says: {soc.ci_low <= 0 <= soc.ci_high})")
    soo = wt.soo_gap(model, method="montecarlo", draws=DRAWS, seed=DRAW_SEED)
    print(f"- SoO gap E[A(P, w(P)) - A(P, w(t))]: {soo.value:.4g} ± {soo.stderr:.2g}, 95% CI "
          f"[{soo.ci_low:.4g}, {soo.ci_high:.4g}]; bounds: {soo.lower_bound:g} (Theorem 2) <= gap <= "
          f"{soo.pivotal_bound:.4g} ± {soo.pivotal_bound_stderr:.2g} (pivotality, B^(8)) <= "
          f"{soo.sign_aware_bound:.4g} (sign-aware) <= {soo.upper_bound:.4g} (Theorem 3, sum_i E|P_i - t_i|)")
    start = time.perf_counter()
    needed = wt.observations_needed(model.mean, REGRET_EPSILON)
    print(f"- observations_needed(p = model.mean, epsilon = {REGRET_EPSILON}): {needed.observations} gold "
          f"observations per source (regret {needed.value:.4g}, Monte Carlo with 2,000 draws, seed 0; "
          f"{time.perf_counter() - start:.2f} s)")
    prior = wt.BetaTrust(np.ones(N_SOURCES), np.ones(N_SOURCES))
    for criterion in ("expected gap", "theorem 3 bound"):
        start = time.perf_counter()
        needed = wt.observations_needed(prior, REGRET_EPSILON, criterion=criterion)
        seconds = time.perf_counter() - start
        spread = "" if needed.low is None else f", range [{needed.low}, {needed.high}] from its 95% interval"
        print(f"- observations_needed(BetaTrust(1, 1) for each of the {N_SOURCES} sources, epsilon = "
              f"{REGRET_EPSILON}, criterion = '{criterion}'): {needed.observations:,} per source{spread} "
              f"(criterion {needed.value:.4g} there; {seconds:.2f} s)")
    print("- the expected gap itself after m observations per source (planned_soo_gap, 10,000 draws, seed 0): "
          + ", ".join(f"m = {m}: {wt.planned_soo_gap(prior, m, seed=0).value:.4f}" for m in (0, 4, 8, 16, 32)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed calls after the warm-up call (default 5)")
    args = parser.parse_args(argv)
    print_machine()
    p, successes, failures = track_record()
    model = wt.BetaTrust.from_track_record(successes, failures)
    met, targets = benchmark(model, args.repeat)
    default_example(model, p, successes)
    print(f"\ntargets met: {met} of {targets}")


if __name__ == "__main__":
    main()
