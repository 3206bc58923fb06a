"""Sweeps over grids (in-process, threads, processes, a dask cluster) and the atomic writers of wmvtrust.io."""

import os
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

import sweep_functions
import wmvtrust as wt
from sweep_functions import panel_accuracy

GRID = {"n": [3, 6], "trials": [500, 2000]}
ORDER = [(3, 500), (3, 2000), (6, 500), (6, 2000)]  # the Cartesian product, the last parameter varying fastest
RESULTS = ["mean_trust", "estimate", "stderr", "exact"]
# the first configurations sleep longest, so with two workers they finish after later ones
SLOW_FIRST = [{"n": 3, "trials": 400, "delay": 0.4}, {"n": 5, "trials": 400, "delay": 0.1},
              {"n": 4, "trials": 800, "delay": 0.0}, {"n": 3, "trials": 400, "delay": 0.0}]


def same(a, b):
    pd.testing.assert_frame_equal(a, b, check_exact=True)  # floats too: the results must be bit-identical


def files_in(folder):
    return sorted(p.name for p in folder.iterdir())


# --- tables -----------------------------------------------------------------------------------------------------
def test_dict_grid_gives_one_row_per_configuration_in_grid_order():
    table = wt.sweep(panel_accuracy, GRID, seed=7)
    assert table.columns.tolist() == ["n", "trials", "seed"] + RESULTS
    assert list(zip(table["n"], table["trials"])) == ORDER
    assert table["seed"].dtype == np.int64 and (table["seed"] >= 0).all()
    assert table["seed"].is_unique
    for row in table.to_dict("records"):  # each row holds what its configuration gives with its own seed
        assert panel_accuracy(row["n"], row["trials"], seed=row["seed"]) == {k: row[k] for k in RESULTS}


def test_list_grid_keeps_its_order_and_gives_repeated_configurations_their_own_seed():
    grid = [{"n": 6, "trials": 300}, {"n": 2, "trials": 900}, {"n": 6, "trials": 300}]
    table = wt.sweep(panel_accuracy, grid, seed=7)
    assert table[["n", "trials"]].to_dict("records") == grid
    assert table["seed"].is_unique
    assert table.loc[0, "mean_trust"] != table.loc[2, "mean_trust"]  # same configuration, another panel
    for row in table.to_dict("records"):
        assert panel_accuracy(row["n"], row["trials"], seed=row["seed"]) == {k: row[k] for k in RESULTS}


def test_seeds_are_reproducible_from_the_root_seed():
    first, again, other = (wt.sweep(panel_accuracy, GRID, seed=s) for s in (7, 7, 8))
    same(first, again)
    assert set(first["seed"]).isdisjoint(other["seed"])
    # a configuration's seed depends on the root seed and its place in the grid, not on what follows it:
    # extending a grid leaves its earlier rows as they were
    prefix = wt.sweep(panel_accuracy, {"n": [3], "trials": [500, 2000]}, seed=7)
    same(prefix, first.iloc[:2])


def test_a_function_taking_keyword_arguments_receives_the_configuration_and_the_seed():
    seen = []

    def anything(**kwargs):
        seen.append(kwargs)
        return {"count": len(kwargs)}

    table = wt.sweep(anything, {"a": [1, 2], "b": ["x"]}, seed=3)
    assert seen == [{"a": a, "b": "x", "seed": s} for a, s in zip([1, 2], table["seed"])]
    assert table["count"].tolist() == [3, 3]


# --- executors: the same table wherever it runs ---------------------------------------------------------------
@pytest.fixture(scope="module")
def reference():
    return wt.sweep(panel_accuracy, SLOW_FIRST, seed=11)


@pytest.fixture(scope="module")
def dask_executor(request):
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    request.addfinalizer(cluster.close)
    client = distributed.Client(cluster)
    request.addfinalizer(client.close)  # runs first: finalizers run in reverse order
    return client.get_executor()


def test_a_thread_pool_gives_the_same_table_although_configurations_finish_out_of_order(reference):
    sweep_functions.FINISHED.clear()
    with ThreadPoolExecutor(2) as pool:
        table = wt.sweep(panel_accuracy, SLOW_FIRST, seed=11, executor=pool)
    finished = list(sweep_functions.FINISHED)
    assert sorted(finished) == sorted((c["n"], c["trials"], c["delay"]) for c in SLOW_FIRST)
    assert finished[-1] == (3, 400, 0.4)  # the first configuration finished last...
    same(table, reference)  # ...and still has the first row, with its own seed


def test_a_process_pool_gives_the_same_table(reference):
    # forkserver, not Linux's default fork: the parent has run numba's GNU OpenMP kernels, and a forked child that
    # runs them again is killed ("fork() called from a process already using GNU OpenMP, this is unsafe")
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("forkserver")) as pool:
        table = wt.sweep(panel_accuracy, SLOW_FIRST, seed=11, executor=pool)
    same(table, reference)


def test_a_dask_cluster_gives_the_same_table(reference, dask_executor):
    same(wt.sweep(panel_accuracy, SLOW_FIRST, seed=11, executor=dask_executor), reference)
    same(wt.sweep(panel_accuracy, GRID, seed=7, executor=dask_executor), wt.sweep(panel_accuracy, GRID, seed=7))


