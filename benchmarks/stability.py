"""Benchmark of wmvtrust's stability-of-optimality gap against a numpy baseline, and the default example.

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

The script is a report: it exits with 0 even when a target is missed.

    python benchmarks/stability.py
"""

import argparse
import os
import platform
import time

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
        return wt.soo_gap(model, method="montecarlo", draws=DRAWS, seed=DRAW_SEED)

    def baseline():
        return soo_gap_numpy(model.sample(DRAWS, seed=DRAW_SEED), model.mean)

    t_lib, gap = median_time(library, repeat)
    t_np, (value, stderr) = median_time(baseline, repeat)
    diff = abs(value - gap.value)
    print(f"check: |numpy baseline - wmvtrust| = {diff:.2g} on the value (limit {EXACT_TOL:g}), "
          f"{abs(stderr - gap.stderr):.2g} on the standard error")
    assert diff <= EXACT_TOL, f"the numpy baseline disagrees with wmvtrust by {diff:.3g}"
    passed = t_lib < TARGET_SECONDS
    print(f"\nMedian of k = {repeat} calls after one warm-up call; load average = {os.getloadavg()[0]:.2f} "
          "at end.\n")
    print_table([Row(f"SoO gap, n = {N_SOURCES} Beta sources, {DRAWS:,} draws",
                     f"soo_gap(model, method='montecarlo', draws={DRAWS:_}, seed={DRAW_SEED}) = {gap.value:.6f} "
                     f"± {gap.stderr:.2g}", fmt_time(t_lib),
                     f"numpy: profile matrix (2^{N_SOURCES} x {N_SOURCES}), weights per draw, blocks of {BLOCK} draws",
                     fmt_time(t_np), fmt_ratio(t_np / t_lib), f"< {TARGET_SECONDS:g} s", passed)])
    return int(passed), 1


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
          f"{soo.sign_aware_bound:.4g} (sign-aware) <= {soo.upper_bound:.4g} (Theorem 3, sum_i E|P_i - t_i|)")
    start = time.perf_counter()
    needed = wt.observations_needed(model.mean, REGRET_EPSILON)
    print(f"- observations_needed(p = model.mean, epsilon = {REGRET_EPSILON}): {needed.observations} gold "
          f"observations per source (regret {needed.value:.4g}, Monte Carlo with 2,000 draws, seed 0; "
          f"{time.perf_counter() - start:.2f} s)")
    prior = wt.BetaTrust(np.ones(N_SOURCES), np.ones(N_SOURCES))
    start = time.perf_counter()
    try:
        bound = wt.observations_needed(prior, REGRET_EPSILON)
        print(f"- observations_needed(BetaTrust(1, 1) for each of the {N_SOURCES} sources, epsilon = "
              f"{REGRET_EPSILON}): {bound.observations:,} per source for an expected Theorem 3 bound "
              f"{bound.value:.7g} < {REGRET_EPSILON} ({time.perf_counter() - start:.2f} s); the bound, summed over "
              "sources, shrinks like 1/sqrt(m), so it asks for far more than the regret")
    except ValueError as error:
        print(f"- observations_needed(BetaTrust(1, 1) per source, {REGRET_EPSILON}): not reached: {error} "
              f"({time.perf_counter() - start:.2f} s)")


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
