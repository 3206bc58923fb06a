"""Benchmark of wmvtrust's accuracy functions against plain-Python and numpy baselines.

Prints one markdown table of medians and ratios, all measured in this run. Protocol:
``time.perf_counter``, one warm-up call per case, then the median of ``k`` calls
(``--repeat``, default 5, and more calls until 0.2 s have passed; the plain-Python
baseline uses at most 3). numba's compile
time is excluded from the table: the first ``wmvtrust.warm_up()`` of the process is
timed and printed above it. Instances: ``q ~ U(0.5, 0.9)``, weights
``log_odds_weights(t)`` with ``t ~ U(0.55, 0.95)``, from ``np.random.default_rng(n)``.

The script is a report: it exits with 0 even when a target is missed.

    python benchmarks/accuracy.py            # full run, a few minutes
    python benchmarks/accuracy.py --quick    # smoke test: k = 1, skips n = 50 and n = 100,000
"""

import argparse
import itertools
import os
import platform
import time
from pathlib import Path

import numba
import numpy as np

import wmvtrust as wt
from _table import Row, fmt_ratio, fmt_time, median_time, print_table, run_cases, targets_met

EXACT_TOL = 1e-12  # the baselines must agree with the library to this
MC_TRIALS = 10**7
MC_SEED = 1
MC_BLOCK_DRAWS = 1 << 21  # draws per block of the numpy Monte Carlo baseline
OUTER_BLOCK = 1 << 17  # elements per block of the numpy outer-sum enumeration


# ---------------------------------------------------------------- helpers


def instance(n):
    """(q, w) for n sources: q ~ U(0.5, 0.9), w = log_odds_weights(t) with t ~ U(0.55, 0.95)."""
    rng = np.random.default_rng(n)
    q = rng.uniform(0.5, 0.9, n)
    t = rng.uniform(0.55, 0.95, n)
    return q, wt.log_odds_weights(t)


def check_agrees(label, value, reference):
    """Print the mismatch against the library and assert it is within EXACT_TOL."""
    diff = abs(value - reference)
    print(f"check: |{label} - wmvtrust| = {diff:.2g} (limit {EXACT_TOL:g})")
    assert diff <= EXACT_TOL, f"{label} disagrees with wmvtrust by {diff:.3g}"


def tie_tol(w):
    """The library's tie tolerance at prior 1/2 (bias 0)."""
    return wt.TIE_RTOL * float(np.abs(w).sum())


# ---------------------------------------------------------------- baselines


def accuracy_python(q, w):
    """Plain Python: enumerate every profile with itertools.product."""
    q, w = [float(x) for x in q], [float(x) for x in w]
    tol = wt.TIE_RTOL * sum(abs(x) for x in w)
    total = 0.0
    for profile in itertools.product((False, True), repeat=len(q)):
        p, s = 1.0, 0.0
        for qi, wi, correct in zip(q, w, profile):
            if correct:
                p *= qi
                s += wi
            else:
                p *= 1.0 - qi
                s -= wi
        if s > tol:
            total += p
        elif s >= -tol:
            total += 0.5 * p
    return total


def subset_tables(q, w):
    """Sums and probabilities of all 2**k profiles of k sources (numpy, by doubling)."""
    sums, probs = np.zeros(1), np.ones(1)
    for qi, wi in zip(q, w):
        sums = np.concatenate((sums - wi, sums + wi))
        probs = np.concatenate((probs * (1.0 - qi), probs * qi))
    return sums, probs


