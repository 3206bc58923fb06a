"""How wmvtrust's crowd aggregators do on real crowd data with expert truth, beside majority voting and crowd-kit.

For every dataset folder under ``--data`` (a folder holding ``votes.csv`` or
``votes.csv.gz`` with columns task, worker, label, and ``truth.csv`` or ``truth.csv.gz``
with columns task, label; folders in order of name) and every gold fraction of ``--gold``
(default 0: no gold), the methods are:

- plain majority voting, ties broken by a fair coin from ``np.random.default_rng(--seed)``
  (default seed 0);
- ``WeightedMajorityVote()`` (trust: each worker's balanced accuracy in a Bayesian
  Dawid-Skene fit), ``WeightedMajorityVote(trust="one-coin")``, ``ConfusionMatrixVote()``
  and, with gold only, ``DifficultyAwareVote()``;
- with a crowd-kit interpreter (``--crowdkit-python``; see ``aggregate.py`` for how to
  install one), crowd-kit's ``MajorityVote`` and ``DawidSkene(n_iter=100)``, run through
  ``_crowdkit.py`` (DawidSkene is given the gold as ``true_labels``).

With a gold fraction f > 0, a seeded random f of the tasks with a truth (one
``SeedSequence(--seed).spawn`` stream per dataset and fraction) are given to ``fit`` as gold,
and every method is scored on the other tasks only.

Printed: one markdown table with, per method, the accuracy over the scored tasks that have a
truth (in points, a task without a label counting as wrong), its 95% Wilson interval, the
model's believed accuracy (``summary().believed_accuracy``; for crowd-kit's DawidSkene the
mean over the tasks without gold of the largest posterior of ``fit_predict_proba``; "—" for
majority voting), the median fit time and the median ``summary()`` time (``--repeat`` calls
after one warm-up; crowd-kit: warm-up on the first 10,000 votes). Then, per dataset, two
checks with a paired sign test (tasks right only by one method against only by the other,
exact two-sided binomial p):

1. ``WeightedMajorityVote()`` minus majority voting: the target is not to be worse at
   p < 0.05.
2. ``ConfusionMatrixVote()`` minus crowd-kit's ``DawidSkene``: the target is >= -0.5 points.

    python benchmarks/real_data.py --data DIR --crowdkit-python /tmp/ckenv/bin/python   # under a minute
    python benchmarks/real_data.py --data DIR --gold 0 0.1   # also with 10% of the truths as gold

The script is a report: it exits with 0 even when a check fails.
"""

import argparse
import functools
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

import _crowdkit
import wmvtrust as wt
from _table import median_time, run_cases
from aggregate import print_machine
from wmvtrust.crowd import EmpiricalBelief

CONFIDENCE = 0.95
SIGN_TEST_LEVEL = 0.05
CMV_VS_DS_POINTS = -0.5  # target of ConfusionMatrixVote() minus crowd-kit's DawidSkene
CK_DS_ITER = 100
CK_WARMUP_ROWS = 10_000
MV = "majority vote (fair coin on ties)"
WMV = "WeightedMajorityVote()"
CMV = "ConfusionMatrixVote()"
CK_MV = "crowd-kit MajorityVote"
CK_DS = f"crowd-kit DawidSkene(n_iter={CK_DS_ITER})"
OURS = ((WMV, wt.WeightedMajorityVote),
        ("WeightedMajorityVote(trust='one-coin')", lambda: wt.WeightedMajorityVote(trust="one-coin")),
        (CMV, wt.ConfusionMatrixVote))
WITH_GOLD = (("DifficultyAwareVote()", wt.DifficultyAwareVote),)  # it needs gold


@dataclass
class Result:
    dataset: str
    method: str
    correct: np.ndarray  # bool per scored task
    believed: float | None
    fit_seconds: float
    summary_seconds: float | None


# ---------------------------------------------------------------- data


def read_table(folder, name):
    """``name``.csv or ``name``.csv.gz of the folder, or None."""
    for path in (folder / f"{name}.csv", folder / f"{name}.csv.gz"):
        if path.is_file():
            return pd.read_csv(path)
    return None


