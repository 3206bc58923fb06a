"""Benchmark of wmvtrust's crowd aggregators against a pandas groupby, the previous one-coin EM and crowd-kit.

Prints one markdown table of medians and ratios, all measured in this run. Protocol:
``time.perf_counter`` around the whole ``fit`` (validation and encoding of the vote table
included; ``fit_predict`` only adds reading ``labels_``) and around crowd-kit's
``fit_predict``, one warm-up call per case, then the median of ``k`` calls (``--repeat``,
default 3). crowd-kit runs in its own interpreter (``_crowdkit.py``: a subprocess fed
through an ``.npz`` file in a temporary folder): its import time is excluded, and its
warm-up is one call on the first 10,000 rows (a full warm-up call would add a minute).
numba's compile time is excluded: the process's first ``wmvtrust.warm_up()`` is timed and
printed above the table.

Instance: a synthetic binary crowd of 1,000,000 (task, worker, label) rows: 200,000
tasks with 5 votes each from 5 distinct workers drawn uniformly among 10,000, worker
accuracies ~ Beta(5, 2), truths ~ Bernoulli(1/2), a worker right with its accuracy and
otherwise giving the other label; integer ids, rows shuffled; all from
``np.random.default_rng(--seed)``.

Targets:
1. ``WeightedMajorityVote(trust=<true accuracies>)`` at least as fast as the pandas
   groupby a user would write (log-odds weight per worker, signed weight per vote,
   groupby task sum, sign), with the same labels (exact ties aside), and under 1 s.
2. Unsupervised Dawid-Skene, ``ConfusionMatrixVote(max_iter=N, tol=1e-300)`` (so that N
   iterations run), at least 10 times faster than crowd-kit's ``DawidSkene(n_iter=N,
   tol=-inf)`` (N iterations: its stopping test ``gain < tol`` never holds), at every N of
   ``--n-iter`` (default 20 and 50); at N = 20 the whole ``fit`` under 1 s. The
   accuracy of both against the synthetic truth is reported beside.
3. One-coin EM, ``WeightedMajorityVote(trust="one-coin", max_iter=N, tol=1e-300)``: the time
   per iteration, ``(t(N = 51) - t(N = 1)) / 50``, at most a third of the previous
   implementation's, which is reproduced here and timed in the same run (``previous_one_coin``:
   an E-step by ``label_scores`` and the logistic function, an M-step by ``expected_right``;
   the median of 50 of its iterations). Its posteriors are checked against the library's.
4. ``summary()`` of every aggregator under 2 s: on the million votes without gold and with gold on
   every third task (whose cross-fitted belief refits the aggregator five times), and on a
   label-biased crowd where every one of 39 workers labels all 108 tasks.
For information: the defaults (``WeightedMajorityVote()``: trust = each worker's balanced
accuracy in a Bayesian Dawid-Skene fit; ``ConfusionMatrixVote()``), their iterations, time and
accuracy beside plain majority voting, their believed accuracy beside the realised one, and
crowd-kit's ``OneCoinDawidSkene`` at the first N, timed once (minutes; ``--no-one-coin``
skips it).

crowd-kit is no dependency of wmvtrust: install it in a venv of its own and name its
interpreter (default: this interpreter if it imports crowdkit; otherwise the crowd-kit
rows are skipped, with a note):

    python3 -m venv /tmp/ckenv && /tmp/ckenv/bin/pip install crowd-kit==1.4.2
    python benchmarks/aggregate.py --crowdkit-python /tmp/ckenv/bin/python   # ~6 minutes
    python benchmarks/aggregate.py --crowdkit-python /tmp/ckenv/bin/python --no-one-coin   # ~3 minutes
    python benchmarks/aggregate.py --quick   # smoke test: k = 1, N = 5, no OneCoinDawidSkene

The script is a report: it exits with 0 even when a target is missed.
"""

import argparse
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy
from scipy import special

