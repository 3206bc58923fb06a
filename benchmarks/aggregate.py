"""Benchmark of wmvtrust's crowd aggregator against a hand-written pandas groupby and crowd-kit.

Prints one markdown table of medians and ratios, all measured in this run. Protocol:
``time.perf_counter`` around the whole ``fit_predict`` (validation and encoding of the
vote table included), one warm-up call per case, then the median of ``k`` calls
(``--repeat``, default 3). crowd-kit runs in its own interpreter (a subprocess, fed
through an ``.npz`` file in a temporary folder): its import time is excluded, and its
warm-up is one call on the first 10,000 rows (a full warm-up call would add a minute).
numba's compile time is excluded: the process's first ``wmvtrust.warm_up()`` is timed
and printed above the table.

Instance: a synthetic binary crowd of 1,000,000 (task, worker, label) rows: 200,000
tasks with 5 votes each from 5 distinct workers drawn uniformly among 10,000, worker
accuracies ~ Beta(5, 2), truths ~ Bernoulli(1/2), a worker right with its accuracy and
otherwise giving the other label; integer ids, rows shuffled; all from
``np.random.default_rng(--seed)``.

Targets:
1. ``WeightedMajorityVote(trust=<true accuracies>)`` at least as fast as the pandas
   groupby a user would write (log-odds weight per worker, signed weight per vote,
   groupby task sum, sign), with the same labels (exact ties aside).
2. One-coin EM, ``trust="em", max_iter=N, tol=1e-300`` (so that N iterations run), at
   least 10 times faster than crowd-kit's ``DawidSkene(n_iter=N, tol=-inf)`` (N
   iterations: its stopping test ``gain < tol`` never holds), and at least as accurate
   against the synthetic truth.
3. The whole ``fit_predict`` under 1 s, with given trust and with the EM.
crowd-kit's ``OneCoinDawidSkene`` (the same model as wmvtrust's EM) is timed once, for
information (minutes; ``--no-one-coin`` skips it).

crowd-kit is no dependency of wmvtrust: install it in a venv of its own and name its
interpreter (default: this interpreter if it imports crowdkit; otherwise the crowd-kit
rows are skipped, with a note):

    python3 -m venv /tmp/ckenv && /tmp/ckenv/bin/pip install crowd-kit
    python benchmarks/aggregate.py --crowdkit-python /tmp/ckenv/bin/python   # ~5 minutes
    python benchmarks/aggregate.py --quick   # smoke test: k = 1, N = 10, no OneCoinDawidSkene

The script is a report: it exits with 0 even when a target is missed.
"""

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy

import wmvtrust as wt
from _table import Row, fmt_ratio, fmt_time, median_time, print_table, run_cases, targets_met
from wmvtrust.crowd import read_votes

N_TASKS = 200_000
N_WORKERS = 10_000
VOTES_PER_TASK = 5
BETA = (5, 2)
EM_TOL = 1e-300  # tiny: the EM runs its max_iter iterations unless it lands exactly on its fixed point
TIE_RTOL = 1e-9  # a pandas score within this of 0 (relative to the task's sum |w|) is a tie
TARGET_SECONDS = 1.0
EM_SPEEDUP = 10.0
CK_WARMUP_ROWS = 10_000

# Run by the crowd-kit interpreter: argv = votes.npz, out.npz, n_iter, repeat, repeat of OneCoinDawidSkene (0: skip)
CROWDKIT_CHILD = r"""
import json, statistics, sys, time
from importlib.metadata import version
import numpy as np, pandas as pd
from crowdkit.aggregation import DawidSkene, OneCoinDawidSkene

src, out, n_iter, repeat, repeat_one = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
d = np.load(src)
votes = pd.DataFrame({k: d[k] for k in ("task", "worker", "label")})
report = {"crowd-kit": version("crowd-kit"), "pandas": pd.__version__, "numpy": np.__version__,
          "python": sys.version.split()[0]}
arrays = {}
for cls, k in ((DawidSkene, repeat), (OneCoinDawidSkene, repeat_one)):
    if k == 0:
        continue
    cls(n_iter=n_iter, tol=float("-inf")).fit_predict(votes.iloc[:%d])  # warm-up on a slice
    times = []
    for _ in range(k):
        model = cls(n_iter=n_iter, tol=float("-inf"))
        start = time.perf_counter()
        labels = model.fit_predict(votes)
        times.append(time.perf_counter() - start)
    report[cls.__name__] = {"times": times, "median": statistics.median(times), "n_iter": len(model.loss_history_)}
    arrays[cls.__name__ + "_task"] = labels.index.to_numpy()
    arrays[cls.__name__ + "_label"] = labels.to_numpy()
np.savez(out, **arrays)
print(json.dumps(report))
""" % CK_WARMUP_ROWS


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


# ---------------------------------------------------------------- baselines