def accuracy_numpy_outer(q, w):
    """numpy enumeration: per-half tables, outer sum of the sums in blocks of OUTER_BLOCK elements."""
    tol = tie_tol(w)
    k = q.size // 2
    low_s, low_p = subset_tables(q[:k], w[:k])
    high_s, high_p = subset_tables(q[k:], w[k:])
    rows = max(1, OUTER_BLOCK // low_s.size)
    total = 0.0
    for r in range(0, high_s.size, rows):
        s = high_s[r:r + rows, None] + low_s
        credit2 = (s > tol).view(np.uint8) + (s >= -tol).view(np.uint8)  # 2 g(s), in {0, 1, 2}
        total += 0.5 * (high_p[r:r + rows] @ (credit2 @ low_p))
    return total


def accuracy_numpy_mitm(q, w):
    """numpy meet-in-the-middle: sort one half (argsort), suffix sums (cumsum), searchsorted."""
    tol = tie_tol(w)
    k = q.size // 2
    sa, pa = subset_tables(q[:k], w[:k])
    sb, pb = subset_tables(q[k:], w[k:])
    order = np.argsort(sb)
    sb, pb = sb[order], pb[order]
    tail = np.append(np.cumsum(pb[::-1])[::-1], 0.0)  # tail[j] = sum of pb[j:]
    up = np.searchsorted(sb, tol - sa, side="right")  # b > tol - a: correct
    tie = np.searchsorted(sb, -tol - sa, side="left")  # b >= -tol - a: correct or tie
    return float(pa @ (0.5 * (tail[up] + tail[tie])))


def accuracy_mc_numpy(q, w, trials, seed):
    """numpy Monte Carlo at prior 1/2: blocks of ~MC_BLOCK_DRAWS uniform draws, X @ 2w - sum w."""
    rng = np.random.default_rng(seed)
    tol = tie_tol(w)
    w2, w_sum = 2.0 * w, float(w.sum())
    rows = max(1, MC_BLOCK_DRAWS // q.size)
    credit2 = 0
    for start in range(0, trials, rows):
        x = rng.random((min(rows, trials - start), q.size)) < q
        s = x @ w2 - w_sum
        credit2 += np.count_nonzero(s > tol) + np.count_nonzero(s >= -tol)  # 2 g(s) summed
    return 0.5 * credit2 / trials


# ---------------------------------------------------------------- cases


def exact_n20(repeat, python_repeat):
    n = 20
    q, w = instance(n)
    t_python, v_python = median_time(lambda: accuracy_python(q, w), python_repeat)
    t_numpy, v_numpy = median_time(lambda: accuracy_numpy_outer(q, w), repeat)
    python = f"plain Python, itertools.product (k = {python_repeat})"
    numpy_ = f"numpy per-half tables + outer sum, blocks of 2^{OUTER_BLOCK.bit_length() - 1}"
    rows = []
    for method in ("auto", "enumerate", "mitm"):
        t, acc = median_time(lambda: wt.accuracy(q, w, method=method), repeat)
        check_agrees(f"plain Python (n = 20, vs method={method!r})", v_python, acc.value)
        check_agrees(f"numpy outer sum (n = 20, vs method={method!r})", v_numpy, acc.value)
        timed = f"accuracy(method={method!r}) -> {acc.method!r}"
        for label, t_base, least in ((python, t_python, 10_000), (numpy_, t_numpy, 50)):
            ratio = t_base / t
            target, passed = (f">= {least:,}x", ratio >= least) if method == "auto" else ("—", None)
            rows.append(Row(f"exact, n = {n}", timed, fmt_time(t), label, fmt_time(t_base), fmt_ratio(ratio),
                            target, passed))
    return rows


def exact_mitm(repeat, quick):
    rows = []
    for n, limit in ((40, 0.15), (48, 2.5), (50, 5.0)):
        if quick and n == 50:
            continue
        q, w = instance(n)
        t, acc = median_time(lambda: wt.accuracy(q, w, method="mitm"), repeat)
        rows.append(Row(f"exact, n = {n}", "accuracy(method='mitm')", fmt_time(t),
                        target=f"< {limit:g} s", passed=t < limit))
        if n == 40:  # numpy MITM takes about a minute at n = 48: skipped there
            t_base, v_base = median_time(lambda: accuracy_numpy_mitm(q, w), repeat)
            check_agrees("numpy MITM (n = 40)", v_base, acc.value)
            rows.append(Row(f"exact, n = {n}", "accuracy(method='mitm')", fmt_time(t),
                            "numpy MITM: argsort + cumsum + searchsorted", fmt_time(t_base),
                            fmt_ratio(t_base / t)))
    return rows


def majority(repeat, quick):
    rows = []
    for n, limit in ((10_000, 0.05), (100_000, 3.0)):
        if quick and n == 100_000:
            continue
        q, _ = instance(n)
        ones = np.ones(n)
        t, acc = median_time(lambda: wt.accuracy(q, ones), repeat)
        rows.append(Row(f"majority, n = {n:,}", f"accuracy(w = 1, method='auto') -> {acc.method!r}",
                        fmt_time(t), target=f"< {limit:g} s", passed=t < limit))
    return rows


def monte_carlo(repeat):
    n = 100
    q, w = instance(n)
    draws = MC_TRIALS * n
    threads_max = numba.config.NUMBA_NUM_THREADS
    t_numpy, v_numpy = median_time(lambda: accuracy_mc_numpy(q, w, MC_TRIALS, MC_SEED), repeat)
    numpy_ = f"numpy: rng.random((b, n)) < q, X @ 2w - sum w, b·n ≈ 2^{MC_BLOCK_DRAWS.bit_length() - 1}"
    case = f"Monte Carlo, n = {n}, T = 10^{len(str(MC_TRIALS)) - 1}"
    rows, values = [], {}
    previous = numba.get_num_threads()
    try:
        for threads in sorted({min(2, threads_max), 1}, reverse=True):
            numba.set_num_threads(threads)
            t, est = median_time(lambda: wt.accuracy_mc(q, w, MC_TRIALS, seed=MC_SEED), repeat)
            values[threads] = est
            timed = f"accuracy_mc, {threads} numba thread{'s' if threads > 1 else ''}"
            median = f"{fmt_time(t)} = {draws / t / 1e6:,.0f} M draws/s"
            ratio = t_numpy / t
            if threads == 2:
                rows.append(Row(case, timed, median, target=">= 500 M draws/s", passed=draws / t >= 5e8))
                rows.append(Row(case, timed, median, numpy_, f"{fmt_time(t_numpy)} = {draws / t_numpy / 1e6:,.0f} "
                                "M draws/s", fmt_ratio(ratio), ">= 4x", ratio >= 4))
            else:
                rows.append(Row(case, timed, median, numpy_, fmt_time(t_numpy), fmt_ratio(ratio)))
    finally:
        numba.set_num_threads(previous)
    est = values[max(values)]
    same = len({v.value for v in values.values()}) == 1
    print(f"check: accuracy_mc identical across thread counts {sorted(values)}: {same}")
    print(f"check: numpy MC - wmvtrust MC = {v_numpy - est.value:.3g} "
          f"({(v_numpy - est.value) / est.stderr:.2f} standard errors of one estimate)")
    return rows


# ---------------------------------------------------------------- report


def print_machine():
    cache = Path(wt.__file__).parent / "_kernels" / "__pycache__"
    cached = len(list(cache.glob("*.nbi"))) if cache.is_dir() else 0
    print("## wmvtrust accuracy benchmark\n")
    print(f"- CPU: {platform.processor() or platform.machine()}, os.cpu_count() = {os.cpu_count()}, "
          f"affinity = {len(os.sched_getaffinity(0))} CPUs, load average = {os.getloadavg()[0]:.2f} at start")
    print(f"- numba threads: {numba.get_num_threads()} (NUMBA_NUM_THREADS = {numba.config.NUMBA_NUM_THREADS}), "
          f"numba {numba.__version__}, numpy {np.__version__}, Python {platform.python_version()}")
    print(f"- environment: OPENBLAS_CORETYPE = {os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, "
          f"OMP_WAIT_POLICY = {os.environ.get('OMP_WAIT_POLICY', '(unset)')}")
    start = time.perf_counter()
    wt.warm_up()
    print(f"- first wmvtrust.warm_up() in this process (compile or cache load; {cached} cache index files "
          f"present before it): {time.perf_counter() - start:.2f} s; threading layer: {numba.threading_layer()}")


def print_fork_join_probe(repeat):
    """The parallel kernels' fixed cost: the parallel and the serial MITM kernel at n = 2."""
    from wmvtrust import _kernels as kn  # a diagnostic: the kernels themselves, without validation

    q, w = instance(2)
    t_par, _ = median_time(lambda: kn.accuracy_mitm(q, w, 0.0, 0.0), max(repeat, 5))
    t_ser, _ = median_time(lambda: kn.accuracy_mitm_serial(q, w, 0.0, 0.0), max(repeat, 5))
    print(f"- fixed cost at n = 2: parallel MITM kernel {fmt_time(t_par)}, serial MITM kernel {fmt_time(t_ser)} "
          "(a parallel cost in milliseconds means the OpenMP threads are contending for one CPU)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=None, help="timed calls per case (default 5; 1 with --quick)")
    parser.add_argument("--quick", action="store_true", help="smoke test: k = 1, skips n = 50 and n = 100,000")
    args = parser.parse_args(argv)
    repeat = args.repeat or (1 if args.quick else 5)
    python_repeat = min(repeat, 3)

    print_machine()
    print_fork_join_probe(repeat)
    print()
    cases = (("exact, n = 20", lambda: exact_n20(repeat, python_repeat)),
             ("exact, n = 40-50", lambda: exact_mitm(repeat, args.quick)),
             ("majority", lambda: majority(repeat, args.quick)),
             ("Monte Carlo", lambda: monte_carlo(repeat)))
    rows = run_cases(cases)

    print(f"\nMedian of at least k = {repeat} calls (more until 0.2 s) after one warm-up call "
          f"(plain Python: k = {python_repeat}); "
          f"numba threads = {numba.get_num_threads()} unless marked; load average = {os.getloadavg()[0]:.2f} at end."
          + (" QUICK RUN: n = 50 and n = 100,000 skipped." if args.quick else "") + "\n")
    print_table(rows)
    print("\ntargets met: {} of {}".format(*targets_met(rows)))


if __name__ == "__main__":
    main()