import _crowdkit
import wmvtrust as wt
from _table import Row, fmt_ratio, fmt_time, median_time, print_table, run_cases, targets_met
from wmvtrust import _kernels as kn
from wmvtrust.crowd import read_votes

N_TASKS = 200_000
N_WORKERS = 10_000
VOTES_PER_TASK = 5
BETA = (5, 2)
EM_TOL = 1e-300  # tiny: the EM runs its max_iter iterations unless it lands exactly on its fixed point
TIE_RTOL = 1e-9  # a pandas score within this of 0 (relative to the task's sum |w|) is a tie
TARGET_SECONDS = 1.0
TARGET_N = 20  # the N at which the whole Dawid-Skene fit must take under TARGET_SECONDS
DS_SPEEDUP = 10.0
ONE_COIN_SPEEDUP = 3.0
ONE_COIN_N = (1, 51)  # time per iteration = (t(51) - t(1)) / 50
PREVIOUS_RECORDED = "13 ms"  # the previous implementation's time per iteration when it was replaced
SUMMARY_SECONDS = 2.0
ONE_COIN_PRIOR = (1.0, 1.0)  # the library's default Beta prior
CK_WARMUP_ROWS = 10_000


# ---------------------------------------------------------------- instance and helpers


def synthetic_crowd(seed):
    """(votes DataFrame, true accuracy per worker as a Series, truth per task as an array)."""
    rng = np.random.default_rng(seed)
    accuracy = rng.beta(*BETA, N_WORKERS)
    truth = rng.integers(0, 2, N_TASKS)
    panel = rng.integers(0, N_WORKERS, (N_TASKS, VOTES_PER_TASK))
    while True:  # redraw the panels that name a worker twice (about 0.1% of them)
        ordered = np.sort(panel, axis=1)
        repeated = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
        if not repeated.any():
            break
        panel[repeated] = rng.integers(0, N_WORKERS, (int(repeated.sum()), VOTES_PER_TASK))
    task = np.repeat(np.arange(N_TASKS), VOTES_PER_TASK)
    worker = panel.ravel()
    right = rng.random(task.size) < accuracy[worker]
    label = np.where(right, truth[task], 1 - truth[task])
    order = rng.permutation(task.size)
    votes = pd.DataFrame({"task": task[order], "worker": worker[order], "label": label[order]})
    return votes, pd.Series(accuracy, name="trust"), truth


def accuracy_against(labels, truth):
    """Share of tasks whose label equals the truth (``labels`` indexed by task id; NA counts as wrong)."""
    return float((labels.reindex(np.arange(truth.size)).to_numpy() == truth).mean())


def fmt_acc(x):
    return f"{x:.4%}"


# ---------------------------------------------------------------- baselines


def pandas_wmv(votes, trust):
    """The weighted majority vote a user would write in pandas: (labels, score) indexed by task."""
    weight = np.log(trust / (1.0 - trust))
    signed = votes["worker"].map(weight) * np.where(votes["label"] == 1, 1.0, -1.0)
    score = signed.groupby(votes["task"], sort=False).sum()
    return (score > 0).astype(int), score


