"""Fitting the aggregators on a dask DataFrame: the same trust and labels as in memory, whatever the partitioning.

A LocalCluster of two worker processes runs every fit, on the votes shuffled and split into
partitions; the in-memory fit on the table in its first order is the reference.
"""

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import wmvtrust as wt
from crowds import aggregators, crowd_with_gold

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

TOL = 1e-9  # sums over partitions are taken in another order than in memory: rounding only


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def crowd():
    return crowd_with_gold(3)


def assert_same_fit(on_dask, in_memory):
    labels, probas = on_dask.labels_.compute(), on_dask.probas_.compute()
    assert labels.index.is_unique and set(labels.index) == set(in_memory.labels_.index)
    assert labels.dtype == in_memory.labels_.dtype
    pd.testing.assert_series_equal(labels.reindex(in_memory.labels_.index), in_memory.labels_)
    np.testing.assert_allclose(probas.reindex(in_memory.probas_.index).to_numpy(), in_memory.probas_.to_numpy(),
                               rtol=0, atol=TOL)
    trust = on_dask.trust_.reindex(in_memory.trust_.index)  # sorted workers against the order of first appearance
    assert set(on_dask.trust_.index) == set(in_memory.trust_.index)
    np.testing.assert_allclose(trust.to_numpy(dtype=float), in_memory.trust_.to_numpy(dtype=float), rtol=0, atol=TOL)
    np.testing.assert_allclose(on_dask.class_prior_.reindex(in_memory.class_prior_.index), in_memory.class_prior_,
                               rtol=0, atol=TOL)
    assert (on_dask.n_iter_, on_dask.converged_) == (in_memory.n_iter_, in_memory.converged_)


@pytest.mark.parametrize("name", list(aggregators()))
def test_every_aggregator_fits_on_partitions_as_in_memory(client, crowd, name):
    make, needs_gold = aggregators()[name]
    votes, gold = crowd
    gold = gold if needs_gold else None
    in_memory = make().fit(votes, gold)
    for partitions, seed in ((7, 1), (3, 2)):  # two partitionings of two row orders
        table = dd.from_pandas(votes.sample(frac=1.0, random_state=seed), npartitions=partitions)
        on_dask = make().fit(table, gold)
        assert on_dask.labels_.npartitions == on_dask.probas_.npartitions == partitions
        assert_same_fit(on_dask, in_memory)
    if name == "difficulty":
        assert on_dask.believed_accuracy_ == pytest.approx(in_memory.believed_accuracy_, abs=TOL)


@pytest.mark.parametrize("scheduler", ["synchronous", "threads"])
def test_without_a_distributed_client_the_partitions_are_read_in_this_process(client, crowd, scheduler):
    import dask

    votes, gold = crowd
    in_memory = wt.ConfusionMatrixVote(trust="gold").fit(votes, gold)
    with dask.config.set(scheduler=scheduler):  # dask's own schedulers, though a client exists
        on_dask = wt.ConfusionMatrixVote(trust="gold").fit(dd.from_pandas(votes.sample(frac=1.0, random_state=3),
                                                                           npartitions=5), gold)
        assert_same_fit(on_dask, in_memory)


def test_reported_ties_stay_reported(client, crowd):
    votes, gold = crowd
    in_memory = wt.WeightedMajorityVote(trust="gold", ties="report").fit(votes, gold)
    on_dask = wt.WeightedMajorityVote(trust="gold", ties="report").fit(dd.from_pandas(votes, npartitions=4), gold)
    labels = on_dask.labels_.compute().reindex(in_memory.labels_.index)
    assert in_memory.labels_.isna().sum() == 40  # the clones' tasks
    pd.testing.assert_series_equal(labels, in_memory.labels_)


def test_a_dask_fit_refuses_what_needs_the_table_in_memory(client, crowd):
    votes, gold = crowd
    table = dd.from_pandas(votes, npartitions=3)
    with pytest.raises(ValueError, match=re.escape("duplicates must be 'error' when the votes are a dask DataFrame; "
                                                   "got 'first'")):
        wt.WeightedMajorityVote(duplicates="first").fit(table)
    with pytest.raises(ValueError, match=re.escape("restarts must be 0 when the votes are a dask DataFrame")):
        wt.ConfusionMatrixVote(restarts=2).fit(table)
    fitted = wt.WeightedMajorityVote().fit(table)
    with pytest.raises(ValueError, match=re.escape("summary() must be asked of an aggregator fitted on a pandas table")):
        fitted.summary()


