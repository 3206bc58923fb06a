"""How wmvtrust's crowd aggregators, and the accuracy they tell you to believe, do on real crowd data with expert truth.

For every dataset folder under ``--data`` (a folder holding ``votes.csv`` or
``votes.csv.gz`` with columns task, worker, label, and ``truth.csv`` or ``truth.csv.gz``
with columns task, label; folders in order of name) and every gold fraction of ``--gold``
(default 0, 0.1 and 0.3), the methods are:

- plain majority voting, ties broken by a fair coin from ``np.random.default_rng(--seed)``
  (default seed 0);
- ``WeightedMajorityVote()`` (the default: trust is each worker's balanced accuracy in a
  Bayesian Dawid-Skene fit), ``WeightedMajorityVote(trust="one-coin")``,
  ``ConfusionMatrixVote()`` and, with gold only, ``WeightedMajorityVote(trust="gold")`` and
  ``DifficultyAwareVote()``;
- with a crowd-kit interpreter (``--crowdkit-python``; see ``aggregate.py`` for how to
  install one), crowd-kit's ``MajorityVote`` and ``DawidSkene(n_iter=100)``, run through
  ``_crowdkit.py`` (DawidSkene is given the gold as ``true_labels``).

With a gold fraction f > 0, a seeded random f of the voted tasks with a truth are given to
``fit`` as gold, drawn by ``np.random.default_rng([--seed, crc32(dataset name), round(f * 10**6)])``:
the same split whatever other datasets and fractions are run. Every method is scored on the
other tasks with a truth (the scored tasks).

Printed, after the machine and the load average around every dataset:

1. One markdown table, a row per dataset, gold fraction and method: the realised accuracy on
   the scored tasks (in points, a task without a label counting as wrong) with its 95% Wilson
   interval; the belief, ``summary().belief``, with its interval ``[belief_low, belief_high]``
   (crowd-kit's DawidSkene: the mean over the tasks without gold of the largest posterior of
   ``fit_predict_proba``, no interval; "—" for majority voting); "inside": the belief lies in
   the realised accuracy's Wilson interval; "covered": the realised accuracy lies in the
   belief's interval; the source of the belief, the summary's ``belief_kind`` ("gold", "hard
   tasks", "Dawid-Skene"; "model" for crowd-kit's own belief); the median fit time and the median ``summary()`` time
   (``--repeat`` calls after one warm-up; crowd-kit: warm-up on the first 10,000 votes).
2. The README's table: the same for the default ``WeightedMajorityVote()`` only, with the
   model's own belief (``summary().believed_accuracy``) beside; then per gold fraction the
   mean absolute error of the belief over the datasets (points), the datasets on which the
   belief is inside the realised interval and those on which its interval covers the realised
   accuracy.
3. Per dataset without gold, the errors the crowd makes together: the share of the scored
   tasks (in points) on which the default's label is wrong while at least half of the task's
   votes give that same label (votes for the label / votes on the task >= 1/2, ties
   included; a task without votes does not count). On such a task the votes favour, or tie
   on, the wrong label: the votes themselves hold no sign of the error, and a belief computed
   from the votes alone can allow for it only through the error probability it gives every
   task voted alike (for a tie, about a half). Beside it: the realised error and the error the
   belief allows (100 - belief).
4. The checks (PASS/FAIL):
   a. without gold, the default's belief inside the realised interval on at least three
      quarters of the datasets (3 of the 4 shared ones), and its mean absolute error at most
      2 points;
   b. with 30% gold, the default's belief interval covers the realised accuracy on every
      dataset;
   c. per dataset and gold fraction, a paired sign test (tasks right only by one method
      against only by the other, exact two-sided binomial p): ``WeightedMajorityVote()``
      minus majority voting not worse at p < 0.05, and ``ConfusionMatrixVote()`` minus
      crowd-kit's ``DawidSkene`` >= -0.5 points.
   A check whose gold fraction is not in ``--gold`` is left out.

    python benchmarks/real_data.py --data DIR --crowdkit-python /tmp/ckenv/bin/python   # 1-5 minutes on 2 CPUs
    python benchmarks/real_data.py --data DIR --gold 0.3 --repeat 1   # one fraction, the same split, no crowd-kit

The script is a report: it exits with 0 even when a check fails.
"""

