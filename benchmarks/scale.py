"""Benchmark of the crowd aggregators at scale: 1 million to 100 million votes, in memory and on dask.

Votes (``--votes``, default 1e6,1e7; ask 1e8 explicitly) are written to Parquet in a temporary folder,
one file per partition of about ``--partition-votes`` (1e6; at least one per core), each from its own
``SeedSequence(--seed).spawn`` stream, so the generator holds one partition at a time: integer task
ids, 5 votes per task from 5 distinct workers among 5,000 of skewed activity (worker k with
probability proportional to 1/(k+1)), accuracies ~ Beta(5, 2), truths ~ Bernoulli(1/2), a wrong vote
giving the other label. Models: ``WeightedMajorityVote(trust="one-coin")`` and ``ConfusionMatrixVote()``.

Paths: in memory, ``pandas.read_parquet(folder)`` then ``fit``, skipped when the peak estimated from
the largest in-memory run so far (bytes per vote) exceeds ``--memory-limit``; on dask,
``fit(dask.dataframe.read_parquet(folder))`` on ``LocalCluster(n_workers=os.cpu_count(),
threads_per_worker=1, memory_limit=--worker-memory)``, warmed up on a small fit before each run
(numba's compile or cache load excluded).

Protocol: one timed run of each (a 100M run takes minutes), ``time.perf_counter``, after an untimed
``fit`` with ``max_iter=1`` (a first fit on the data pays once: timed, it made in memory look up to 3x
faster per iteration than it is). ``fit`` with ``max_iter=1`` (the one-off setup: checks, shuffle,
encoding, starting statistics, one iteration), then in full (``n_iter_`` iterations). Per EM iteration (the medians and the ratio):
``(fit - fit at max_iter=1) / (n_iter_ - 1)``, beside ``fit / n_iter_``; setup = fit at max_iter=1
minus one iteration, and its share of the fit; votes/s = votes x ``n_iter_`` / fit; labels = writing
``labels_`` to Parquet (on dask it runs the lazy posteriors). Peak resident memory (VmHWM; before each
run, every process frees what it can and resets it through ``/proc/self/clear_refs``) of the client,
the scheduler, every nanny and every worker.
Then the slope of log seconds per iteration on log votes (1 = linear), the memory per million votes,
and the issue's targets. The script is a report: it exits with 0 even when a target is missed.

    python benchmarks/scale.py                        # 1M and 10M votes: a few minutes
    python benchmarks/scale.py --votes 1e6,1e7,1e8    # the issue's targets, on an idle machine
"""

import argparse
import ctypes
import gc
import logging
import math
import os
import platform
import tempfile
import time
from dataclasses import dataclass, field

import dask
import dask.dataframe as dd
import distributed
import numba
import numpy as np
import pandas as pd
import pyarrow

import wmvtrust as wt
from _table import Row, fmt_ratio, fmt_time, print_table, targets_met

VOTES_PER_TASK = 5
N_WORKERS = 5_000
BETA = (5, 2)
TARGET_BYTES = 2e9  # every process of the 100M runs below 2 GB
TARGET_RATIO = 3.0  # at 10M votes, dask within 3x of in memory per iteration
MODELS = {"one-coin EM": lambda **kw: wt.WeightedMajorityVote(trust="one-coin", **kw),
          "Dawid-Skene": lambda **kw: wt.ConfusionMatrixVote(**kw)}


@dataclass
class Run:
    votes: int
    fit1: float = math.nan  # fit with max_iter=1
    fit: float = math.nan
    n_iter: int = 0
    labels: float = math.nan
    read: float = math.nan  # pandas.read_parquet (in memory only)
    peaks: dict = field(default_factory=dict)  # process -> peak bytes
    trust: pd.DataFrame | None = None
    note: str = ""  # why it did not run

    @property
    def per_iter(self):
        marginal = (self.fit - self.fit1) / (self.n_iter - 1) if self.n_iter > 1 else math.nan
        return marginal if marginal > 0 else self.fit / self.n_iter

    def describe(self):
        if self.note:
            return self.note
        setup = self.fit1 - self.per_iter  # read, check, shuffle, encode, starting statistics
        read = f"read {fmt_time(self.read)}, " if self.read == self.read else ""
        peaks = ", ".join(f"{name} {mb(b)}" for name, b in self.peaks.items())
        return (f"{read}fit {fmt_time(self.fit)}, {self.n_iter} iterations ({fmt_time(self.fit / self.n_iter)}/iter), "
                f"setup {fmt_time(setup)} = {setup / self.fit:.0%} of the fit, labels {fmt_time(self.labels)}, "
                f"{self.votes * self.n_iter / self.fit / 1e6:.3g}M votes/s; peak RSS {peaks}")


