"""The vote table: read and check a long DataFrame of votes, encode it, and read gold tables against it."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import _kernels as kn
from .._validation import check_choice, fail, plain
from .codes import Codes

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


def read_votes(frame, *, task="task", worker="worker", label="label", duplicates="error"):
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
    if not isinstance(frame, pd.DataFrame):
        raise fail("votes", "be a pandas DataFrame", f"got {type(frame).__name__}", error=TypeError)
    columns = {"task": task, "worker": worker, "label": label}
    for role, name in columns.items():
        if name not in frame.columns:
            raise fail("votes", f"have a {role} column named {name!r}",
                       f"its columns are {', '.join(map(repr, frame.columns))}", f"Pass {role}=... to name it.")
    if frame.empty:
        raise fail("votes", "have at least one vote", "the table is empty")
    table = frame[[task, worker, label]]
    for name in (task, worker, label):
        if table[name].dtype.kind in "iub":  # integers cannot be missing
            continue
        missing = table[name].isna().to_numpy()
        if missing.any():
            count = int(missing.sum())
            raise fail("votes", f"have no missing {name!r}", f"row {plain(table.index[missing.argmax()])!r} has none",
                       f"{count} row{'s' if count > 1 else ''} in all; drop or fill them first.")
    # numbered on the whole table, before any duplicate is dropped: the order of first appearance stays
    task_codes, tasks = _factorize(table[task])
    worker_codes, workers = _factorize(table[worker])
    label_codes, labels = _factorize(table[label])
    order = np.argsort(labels, kind="stable")  # labels sorted, codes renumbered to match
    label_codes, labels = np.argsort(order)[label_codes], labels[order]
    drop = kn.repeated_votes(task_codes, worker_codes, tasks.size, workers.size, duplicates == "last")
    if drop.any() and duplicates == "error":
        first, count = table.iloc[int(drop.argmax())], int(drop.sum())
        raise fail("votes", "have one vote per (task, worker)",
                   f"worker {plain(first[worker])!r} voted more than once on task {plain(first[task])!r} "
                   f"({count} repeated vote{'s' if count > 1 else ''} in all)",
                   "Pass duplicates='first' or 'last' to keep one.")
    if drop.any():
        task_codes, worker_codes, label_codes = task_codes[~drop], worker_codes[~drop], label_codes[~drop]
    return Votes(pd.Index(tasks, name=task), pd.Index(workers, name=worker), pd.Index(labels, name=label),
                 Codes(task_codes, worker_codes, label_codes, tasks.size, workers.size, labels.size))


def _factorize(column):
    """(codes, distinct values) in order of first appearance; integers in a compact range by a lookup table."""
    values = column.to_numpy()
    if values.dtype.kind in "iu" and values.size:
        lowest, highest = int(values.min()), int(values.max())
        if highest - lowest < 4 * values.size + 1024:
            codes, uniques = kn.factorize_ints(values, lowest, highest - lowest + 1)
            return codes, pd.Index(uniques)
    codes, uniques = pd.factorize(column)
    return codes, pd.Index(uniques)


def gold_codes(data, gold, task, label):
    """The code of each task's known truth (-1 where none), after checking the gold table.

    Gold tasks that nobody voted on have no code (the command line warns with their count).
    """
    if not isinstance(gold, pd.DataFrame):
        raise fail("gold", "be a pandas DataFrame", f"got {type(gold).__name__}", error=TypeError)
    for name in (task, label):
        if name not in gold.columns:
            raise fail("gold", f"have a column named {name!r}", f"its columns are {', '.join(map(repr, gold.columns))}")
    table = gold[[task, label]].drop_duplicates()
    for name in (task, label):
        missing = table[name].isna().to_numpy()
        if missing.any():
            where = f"row {plain(table.index[missing.argmax()])!r}" if name == task else \
                f"task {plain(table[task].iloc[missing.argmax()])!r}"
            raise fail("gold", f"have no missing {name}", f"{where} has none "
                       f"({int(missing.sum())} row{'s' if missing.sum() > 1 else ''} in all)", "Drop or fill it first.")
    twice = table[task].duplicated(keep=False).to_numpy()
    if twice.any():
        first = plain(table[task].iloc[twice.argmax()])
        labels = table[label][(table[task] == first).to_numpy()]
        count = table[task][twice].nunique()
        raise fail("gold", "give each task one label",
                   f"task {first!r} has {' and '.join(repr(plain(x)) for x in labels)} ({count} task{'s' if count > 1 else ''} "
                   "in all)", "Drop the conflicting rows.")
    truth = table.set_index(task)[label]
    unused = sorted(set(truth) - set(data.labels), key=str)
    if unused:
        raise fail("gold", "use only labels that some worker used", f"{unused!r} never appear in the votes")
    known = truth.reindex(data.tasks).to_numpy(dtype=object)  # gold tasks without votes drop out here
    codes = np.full(data.tasks.size, -1)
    has = pd.notna(known)
    codes[has] = data.labels.get_indexer(pd.Index(known[has]))
    return codes


def gold_record(data, truth, no_gold="prior"):
    """Right and cast gold votes per worker (arrays over ``data.workers``), given ``gold_codes``."""
    c = data.codes
    y = truth[c.task]
    on_gold = y >= 0
    right = np.bincount(c.worker[on_gold], weights=y[on_gold] == c.label[on_gold], minlength=c.n_workers)
    n_gold = np.bincount(c.worker[on_gold], minlength=c.n_workers).astype(float)
    if no_gold == "error" and (n_gold == 0).any():
        raise fail("gold", "cover every worker when no_gold='error'",
                   f"worker {plain(data.workers[(n_gold == 0).argmax()])!r} has no gold vote",
                   "Pass no_gold='prior' to give such workers the prior.")
    return right, n_gold
