"""The vote table: read and check a long DataFrame (or Parquet) of votes, encode it, read gold tables against it."""

import importlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .. import _kernels as kn
from .._validation import (check_choice, check_gold_frame, check_one_vote_each,
                           check_parquet_columns, check_parquet_files, check_parquet_path, check_parquet_readable,
                           check_pyarrow, check_sortable, check_vote_frame)
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


def read_votes(frame: pd.DataFrame | str | os.PathLike[str], *, task: str = "task", worker: str = "worker",
               label: str = "label", duplicates: Literal["error", "first", "last"] = "error") -> Votes:
    """Validate and encode a long vote table, given as a DataFrame or as Parquet.

    Parameters
    ----------
    frame : pandas.DataFrame, str or os.PathLike
        One row per vote; or the path of a Parquet file, or of a folder of Parquet files (a dataset as
        pandas, dask or pyarrow write it), of which only the three columns are read (needs pyarrow:
        ``pip install "wmvtrust[dask]"``). A folder's files are read in natural order of their paths
        (``part.2`` before ``part.10``), names starting with ``.`` or ``_`` skipped (``_metadata``,
        temporary files); hive partition folders (``label=cat/``) give their column. Rows are numbered
        from 0 across the files in error messages.
    task, worker, label : str
        Column names.
    duplicates : {"error", "first", "last"}, default="error"
        What to do when a worker labels a task twice: refuse, or keep the first or the last vote.

    Returns
    -------
    Votes

    Raises
    ------
    ValueError
        A missing column or value, a repeated vote; for Parquet also an unreadable file (named), or a
        folder without any data file.
    FileNotFoundError
        The Parquet path does not exist.
    ImportError
        A path is given and pyarrow is not installed.

    Examples
    --------
    >>> votes = read_votes(pd.DataFrame({"task": ["t1", "t1", "t2"], "worker": ["a", "b", "a"],
    ...                                  "label": ["cat", "dog", "cat"]}))
    >>> list(votes.tasks), list(votes.workers), list(votes.labels), votes.codes.label.tolist()
    (['t1', 't2'], ['a', 'b'], ['cat', 'dog'], [0, 1, 0])

    The same votes written as a folder of two Parquet files, with a column that is not read:

    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> frame = pd.DataFrame({"task": ["t1", "t1", "t2"], "worker": ["a", "b", "a"], "label": ["cat", "dog", "cat"],
    ...                       "seconds": [3.5, 1.2, 8.0]})
    >>> frame.iloc[:2].to_parquet(folder / "part.0.parquet")
    >>> frame.iloc[2:].to_parquet(folder / "part.1.parquet")
    >>> votes = read_votes(folder)
    >>> list(votes.tasks), list(votes.workers), list(votes.labels), votes.codes.label.tolist()
    (['t1', 't2'], ['a', 'b'], ['cat', 'dog'], [0, 1, 0])
    """
    check_choice(duplicates, "duplicates", DUPLICATES)
    if isinstance(frame, (str, os.PathLike)):
        frame = read_parquet_table(frame, {"task": task, "worker": worker, "label": label})
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