def previous_one_coin(codes, n_iter, prior=ONE_COIN_PRIOR):
    """(seconds of each iteration, task posteriors) of the previous one-coin EM, for two labels.

    Each iteration does that implementation's work, step for step: the M-step counts each
    worker's expected right votes (``expected_right``), sets its trust to
    ``(a0 + right) / (a0 + b0 + cast)`` and the class prior to the mean posterior; the E-step
    checks that the weights ``ln((L - 1) t / (1 - t))`` are finite, sums each task's weights
    per label (``label_scores``), adds the log prior and takes the logistic function of the
    difference; then the largest change of trust is taken for the stopping test. It starts,
    like the library, from plurality voting with ties split.
    """
    a0, b0 = prior
    task, worker, label = codes.task, codes.worker, codes.label
    n_tasks, n_workers, n_labels = codes.n_tasks, codes.n_workers, codes.n_labels
    cast = np.bincount(worker, minlength=n_workers).astype(float)
    counts = kn.label_scores(task, worker, label, np.ones(n_workers), n_tasks, n_labels)
    probas = (counts == counts.max(axis=1, keepdims=True)).astype(float)
    probas /= probas.sum(axis=1, keepdims=True)
    t = np.full(n_workers, 1.0 / n_labels)
    times = []
    for _ in range(n_iter):
        start = time.perf_counter()
        right = kn.expected_right(task, worker, label, probas, n_workers)
        new_t = (a0 + right) / (a0 + b0 + cast)
        log_prior = np.log(probas.mean(axis=0))
        weights = np.log((n_labels - 1) * new_t / (1.0 - new_t))
        np.isfinite(weights).all()  # the previous posterior's test for its one-pass case (always true here)
        score = kn.label_scores(task, worker, label, weights, n_tasks, n_labels) + log_prior
        up = special.expit(score[:, 1] - score[:, 0])
        probas = np.column_stack([1.0 - up, up])
        np.abs(new_t - t).max()  # the stopping test (never met here)
        t = new_t
        times.append(time.perf_counter() - start)
    return times, probas


# ---------------------------------------------------------------- cases


def given_trust(votes, trust, truth, repeat):
    t_lib, model = median_time(lambda: wt.WeightedMajorityVote(trust=trust).fit(votes), repeat)
    lib = model.labels_
    t_pd, (base, score) = median_time(lambda: pandas_wmv(votes, trust), repeat)
    t_read, _ = median_time(lambda: read_votes(votes), repeat)

    base = base.reindex(lib.index)
    scale = (votes["worker"].map(np.abs(np.log(trust / (1.0 - trust))))
             .groupby(votes["task"], sort=False).sum().reindex(lib.index))
    tie = (score.reindex(lib.index).abs() <= TIE_RTOL * scale).to_numpy()
    differ = lib.to_numpy() != base.to_numpy()
    print(f"check: wmvtrust (given trust) and pandas groupby differ on {int(differ.sum())} of {lib.size:,} tasks, "
          f"{int((differ & ~tie).sum())} of them outside exact ties ({int(tie.sum())} tied tasks)")
    assert not (differ & ~tie).any(), "given-trust labels differ from the pandas groupby outside exact ties"

    case = "given trust"
    timed = "WeightedMajorityVote(trust=Series).fit"
    baseline = "pandas: map log-odds, signed weight, groupby(task).sum(), sign"
    ratio = t_pd / t_lib
    return [Row(case, timed, fmt_time(t_lib), baseline, fmt_time(t_pd), fmt_ratio(ratio), ">= 1x", ratio >= 1),
            Row(case, timed, fmt_time(t_lib), target=f"< {TARGET_SECONDS:g} s", passed=t_lib < TARGET_SECONDS),
            Row(case, "read_votes alone (validation + factorize + duplicate check)", fmt_time(t_read),
                baseline, fmt_time(t_pd), fmt_ratio(t_pd / t_read)),
            Row(case, "accuracy vs truth (the Bayes decision with true accuracies)",
                fmt_acc(accuracy_against(lib, truth)))]