def test_an_error_in_a_worker_reaches_the_caller(dask_executor):
    with ThreadPoolExecutor(2) as pool:
        with pytest.raises(ValueError, match=re.escape("trials must be a whole number >= 1; got trials = 0.")):
            wt.sweep(panel_accuracy, {"n": [3], "trials": [100, 0]}, executor=pool)
    with pytest.raises(ValueError, match=re.escape("trials must be a whole number >= 1; got trials = 0.")):
        wt.sweep(panel_accuracy, {"n": [3], "trials": [100, 0]}, executor=dask_executor)


# --- out= and the atomic writers ------------------------------------------------------------------------------
def test_out_writes_the_table_as_csv(tmp_path):
    out = tmp_path / "results" / "panel.csv"  # the folder is created
    table = wt.sweep(panel_accuracy, GRID, seed=7, out=out)
    same(pd.read_csv(out), table)
    assert files_in(out.parent) == ["panel.csv"]  # no temporary file left behind


def test_out_writes_parquet_for_a_parquet_path(tmp_path):
    pytest.importorskip("pyarrow")
    out = tmp_path / "panel.parquet"
    table = wt.sweep(panel_accuracy, GRID, seed=7, out=out)
    same(pd.read_parquet(out), table)
    assert files_in(tmp_path) == ["panel.parquet"]


def recorder():
    calls = []

    def run(n, seed):
        calls.append(n)
        if n == 3:
            raise RuntimeError("the third configuration fails")
        return {"square": n * n}

    return run, calls


@pytest.mark.parametrize("below", ["t.csv", "sub/t.csv"])
def test_an_unwritable_folder_is_refused_before_anything_runs(tmp_path, below):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    run, calls = recorder()
    out = blocker / below
    message = f"the results folder must be a folder that can be written; {str(blocker)!r} is a file. Choose another folder."
    with pytest.raises(ValueError, match=re.escape(message)):
        wt.sweep(run, {"n": [1, 2]}, out=out)
    assert calls == []


@pytest.mark.parametrize("threads", [False, True])
def test_an_interrupted_sweep_writes_nothing(tmp_path, threads):
    run, calls = recorder()
    out = tmp_path / "t.csv"
    with ThreadPoolExecutor(2) if threads else _nothing() as pool:
        with pytest.raises(RuntimeError, match="the third configuration fails"):
            wt.sweep(run, {"n": [1, 2, 3, 4]}, out=out, executor=pool)
    assert 3 in calls
    assert files_in(tmp_path) == []  # neither the table nor a temporary file
    # an earlier table at out is left whole
    out.write_text("n,square\n1,1\n")
    with pytest.raises(RuntimeError, match="the third configuration fails"):
        wt.sweep(run, {"n": [1, 2, 3, 4]}, out=out)
    assert out.read_text() == "n,square\n1,1\n"
    assert files_in(tmp_path) == ["t.csv"]


class _nothing:  # a context manager giving executor=None
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def half_then_fail(error, path_is_self=False):
    """A writer method that writes part of its file (its argument, or ``self`` for Path.write_text), then fails."""
    def write(self, *args, **kwargs):
        with open(self if path_is_self else args[0], "w") as f:
            f.write("n,square\n1,")
        raise error
    return write


