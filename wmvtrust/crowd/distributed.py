"""Fitting the aggregators on a dask DataFrame of votes: EM as map-reduce over partitions of whole tasks.

The votes are shuffled once on the task column, so that each task's votes sit in one
partition, and each partition is encoded once against the global worker and label indexes
(sorted) and kept as integer codes in a scratch folder, memory-mapped when read. Every EM
iteration then maps a ``MemoryPasses`` method over the partitions (per-partition counts,
expected right votes, class sums, log-likelihood: small, workers x labels x labels at most)
in one task per worker thread, each over the same run of partitions every time (their pages
stay in that machine's page cache while memory allows), sums the results in partition order
on the client, and takes the M-step there: the loops of ``_labels.models``
and ``_labels.latent`` run unchanged on ``PartitionedVotes``. Nothing holds more than a
partition of votes at once, and the sums are the same whatever the scheduler, so the fit
equals the in-memory one up to the rounding of sums taken in another order. The task
posteriors and labels come back lazily, one partition per partition of the shuffle.

dask is imported only here, and only when a dask DataFrame is given.
"""

import os
import shutil
import tempfile
import weakref
from typing import TYPE_CHECKING, Any, cast

import numba
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .. import _kernels as kn
from .._labels.codes import Codes
from .._labels.models import MemoryPasses, believed_sum, most_probable
from .._validation import (check_dask_votes, check_gold_frame, check_one_vote_each, check_rng, check_sortable,
                           check_vote_values)
from .votes import name_keys

if TYPE_CHECKING:
    from .aggregators import _Aggregator

CODES = ("starts", "task", "worker", "label", "truth")  # a partition's arrays in the scratch folder, int64

def is_dask_frame(x: object) -> bool:
    """Whether ``x`` is a dask DataFrame (told by its module, without importing dask)."""
    return type(x).__module__.split(".")[0] == "dask" and hasattr(x, "npartitions")


