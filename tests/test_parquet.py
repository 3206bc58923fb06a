"""Parquet input: ``read_votes(path)`` and the command line on Parquet files and folders.

The reference is always the same votes as a DataFrame (or as CSV for the command line), so every
expected value comes from the path that existed before Parquet.
"""

import re
import sys

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import wmvtrust as wt
from wmvtrust import cli
from wmvtrust.cli import main


def crowd(seed=0, n_tasks=40, n_workers=6):
    """A vote table: tasks "t00".., workers "w0".., labels cat/dog/owl, each worker on about 60% of the tasks."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, n_tasks)
    rows = [(f"t{t:02d}", f"w{w}", ["cat", "dog", "owl"][truth[t] if rng.random() < 0.75 else rng.integers(0, 3)])
            for t in range(n_tasks) for w in range(n_workers) if rng.random() < 0.6]
    order = rng.permutation(len(rows))  # tasks interleaved, as a log would hold them
    return pd.DataFrame([rows[k] for k in order], columns=["task", "worker", "label"])


VOTES = crowd()


def write_parts(frame, folder, sizes, name="part.{}.parquet"):
    """``frame`` cut in consecutive parts of the given ``sizes`` (the last takes the rest), one Parquet file each."""
    folder.mkdir(parents=True, exist_ok=True)
    bounds = [*np.cumsum([0, *sizes]), len(frame)]
    for k, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:])):
        frame.iloc[start:stop].to_parquet(folder / name.format(k))
    return folder


def assert_same_votes(got, expected):
    for field in ("tasks", "workers", "labels"):
        pd.testing.assert_index_equal(getattr(got, field), getattr(expected, field), exact=True)
    for field in ("task", "worker", "label"):
        np.testing.assert_array_equal(getattr(got.codes, field), getattr(expected.codes, field), strict=True)
    assert (got.codes.n_tasks, got.codes.n_workers, got.codes.n_labels) == \
        (expected.codes.n_tasks, expected.codes.n_workers, expected.codes.n_labels)


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a write cut short: the footer is gone


# ---------------------------------------------------------------- read_votes(path)


def test_read_votes_of_a_file_equals_read_votes_of_the_frame(tmp_path):
    frame = VOTES.assign(task=VOTES["task"].str[1:].astype(int), seconds=1.5)  # integer tasks stay integers
    frame.index = np.random.default_rng(1).permutation(len(frame))  # stored as __index_level_0__, not read
    frame.to_parquet(tmp_path / "votes.parquet")
    assert "__index_level_0__" in pq.read_schema(tmp_path / "votes.parquet").names
    got = wt.read_votes(tmp_path / "votes.parquet")
    assert_same_votes(got, wt.read_votes(frame))
    assert got.tasks.dtype == np.int64 and got.tasks[0] == frame["task"].iloc[0]
    assert_same_votes(wt.read_votes(str(tmp_path / "votes.parquet")), got)  # a str path too


def test_read_votes_of_a_folder_reads_the_parts_in_natural_order_and_skips_hidden_files(tmp_path):
    frame = pd.concat([VOTES, VOTES.iloc[[3, 50, 100]].assign(label="owl")], ignore_index=True)  # 3 repeated votes
    folder = write_parts(frame, tmp_path / "votes", [9] * 11)  # part.0 .. part.11: lexicographic order would differ
    (folder / "_metadata").write_text("not Parquet")  # skipped, as pyarrow and dask do; read, they would fail
    (folder / "_SUCCESS").write_text("")
    (folder / ".part.12.parquet.tmp").write_text("a write in progress")
    (folder / ".staging").mkdir()
    (folder / ".staging" / "part.0.parquet").write_text("not Parquet")
    for duplicates in ("first", "last"):
        assert_same_votes(wt.read_votes(folder, duplicates=duplicates), wt.read_votes(frame, duplicates=duplicates))
    # the test can fail: in the order a plain sort gives (part.1, part.10, part.11, part.2, ...) the tasks come
    # first in another order
    parts = sorted(folder.glob("part.*.parquet"))
    assert [p.name for p in parts][:3] == ["part.0.parquet", "part.1.parquet", "part.10.parquet"]
    lexicographic = wt.read_votes(pd.concat([pd.read_parquet(p) for p in parts]), duplicates="last")
    assert not lexicographic.tasks.equals(wt.read_votes(frame, duplicates="last").tasks)


@pytest.mark.parametrize("by", [["label"], ["day", "worker"]])
def test_read_votes_of_a_hive_partitioned_folder(tmp_path, by):
    frame = VOTES.assign(day=np.where(np.arange(len(VOTES)) % 3 == 0, "mon", "tue"))
    frame.to_parquet(tmp_path / "votes", partition_cols=by)  # the partition columns live in the folders' names
    assert all("=" in p.parent.name for p in (tmp_path / "votes").rglob("*.parquet"))
    expected = frame.sort_values(by, kind="stable")  # one folder per value, in sorted order, rows kept in order
    assert_same_votes(wt.read_votes(tmp_path / "votes"), wt.read_votes(expected))


def test_read_votes_of_parquet_numbers_rows_from_0_across_the_files(tmp_path):
    frame = VOTES.copy()
    frame.loc[25, "worker"] = None  # row 25 of the whole table: in part.2 (rows 20-29)
    folder = write_parts(frame, tmp_path / "votes", [10, 10, 10])
    message = "votes must have no missing 'worker'; row {} has none. 1 row in all; drop or fill them first."
    with pytest.raises(ValueError, match=f"^{re.escape(message.format(25))}$"):
        wt.read_votes(folder)
    with pytest.raises(ValueError, match=f"^{re.escape(message.format(25))}$"):  # the same as for the DataFrame
        wt.read_votes(frame)
    # part.2 alone: row 5, although pandas stored the slice's index (20 to 29) in its metadata
    with pytest.raises(ValueError, match=f"^{re.escape(message.format(5))}$"):
        wt.read_votes(folder / "part.2.parquet")


def test_read_votes_of_columns_stored_as_index_or_categorical(tmp_path):
    VOTES.set_index("task").to_parquet(tmp_path / "indexed.parquet")  # pandas makes "task" the index again
    VOTES.astype({"label": "category"}).to_parquet(tmp_path / "categorical.parquet")
    expected = wt.read_votes(VOTES)
    assert_same_votes(wt.read_votes(tmp_path / "indexed.parquet"), expected)
    assert_same_votes(wt.read_votes(tmp_path / "categorical.parquet"), expected)


def only_hidden_files(tmp):
    folder = write_parts(VOTES, tmp / "votes", [50])
    (folder / "part.0.parquet").rename(folder / "_metadata")
    (folder / "part.1.parquet").rename(folder / ".part.1.parquet")
    return folder


def corrupt_part(tmp, k):
    truncate(write_parts(VOTES, tmp / "votes", [50, 50]) / f"part.{k}.parquet")
    return tmp / "votes"


def part_without_worker(tmp):
    folder = write_parts(VOTES, tmp / "votes", [50, 50])
    VOTES.iloc[100:].drop(columns="worker").to_parquet(folder / "part.2.parquet")
    return folder


def file_of(frame, path):
    frame.to_parquet(path)
    return path


@pytest.mark.parametrize("setup, error, message", [
    (lambda tmp: tmp / "missing", FileNotFoundError,
     "votes must name an existing Parquet file or folder; '{tmp}/missing' does not exist. Check the path."),
    (only_hidden_files, ValueError,
     "votes must name a Parquet file or a folder holding one; the folder '{tmp}/votes' holds no data file (names "
     "starting with '.' or '_' are skipped). Check the path."),
    (lambda tmp: corrupt_part(tmp, 1), ValueError,
     "votes must be readable Parquet; '{tmp}/votes/part.1.parquet' cannot be read: Parquet magic bytes "
     "not found in footer. Either the file is corrupted or this is not a parquet file. Rewrite that file, or move "
     "it out of the folder."),
    (lambda tmp: corrupt_part(tmp, 0), ValueError,
     "votes must be readable Parquet; '{tmp}/votes/part.0.parquet' cannot be read: Parquet magic bytes "
     "not found in footer. Either the file is corrupted or this is not a parquet file. Rewrite that file, or move "
     "it out of the folder."),  # the first file, whose footer gives the schema
    (lambda tmp: (tmp / "votes.parquet").write_bytes(b"") or tmp / "votes.parquet", ValueError,
     "votes must be readable Parquet; '{tmp}/votes.parquet' cannot be read: Parquet file size is 0 bytes. "
     "Check that it is a Parquet file."),
    (lambda tmp: file_of(VOTES.rename(columns={"task": "item"}), tmp / "votes.parquet"), ValueError,
     "votes must have a task column named 'task'; the columns of '{tmp}/votes.parquet' are 'item', "
     "'worker', 'label'. Pass task=... to name it."),
    (part_without_worker, ValueError,
     "votes must have a worker column named 'worker'; the columns of '{tmp}/votes/part.2.parquet' are "
     "'task', 'label'. Pass worker=... to name it."),  # a later part without the column: named, not filled
], ids=["missing", "no-data-file", "corrupt-part", "corrupt-first-part", "empty-file", "no-column",
        "part-without-column"])
def test_read_votes_of_a_bad_path_names_it(tmp_path, setup, error, message):
    path = setup(tmp_path)
    with pytest.raises(error) as raised:
        wt.read_votes(path)
    assert str(raised.value) == message.format(tmp=tmp_path)


def test_read_votes_of_a_path_without_pyarrow_says_how_to_install_it(tmp_path, monkeypatch):
    VOTES.to_parquet(tmp_path / "votes.parquet")
    for module in ("pyarrow", "pyarrow.dataset", "pyarrow.parquet"):
        monkeypatch.setitem(sys.modules, module, None)  # import pyarrow now fails
    with pytest.raises(ImportError) as raised:
        wt.read_votes(tmp_path / "votes.parquet")
    assert str(raised.value) == (f"votes must be read with pyarrow, as '{tmp_path}/votes.parquet' is Parquet; pyarrow "
                                 "cannot be imported (import of pyarrow halted; None in sys.modules). Install it: "
                                 'pip install "wmvtrust[dask]" (or pip install pyarrow).')
    assert_same_votes(wt.read_votes(VOTES), wt.read_votes(VOTES.copy()))  # a DataFrame needs no pyarrow


# ---------------------------------------------------------------- the command line


def aggregate(*argv):
    return main(["aggregate", *map(str, argv)])


GOLD = pd.DataFrame({"task": ["t00", "t01", "t02", "t03"], "label": ["cat", "dog", "owl", "cat"]})


@pytest.mark.parametrize("method, extra", [("wmv", None), ("one-coin", None), ("dawid-skene", "gold"),
                                           ("wmv", "trust")])
def test_a_parquet_folder_aggregates_exactly_like_the_same_csv(tmp_path, capsys, method, extra):
    VOTES.to_csv(tmp_path / "votes.csv", index=False)
    folder = write_parts(VOTES, tmp_path / "votes", [40, 40, 40, 40])  # 5 parts
    as_csv, as_parquet = ["--method", method], ["--method", method]
    if extra == "gold":
        GOLD.to_csv(tmp_path / "gold.csv", index=False)
        write_parts(GOLD, tmp_path / "gold", [2])
        as_csv += ["--gold", tmp_path / "gold.csv"]
        as_parquet += ["--gold", tmp_path / "gold"]
    if extra == "trust":  # the trust table a first run wrote, read back as the trust (its column "mean")
        assert aggregate(tmp_path / "votes.csv", "--out", tmp_path / "first" / "labels.parquet") == 0
        trust = pd.read_parquet(tmp_path / "first" / "labels.trust.parquet")
        trust.to_csv(tmp_path / "trust.csv", index=False)
        as_csv += ["--trust", tmp_path / "trust.csv"]
        as_parquet += ["--trust", tmp_path / "first" / "labels.trust.parquet"]
    assert aggregate(tmp_path / "votes.csv", "--out", tmp_path / "csv" / "labels.parquet", *as_csv) == 0
    assert aggregate(folder, "--out", tmp_path / "parquet" / "labels.parquet", *as_parquet) == 0
    for name in ("labels.parquet", "labels.trust.parquet"):
        expected, got = pd.read_parquet(tmp_path / "csv" / name), pd.read_parquet(tmp_path / "parquet" / name)
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
    labels = pd.read_parquet(tmp_path / "parquet" / "labels.parquet")
    assert labels["task"].tolist() == VOTES["task"].drop_duplicates().tolist()  # in order of first appearance
    assert sorted(p.name for p in (tmp_path / "parquet").iterdir()) == ["labels.parquet", "labels.trust.parquet"]
    out = capsys.readouterr().out
    assert f"votes: {len(VOTES):,} from {folder}\n" in out and f"wrote {tmp_path}/parquet/labels.trust.parquet" in out


def test_integer_labels_from_parquet_write_a_parquet_trust_table(tmp_path):
    votes = VOTES.assign(label=VOTES["label"].map({"cat": 0, "dog": 1, "owl": 2}))
    votes.to_parquet(tmp_path / "votes.parquet")
    assert aggregate(tmp_path / "votes.parquet", "--method", "dawid-skene", "--out", tmp_path / "labels.parquet") == 0
    trust, labels = pd.read_parquet(tmp_path / "labels.trust.parquet"), pd.read_parquet(tmp_path / "labels.parquet")
    assert list(trust.columns) == ["worker", "truth", "0", "1", "2"]  # a confusion cell per label; Parquet names text
    assert list(labels.columns) == ["task", "label", "p_0", "p_1", "p_2"]
    model = wt.ConfusionMatrixVote().fit(votes)
    assert labels["label"].tolist() == model.labels_.tolist() and labels["label"].dtype == np.int64


def gold_with_a_corrupt_part(tmp):
    write_parts(VOTES, tmp / "votes", [50])
    corrupt_part(tmp / "g", 1)


def trust_file(tmp, trust):
    VOTES.to_parquet(tmp / "v.parquet")
    pd.DataFrame(trust).to_parquet(tmp / "t.parquet")


@pytest.mark.parametrize("setup, argv, message", [
    (lambda tmp: corrupt_part(tmp, 1), ["votes"],
     "votes must be readable Parquet; 'votes/part.1.parquet' cannot be read: Parquet magic bytes not found in "
     "footer. Either the file is corrupted or this is not a parquet file. Rewrite that file, or move it out of "
     "the folder."),
    (lambda tmp: None, ["votes"], "cannot read votes: No such file or directory"),  # a folder or a CSV: neither
    (lambda tmp: None, ["votes.parquet"],
     "votes must name an existing Parquet file or folder; 'votes.parquet' does not exist. Check the path."),
    (gold_with_a_corrupt_part, ["votes", "--gold", "g/votes"],
     "--gold must be readable Parquet; 'g/votes/part.1.parquet' cannot be read: Parquet magic bytes not found in "
     "footer. Either the file is corrupted or this is not a parquet file. Rewrite that file, or move it out of "
     "the folder."),
    (lambda tmp: VOTES.to_parquet(tmp / "v.parquet"), ["v.parquet", "--task", "item"],
     "votes must have a task column named 'item'; the columns of 'v.parquet' are 'task', 'worker', 'label'. Name "
     "the columns with --task, --worker and --label."),
    (lambda tmp: file_of(VOTES, tmp / "v.parquet") and file_of(GOLD, tmp / "g.parquet"),
     ["v.parquet", "--gold", "g.parquet", "--label", "answer"],
     "votes must have a label column named 'answer'; the columns of 'v.parquet' are 'task', 'worker', 'label'. "
     "Name the columns with --task, --worker and --label."),
    (lambda tmp: trust_file(tmp, {"worker": ["w0", "w1", "w0"], "trust": [0.9, 0.6, 0.7]}),
     ["v.parquet", "--trust", "t.parquet"], "t.parquet lists worker 'w0' twice (row 2); give one trust per worker"),
    (lambda tmp: trust_file(tmp, {"worker": ["w0", "w1"], "score": [0.9, 0.6]}),
     ["v.parquet", "--trust", "t.parquet"], "t.parquet has no column 'trust'; its columns are 'worker', 'score'"),
    (lambda tmp: write_parts(VOTES, tmp / "votes", [50]), ["votes", "--out", "votes/labels.parquet"],
     "--out votes/labels.parquet would write into the input folder votes (the votes); choose another --out"),
], ids=["corrupt-part", "missing-folder", "missing-parquet", "corrupt-gold-part", "no-column", "no-column-of-two",
        "trust-twice", "trust-no-column", "out-in-the-input"])
def test_bad_parquet_input_is_a_usage_error_and_writes_nothing(tmp_path, capsys, monkeypatch, setup, argv, message):
    setup(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    out = [] if "--out" in argv else ["--out", "out/labels.parquet"]
    assert aggregate(*argv, *out) == 2
    assert capsys.readouterr().err == f"wmvtrust: error: {message}\n"
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert [p for p in after if p not in before and p.name != "out"] == []  # no labels, no trust table, no temp file


def test_parquet_without_pyarrow_is_a_usage_error(tmp_path, capsys, monkeypatch):
    VOTES.to_csv(tmp_path / "votes.csv", index=False)
    write_parts(VOTES, tmp_path / "votes", [50])
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    assert aggregate(tmp_path / "votes", "--out", tmp_path / "labels.csv") == 2
    assert 'pip install "wmvtrust[dask]"' in capsys.readouterr().err
    assert aggregate(tmp_path / "votes.csv", "--out", tmp_path / "labels.parquet") == 2  # said before the fit
    assert capsys.readouterr().err.startswith(f"wmvtrust: error: --out must be written with pyarrow, as "
                                              f"'{tmp_path}/labels.parquet' is Parquet; pyarrow cannot be imported")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["votes", "votes.csv"]


def test_progress_bar_counts_parquet_rows_from_the_metadata(tmp_path, capsys, monkeypatch):
    folder = write_parts(VOTES, tmp_path / "votes", [50, 50])
    assert cli._more_rows_than(folder, len(VOTES) - 1) and not cli._more_rows_than(folder, len(VOTES))
    assert cli._more_rows_than(folder / "part.0.parquet", 49) and not cli._more_rows_than(folder / "part.0.parquet", 50)
    truncate(folder / "part.2.parquet")
    assert not cli._more_rows_than(folder, 0)  # unreadable: no bar, and reading reports it
    assert not cli._more_rows_than(tmp_path / "missing", 0)
    (folder / "part.2.parquet").unlink()
    monkeypatch.setattr(cli, "PROGRESS_FROM", 99)  # the two parts' 100 rows count as large
    assert aggregate(folder, "--out", tmp_path / "labels.csv") == 0
    assert "wmvtrust: write (3/3 stages done" in capsys.readouterr().err