def test_write_table_leaves_no_trace_when_the_writer_fails(tmp_path, monkeypatch):
    df = pd.DataFrame({"n": [1, 2], "square": [1, 4]})
    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_fail(OSError(28, "No space left on device")))
    with pytest.raises(OSError, match="No space left on device"):
        wt.io.write_table(df, tmp_path / "t.csv")
    assert files_in(tmp_path) == []
    (tmp_path / "t.csv").write_text("old\n")
    with pytest.raises(OSError):
        wt.io.write_table(df, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text() == "old\n" and files_in(tmp_path) == ["t.csv"]
    monkeypatch.undo()
    wt.io.write_table(df, tmp_path / "t.csv")  # and when the writer succeeds, the file is replaced whole
    same(pd.read_csv(tmp_path / "t.csv"), df)
    assert files_in(tmp_path) == ["t.csv"]


def test_write_figure_leaves_no_trace_when_the_writer_fails(tmp_path, monkeypatch):
    from matplotlib.figure import Figure
    fig = Figure()
    fig.add_subplot().plot([0, 1], [1, 0])
    monkeypatch.setattr(Figure, "savefig", half_then_fail(RuntimeError("renderer crashed")))
    with pytest.raises(RuntimeError, match="renderer crashed"):
        wt.io.write_figure(fig, tmp_path / "f.png")
    assert files_in(tmp_path) == []
    monkeypatch.undo()
    assert wt.io.write_figure(fig, tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert files_in(tmp_path) == ["f.png"]


def test_write_text_leaves_no_trace_when_interrupted(tmp_path, monkeypatch):
    import pathlib
    (tmp_path / "r.md").write_text("# old report")
    monkeypatch.setattr(pathlib.Path, "write_text", half_then_fail(KeyboardInterrupt(), path_is_self=True))
    with pytest.raises(KeyboardInterrupt):  # even Ctrl-C in the middle of writing
        wt.io.write_text("# new report", tmp_path / "r.md")
    monkeypatch.undo()
    assert (tmp_path / "r.md").read_text() == "# old report"
    assert files_in(tmp_path) == ["r.md"]
    wt.io.write_text("# new report", tmp_path / "r.md")
    assert (tmp_path / "r.md").read_text() == "# new report" and files_in(tmp_path) == ["r.md"]


# --- bad input ------------------------------------------------------------------------------------------------
CALLS = []


def counted(n, seed, m=0):
    CALLS.append(n)
    return {"y": n}


def no_seed(n):
    CALLS.append(n)
    return {"y": n}


def returns_number(n, seed):
    return n


CASES = [  # (function, grid, keyword arguments, error type, message)
    (counted, {"n": []}, {}, ValueError,
     "grid must have at least one configuration; it has none (no parameter, or an empty list of values)."),
    (counted, [], {}, ValueError, "grid must have at least one configuration; it has none (no parameter, or an empty list of values)."),
    (counted, {"n": [1], "q": [2], "a": [3]}, {}, ValueError,
     "grid must name only parameters of counted; unknown: a, q. Accepted: n, m."),
    (counted, [{"n": 1}, {"n": 2, "z": 3}], {}, ValueError,
     "grid must name only parameters of counted; unknown: z. Accepted: n, m."),
    (counted, {"n": [1], "seed": [2]}, {}, ValueError,
     "grid must not set 'seed'; the sweep gives every configuration its own seed."),
    (no_seed, {"n": [1]}, {}, ValueError, "function must accept a seed keyword argument; no_seed has none."),
    (counted, {"n": 3}, {}, TypeError, "grid must map each parameter to a list of values; 'n' maps to 3."),
    (counted, {"n": "abc"}, {}, TypeError, "grid must map each parameter to a list of values; 'n' maps to 'abc'."),
    (counted, "n=3", {}, TypeError, "grid must be a dict of lists or a list of dicts; got str."),
    (counted, [{"n": 1}, 3], {}, TypeError, "grid must be a dict of lists or a list of dicts; got list."),
    (counted, {"n": [1]}, {"seed": -1}, ValueError, "seed must be None or a whole number >= 0; got seed = -1."),
    (counted, {"n": [1]}, {"seed": 1.5}, TypeError, "seed must be None or a whole number >= 0; got 1.5."),
]


@pytest.mark.parametrize(("function", "grid", "kwargs", "error", "message"), CASES)
def test_bad_input_is_refused_before_anything_runs(function, grid, kwargs, error, message):
    CALLS.clear()
    with pytest.raises(error, match=re.escape(message)):
        wt.sweep(function, grid, **kwargs)
    assert CALLS == []


def test_a_function_returning_something_else_than_a_dict_is_an_error():
    with pytest.raises(TypeError, match=re.escape("returns_number must return a dict of results; got int.")):
        wt.sweep(returns_number, {"n": [1, 2]})


def test_an_empty_dict_grid_is_refused():
    CALLS.clear()
    with pytest.raises(ValueError, match=re.escape("grid must have at least one configuration")):
        wt.sweep(lambda seed: counted(0, seed), {})
    assert CALLS == []


def test_a_grid_setting_seed_is_refused_for_a_function_taking_keyword_arguments():
    def anything(**kwargs):
        return {}

    with pytest.raises(ValueError, match=re.escape("grid must not set 'seed'")):
        wt.sweep(anything, {"n": [1], "seed": [2]})


# --- progress bar ---------------------------------------------------------------------------------------------
def test_progress_bar_on_request_and_for_long_sweeps_only(capsys):
    wt.sweep(counted, {"n": [1, 2]})
    assert capsys.readouterr().err == ""  # off by default for a small grid
    wt.sweep(counted, {"n": [1, 2]}, progress=True)
    err = capsys.readouterr().err
    assert "counted" in err and "2/2" in err
    wt.sweep(counted, {"n": list(range(20))})
    assert "20/20" in capsys.readouterr().err  # on by default from 20 configurations
    wt.sweep(counted, {"n": list(range(20))}, progress=False)
    assert capsys.readouterr().err == ""
    assert capsys.readouterr().out == ""  # never on stdout


def test_results_named_like_the_configuration_are_refused():
    """A result key that would overwrite a configuration column or the seed is an error, not a silent overwrite."""
    with pytest.raises(ValueError, match=re.escape("must not return keys named like the configuration or 'seed'; "
                                                   "got n, seed.")):
        wt.sweep(lambda n, seed: {"n": 99, "seed": 0}, {"n": [1, 2]})


def test_written_files_get_the_mode_a_plain_open_would_give(tmp_path):
    """Atomic writes go through a private temporary file; the result is still readable as umask allows."""
    mask = os.umask(0o022)
    try:
        out = wt.io.write_text("# report", tmp_path / "r.md")
    finally:
        os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o644