def dawid_skene(votes, truth, n_iter, repeat, crowdkit):
    t_lib, model = median_time(lambda: wt.ConfusionMatrixVote(max_iter=n_iter, tol=EM_TOL).fit(votes), repeat)
    acc = accuracy_against(model.labels_, truth)
    case = f"Dawid-Skene, N = {n_iter}"
    timed = f"ConfusionMatrixVote(max_iter={n_iter}, tol=1e-300).fit ({model.n_iter_} iterations)"
    rows = []
    if n_iter == TARGET_N:
        rows.append(Row(case, timed, fmt_time(t_lib), target=f"< {TARGET_SECONDS:g} s", passed=t_lib < TARGET_SECONDS))
    if crowdkit is None:
        if not rows:
            rows.append(Row(case, timed, fmt_time(t_lib)))
        return rows + [Row(case, "accuracy vs truth", fmt_acc(acc))]
    version, runs = crowdkit
    ds = runs[f"DawidSkene {n_iter}"]
    ds_name = f"crowd-kit {version} DawidSkene(n_iter={n_iter}, tol=-inf) ({ds.n_iter} iterations)"
    ratio = ds.median / t_lib
    acc_ds = accuracy_against(ds.labels, truth)
    rows += [Row(case, timed, fmt_time(t_lib), ds_name, fmt_time(ds.median), fmt_ratio(ratio),
                 f">= {DS_SPEEDUP:g}x", ratio >= DS_SPEEDUP),
             Row(case, "accuracy vs truth", fmt_acc(acc), ds_name, fmt_acc(acc_ds),
                 f"{(acc - acc_ds) * 100:+.3f} points")]
    one = runs.get(f"OneCoinDawidSkene {n_iter}")
    if one is not None:
        one_name = f"crowd-kit OneCoinDawidSkene(n_iter={n_iter}, tol=-inf) ({one.n_iter} iterations, k = 1)"
        rows += [Row(case, timed, fmt_time(t_lib), one_name, fmt_time(one.median), fmt_ratio(one.median / t_lib)),
                 Row(case, "accuracy vs truth", fmt_acc(acc), one_name, fmt_acc(accuracy_against(one.labels, truth)))]
    return rows


def one_coin(votes, repeat):
    def fit(n):
        return wt.WeightedMajorityVote(trust="one-coin", max_iter=n, tol=EM_TOL).fit(votes)

    first, last = ONE_COIN_N
    t_first, _ = median_time(lambda: fit(first), repeat)
    t_last, model = median_time(lambda: fit(last), repeat)
    per_iter = (t_last - t_first) / (last - first)
    times, probas = previous_one_coin(read_votes(votes).codes, last)
    t_prev = statistics.median(times[1:])  # the last 50 of its 51 iterations
    diff = np.abs(probas - model.probas_.to_numpy()).max()
    print(f"check: after {last} iterations the previous one-coin EM and WeightedMajorityVote(trust='one-coin') "
          f"differ by at most {diff:.2g} in a task posterior ({model.n_iter_} library iterations)")

    case = "one-coin EM, per iteration"
    timed = (f"WeightedMajorityVote(trust='one-coin', tol=1e-300): "
             f"(t(max_iter={last}) - t(max_iter={first})) / {last - first}")
    baseline = (f"previous implementation (label_scores + logistic, expected_right), "
                f"median of {len(times) - 1} iterations")
    ratio = t_prev / per_iter
    return [Row(case, f"fit, max_iter = {first}", fmt_time(t_first)),
            Row(case, f"fit, max_iter = {last}", fmt_time(t_last)),
            Row(case, timed, fmt_time(per_iter), baseline, fmt_time(t_prev), fmt_ratio(ratio),
                f">= {ONE_COIN_SPEEDUP:g}x", ratio >= ONE_COIN_SPEEDUP),
            Row(case, "the previous implementation's per iteration, as recorded when replaced", PREVIOUS_RECORDED)]


def defaults(votes, truth, repeat):
    mv = votes.groupby("task")["label"].mean()  # plain majority: 5 votes, 2 labels, never tied
    acc_mv = accuracy_against((mv > 0.5).astype(int), truth)
    rows = []
    for name, make in (("WeightedMajorityVote()", wt.WeightedMajorityVote),
                       ("ConfusionMatrixVote()", wt.ConfusionMatrixVote)):
        t_fit, model = median_time(lambda: make().fit(votes), repeat)
        acc = accuracy_against(model.labels_, truth)
        believed = model.summary().believed_accuracy
        iters = (f"max_iter={model.max_iter}, tol={model.tol:g}: {model.n_iter_} iterations, "
                 f"converged_={model.converged_}")
        rows += [Row("defaults", f"{name}.fit ({iters})", fmt_time(t_fit)),
                 Row("defaults", f"{name}: accuracy vs truth", fmt_acc(acc), "plain majority vote (5 votes)",
                     fmt_acc(acc_mv), f"{(acc - acc_mv) * 100:+.3f} points"),
                 Row("defaults", f"{name}.summary().believed_accuracy", fmt_acc(believed), "accuracy vs truth",
                     fmt_acc(acc), f"{(believed - acc) * 100:+.3f} points")]
    return rows