def read_parquet_table(path: str | os.PathLike[str], columns: Mapping[str, str], *, name: str = "votes",
                       hint: str = "Pass {role}=... to name it.") -> pd.DataFrame:
    """The ``columns`` (role -> column name) of a Parquet file or folder, indexed by row number from 0.

    A folder is read as ``read_votes`` describes, one file at a time, so that an error names the file.
    A column stored as categorical comes back in its categories' type, a column pandas stored as the
    index comes back as a column. ``name`` is the argument in error messages, ``hint`` the advice for
    a missing column (``{role}`` stands for its role).
    """
    dataset, folder = _open_parquet(path, name)
    unreadable = _unreadable_hint(folder)
    needed = list(dict.fromkeys(columns.values()))
    tables = []
    for fragment in dataset.get_fragments():  # in the order of the files given
        file = fragment.path
        schema = check_parquet_readable(lambda: fragment.physical_schema, file, name, unreadable)
        keys = _hive_keys(Path(file).relative_to(path)) if folder else []  # columns given by the folders' names
        check_parquet_columns([*_stored_columns(schema.names), *keys], columns, name, file, hint)
        tables.append(check_parquet_readable(lambda: fragment.to_table(columns=needed, schema=dataset.schema), file,
                                             name, unreadable))
    frame = importlib.import_module("pyarrow").concat_tables(tables).to_pandas()
    as_index = [level for level in frame.index.names if level in needed and level not in frame.columns]
    if as_index:  # written from a frame indexed by this column: pandas' metadata made it the index again
        frame = frame.reset_index(as_index)
    frame = frame[needed]
    for column in needed:
        values = frame[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            frame[column] = values.astype(object if values.hasnans else values.cat.categories.dtype)
    frame.index = pd.RangeIndex(len(frame))
    return frame


def parquet_columns(path: str | os.PathLike[str], *, name: str = "votes") -> list[str]:
    """The columns of a Parquet file or folder (of its first file, and its hive partition keys)."""
    dataset, _ = _open_parquet(path, name)
    return _stored_columns(dataset.schema.names)


def parquet_rows(path: str | os.PathLike[str], *, name: str = "votes") -> int:
    """The number of rows of a Parquet file or folder, from the files' metadata (their footers)."""
    root, files = _parquet_files(path, name)
    parquet = importlib.import_module("pyarrow.parquet")
    unreadable = _unreadable_hint(root.is_dir())
    return sum(check_parquet_readable(lambda: parquet.read_metadata(file).num_rows, file, name, unreadable)
               for file in files)


def _parquet_files(path: str | os.PathLike[str], name: str) -> tuple[Path, list[Path]]:
    """The path checked, and its data files: itself, or every file below it not hidden (``.``) nor private
    (``_``, e.g. ``_metadata``), in natural order (digits compared as numbers: dask's part.10 after part.9)."""
    check_pyarrow(name, path)
    root = check_parquet_path(path, name)
    if not root.is_dir():
        return root, [root]
    files = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [sub for sub in subfolders if not sub.startswith((".", "_"))]
        files += [Path(folder, file) for file in names if not file.startswith((".", "_"))]
    check_parquet_files(files, root, name)
    return root, sorted(files, key=lambda file: (_natural_key(file.relative_to(root)), file.parts))


def _natural_key(path: Path) -> tuple[tuple[str | int, ...], ...]:
    # re.split with a group alternates text, digits, text...: positions never compare a str with an int
    return tuple(tuple(int(piece) if k % 2 else piece for k, piece in enumerate(re.split(r"([0-9]+)", part)))
                 for part in path.parts)


def _open_parquet(path: str | os.PathLike[str], name: str) -> tuple[Any, bool]:
    """A pyarrow dataset of the files of ``path`` in order (hive partitions below a folder), and whether it is a
    folder. Its schema is the first file's: that file's footer is read, and an error names it."""
    root, files = _parquet_files(path, name)
    folder = root.is_dir()
    unreadable = _unreadable_hint(folder)
    parquet, dataset = importlib.import_module("pyarrow.parquet"), importlib.import_module("pyarrow.dataset")
    check_parquet_readable(lambda: parquet.read_schema(files[0]), files[0], name, unreadable)
    opened = check_parquet_readable(
        lambda: dataset.dataset([str(file) for file in files], format="parquet",
                                partitioning="hive" if folder else None, partition_base_dir=str(root)),
        root, name, unreadable)
    return opened, folder


def _hive_keys(file: Path) -> list[str]:
    """The columns that hive partition folders (``key=value``) on the way to ``file`` give it."""
    return [part.split("=")[0] for part in file.parts[:-1] if "=" in part]


def _unreadable_hint(folder: bool) -> str:
    return "Rewrite that file, or move it out of the folder." if folder else "Check that it is a Parquet file."


def _stored_columns(names: list[str]) -> list[str]:
    """The column names, less the unnamed index pandas stores as ``__index_level_0__``."""
    return [column for column in names if not re.fullmatch(r"__index_level_\d+__", column)]


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