import argparse
import functools
import math
import os
import time
import zlib
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
GOLD_FRACTIONS = (0.0, 0.1, 0.3)
SIGN_TEST_LEVEL = 0.05
CMV_VS_DS_POINTS = -0.5  # target of ConfusionMatrixVote() minus crowd-kit's DawidSkene
INSIDE_SHARE = 0.75  # without gold: the default's belief inside the realised interval on this share of datasets
MAX_ERROR_POINTS = 2.0  # without gold: the default's mean absolute belief error
COVERED_GOLD = 0.3  # at this gold fraction the default's belief interval covers the realised accuracy everywhere
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
WITH_GOLD = (("WeightedMajorityVote(trust='gold')", lambda: wt.WeightedMajorityVote(trust="gold")),
             ("DifficultyAwareVote()", wt.DifficultyAwareVote))  # they need gold


@dataclass
class Result:
    dataset: str
    gold: float  # the gold fraction
    method: str
    correct: np.ndarray  # bool per scored task
    together: np.ndarray  # bool per scored task: wrong, with at least half of the task's votes for the label
    fit_seconds: float
    summary_seconds: float | None = None
    belief: float | None = None
    belief_low: float | None = None
    belief_high: float | None = None
    source: str = "—"
    model_belief: float | None = None

    @property
    def realised(self):
        """The accuracy on the scored tasks with its Wilson interval (``EmpiricalBelief``)."""
        return EmpiricalBelief.of(self.correct, np.nan, CONFIDENCE)

    @property
    def inside(self):
        """Whether the belief lies in the realised accuracy's Wilson interval (None without a belief)."""
        e = self.realised
        return None if self.belief is None else e.ci_low <= self.belief <= e.ci_high

    @property
    def covered(self):
        """Whether the realised accuracy lies in the belief's interval (None without one)."""
        return None if self.belief_low is None else self.belief_low <= self.correct.mean() <= self.belief_high


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


def split_gold(votes, truth, fraction, seed, name):
    """(gold table or None, truth of the tasks to score): a random ``fraction`` of the voted tasks with a truth.

    The draw's stream is keyed by ``seed``, the dataset's ``name`` and ``fraction`` alone.
    """
    if fraction == 0:
        return None, truth
    rng = np.random.default_rng([seed, zlib.crc32(name.encode()), round(fraction * 10**6)])
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


def errors_together(votes, labels, scored):
    """Per task of ``scored``: ``labels`` is wrong there while at least half of the task's votes give that label."""
    share = (votes["label"] == votes["task"].map(labels)).groupby(votes["task"]).mean()
    return ~correct(labels, scored) & (share.reindex(scored["task"]).to_numpy() >= 0.5)  # unvoted: NaN, False


def sign_test(first, second):
    """(right only by the first, right only by the second, exact two-sided p of the sign test)."""
    wins, losses = int((first & ~second).sum()), int((second & ~first).sum())
    p = stats.binomtest(wins, wins + losses).pvalue if wins + losses else 1.0
    return wins, losses, p


def run_dataset(name, votes, truth, fraction, seed, repeat, python):
    """The results of every method on one dataset at one gold fraction."""
    gold, scored = split_gold(votes, truth, fraction, seed, name)
    free = votes["task"].unique() if gold is None else np.setdiff1d(votes["task"].unique(), gold["task"])
    print(f"{name}, gold {fraction:.0%}: {votes['task'].nunique():,} tasks, {votes['worker'].nunique():,} workers, "
          f"{len(votes):,} votes, {votes['label'].nunique()} labels; {len(scored):,} tasks scored")

    def result(method, labels, fit_seconds, **belief):
        return Result(name, fraction, method, correct(labels, scored), errors_together(votes, labels, scored),
                      fit_seconds, **belief)

    t_mv, mv = median_time(lambda: majority_vote(votes, seed), repeat)
    results = [result(MV, mv, t_mv)]
    for method, make in OURS + (WITH_GOLD if gold is not None else ()):
        t_fit, model = median_time(lambda: make().fit(votes, gold), repeat)
        t_sum, s = median_time(model.summary, repeat)
        results.append(result(method, model.labels_, t_fit, summary_seconds=t_sum, belief=s.belief,
                              belief_low=s.belief_low, belief_high=s.belief_high, source=s.belief_kind,
                              model_belief=s.believed_accuracy))
    if python is not None:
        jobs = [_crowdkit.Job(CK_MV, "MajorityVote", {}, repeat),
                _crowdkit.Job(CK_DS, "DawidSkene", {"n_iter": CK_DS_ITER}, repeat, probas=True, gold=gold is not None)]
        _, runs = _crowdkit.run(python, votes, jobs, CK_WARMUP_ROWS, gold)
        ds_belief = float(runs[CK_DS].probas.reindex(free).max(axis=1).mean())
        results += [result(CK_MV, runs[CK_MV].labels, runs[CK_MV].median),
                    result(CK_DS, runs[CK_DS].labels, runs[CK_DS].median, belief=ds_belief, source="model",
                           model_belief=ds_belief)]
    return results