def pandas_wmv(votes, trust):
    """The weighted majority vote a user would write in pandas: (labels, score) indexed by task."""
    weight = np.log(trust / (1.0 - trust))
    signed = votes["worker"].map(weight) * np.where(votes["label"] == 1, 1.0, -1.0)
    score = signed.groupby(votes["task"], sort=False).sum()
    return (score > 0).astype(int), score


def run_crowdkit(python, votes, n_iter, repeat, repeat_one):
    """crowd-kit's report (versions, times, iterations) and labels, from a subprocess of ``python``."""
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "votes.npz", Path(tmp) / "labels.npz"
        np.savez(src, **{k: votes[k].to_numpy() for k in ("task", "worker", "label")})
        done = subprocess.run([python, "-c", CROWDKIT_CHILD, str(src), str(out), str(n_iter), str(repeat),
                               str(repeat_one)], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"crowd-kit subprocess failed ({done.returncode}):\n{done.stderr[-3000:]}")
        report = json.loads(done.stdout.strip().splitlines()[-1])
        with np.load(out, allow_pickle=False) as arrays:
            for name in ("DawidSkene", "OneCoinDawidSkene"):
                if name in report:
                    report[name]["labels"] = pd.Series(arrays[name + "_label"], index=arrays[name + "_task"])
    return report


def find_crowdkit_python(requested):
    """(interpreter, note): the one asked for, else this one if it imports crowdkit, else (None, why)."""
    if requested:
        return requested, f"crowd-kit interpreter: {requested} (--crowdkit-python)"
    if importlib.util.find_spec("crowdkit") is not None:
        return sys.executable, f"crowd-kit interpreter: {sys.executable} (this one; it imports crowdkit)"
    return None, ("crowd-kit rows SKIPPED: this interpreter cannot import crowdkit. Install it in a venv of its "
                  "own (python3 -m venv /tmp/ckenv && /tmp/ckenv/bin/pip install crowd-kit) and pass "
                  "--crowdkit-python /tmp/ckenv/bin/python.")


# ---------------------------------------------------------------- cases


def given_trust(votes, trust, truth, repeat):
    t_lib, lib = median_time(lambda: wt.WeightedMajorityVote(trust=trust).fit_predict(votes), repeat)
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
    timed = "WeightedMajorityVote(trust=Series).fit_predict"
    baseline = "pandas: map log-odds, signed weight, groupby(task).sum(), sign"
    ratio = t_pd / t_lib
    acc = accuracy_against(lib, truth)
    return [Row(case, timed, fmt_time(t_lib), baseline, fmt_time(t_pd), fmt_ratio(ratio), ">= 1x", ratio >= 1),
            Row(case, timed, fmt_time(t_lib), target=f"< {TARGET_SECONDS:g} s", passed=t_lib < TARGET_SECONDS),
            Row(case, "read_votes alone (validation + factorize + duplicate check)", fmt_time(t_read),
                baseline, fmt_time(t_pd), fmt_ratio(t_pd / t_read)),
            Row(case, "accuracy vs truth (the Bayes decision with true accuracies)", f"{acc:.4%}")]


def em(votes, truth, n_iter, repeat, crowdkit):
    fitted = {}

    def fit(**kw):
        model = wt.WeightedMajorityVote(trust="em", **kw)
        labels = model.fit_predict(votes)
        fitted[tuple(kw)] = model
        return labels

    t_lib, lib = median_time(lambda: fit(max_iter=n_iter, tol=EM_TOL), repeat)
    iters = fitted[("max_iter", "tol")].n_iter_
    t_def, lib_def = median_time(lambda: fit(), repeat)
    iters_def = fitted[()].n_iter_
    acc, acc_def = accuracy_against(lib, truth), accuracy_against(lib_def, truth)
    mv = votes.groupby("task")["label"].mean()  # plain majority: 5 votes, never tied
    acc_mv = accuracy_against((mv > 0.5).astype(int), truth)

    case = f"one-coin EM, N = {n_iter}"
    timed = f"WeightedMajorityVote(trust='em', max_iter={n_iter}, tol=1e-300).fit_predict ({iters} iterations)"
    rows = [Row(case, timed, fmt_time(t_lib), target=f"< {TARGET_SECONDS:g} s", passed=t_lib < TARGET_SECONDS)]
    if crowdkit is not None:
        ds = crowdkit["DawidSkene"]
        ds_name = f"crowd-kit {crowdkit['crowd-kit']} DawidSkene(n_iter={n_iter}, tol=-inf) ({ds['n_iter']} iterations)"
        ratio = ds["median"] / t_lib
        acc_ds = accuracy_against(ds["labels"], truth)
        rows += [Row(case, timed, fmt_time(t_lib), ds_name, fmt_time(ds["median"]), fmt_ratio(ratio),
                     f">= {EM_SPEEDUP:g}x", ratio >= EM_SPEEDUP),
                 Row(case, "accuracy vs truth", f"{acc:.4%}", ds_name, f"{acc_ds:.4%}",
                     f"{(acc - acc_ds) * 100:+.3f} points", ">= crowd-kit", acc >= acc_ds)]
        if "OneCoinDawidSkene" in crowdkit:
            one = crowdkit["OneCoinDawidSkene"]
            one_name = (f"crowd-kit OneCoinDawidSkene(n_iter={n_iter}, tol=-inf) ({one['n_iter']} iterations, "
                        f"k = {len(one['times'])})")
            rows += [Row(case, timed, fmt_time(t_lib), one_name, fmt_time(one["median"]),
                         fmt_ratio(one["median"] / t_lib)),
                     Row(case, "accuracy vs truth", f"{acc:.4%}", one_name,
                         f"{accuracy_against(one['labels'], truth):.4%}")]
    rows += [Row("one-coin EM, defaults", f"WeightedMajorityVote(trust='em').fit_predict (max_iter=1000, tol=1e-9: "
                 f"{iters_def} iterations)", fmt_time(t_def)),
             Row("one-coin EM, defaults", "accuracy vs truth", f"{acc_def:.4%}", "plain majority vote (5 votes)",
                 f"{acc_mv:.4%}")]
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