class PartitionedVotes:
    """The ``MemoryPasses`` methods over encoded partitions in a scratch folder: each result summed in partition order.

    ``probas`` is empty: the posteriors of a partitioned fit are computed per partition at the end.
    """

    def __init__(self, files: list[str], n_tasks: int, n_workers: int, n_labels: int, known: int) -> None:
        self.files, self.n_tasks, self.n_workers, self.n_labels, self.known = files, n_tasks, n_workers, n_labels, known
        self.probas = np.empty((0, n_labels))

    def cast(self) -> NDArray[np.float64]:
        return self._sum("cast")[0]

    def start_right(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        return self._sum("start_right")

    def start_counts(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        return self._sum("start_counts")

    def symmetric(self, weights: NDArray[np.float64], log_prior: NDArray[np.float64]
                  ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        return self._sum("symmetric", weights, log_prior)

    def confusion(self, log_confusion: NDArray[np.float64], log_prior: NDArray[np.float64]
                  ) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
        counts, class_sum, loglik = self._sum("confusion", log_confusion, log_prior)
        return counts, class_sum, float(loglik)

    def gold_record(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        return self._sum("gold_record")

    def gold_counts(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        return self._sum("gold_counts")

    def gold_votes(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
        """The votes on gold tasks, gathered (they are few): tasks numbered on, partition after partition."""
        parts = _each_partition(self.files, _partition_call, self.n_workers, self.n_labels, "gold_votes")
        offsets = np.cumsum([0] + [int(task.max()) + 1 if task.size else 0 for task, _, _ in parts])
        return (np.concatenate([task + offset for (task, _, _), offset in zip(parts, offsets)]),
                np.concatenate([worker for _, worker, _ in parts]), np.concatenate([right for _, _, right in parts]))

    def _sum(self, method: str, *args: Any) -> Any:
        parts = _each_partition(self.files, _partition_call, self.n_workers, self.n_labels, method, *args)
        results = [part if isinstance(part, tuple) else (part,) for part in parts]
        return tuple(sum(values[1:], start=np.array(values[0], dtype=float)) for values in zip(*results))


def fit_partitioned(model: "_Aggregator", votes: Any, gold: pd.DataFrame | None, scratch: str | None) -> None:
    """Fit ``model`` on a dask DataFrame of votes: the attributes of an in-memory fit, ``labels_`` and ``probas_`` as
    dask objects (one partition per partition of the shuffle)."""
    import dask.dataframe as dd

    columns = [model.task, model.worker, model.label]
    table = check_dask_votes(votes, dict(zip(("task", "worker", "label"), columns)), model.duplicates)[columns]
    missing, workers, labels = _compute([table.isna().sum(), table[model.worker].map_partitions(_distinct),
                                         table[model.label].map_partitions(_distinct)])
    check_vote_values(missing)
    workers = pd.Index(pd.unique(workers.to_numpy()), name=model.worker)
    labels = pd.Index(pd.unique(labels.to_numpy()), name=model.label)
    workers, labels = workers[check_sortable(workers, model.worker)], labels[check_sortable(labels, model.label)]
    truth = pd.Series(dtype=np.int64)
    if gold is not None:
        given = check_gold_frame(gold, model.task, model.label, labels)
        truth = pd.Series(labels.get_indexer(given.to_numpy()), index=given.index)
    folder = tempfile.mkdtemp(prefix="wmvtrust-", dir=scratch)
    weakref.finalize(model, shutil.rmtree, folder, True)  # the lazy labels read the folder: it lives with the model
    # p2p needs the distributed scheduler, and dask picks it whenever a client exists
    shuffled = table.shuffle(on=model.task, npartitions=table.npartitions,
                             shuffle_method=None if _client() else "tasks")
    shared = [_delayed(x) for x in (workers, labels, truth)]
    encoded = _compute([_delayed(_encode)(part, os.path.join(folder, str(i)), columns, *shared)
                        for i, part in enumerate(shuffled.to_delayed())])
    for repeated in encoded:
        if isinstance(repeated, pd.DataFrame):
            check_one_vote_each(np.ones(len(repeated), dtype=bool), repeated, model.task, model.worker)
    files = [os.path.join(folder, str(i)) for i in range(len(encoded))]
    source = PartitionedVotes(files, sum(n for n, _ in encoded), workers.size, labels.size, sum(k for _, k in encoded))
    state = model._learn(source, workers, labels)
    model.class_prior_ = pd.Series(state["class_prior"], index=labels, name="prior")
    meta = pd.DataFrame(np.empty((0, labels.size)), columns=labels,
                        index=pd.Index([], dtype=table[model.task].dtype, name=model.task))
    model.probas_ = dd.from_delayed([_delayed(_posteriors)(f, model, state, workers.size, labels) for f in files],
                                    meta=meta, verify_meta=False)
    # an integer seed gives every partition the coin of the in-memory fit; a Generator gives one draw for all
    seed = model.seed if isinstance(model.seed, (int, np.integer)) else int(check_rng(model.seed).integers(2**63))
    dtype = labels.dtype if model.ties == "coin" else object
    model.labels_ = model.probas_.map_partitions(_decide, labels, model.ties, seed, meta=pd.Series(
        dtype=dtype, name=model.label, index=pd.Index([], dtype=meta.index.dtype, name=model.task)))
    model._tie_seed = seed
    for name, value in state.items():
        if name != "class_prior":
            setattr(model, name, value)
    model._partitions = files, state, workers.size, labels


def labelled(model: "_Aggregator") -> Any:
    """The table the command line writes, as a dask DataFrame: task, label, then ``p_<label>`` per label."""
    labels = model.class_prior_.index
    meta = pd.DataFrame({model.task: pd.Series(dtype=model.probas_.index.dtype), model.label: pd.Series(dtype=labels.dtype),
                         **{f"p_{x}": pd.Series(dtype=float) for x in labels}})
    return model.probas_.map_partitions(_labelled_part, model.task, labels, model.ties, model._tie_seed, meta=meta)


def _labelled_part(probas: pd.DataFrame, task: str, labels: pd.Index, ties: Any, seed: int) -> pd.DataFrame:
    return label_table(probas.rename_axis(task), _decide(probas, labels, ties, seed))


def label_table(probas: pd.DataFrame, chosen: pd.Series) -> pd.DataFrame:
    """The labels as the command line writes them: the task, the chosen label, then ``p_<label>`` per label."""
    table = probas.add_prefix("p_")
    table.insert(0, chosen.name, chosen)
    return table.reset_index()


def believed_unknown(model: "_Aggregator") -> float:
    """Mean posterior probability of the decision over the tasks of unknown truth of a partitioned fit (NaN if none)."""
    files, state, n_workers, labels = cast(tuple[list[str], dict[str, Any], int, pd.Index], model._partitions)
    parts = _each_partition(files, _believed_part, model, state, n_workers, labels)
    total, count = (sum(values) for values in zip(*parts))
    return float(total / count) if count else float("nan")


def _distinct(column: pd.Series) -> pd.Series:
    """A partition's distinct values (gathered and made distinct again on the client: no shuffle)."""
    return pd.Series(column.unique(), name=column.name)


def _delayed(x: Any) -> Any:
    import dask

    return dask.delayed(x)


def _compute(tasks: list[Any]) -> list[Any]:
    import dask

    return list(dask.compute(*tasks))


def _client() -> Any:
    """The dask.distributed client that dask computes on, or None (dask's own schedulers)."""
    import dask.base

    return getattr(dask.base.get_scheduler(), "__self__", None)


def _each_partition(files: list[str], function: Any, *args: Any) -> list[Any]:
    """``function(file, *args)`` for every partition file, the results in file order.

    On a dask.distributed client (the scheduler dask would use), one task per worker thread,
    each over a run of consecutive files and bound to the same thread at every call, so that
    a machine reads again the pages it has cached: a scheduler round trip costs milliseconds,
    a task per partition would cost more than an EM pass. Without one, in this process, one
    file after the other.
    """
    client = _client()
    if client is None:
        return [function(f, *args) for f in files]
    slots = sorted(address for address, threads in client.nthreads().items() for _ in range(threads))
    runs = [list(run) for run in np.array_split(np.array(files, dtype=object), min(len(slots), len(files)))]
    futures = [client.submit(_run, run, function, *args, workers=[slot], allow_other_workers=True, pure=False)
               for run, slot in zip(runs, slots)]
    return [result for results in client.gather(futures) for result in results]


def _run(files: list[str], function: Any, *args: Any) -> list[Any]:
    """``function(file, *args)`` for each file, in one dask task: with one numba thread (the workers share the cores)."""
    threads = numba.get_num_threads()
    numba.set_num_threads(1)  # the sums do not depend on it
    try:
        return [function(f, *args) for f in files]
    finally:
        numba.set_num_threads(threads)


def _encode(part: pd.DataFrame, path: str, columns: list[str], workers: pd.Index, labels: pd.Index,
            truth: pd.Series) -> tuple[int, int] | pd.DataFrame:
    """Write one partition's votes as codes in the folder ``path``, one ``.npy`` file per array of ``CODES`` and the
    task names; returns (tasks, tasks of known truth), or the repeated votes found."""
    task, worker, label = columns
    task_codes, tasks = pd.factorize(part[task])
    worker_codes, label_codes = workers.get_indexer(part[worker]), labels.get_indexer(part[label])
    drop = kn.repeated_votes(task_codes, worker_codes, tasks.size, workers.size, False)
    if drop.any():
        return part[drop]
    known = truth.reindex(tasks).fillna(-1).to_numpy(dtype=np.int64)
    starts, order = kn.group_by_task(task_codes.astype(np.int64), tasks.size)  # grouped once, read every iteration
    os.makedirs(path, exist_ok=True)  # a task dask runs again writes again
    arrays = dict(zip(CODES, (starts, task_codes[order], worker_codes[order], label_codes[order], known)))
    for name, codes in arrays.items():
        np.save(os.path.join(path, f"{name}.npy"), codes.astype(np.int64))
    np.save(os.path.join(path, "names.npy"), np.asarray(tasks))  # the names' own dtype: their hash keys the coin
    return tasks.size, int((known >= 0).sum())


def _passes(path: str, n_workers: int, n_labels: int) -> MemoryPasses:
    """A partition's votes, memory-mapped: the operating system keeps the pages read at every iteration while memory
    allows, and they leave this process with the object (nothing stays in a worker between iterations)."""
    starts, task, worker, label, truth = (np.asarray(np.load(os.path.join(path, f"{name}.npy"), mmap_mode="c"))
                                          for name in CODES)  # copy-on-write: writable, as the kernels are compiled for
    return MemoryPasses(Codes.grouped(starts, worker, label, n_workers, n_labels, task), truth)


def _names(path: str) -> pd.Index:
    """A partition's task names, in the order of its task codes."""
    return pd.Index(np.load(os.path.join(path, "names.npy"), allow_pickle=True))  # object names are pickled


def _partition_call(path: str, n_workers: int, n_labels: int, method: str, *args: Any) -> Any:
    return getattr(_passes(path, n_workers, n_labels), method)(*args)


def _posteriors(path: str, model: "_Aggregator", state: dict[str, Any], n_workers: int, labels: pd.Index
                ) -> pd.DataFrame:
    passes = _passes(path, n_workers, labels.size)
    probas = model._posterior(passes.codes, passes.truth, state)
    return pd.DataFrame(probas, index=_names(path).rename(model.task), columns=labels)


def _believed_part(path: str, model: "_Aggregator", state: dict[str, Any], n_workers: int, labels: pd.Index
                   ) -> tuple[float, int]:
    passes = _passes(path, n_workers, labels.size)
    rest = passes.truth < 0
    return float(believed_sum(model._posterior(passes.codes, passes.truth, state)[rest])), int(rest.sum())


def _decide(probas: pd.DataFrame, labels: pd.Index, ties: Any, seed: int) -> pd.Series:
    decision = most_probable(probas.to_numpy(), ties, check_rng(seed), name_keys(probas.index))
    return pd.Series(decided_labels(decision, labels), index=probas.index, name=labels.name)


def decided_labels(decision: NDArray[np.int64], labels: pd.Index) -> pd.Index:
    """The label of each decision code; NA (in an object Index) for a reported tie (-1)."""
    chosen = labels[np.maximum(decision, 0)]
    if (decision < 0).any():  # reported ties
        chosen = pd.Index(np.where(decision >= 0, chosen.to_numpy(dtype=object), pd.NA), dtype=object)
    return chosen