# ---------------------------------------------------------------- report


def points(x):
    return "—" if x is None else f"{100 * x:.1f}"


def interval(low, high):
    return "—" if low is None else f"[{points(low)}, {points(high)}]"


def yes_no(x):
    return "—" if x is None else ("yes" if x else "no")


def pass_fail(passed):
    return "PASS" if passed else "FAIL"


def realised(r):
    """The realised accuracy and its Wilson interval, as printed."""
    e = r.realised
    return f"{points(e.accuracy)} {interval(e.ci_low, e.ci_high)}"


def print_results(results):
    print("| dataset | gold | method | accuracy [95% Wilson] | belief | belief interval | inside | covered | source "
          "| fit s | summary s |")
    print("|---|---:|---|---|---:|---|---|---|---|---:|---:|")
    for r in results:
        summary = "—" if r.summary_seconds is None else f"{r.summary_seconds:.3f}"
        print(f"| {r.dataset} | {r.gold:.0%} | {r.method} | {realised(r)} | {points(r.belief)} "
              f"| {interval(r.belief_low, r.belief_high)} | {yes_no(r.inside)} | {yes_no(r.covered)} | {r.source} "
              f"| {r.fit_seconds:.3f} | {summary} |")


def default_by_gold(results):
    """{gold fraction: [the default's results, one per dataset]}, fractions and datasets in run order."""
    by = {}
    for r in results:
        if r.method == WMV:
            by.setdefault(r.gold, []).append(r)
    return by


def belief_error(rows):
    """Mean absolute error of the belief over ``rows``, in points."""
    return 100 * float(np.mean([abs(r.belief - r.correct.mean()) for r in rows]))


def print_default(by_gold):
    """The README's table: the default's belief beside its realised accuracy, per dataset and gold fraction."""
    print(f"| dataset | gold | {WMV}: accuracy [95% Wilson] | belief [{CONFIDENCE:.0%} interval] | source | inside "
          "| covered | model's own belief |")
    print("|---|---:|---|---|---|---|---|---:|")
    for fraction, rows in by_gold.items():
        for r in rows:
            print(f"| {r.dataset} | {fraction:.0%} | {realised(r)} | {points(r.belief)} "
                  f"{interval(r.belief_low, r.belief_high)} | {r.source} | {yes_no(r.inside)} | {yes_no(r.covered)} "
                  f"| {points(r.model_belief)} |")
    print()
    for fraction, rows in by_gold.items():
        print(f"- gold {fraction:.0%}: mean absolute error of the belief {belief_error(rows):.1f} points; belief "
              f"inside the realised interval on {sum(r.inside for r in rows)} of {len(rows)} datasets; interval "
              f"covers the realised accuracy on {sum(r.covered for r in rows)} of {len(rows)}.")


def print_together(by_gold):
    """Per dataset without gold: the default's errors that at least half of the task's votes support."""
    if 0.0 not in by_gold:
        return
    print(f"\nErrors the crowd makes together ({WMV}, no gold; points of the scored tasks):\n")
    for r in by_gold.get(0.0, []):
        print(f"- {r.dataset}: wrong on {100 * (1 - r.correct.mean()):.1f}, of which {100 * r.together.mean():.1f} "
              f"with at least half of the task's votes for the same wrong label; the belief allows "
              f"{100 * (1 - r.belief):.1f}.")