def mb(b):
    return f"{b / 1e9:.2f} GB" if b >= 1e9 else f"{b / 1e6:.0f} MB"


def reset_peak():
    """Free what earlier runs left (Python, arrow's pool, malloc's arenas), then reset VmHWM to the current RSS."""
    gc.collect()
    pyarrow.default_memory_pool().release_unused()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak(key="VmHWM"):
    """This process's peak resident bytes since the last reset (or its current ones: key="VmRSS")."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key + ":"))


def generate(folder, votes, partition_votes, seed):
    """Write the votes as Parquet, one file per partition; returns the number of partitions."""
    n_parts = max(os.cpu_count(), math.ceil(votes / partition_votes))
    crowd, *streams = np.random.SeedSequence(seed).spawn(n_parts + 1)
    accuracy = np.random.default_rng(crowd).beta(*BETA, N_WORKERS)
    activity = 1.0 / np.arange(1, N_WORKERS + 1)
    activity /= activity.sum()
    bounds = np.linspace(0, votes // VOTES_PER_TASK, n_parts + 1).astype(np.int64)
    for i, stream in enumerate(streams):
        rng, tasks = np.random.default_rng(stream), np.arange(bounds[i], bounds[i + 1])
        workers = rng.choice(N_WORKERS, size=(tasks.size, VOTES_PER_TASK), p=activity)
        while (bad := (np.diff(np.sort(workers, axis=1), axis=1) == 0).any(axis=1)).any():  # 5 distinct workers
            workers[bad] = rng.choice(N_WORKERS, size=(bad.sum(), VOTES_PER_TASK), p=activity)
        truth = rng.integers(0, 2, tasks.size)[:, None]
        label = np.where(rng.random(workers.shape) < accuracy[workers], truth, 1 - truth)
        order = rng.permutation(workers.size)
        pd.DataFrame({"task": np.repeat(tasks, VOTES_PER_TASK)[order], "worker": workers.ravel()[order].astype(np.int32),
                      "label": label.ravel()[order].astype(np.int8)}).to_parquet(
            os.path.join(folder, f"part-{i:05d}.parquet"), index=False)
    return n_parts, accuracy


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def write_labels(labels, out):
    """``labels_`` to Parquet: one file for pandas, one per partition for dask (which runs the lazy posteriors)."""
    if isinstance(labels, pd.Series):
        return labels.to_frame().to_parquet(out + ".parquet")
    labels.to_frame().to_parquet(out)


def fit_and_label(run, make, votes, out, **fit_kw):
    make(max_iter=1).fit(votes, **fit_kw)  # untimed: a first fit pays once (fresh pages, the allocator's growth)
    run.fit1 = timed(lambda: make(max_iter=1).fit(votes, **fit_kw))[0]  # not kept: one fitted model at a time
    run.fit, model = timed(lambda: make().fit(votes, **fit_kw))
    run.labels = timed(lambda: write_labels(model.labels_, out))[0]
    run.n_iter, run.trust = model.n_iter_, model.trust_


def in_memory(folder, votes, make, out):
    run = Run(votes)
    reset_peak()
    run.read, table = timed(lambda: pd.read_parquet(folder))
    fit_and_label(run, make, table, out)
    run.peaks = {"client": peak()}
    return run


def on_dask(client, folder, votes, make, out, scratch):
    run = Run(votes)
    try:  # no client.restart(): within 15 s of another, LocalCluster closes the nannies (lost-worker-timeout)
        warm = dd.from_pandas(pd.read_parquet(os.path.join(folder, "part-00000.parquet")).head(20_000), npartitions=2)
        make().fit(warm, scratch=scratch).labels_.compute()  # numba compiles or loads its cache in every worker
        client.run(reset_peak), client.run(reset_peak, nanny=True), client.run_on_scheduler(reset_peak), reset_peak()
        fit_and_label(run, make, dd.read_parquet(folder), out, scratch=scratch)
    except Exception as error:  # noqa: BLE001  # a killed worker, say: reported, not raised
        run.note = f"failed: {type(error).__name__}: {str(error)[:200]}"
    run.peaks = peaks(client)
    return run


def peaks(client):
    """{processes: peak bytes}, the largest of each kind; kinds in one process (LocalCluster runs the scheduler and
    the nannies in the client's) named together, as in "client+scheduler+nanny"."""
    def pid_peak():
        return os.getpid(), peak()
    found = [("client", (os.getpid(), peak())), ("scheduler", client.run_on_scheduler(pid_peak))]
    found += [(kind, value) for kind, nanny in (("nanny", True), ("worker", False))
              for value in client.run(pid_peak, nanny=nanny).values()]
    kinds, result = {}, {}
    for kind, (pid, _) in found:
        kinds.setdefault(pid, {})[kind] = None  # an ordered set
    for name, b in (("+".join(kinds[pid]), b) for _, (pid, b) in found):
        result[name] = max(result.get(name, 0), b)
    return result


def benchmark(args, client, root):
    """{(votes, model): (dask run, in-memory run)} and the partitions of each size."""
    runs, parts, per_vote = {}, {}, {}  # model -> (bytes per vote, base bytes) of its largest in-memory run
    for votes in args.votes:
        folder = tempfile.mkdtemp(dir=root)
        start = time.perf_counter()
        parts[votes], accuracy = generate(folder, votes, args.partition_votes, args.seed)
        print(f"{votes:,} votes: {parts[votes]} Parquet files in {time.perf_counter() - start:.1f} s; "
              f"load average {os.getloadavg()[0]:.2f}", flush=True)
        for name, make in MODELS.items():
            out = os.path.join(root, f"labels-{votes}-{name.replace(' ', '-')}")
            slope, base = per_vote.get(name, (0.0, 0.0))
            if slope * votes + base > args.memory_limit:
                memory = Run(votes, note=f"skipped: estimated peak {mb(slope * votes + base)} > "
                                         f"--memory-limit {mb(args.memory_limit)} ({slope:.0f} B/vote)")
            else:
                reset_peak()
                base = peak("VmRSS")
                memory = in_memory(folder, votes, make, out + "-memory")
                per_vote[name] = ((memory.peaks["client"] - base) / votes, base)
            distributed_run = on_dask(client, folder, votes, make, out + "-dask", root)
            print(f"  {name}: in memory {memory.describe()}\n  {name}: dask {distributed_run.describe()}", flush=True)
            runs[votes, name] = distributed_run, memory
            trust = distributed_run.trust
            if memory.trust is not None and trust is not None:  # in memory, the workers in order of appearance
                gap, relative = trust_gap(memory.trust, trust.reindex(memory.trust.index))
                error = (f"; mean |trust - true accuracy| = {np.abs(trust['mean'] - accuracy[trust.index]).mean():.3f}"
                         if "mean" in trust else "")
                print(f"check: dask - in memory: max |difference| of the trust probabilities {gap:.2g}, of the "
                      f"pseudo-counts relative {relative:.2g} ({distributed_run.n_iter} and {memory.n_iter} "
                      f"iterations){error}", flush=True)
    return runs, parts


def trust_gap(a, b):
    """The largest absolute difference of two trust tables' probabilities (one-coin: the mean; Dawid-Skene: each
    confusion row's counts over their sum) and the largest relative difference of their pseudo-counts (a count of
    1e7 moves by 1.9e-9 in its last bit: absolute differences of counts measure their size)."""
    if "mean" in a:
        probas, counts = (a["mean"], b["mean"]), (a[["alpha", "beta"]], b[["alpha", "beta"]])
    else:
        probas, counts = (a.div(a.sum(axis=1), axis=0), b.div(b.sum(axis=1), axis=0)), (a, b)
    gap = np.nanmax(np.abs(probas[0].to_numpy(float) - probas[1].to_numpy(float)))
    x, y = (c.to_numpy(float) for c in counts)
    return gap, np.nanmax(np.abs(x - y) / np.abs(x))


def report(runs, parts, sizes):
    rows = []
    for (votes, name), (dist, memory) in runs.items():
        both = not (dist.note or memory.note)
        ratio = dist.per_iter / memory.per_iter if both else math.nan
        target, passed = "—", None
        if votes == 10 ** 7:
            target, passed = f"dask <= {TARGET_RATIO:g}x in memory per iteration", bool(ratio <= TARGET_RATIO)
            if not both:
                target, passed = target + " (not measured: a path did not run)", None
        if votes == 10 ** 8:
            target, passed = "dask: every process < 2 GB", not dist.note and max(dist.peaks.values()) < TARGET_BYTES
        rows.append(Row(f"{votes:,} votes ({parts[votes]} files), {name}", f"dask: {dist.describe()}",
                        "—" if dist.note else fmt_time(dist.per_iter), f"in memory: {memory.describe()}",
                        "—" if memory.note else fmt_time(memory.per_iter), fmt_ratio(ratio) if both else "—",
                        target, passed))
    print_table(rows)
    print()
    for name in MODELS:
        for path, index in (("dask", 0), ("in memory", 1)):
            done = [(v, r[index]) for (v, n), r in runs.items() if n == name and not r[index].note]
            if len(done) >= 2:
                slope = np.polyfit(np.log([v for v, _ in done]), np.log([r.per_iter for _, r in done]), 1)[0]
                print(f"- {name}, {path}: seconds per iteration grow as votes^{slope:.2f} over "
                      f"{done[0][0]:,}-{done[-1][0]:,} votes (1 = linear)")
                for process in done[0][1].peaks:  # the slope of peak on votes: the base memory apart
                    per_million = np.polyfit([v / 1e6 for v, _ in done], [r.peaks[process] for _, r in done], 1)[0]
                    print(f"  peak RSS of the {process}: {mb(per_million)} per million votes "
                          f"(at {done[-1][0]:,}: {mb(done[-1][1].peaks[process])})")
    for votes in (10 ** 7, 10 ** 8):
        if votes not in sizes:
            print(f"- target at {votes:,} votes not measured: add it to --votes")
    met, total = targets_met(rows)
    print(f"\ntargets met: {met} of {total}")


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", default="1e6,1e7", help="comma-separated sizes (default 1e6,1e7; the issue: ...,1e8)")
    parser.add_argument("--partition-votes", type=float, default=1e6, help="votes per Parquet file (default 1e6)")
    parser.add_argument("--memory-limit", type=float, default=4.0,
                        help="GB: skip in memory above it (default 4: 10M votes take about 3 GB in memory)")
    parser.add_argument("--worker-memory", type=float, default=2.0, help="GB: each dask worker's memory_limit")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.votes = sorted(int(float(v)) for v in args.votes.split(","))
    args.partition_votes, args.memory_limit = int(args.partition_votes), args.memory_limit * 1e9
    return args


def main(argv=None):
    args = parse(argv)
    print("## wmvtrust scale benchmark\n")
    print(f"- {platform.processor() or platform.machine()}, os.cpu_count() = {os.cpu_count()}, RAM "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 1e9:.1f} GB, load average "
          f"{os.getloadavg()[0]:.2f} at start; wmvtrust {wt.__version__}, numpy {np.__version__}, pandas "
          f"{pd.__version__}, pyarrow {pyarrow.__version__}, dask {dask.__version__}, distributed "
          f"{distributed.__version__}, Python {platform.python_version()}")
    print(f"- dask: LocalCluster(n_workers={os.cpu_count()}, threads_per_worker=1, "
          f"memory_limit={args.worker_memory:g} GB)")
    wt.warm_up()
    print(f"- numba {numba.__version__}: threading layer {numba.threading_layer()}, {numba.get_num_threads()} threads "
          "in the client and in each worker (NUMBA_NUM_THREADS)\n")
    with tempfile.TemporaryDirectory(prefix="wmvtrust-scale-") as root, \
            distributed.LocalCluster(n_workers=os.cpu_count(), threads_per_worker=1, memory_limit=args.worker_memory * 1e9,
                                     dashboard_address=None, silence_logs=logging.ERROR) as cluster, distributed.Client(cluster) as client:
        runs, parts = benchmark(args, client, root)
    print(f"\nOne run of each; load average {os.getloadavg()[0]:.2f} at end.\n")
    report(runs, parts, args.votes)


if __name__ == "__main__":
    main()
