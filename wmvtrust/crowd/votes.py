"""The vote table: read and check a long DataFrame of votes, encode it, and read gold tables against it."""

from dataclasses import dataclass
from typing import Literal, cast

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .. import _kernels as kn
from .._validation import (check_choice, check_gold_covers, check_gold_frame, check_one_vote_each, check_sortable,
                           check_vote_frame)
from .._labels.codes import Codes

DUPLICATES = ("error", "first", "last")


@dataclass(frozen=True)
class Votes:
    """A validated vote table: the names of tasks, workers and labels, and the votes as codes into them.

    ``tasks`` and ``workers`` are in order of first appearance, ``labels`` sorted;
    ``codes.task[k]`` indexes ``tasks``, and so on.
    """

    tasks: pd.Index
    workers: pd.Index
    labels: pd.Index
    codes: Codes


def read_votes(frame: pd.DataFrame, *, task: str = "task", worker: str = "worker", label: str = "label",
               duplicates: Literal["error", "first", "last"] = "error") -> Votes:
    """Validate and encode a long vote table.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per vote.
    task, worker, label : str
        Column names.
    duplicates : {"error", "first", "last"}, default="error"
        What to do when a worker labels a task twice: refuse, or keep the first or the last vote.

    Returns
    -------
    Votes

    Examples
    --------
    >>> votes = read_votes(pd.DataFrame({"task": ["t1", "t1", "t2"], "worker": ["a", "b", "a"],
    ...                                  "label": ["cat", "dog", "cat"]}))
    >>> list(votes.tasks), list(votes.workers), list(votes.labels), votes.codes.label.tolist()
    (['t1', 't2'], ['a', 'b'], ['cat', 'dog'], [0, 1, 0])
    """
    check_choice(duplicates, "duplicates", DUPLICATES)
    table = check_vote_frame(frame, {"task": task, "worker": worker, "label": label})
    # numbered on the whole table, before any duplicate is dropped: the order of first appearance stays
    task_codes, tasks = _factorize(table[task])
    worker_codes, workers = _factorize(table[worker])
    label_codes, labels = _factorize(table[label])
    order = check_sortable(labels, label)  # labels sorted, codes renumbered to match
    label_codes, labels = np.argsort(order)[label_codes], labels[order]
    drop = kn.repeated_votes(task_codes, worker_codes, tasks.size, workers.size, duplicates == "last")
    if duplicates == "error":
        check_one_vote_each(drop, table, task, worker)
    if drop.any():
        task_codes, worker_codes, label_codes = task_codes[~drop], worker_codes[~drop], label_codes[~drop]
    return Votes(pd.Index(tasks, name=task), pd.Index(workers, name=worker), pd.Index(labels, name=label),
                 Codes(task_codes, worker_codes, label_codes, tasks.size, workers.size, labels.size))


def name_keys(names: pd.Index) -> NDArray[np.uint64]:
    """One uint64 per task or worker name, a hash of its value alone (pandas' stable hash): the key of its coin."""
    return pd.util.hash_array(names.to_numpy())


def _factorize(column: pd.Series) -> tuple[NDArray[np.int64], pd.Index]:
    """(codes, distinct values) in order of first appearance; integers in a compact range by a lookup table."""
    values = column.to_numpy()
    if values.dtype.kind in "iu" and values.size:
        lowest, highest = int(values.min()), int(values.max())
        if highest - lowest < 4 * values.size + 1024:
            codes, uniques = kn.factorize_ints(values, lowest, highest - lowest + 1)
            return codes, pd.Index(uniques)
    codes, uniques = pd.factorize(column)
    return codes, pd.Index(uniques)


def gold_codes(data: Votes, gold: pd.DataFrame, task: str, label: str) -> NDArray[np.int64]:
    """The code of each task's known truth (-1 where none), after checking the gold table.

    Gold tasks that nobody voted on have no code (the command line warns with their count).
    """
    truth = check_gold_frame(gold, task, label, data.labels)
    known = truth.reindex(data.tasks).to_numpy(dtype=object)  # gold tasks without votes drop out here
    codes = np.full(data.tasks.size, -1)
    has = pd.notna(known)
    codes[has] = data.labels.get_indexer(pd.Index(known[has]))
    return codes


def gold_record(data: Votes, truth: NDArray[np.int64],
                no_gold: Literal["prior", "error"] = "prior") -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Right and cast gold votes per worker (arrays over ``data.workers``), given ``gold_codes``."""
    c = data.codes
    y = truth[c.task]
    on_gold = y >= 0
    right = np.bincount(c.worker[on_gold], weights=y[on_gold] == c.label[on_gold], minlength=c.n_workers)
    n_gold = np.bincount(c.worker[on_gold], minlength=c.n_workers).astype(float)
    if no_gold == "error":
        check_gold_covers(n_gold, data.workers)
    return cast(NDArray[np.float64], right), n_gold  # numpy's stubs type bincount as intp, even with weights