def belief_checks(by_gold):
    """Rows (check, found, target, passed) of the issue's targets on the default's belief, for the fractions run."""
    rows = []
    free, gold = by_gold.get(0.0), by_gold.get(COVERED_GOLD)
    if free:
        inside, need, error = sum(r.inside for r in free), math.ceil(INSIDE_SHARE * len(free)), belief_error(free)
        rows += [("no gold: belief inside the realised interval", f"{inside} of {len(free)} datasets",
                  f">= {need} of {len(free)}", inside >= need),
                 ("no gold: mean absolute error of the belief", f"{error:.1f} points",
                  f"<= {MAX_ERROR_POINTS:g} points", error <= MAX_ERROR_POINTS)]
    if gold:
        covered = sum(r.covered for r in gold)
        rows.append((f"gold {COVERED_GOLD:.0%}: belief interval covers the realised accuracy",
                     f"{covered} of {len(gold)} datasets", f"{len(gold)} of {len(gold)}", covered == len(gold)))
    return rows


def sign_checks(results):
    """Rows of the two paired checks of one dataset and gold fraction: (check, difference, wins, losses, p, target,
    passed or None)."""
    by = {r.method: r.correct for r in results}
    rows = []
    for first, second, target, passes in (
            (WMV, MV, f"not worse at p < {SIGN_TEST_LEVEL:g}", lambda d, p: not (d < 0 and p < SIGN_TEST_LEVEL)),
            (CMV, CK_DS, f">= {CMV_VS_DS_POINTS:g} points", lambda d, p: 100 * d >= CMV_VS_DS_POINTS)):
        if second not in by:
            rows.append((f"{first} − {second}", None, None, None, None, target, None))
            continue
        diff = by[first].mean() - by[second].mean()
        wins, losses, p = sign_test(by[first], by[second])
        rows.append((f"{first} − {second}", diff, wins, losses, p, target, passes(diff, p)))
    return rows


def print_checks(by_gold, results):
    rows = belief_checks(by_gold)
    if rows:
        print("\n| check | found | target | result |")
        print("|---|---|---|---|")
    for check, found, target, passed in rows:
        print(f"| {check} | {found} | {target} | {pass_fail(passed)} |")
    print("\n| dataset | gold | check | difference (points) | right only by the first | right only by the second "
          "| sign test p | target | result |")
    print("|---|---:|---|---:|---:|---:|---:|---|---|")
    for dataset, fraction in dict.fromkeys((r.dataset, r.gold) for r in results):
        case = [r for r in results if (r.dataset, r.gold) == (dataset, fraction)]
        for check, diff, wins, losses, p, target, passed in sign_checks(case):
            if diff is None:
                print(f"| {dataset} | {fraction:.0%} | {check} | — | — | — | — | {target} "
                      "| not run (no crowd-kit) |")
            else:
                print(f"| {dataset} | {fraction:.0%} | {check} | {100 * diff:+.1f} | {wins} | {losses} | {p:.2g} "
                      f"| {target} | {pass_fail(passed)} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder of dataset folders (votes.csv[.gz], truth.csv[.gz])")
    parser.add_argument("--crowdkit-python", default=None,
                        help="interpreter that imports crowdkit (default: this one if it does, else skip crowd-kit)")
    parser.add_argument("--gold", type=float, nargs="+", default=list(GOLD_FRACTIONS),
                        help="fractions of the tasks with a truth given as gold (default: 0 0.1 0.3)")
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
          f"np.random.default_rng({args.seed}); gold draws: np.random.default_rng([{args.seed}, crc32(name), "
          "round(fraction * 10**6)])\n")
    cases = [(f"{name}, gold {fraction:.0%}",
              functools.partial(run_dataset, name, votes, truth, fraction, args.seed, args.repeat, python))
             for name, votes, truth in data for fraction in args.gold]
    start = time.perf_counter()
    results = run_cases(cases)
    print(f"\nAll datasets in {time.perf_counter() - start:.0f} s; load average = {os.getloadavg()[0]:.2f} at end. "
          f"Times: median of {args.repeat} calls after one warm-up."
          + ("" if python else " crowd-kit rows SKIPPED (see the note above).") + "\n")
    print_results(results)
    by_gold = default_by_gold(results)
    print(f"\nThe belief of the default, {WMV}, beside the accuracy it realised (points):\n")
    print_default(by_gold)
    print_together(by_gold)
    print_checks(by_gold, results)


if __name__ == "__main__":
    main()