def datasets(root):
    """[(name, votes, truth)] of every folder under ``root`` with a vote and a truth table, by name."""
    found = []
    for folder in sorted(p for p in Path(root).iterdir() if p.is_dir()):
        votes, truth = read_table(folder, "votes"), read_table(folder, "truth")
        if votes is not None and truth is not None:
            found.append((folder.name, votes, truth))
    return found


def split_gold(votes, truth, fraction, rng):
    """(gold table or None, truth of the tasks to score): a random ``fraction`` of the voted tasks with a truth."""
    if fraction == 0:
        return None, truth
    voted = truth[truth["task"].isin(votes["task"])]
    pick = np.zeros(len(voted), bool)
    pick[rng.choice(len(voted), size=max(1, round(fraction * len(voted))), replace=False)] = True
    return voted[pick], truth[~truth["task"].isin(voted["task"][pick])]


# ---------------------------------------------------------------- methods and scores


def majority_vote(votes, seed):
    """The most voted label per task, ties broken by a fair coin from ``np.random.default_rng(seed)``."""
    counts = votes.groupby(["task", "label"]).size().unstack(fill_value=0)
    n = counts.to_numpy()
    key = np.where(n == n.max(axis=1, keepdims=True), np.random.default_rng(seed).random(n.shape), -1.0)
    return pd.Series(counts.columns[key.argmax(axis=1)], index=counts.index)


def correct(labels, scored):
    """Per task of ``scored`` (task, label): whether ``labels`` (indexed by task) gives its truth."""
    return labels.reindex(scored["task"]).to_numpy() == scored["label"].to_numpy()


def sign_test(first, second):
    """(right only by the first, right only by the second, exact two-sided p of the sign test)."""
    wins, losses = int((first & ~second).sum()), int((second & ~first).sum())
    p = stats.binomtest(wins, wins + losses).pvalue if wins + losses else 1.0
    return wins, losses, p


def run_dataset(name, votes, truth, fraction, rng, seed, repeat, python):
    """The results of every method on one dataset at one gold fraction."""
    gold, scored = split_gold(votes, truth, fraction, rng)
    label = name if gold is None else f"{name}, gold {fraction:.0%}"
    free = votes["task"].unique() if gold is None else np.setdiff1d(votes["task"].unique(), gold["task"])
    print(f"{label}: {votes['task'].nunique():,} tasks, {votes['worker'].nunique():,} workers, {len(votes):,} votes, "
          f"{votes['label'].nunique()} labels; {len(scored):,} tasks scored")
    t_mv, mv = median_time(lambda: majority_vote(votes, seed), repeat)
    results = [Result(label, MV, correct(mv, scored), None, t_mv, None)]
    for method, make in OURS + (WITH_GOLD if gold is not None else ()):
        t_fit, model = median_time(lambda: make().fit(votes, gold), repeat)
        t_sum, summary = median_time(model.summary, repeat)
        results.append(Result(label, method, correct(model.labels_, scored), summary.believed_accuracy, t_fit, t_sum))
    if python is not None:
        jobs = [_crowdkit.Job(CK_MV, "MajorityVote", {}, repeat),
                _crowdkit.Job(CK_DS, "DawidSkene", {"n_iter": CK_DS_ITER}, repeat, probas=True, gold=gold is not None)]
        _, runs = _crowdkit.run(python, votes, jobs, CK_WARMUP_ROWS, gold)
        ds_believed = float(runs[CK_DS].probas.reindex(free).max(axis=1).mean())
        results += [Result(label, CK_MV, correct(runs[CK_MV].labels, scored), None, runs[CK_MV].median, None),
                    Result(label, CK_DS, correct(runs[CK_DS].labels, scored), ds_believed, runs[CK_DS].median, None)]
    return results


# ---------------------------------------------------------------- report


def points(x):
    return f"{100 * x:.1f}"


def print_results(results):
    print("| dataset | method | accuracy | 95% interval | believed | fit s | summary s |")
    print("|---|---|---:|---|---:|---:|---:|")
    for r in results:
        e = EmpiricalBelief.of(r.correct, np.nan, CONFIDENCE)
        believed = "—" if r.believed is None else points(r.believed)
        summary = "—" if r.summary_seconds is None else f"{r.summary_seconds:.3f}"
        print(f"| {r.dataset} | {r.method} | {points(e.accuracy)} | [{points(e.ci_low)}, {points(e.ci_high)}] "
              f"| {believed} | {r.fit_seconds:.3f} | {summary} |")