def label_biased_crowd(seed, n_tasks=108, n_workers=39):
    """Every worker labels every task, two labels; 80% of the workers answer one label on 90-100% of the tasks
    where it is true and on 50-95% of the others (the shape of a small image task where one-coin EM collapsed)."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, n_tasks)
    favourite = rng.integers(0, 2, n_workers)
    biased = rng.random(n_workers) < 0.8
    hit_fav, hit_other = rng.uniform(0.9, 1.0, n_workers), rng.uniform(0.05, 0.5, n_workers)
    plain = rng.uniform(0.55, 0.75, n_workers)
    right_p = np.where(biased[None], np.where(truth[:, None] == favourite[None], hit_fav, hit_other), plain)
    right = rng.random((n_tasks, n_workers)) < right_p
    label = np.where(right, truth[:, None], 1 - truth[:, None])
    return pd.DataFrame({"task": np.repeat(np.arange(n_tasks), n_workers), "worker": np.tile(np.arange(n_workers),
                                                                                               n_tasks),
                         "label": label.ravel()})


def summaries(votes, truth, repeat):
    """summary() of every aggregator: on the million votes, with gold on every third task, and on the 108 x 39 crowd."""
    gold = pd.DataFrame({"task": np.arange(0, truth.size, 3), "label": truth[::3]})
    small = label_biased_crowd(0)
    cases = [("1M votes, no gold", votes, None, (wt.WeightedMajorityVote(), wt.ConfusionMatrixVote())),
             ("1M votes, gold on every third task", votes, gold,
              (wt.WeightedMajorityVote(), wt.ConfusionMatrixVote(), wt.WeightedMajorityVote("gold"),
               wt.DifficultyAwareVote())),
             ("108 tasks x 39 workers, label-biased", small, None,
              (wt.WeightedMajorityVote(), wt.ConfusionMatrixVote(), wt.WeightedMajorityVote("one-coin")))]
    rows = []
    for case, data, known, models in cases:
        for model in models:
            model.fit(data, known)
            t_sum, _ = median_time(model.summary, repeat)
            name = f"{model.name}({'' if model.name == 'DifficultyAwareVote' else repr(model.trust)}).summary()"
            rows.append(Row(f"summary, {case}", name, fmt_time(t_sum), target=f"< {SUMMARY_SECONDS:g} s",
                            passed=t_sum < SUMMARY_SECONDS))
    return rows


# ---------------------------------------------------------------- report


def git_commit():
    root = Path(wt.__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "wmvtrust"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + (" (wmvtrust/ has uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def print_machine(title="wmvtrust crowd aggregation benchmark"):
    """The report's heading: machine, load, versions, and the first ``warm_up()`` (compile time, excluded)."""
    print(f"## {title}\n")
    print(f"- CPU: {platform.processor() or platform.machine()}, os.cpu_count() = {os.cpu_count()}, "
          f"affinity = {len(os.sched_getaffinity(0))} CPUs, load average = {os.getloadavg()[0]:.2f} at start")
    print(f"- wmvtrust at {git_commit()}; numpy {np.__version__}, pandas {pd.__version__}, scipy {scipy.__version__}, "
          f"Python {platform.python_version()}")
    print(f"- environment: OPENBLAS_CORETYPE = {os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, "
          f"OMP_WAIT_POLICY = {os.environ.get('OMP_WAIT_POLICY', '(unset)')}, "
          f"NUMBA_NUM_THREADS = {os.environ.get('NUMBA_NUM_THREADS', '(unset)')}")
    start = time.perf_counter()
    wt.warm_up()
    print(f"- first wmvtrust.warm_up() in this process (compile or cache load, excluded): "
          f"{time.perf_counter() - start:.2f} s")


