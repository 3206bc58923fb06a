"""Sweeps: run a pure function over a grid of configurations, into one tidy DataFrame."""

import os
from collections.abc import Callable
from concurrent.futures import Executor, as_completed
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ._validation import Grid, check_grid, check_seed, check_sweep_names, check_sweep_result
from .io import check_writable_folder, write_table

PROGRESS_FROM = 20  # configurations: longer sweeps show a progress bar by default


def configurations(grid: Grid) -> list[dict[str, Any]]:
    """The configurations of a grid: a dict of lists (Cartesian product) or a list of dicts.

    Examples
    --------
    >>> configurations({"n": [3, 5], "m": [10]})
    [{'n': 3, 'm': 10}, {'n': 5, 'm': 10}]
    """
    return check_grid(grid)


def _run_one(function: Callable[..., dict[str, Any]], config: dict[str, Any], seed: int) -> dict[str, Any]:
    return check_sweep_result(function, config, function(**config, seed=seed))


def sweep(function: Callable[..., dict[str, Any]], grid: Grid, *, seed: int | None = 0,
          executor: Executor | None = None, progress: bool | None = None, out: str | os.PathLike[str] | None = None
          ) -> pd.DataFrame:
    """Run ``function(**config, seed=...)`` for every configuration; one row per configuration.

    Every configuration gets its own seed, spawned from ``seed`` by
    ``np.random.SeedSequence`` in grid order, so the result does not depend on
    the order or the place in which configurations run.

    Parameters
    ----------
    function : callable
        A pure function of the grid's parameters and a ``seed`` keyword, returning a
        dict of results. With an executor that runs in other processes (dask), it must
        be importable there (defined in a module, not in ``__main__``).
    grid : dict of lists or list of dicts
        The configurations: the Cartesian product of a dict's lists, or the dicts given.
    seed : int, default=0
        Root seed.
    executor : concurrent.futures.Executor, optional
        Where to run: e.g. a ThreadPoolExecutor, or ``Client(...).get_executor()`` of
        dask.distributed for a cluster. Default: in this process, one after another.
        A ``ProcessPoolExecutor`` needs ``mp_context=multiprocessing.get_context("spawn")``
        (or "forkserver") once a parallel numba kernel has run: forking a process that
        uses OpenMP is unsafe and its workers die.
    progress : bool, optional
        Show a progress bar; default when there are at least 20 configurations.
    out : str or Path, optional
        Also write the table there, atomically (CSV, or Parquet for ``.parquet``); the
        folder is checked before anything runs.

    Returns
    -------
    pandas.DataFrame
        In grid order: the configuration's parameters, ``seed``, then the results.

    Examples
    --------
    >>> def panel(n, m, seed):
    ...     return {"mean": float(np.random.default_rng(seed).binomial(m, 0.7, n).mean())}
    >>> table = sweep(panel, {"n": [3, 5], "m": [10, 20]}, seed=1)
    >>> table.columns.tolist(), len(table)
    (['n', 'm', 'seed', 'mean'], 4)
    """
    configs = configurations(grid)
    check_sweep_names(function, configs)
    if out is not None:
        check_writable_folder(Path(out).parent)
    streams = np.random.SeedSequence(check_seed(seed)).spawn(len(configs))
    seeds = [int(s.generate_state(1, np.uint64)[0] >> np.uint64(1)) for s in streams]  # fits an int64 column
    show = len(configs) >= PROGRESS_FROM if progress is None else bool(progress)
    bar = tqdm(total=len(configs), desc=getattr(function, "__name__", "sweep"), disable=not show)
    results: list[dict[str, Any] | None] = [None] * len(configs)
    if executor is None:
        for k, (config, s) in enumerate(zip(configs, seeds)):
            results[k] = _run_one(function, config, s)
            bar.update()
    else:
        futures = {executor.submit(_run_one, function, config, s): k for k, (config, s) in enumerate(zip(configs, seeds))}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            bar.update()
    bar.close()
    done = cast(list[dict[str, Any]], results)  # every configuration has run (or its error was raised): no None left
    table = pd.DataFrame([{**config, "seed": s, **result} for config, s, result in zip(configs, seeds, done)])
    if out is not None:
        write_table(table, out)
    return table