def checks(results):
    """Rows of the two checks of one dataset: (check, difference, wins, losses, p, target, passed or None)."""
    by = {r.method: r.correct for r in results}
    rows = []
    diff = by[WMV].mean() - by[MV].mean()
    wins, losses, p = sign_test(by[WMV], by[MV])
    rows.append((f"{WMV} − {MV}", diff, wins, losses, p, f"not worse at p < {SIGN_TEST_LEVEL:g}",
                 not (diff < 0 and p < SIGN_TEST_LEVEL)))
    if CK_DS in by:
        diff = by[CMV].mean() - by[CK_DS].mean()
        wins, losses, p = sign_test(by[CMV], by[CK_DS])
        rows.append((f"{CMV} − {CK_DS}", diff, wins, losses, p, f">= {CMV_VS_DS_POINTS:g} points",
                     100 * diff >= CMV_VS_DS_POINTS))
    else:
        rows.append((f"{CMV} − {CK_DS}", None, None, None, None, f">= {CMV_VS_DS_POINTS:g} points", None))
    return rows


def print_checks(dataset, rows):
    print(f"\n{dataset}:\n")
    print("| check | difference (points) | right only by the first | right only by the second | sign test p | target "
          "| result |")
    print("|---|---:|---:|---:|---:|---|---|")
    for check, diff, wins, losses, p, target, passed in rows:
        if diff is None:
            print(f"| {check} | — | — | — | — | {target} | not run (no crowd-kit) |")
        else:
            print(f"| {check} | {100 * diff:+.1f} | {wins} | {losses} | {p:.2g} | {target} "
                  f"| {'PASS' if passed else 'FAIL'} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder of dataset folders (votes.csv[.gz], truth.csv[.gz])")
    parser.add_argument("--crowdkit-python", default=None,
                        help="interpreter that imports crowdkit (default: this one if it does, else skip crowd-kit)")
    parser.add_argument("--gold", type=float, nargs="+", default=[0.0],
                        help="fractions of the tasks with a truth given as gold (default: 0)")
    parser.add_argument("--repeat", type=int, default=3, help="timed calls per method (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the majority vote's coin and of the gold draws")
    args = parser.parse_args(argv)
    if any(not 0 <= f < 1 for f in args.gold):
        parser.error(f"--gold fractions must lie in [0, 1); got {args.gold}")

    print_machine("wmvtrust on real crowd data")
    python, note = _crowdkit.find_python(args.crowdkit_python)
    print(f"- {note}")
    if python is not None:
        versions, _ = _crowdkit.run(python, pd.DataFrame({"task": [0], "worker": [0], "label": [0]}), [])
        print(f"- crowd-kit {versions['crowd-kit']} with pandas {versions['pandas']}, numpy {versions['numpy']}, "
              f"Python {versions['python']}")
    data = datasets(args.data)
    print(f"- {len(data)} datasets under --data; gold fractions {args.gold}; majority voting's tie coin: "
          f"np.random.default_rng({args.seed}); gold draws: SeedSequence({args.seed}).spawn\n")
    grid = [(d, f) for d in data for f in args.gold]
    streams = np.random.SeedSequence(args.seed).spawn(len(grid))
    cases = [(f"{name}, gold {fraction:g}", functools.partial(run_dataset, name, votes, truth, fraction,
                                                             np.random.default_rng(stream), args.seed, args.repeat,
                                                             python))
             for ((name, votes, truth), fraction), stream in zip(grid, streams)]
    start = time.perf_counter()
    results = run_cases(cases)
    print(f"\nAll datasets in {time.perf_counter() - start:.0f} s; load average = {os.getloadavg()[0]:.2f} at end. "
          f"Times: median of {args.repeat} calls after one warm-up."
          + ("" if python else " crowd-kit rows SKIPPED (see the note above).") + "\n")
    print_results(results)
    for dataset in dict.fromkeys(r.dataset for r in results):
        print_checks(dataset, checks([r for r in results if r.dataset == dataset]))


if __name__ == "__main__":
    main()