def test_bad_dask_votes_are_named(client, crowd):
    votes, _ = crowd
    with pytest.raises(ValueError, match=re.escape("votes must have a label column named 'answer'")):
        wt.WeightedMajorityVote(label="answer").fit(dd.from_pandas(votes, npartitions=2))
    gone = votes.index % 97 == 5
    holes = votes.assign(label=votes["label"].astype(float).where(~gone))
    with pytest.raises(ValueError, match=re.escape(f"votes must have no missing 'label'; {gone.sum()} rows have none")):
        wt.WeightedMajorityVote().fit(dd.from_pandas(holes, npartitions=2))
    twice = pd.concat([votes, votes.iloc[[10]]], ignore_index=True)
    task, worker = twice.iloc[10][["task", "worker"]]
    with pytest.raises(ValueError, match=f"{task!r}.*{worker!r}|{worker!r}.*{task!r}"):
        wt.WeightedMajorityVote().fit(dd.from_pandas(twice, npartitions=2))


def test_importing_and_fitting_pandas_imports_no_dask():
    code = ("import sys, pandas as pd, wmvtrust as wt; "
            "wt.WeightedMajorityVote().fit(pd.DataFrame({'task': [1, 1, 2], 'worker': ['a', 'b', 'a'], "
            "'label': [0, 1, 1]})); print(sorted(m for m in sys.modules if m.split('.')[0] == 'dask'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- the command line on a local cluster


def aggregate(*argv):
    from wmvtrust.cli import main

    return main(["aggregate", *map(str, argv)])


def parts(votes, folder, n=4):
    folder.mkdir()
    for i in range(n):
        votes.iloc[i::n].to_parquet(folder / f"part.{i}.parquet")
    return folder


def test_the_command_line_aggregates_a_parquet_folder_on_local_workers(tmp_path, crowd, capsys, caplog):
    votes, _ = crowd
    folder = parts(votes, tmp_path / "votes")
    votes.to_csv(tmp_path / "votes.csv", index=False)
    stale = tmp_path / "labels.parquet"
    stale.mkdir()
    (stale / "part.99.parquet").write_bytes(b"from an older run")  # the folder is replaced as a whole
    assert aggregate(folder, "--workers", 2, "--out", stale) == 0
    assert aggregate(tmp_path / "votes.csv", "--out", tmp_path / "memory.csv") == 0
    assert "EM iterations: 55 (converged)" in capsys.readouterr().out
    assert not [r for r in caplog.records if "Shuffle" in r.getMessage()]  # the scheduler's log of each shuffle
    on_dask = pd.read_parquet(stale).set_index("task").sort_index()
    in_memory = pd.read_csv(tmp_path / "memory.csv").set_index("task").sort_index()
    assert sorted(p.name for p in stale.iterdir()) == [f"part.{i}.parquet" for i in range(4)]
    assert list(on_dask.columns) == list(in_memory.columns) and (on_dask["label"] == in_memory["label"]).all()
    np.testing.assert_allclose(on_dask.filter(like="p_"), in_memory.filter(like="p_"), rtol=0, atol=TOL)
    trust = pd.read_parquet(tmp_path / "labels.trust.parquet").set_index("worker").sort_index()
    memory_trust = pd.read_csv(tmp_path / "memory.trust.csv").set_index("worker").sort_index()
    np.testing.assert_allclose(trust["mean"], memory_trust["mean"], rtol=0, atol=TOL)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left


def test_the_command_line_on_dask_refuses_a_bad_partition_or_a_single_file_out(tmp_path, crowd, capsys):
    votes, _ = crowd
    folder = parts(votes, tmp_path / "votes")
    assert aggregate(folder, "--workers", 2, "--out", tmp_path / "labels.csv") == 2
    assert "--out must end in .parquet with --scheduler or --workers" in capsys.readouterr().err
    (folder / "part.2.parquet").write_bytes(b"not parquet")
    assert aggregate(folder, "--workers", 2, "--out", tmp_path / "labels.parquet") == 2
    assert "part.2.parquet" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["votes"]  # nothing written


def test_the_lazy_labels_write_to_parquet_with_their_task_index(client, crowd, tmp_path):
    votes, _ = crowd
    model = wt.WeightedMajorityVote().fit(dd.from_pandas(votes, npartitions=3))
    model.labels_.to_frame().to_parquet(tmp_path / "labels")
    written = pd.read_parquet(tmp_path / "labels")["label"]
    assert written.index.name == "task"
    pd.testing.assert_series_equal(written.sort_index(), model.labels_.compute().sort_index(), check_index_type=False)