def print_machine():
    print("## wmvtrust crowd aggregation benchmark\n")
    print(f"- CPU: {platform.processor() or platform.machine()}, os.cpu_count() = {os.cpu_count()}, "
          f"affinity = {len(os.sched_getaffinity(0))} CPUs, load average = {os.getloadavg()[0]:.2f} at start")
    print(f"- wmvtrust at {git_commit()}; numpy {np.__version__}, pandas {pd.__version__}, scipy {scipy.__version__}, "
          f"Python {platform.python_version()}")
    print(f"- environment: OPENBLAS_CORETYPE = {os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, "
          f"OMP_WAIT_POLICY = {os.environ.get('OMP_WAIT_POLICY', '(unset)')}")
    start = time.perf_counter()
    wt.warm_up()
    print(f"- first wmvtrust.warm_up() in this process (compile or cache load, excluded): "
          f"{time.perf_counter() - start:.2f} s")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=None, help="timed calls per case (default 3; 1 with --quick)")
    parser.add_argument("--n-iter", type=int, default=None, help="EM iterations N (default 50; 10 with --quick)")
    parser.add_argument("--crowdkit-python", default=None,
                        help="interpreter that imports crowdkit (default: this one if it does, else skip crowd-kit)")
    parser.add_argument("--no-one-coin", action="store_true", help="skip crowd-kit's OneCoinDawidSkene (minutes)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic crowd")
    parser.add_argument("--quick", action="store_true", help="smoke test: k = 1, N = 10, no OneCoinDawidSkene")
    args = parser.parse_args(argv)
    repeat = args.repeat or (1 if args.quick else 3)
    n_iter = args.n_iter or (10 if args.quick else 50)
    one_coin = not (args.no_one_coin or args.quick)

    print_machine()
    start = time.perf_counter()
    votes, trust, truth = synthetic_crowd(args.seed)
    print(f"- instance: {len(votes):,} votes, {N_TASKS:,} tasks x {VOTES_PER_TASK} distinct workers of "
          f"{N_WORKERS:,}, accuracies ~ Beta{BETA}, seed {args.seed} (made in {time.perf_counter() - start:.2f} s)")
    python, note = find_crowdkit_python(args.crowdkit_python)
    print(f"- {note}")
    crowdkit = None
    if python is not None:
        load = os.getloadavg()[0]
        start = time.perf_counter()
        crowdkit = run_crowdkit(python, votes, n_iter, repeat, 1 if one_coin else 0)
        print(f"- crowd-kit {crowdkit['crowd-kit']} with pandas {crowdkit['pandas']}, numpy {crowdkit['numpy']}, "
              f"Python {crowdkit['python']}; its subprocess took {time.perf_counter() - start:.0f} s; "
              f"load average {load:.2f} -> {os.getloadavg()[0]:.2f}")
    print()

    rows = run_cases((("given trust", lambda: given_trust(votes, trust, truth, repeat)),
                      ("EM", lambda: em(votes, truth, n_iter, repeat, crowdkit))))

    print(f"\nMedian of k = {repeat} calls after one warm-up call (crowd-kit: warm-up on the first "
          f"{CK_WARMUP_ROWS:,} rows; OneCoinDawidSkene: k = 1); load average = {os.getloadavg()[0]:.2f} at end."
          + (" QUICK RUN: N = 10, k = 1." if args.quick else "")
          + ("" if crowdkit else " crowd-kit rows SKIPPED (see the note above).") + "\n")
    print_table(rows)
    print("\ntargets met: {} of {}".format(*targets_met(rows))
          + ("" if crowdkit else " (target 2, against crowd-kit, not run)"))


if __name__ == "__main__":
    main()