def run_crowdkit(python, votes, n_iters, repeat, one_coin):
    """(crowd-kit version, runs) of DawidSkene at every N, and OneCoinDawidSkene at the first N if asked."""
    jobs = [_crowdkit.Job(f"DawidSkene {n}", "DawidSkene", {"n_iter": n, "tol": float("-inf")}, repeat)
            for n in n_iters]
    if one_coin:
        jobs.append(_crowdkit.Job(f"OneCoinDawidSkene {n_iters[0]}", "OneCoinDawidSkene",
                                  {"n_iter": n_iters[0], "tol": float("-inf")}))
    load = os.getloadavg()[0]
    start = time.perf_counter()
    versions, runs = _crowdkit.run(python, votes, jobs, CK_WARMUP_ROWS)
    print(f"- crowd-kit {versions['crowd-kit']} with pandas {versions['pandas']}, numpy {versions['numpy']}, "
          f"Python {versions['python']}; its subprocess took {time.perf_counter() - start:.0f} s; "
          f"load average {load:.2f} -> {os.getloadavg()[0]:.2f}")
    return versions["crowd-kit"], runs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=None, help="timed calls per case (default 3; 1 with --quick)")
    parser.add_argument("--n-iter", type=int, nargs="+", default=None,
                        help=f"Dawid-Skene iterations N (default {TARGET_N} 50; 5 with --quick)")
    parser.add_argument("--crowdkit-python", default=None,
                        help="interpreter that imports crowdkit (default: this one if it does, else skip crowd-kit)")
    parser.add_argument("--no-one-coin", action="store_true", help="skip crowd-kit's OneCoinDawidSkene (minutes)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic crowd")
    parser.add_argument("--quick", action="store_true", help="smoke test: k = 1, N = 5, no OneCoinDawidSkene")
    args = parser.parse_args(argv)
    repeat = args.repeat or (1 if args.quick else 3)
    n_iters = args.n_iter or ([5] if args.quick else [TARGET_N, 50])
    one_coin_ck = not (args.no_one_coin or args.quick)

    print_machine()
    start = time.perf_counter()
    votes, trust, truth = synthetic_crowd(args.seed)
    print(f"- instance: {len(votes):,} votes, {N_TASKS:,} tasks x {VOTES_PER_TASK} distinct workers of "
          f"{N_WORKERS:,}, accuracies ~ Beta{BETA}, seed {args.seed} (made in {time.perf_counter() - start:.2f} s)")
    python, note = _crowdkit.find_python(args.crowdkit_python)
    print(f"- {note}")
    crowdkit = None if python is None else run_crowdkit(python, votes, n_iters, repeat, one_coin_ck)
    print()

    cases = [("given trust", lambda: given_trust(votes, trust, truth, repeat))]
    cases += [(f"Dawid-Skene N = {n}", lambda n=n: dawid_skene(votes, truth, n, repeat, crowdkit)) for n in n_iters]
    cases += [("one-coin EM per iteration", lambda: one_coin(votes, repeat)),
              ("defaults", lambda: defaults(votes, truth, repeat)),
              ("summary()", lambda: summaries(votes, truth, repeat))]
    rows = run_cases(cases)

    print(f"\nMedian of k = {repeat} calls after one warm-up call (crowd-kit: warm-up on the first "
          f"{CK_WARMUP_ROWS:,} rows; OneCoinDawidSkene: k = 1); load average = {os.getloadavg()[0]:.2f} at end."
          + (f" QUICK RUN: N = {n_iters}, k = {repeat}." if args.quick else "")
          + ("" if crowdkit else " crowd-kit rows SKIPPED (see the note above).") + "\n")
    print_table(rows)
    print("\ntargets met: {} of {}".format(*targets_met(rows))
          + ("" if crowdkit else " (the targets against crowd-kit not run)"))


if __name__ == "__main__":
    main()
