"""The command line: round trips in a subprocess, everything else in-process through ``main(argv)``.

Each subprocess imports numba (2-3 s), so only what needs a real process runs in one: the
round trips through ``python -m wmvtrust`` and one usage error (exit code, no traceback).
"""

import functools
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import wmvtrust as wt
from wmvtrust import cli
from wmvtrust.cli import main

ROOT = Path(__file__).resolve().parents[1]

# The binary toy of test_crowd.py, tasks named "01".. to check they stay text. With trust
# a = 0.9, b = c = 0.6: 01: x <- a, y <- b, c -> P(x) = 0.8; 02: x <- a, b, y <- c -> 0.9; 03: a tie.
VOTES = "task,worker,label\n01,a,x\n01,b,y\n01,c,y\n02,a,x\n02,b,x\n02,c,y\n03,b,x\n03,c,y\n"
GOLD = "task,label\n01,x\n02,x\n"  # a right twice, b once, c never: Beta(1, 1) means 3/4, 2/4, 1/4
TRUST = "worker,trust\na,0.9\nb,0.6\nc,0.6\n"


def write(folder, name, text):
    path = folder / name
    path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text, encoding="utf-8")
    return path


def read(path):
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


def run_cli(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "wmvtrust", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)


def one_error_line(err):
    assert err.startswith("wmvtrust: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


# ---------------------------------------------------------------- round trips in a subprocess


def test_aggregate_with_gold_round_trips_in_a_subprocess(tmp_path):
    votes, gold = write(tmp_path, "votes.csv", VOTES), write(tmp_path, "gold.csv", GOLD)
    done = run_cli("aggregate", votes, "--gold", gold, "--method", "wmv-gold", "--out", tmp_path / "out" / "labels.csv",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    labels, trust = read(tmp_path / "out" / "labels.csv"), read(tmp_path / "out" / "labels.trust.csv")
    assert list(labels.columns) == ["task", "label", "p_x", "p_y"]
    assert labels["task"].tolist() == ["01", "02", "03"]  # one row per task, kept as text
    assert set(labels["label"]) <= {"x", "y"}
    p = labels[["p_x", "p_y"]].astype(float).to_numpy()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-12)
    model = wt.WeightedMajorityVote(trust="gold").fit(read(votes), read(gold))
    np.testing.assert_allclose(p, model.probas_.to_numpy(), atol=1e-12)
    assert list(trust.columns) == ["worker", "mean", "alpha", "beta", "n_gold"]
    np.testing.assert_allclose(trust["mean"].astype(float), [0.75, 0.5, 0.25])
    np.testing.assert_array_equal(trust["n_gold"].astype(float), [2, 2, 2])
    assert ("aggregator: WeightedMajorityVote (--method wmv-gold); trust: each worker's record on gold (Beta posterior "
            "mean)\ngold: 2 of the 2 gold tasks were voted on and keep their label; 3 of the 3 workers voted on them\n"
            "EM iterations: 0 (no EM)\n") in done.stdout and done.stderr == ""
    assert f"wrote {tmp_path / 'out' / 'labels.trust.csv'}" in done.stdout


def test_aggregate_with_trust_round_trips_in_a_subprocess(tmp_path):
    write(tmp_path, "votes.csv", VOTES)
    trust = write(tmp_path, "trust.csv", TRUST)
    done = run_cli("aggregate", "votes.csv", "--trust", trust, "--out", "labels.csv", "--ties", "report",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    labels = read(tmp_path / "labels.csv")
    np.testing.assert_allclose(labels["p_x"].astype(float), [0.8, 0.9, 0.5], atol=1e-12)  # by hand, above
    np.testing.assert_allclose(labels[["p_x", "p_y"]].astype(float).sum(axis=1), 1.0, atol=1e-12)
    assert labels["label"].tolist()[:2] == ["x", "x"] and pd.isna(labels["label"][2])  # the tie, reported
    assert (tmp_path / "labels.trust.csv").exists()
    assert "tasks: 3; workers: 3; labels: 2 (x, y)" in done.stdout
    assert "ties reported (label left empty): 1" in done.stdout


def test_a_usage_error_in_a_subprocess_exits_2_with_one_line_and_no_traceback(tmp_path):
    write(tmp_path, "votes.csv", b"\xff\xfe" + "task,worker,label\n".encode("utf-16-le"))
    done = run_cli("aggregate", "votes.csv", "--out", "labels.csv", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert "votes.csv is not UTF-8" in one_error_line(done.stderr) and "byte position 0" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["votes.csv"]


def test_console_script_runs_main():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"wmvtrust": "wmvtrust.cli:main"}
    assert "sys.exit(main())" in (ROOT / "wmvtrust" / "__main__.py").read_text()


# ---------------------------------------------------------------- aggregate, in-process


def test_aggregate_by_em_keeps_values_as_text(tmp_path, capsys):
    votes = write(tmp_path, "votes.csv", "task,worker,label\n1,a,01\n1,b,01\n1,c,NA\n2,a,NA\n2,b,NA\n2,c,1\n"
                                         "3,a,1\n3,b,01\n")
    assert main(["aggregate", str(votes), "--out", str(tmp_path / "labels.csv")]) == 0
    labels = read(tmp_path / "labels.csv")
    assert list(labels.columns) == ["task", "label", "p_01", "p_1", "p_NA"]  # "01", "1" and "NA" stay apart
    assert labels["task"].tolist() == ["1", "2", "3"] and set(labels["label"]) <= {"01", "1", "NA"}
    expected = wt.WeightedMajorityVote().fit(read(votes))
    np.testing.assert_allclose(labels.iloc[:, 2:].astype(float), expected.probas_.to_numpy(), atol=1e-12)
    out = capsys.readouterr().out
    assert expected.converged_ and f"EM iterations: {expected.n_iter_} (converged)\n" in out
    assert ("aggregator: WeightedMajorityVote (--method wmv); trust: each worker's balanced accuracy in a Dawid-Skene "
            "fit by EM\n") in out


def test_aggregate_takes_column_names_and_delimiter(tmp_path):
    votes = write(tmp_path, "votes.tsv", VOTES.replace("task,worker,label", "item,annotator,answer").replace(",", "\t"))
    trust = write(tmp_path, "trust.tsv", TRUST.replace("worker,", "annotator,").replace(",", "\t"))
    argv = ["aggregate", str(votes), "--trust", str(trust), "--out", str(tmp_path / "labels.csv"),
            "--task", "item", "--worker", "annotator", "--label", "answer", "--delimiter", "\\t"]
    assert main(argv) == 0
    labels = read(tmp_path / "labels.csv")
    assert list(labels.columns) == ["item", "answer", "p_x", "p_y"]
    np.testing.assert_allclose(labels["p_x"].astype(float), [0.8, 0.9, 0.5], atol=1e-12)


def test_aggregate_reads_back_its_own_trust_table(tmp_path):
    votes, gold = write(tmp_path, "votes.csv", VOTES), write(tmp_path, "gold.csv", GOLD)
    assert main(["aggregate", str(votes), "--gold", str(gold), "--method", "wmv-gold",
                 "--out", str(tmp_path / "a.csv")]) == 0
    assert main(["aggregate", str(votes), "--trust", str(tmp_path / "a.trust.csv"),  # its "mean" is the trust
                 "--gold", str(gold), "--out", str(tmp_path / "b.csv")]) == 0
    a, b = read(tmp_path / "a.csv"), read(tmp_path / "b.csv")
    pd.testing.assert_frame_equal(a, b)
    assert a["p_x"].tolist() == ["1.0", "1.0", "0.75"]  # gold tasks keep their truth; 03: x <- b (1/2), y <- c (1/4)


WMV_TRUST = ["worker", "mean", "alpha", "beta", "n_gold"]


@pytest.mark.parametrize("method, gold, model, trust_columns, source", [
    ("wmv", False, wt.WeightedMajorityVote(), WMV_TRUST,
     "WeightedMajorityVote (--method wmv); trust: each worker's balanced accuracy in a Dawid-Skene fit by EM"),
    ("wmv", True, wt.WeightedMajorityVote(), WMV_TRUST,
     "WeightedMajorityVote (--method wmv); trust: each worker's balanced accuracy in a Dawid-Skene fit by EM"),
    ("wmv-gold", True, wt.WeightedMajorityVote(trust="gold"), WMV_TRUST,
     "WeightedMajorityVote (--method wmv-gold); trust: each worker's record on gold (Beta posterior mean)"),
    ("one-coin", False, wt.WeightedMajorityVote(trust="one-coin"), WMV_TRUST,
     "WeightedMajorityVote (--method one-coin); trust: one accuracy per worker by one-coin EM"),
    ("dawid-skene", False, wt.ConfusionMatrixVote(), ["worker", "truth", "x", "y"],
     "ConfusionMatrixVote (--method dawid-skene); trust: a confusion matrix per worker by Dawid-Skene EM"),
    ("dawid-skene", True, wt.ConfusionMatrixVote(), ["worker", "truth", "x", "y"],
     "ConfusionMatrixVote (--method dawid-skene); trust: a confusion matrix per worker by Dawid-Skene EM"),
    ("dawid-skene-gold", True, wt.ConfusionMatrixVote(trust="gold"), ["worker", "truth", "x", "y"],
     "ConfusionMatrixVote (--method dawid-skene-gold); trust: a confusion matrix per worker from gold"),
    ("difficulty", True, wt.DifficultyAwareVote(), ["worker", "class 0", "class 1"],
     "DifficultyAwareVote (--method difficulty); trust: an accuracy per worker and difficulty class, by EM on gold"),
], ids=["wmv", "wmv+gold", "wmv-gold", "one-coin", "dawid-skene", "dawid-skene+gold", "dawid-skene-gold", "difficulty"])
def test_aggregate_runs_every_method(tmp_path, capsys, method, gold, model, trust_columns, source):
    votes = write(tmp_path, "votes.csv", VOTES)
    gold_argv = ["--gold", str(write(tmp_path, "gold.csv", GOLD))] if gold else []
    assert main(["aggregate", str(votes), "--method", method, *gold_argv, "--out", str(tmp_path / "labels.csv")]) == 0
    model.fit(read(votes), read(tmp_path / "gold.csv") if gold else None)
    labels, trust = read(tmp_path / "labels.csv"), read(tmp_path / "labels.trust.csv")
    assert labels["task"].tolist() == ["01", "02", "03"] and labels["label"].tolist() == model.labels_.tolist()
    np.testing.assert_allclose(labels[["p_x", "p_y"]].astype(float), model.probas_.to_numpy(), atol=1e-12)
    expected = model.trust_.reset_index()  # what the trust table holds, documented in the help
    assert list(trust.columns) == trust_columns == list(expected.columns)
    keys = model.trust_.index.nlevels  # worker, or worker and truth
    pd.testing.assert_frame_equal(trust.iloc[:, :keys], expected.iloc[:, :keys], check_names=False)
    np.testing.assert_allclose(trust.iloc[:, keys:].astype(float), model.trust_.to_numpy(), atol=1e-12)
    captured = capsys.readouterr()
    em = "no EM" if model.n_iter_ == 0 else "converged"
    assert model.converged_ and f"aggregator: {source}\n" in captured.out
    assert f"EM iterations: {model.n_iter_} ({em})\n" in captured.out
    assert f"{model.name}: 3 tasks ({2 if gold else 0} with gold), 3 workers, 2 labels." in captured.out
    assert ("gold: 2 of the 2 gold tasks were voted on and keep their label; 3 of the 3 workers voted on them\n"
            in captured.out) == gold and captured.err == ""
    if gold:
        assert labels["p_x"].tolist()[:2] == ["1.0", "1.0"]  # every method keeps the gold tasks' truth


def test_aggregate_says_when_em_did_not_converge(tmp_path, capsys, monkeypatch):
    one_step = functools.partial(wt.ConfusionMatrixVote, max_iter=1)
    monkeypatch.setitem(cli.AGGREGATORS, "dawid-skene", (one_step, *cli.AGGREGATORS["dawid-skene"][1:]))
    votes = write(tmp_path, "votes.csv", VOTES)
    assert main(["aggregate", str(votes), "--method", "dawid-skene", "--out", str(tmp_path / "labels.csv")]) == 0
    assert "EM iterations: 1 (did not converge)\n" in capsys.readouterr().out


@pytest.mark.parametrize("extra, warning, voted", [
    ("09,y\n", "1 of the 3 gold tasks has no votes and is not used", "2 of the 3"),
    ("09,y\n08,x\n08,x\n", "2 of the 4 gold tasks have no votes and are not used", "2 of the 4"),  # 08 counts once
])
def test_aggregate_warns_about_gold_tasks_without_votes(tmp_path, capsys, extra, warning, voted):
    votes, gold = write(tmp_path, "votes.csv", VOTES), write(tmp_path, "gold.csv", GOLD + extra)
    assert main(["aggregate", str(votes), "--gold", str(gold), "--out", str(tmp_path / "labels.csv")]) == 0
    captured = capsys.readouterr()
    assert captured.err == f"wmvtrust: warning: {warning}\n"
    assert f"gold: {voted} gold tasks were voted on and keep their label" in captured.out


def test_aggregate_accepts_repeated_gold_rows_without_a_warning(tmp_path, capsys):
    votes, gold = write(tmp_path, "votes.csv", VOTES), write(tmp_path, "gold.csv", GOLD + "01,x\n")
    assert main(["aggregate", str(votes), "--gold", str(gold), "--out", str(tmp_path / "labels.csv")]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "gold: 2 of the 2 gold tasks were voted on" in captured.out


def test_aggregate_keeps_a_quoted_delimiter_inside_a_field(tmp_path):
    votes = write(tmp_path, "votes.csv", VOTES.replace("01,a,x\n", '01,a,"x,z"\n').replace("02,a,x\n", '02,a,"x,z"\n'))
    assert main(["aggregate", str(votes), "--out", str(tmp_path / "labels.csv")]) == 0
    assert list(read(tmp_path / "labels.csv").columns) == ["task", "label", "p_x", "p_x,z", "p_y"]


@pytest.mark.parametrize("files, argv, message", [
    ({"votes.csv": VOTES.replace("01,a,x\n", "01,a,x,extra\n")}, [],  # pandas read it as an index column
     "votes.csv: line 2 has 4 fields; the header has 3. Fix the row or quote the field that holds the delimiter."),
    ({"votes.csv": VOTES + "04,a,x,extra\n"}, [],
     "votes.csv: line 10 has 4 fields; the header has 3. Fix the row or quote the field that holds the delimiter."),
    ({"votes.csv": VOTES.replace("01,b,y\n", "01,b\n")}, [],  # pandas filled it with NaN
     "votes.csv: line 3 has 2 fields; the header has 3. Fix the row or add the missing fields (they may be empty)."),
    ({"votes.csv": VOTES.replace("01,b,y\n", '\n01,"b\nc",y\n01\n')}, [],  # counted in lines, not in rows
     "votes.csv: line 6 has 1 field; the header has 3. Fix the row or add the missing fields (they may be empty)."),
    ({"votes.csv": VOTES, "g.csv": GOLD + "03,x,y\n"}, ["--gold", "g.csv"],
     "g.csv: line 4 has 3 fields; the header has 2. Fix the row or quote the field that holds the delimiter."),
    ({"votes.csv": VOTES, "g.csv": GOLD + "01,y\n"}, ["--gold", "g.csv"],
     "gold must give each task one label; task '01' has 'x' and 'y' (1 task in all). Drop the conflicting rows."),
    ({"votes.csv": VOTES}, ["--method", "wmv-gold"],
     "--method wmv-gold needs --gold GOLD.csv; the methods that need no gold are wmv, one-coin, dawid-skene"),
    ({"votes.csv": VOTES}, ["--method", "dawid-skene-gold"],
     "--method dawid-skene-gold needs --gold GOLD.csv; the methods that need no gold are wmv, one-coin, dawid-skene"),
    ({"votes.csv": VOTES}, ["--method", "difficulty"],
     "--method difficulty needs --gold GOLD.csv; the methods that need no gold are wmv, one-coin, dawid-skene"),
    ({"votes.csv": VOTES, "t.csv": TRUST}, ["--trust", "t.csv", "--method", "one-coin"],
     "--trust goes with --method wmv only; got --method one-coin. Drop --trust, or use --method wmv"),
    ({"votes.csv": VOTES, "t.csv": TRUST, "g.csv": GOLD},
     ["--trust", "t.csv", "--gold", "g.csv", "--method", "wmv-gold"],
     "--trust goes with --method wmv only; got --method wmv-gold. Drop --trust, or use --method wmv"),
    ({"votes.csv": VOTES, "t.csv": TRUST}, ["--trust", "t.csv", "--method", "dawid-skene"],
     "--trust goes with --method wmv only; got --method dawid-skene. Drop --trust, or use --method wmv"),
])
def test_aggregate_refuses_with_the_exact_message(tmp_path, capsys, monkeypatch, files, argv, message):
    for name, text in files.items():
        write(tmp_path, name, text)
    monkeypatch.chdir(tmp_path)
    assert main(["aggregate", "votes.csv", "--out", "out/labels.csv", *argv]) == 2
    assert capsys.readouterr().err == f"wmvtrust: error: {message}\n"
    assert not (tmp_path / "out" / "labels.csv").exists()


@pytest.mark.parametrize("argv, message", [
    (["--out", "votes.csv"], "--out votes.csv would overwrite the input file votes.csv (the votes)"),
    (["--out", "./sub/../votes.csv"], "--out sub/../votes.csv would overwrite the input file votes.csv (the votes)"),
    (["--out", "TMP/votes.csv"], "--out TMP/votes.csv would overwrite the input file votes.csv (the votes)"),
    (["--out", "link.csv"], "--out link.csv would overwrite the input file votes.csv (the votes)"),
    (["--gold", "gold.csv", "--out", "gold.csv"], "--out gold.csv would overwrite the input file gold.csv (--gold)"),
    (["--trust", "a.trust.csv", "--out", "a.csv"],
     "--out a.csv would write its trust table a.trust.csv over the input file a.trust.csv (--trust)"),
    (["--trust", "a.trust.csv", "--out", "./sub/../t.csv"],
     "--out sub/../t.csv would write its trust table sub/../t.trust.csv over the input file a.trust.csv (--trust)"),
])
def test_aggregate_never_writes_over_an_input(tmp_path, capsys, monkeypatch, argv, message):
    inputs = {"votes.csv": VOTES, "gold.csv": GOLD, "a.trust.csv": TRUST}
    for name, text in inputs.items():
        write(tmp_path, name, text)
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.csv").symlink_to("votes.csv")
    (tmp_path / "t.trust.csv").symlink_to("a.trust.csv")
    monkeypatch.chdir(tmp_path)
    assert main(["aggregate", "votes.csv", *(arg.replace("TMP", str(tmp_path)) for arg in argv)]) == 2
    message = message.replace("TMP", str(tmp_path))
    assert capsys.readouterr().err == f"wmvtrust: error: {message}; choose another --out\n"
    assert {name: (tmp_path / name).read_bytes() for name in inputs} == {n: t.encode() for n, t in inputs.items()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.trust.csv", "gold.csv", "link.csv", "sub", "t.trust.csv",
                                                          "votes.csv"]


def test_aggregate_shows_stages_on_stderr_for_large_inputs_only(tmp_path, capsys, monkeypatch):
    votes, trust = write(tmp_path, "votes.csv", VOTES), write(tmp_path, "trust.csv", TRUST)
    assert main(["aggregate", str(votes), "--trust", str(trust), "--out", str(tmp_path / "labels.csv")]) == 0
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(cli, "PROGRESS_FROM", 5)  # the toy's 8 rows count as large
    assert main(["aggregate", str(votes), "--trust", str(trust), "--out", str(tmp_path / "labels.csv")]) == 0
    err = capsys.readouterr().err
    assert "wmvtrust: read" in err and "wmvtrust: fit" in err and "wmvtrust: write (3/3 stages done" in err


@pytest.mark.parametrize("files, argv, message", [
    ({"votes.csv": VOTES.replace("task,", "item,")}, [],
     r"votes.csv has no column 'task'; its columns are 'item', 'worker', 'label'. Name the columns with --task"),
    ({"votes.csv": b"\xff\xfe" + "task,worker,label\n".encode("utf-16-le")}, [],
     r"votes.csv is not UTF-8 \(it starts like UTF-16\): byte 0xff at byte position 0 \(line 1\)"),
    ({"votes.csv": VOTES.replace("a,x\n", "a,caf\xe9\n", 1).encode("latin-1")}, [],  # 0xe9 after "...\n01,a,caf"
     r"votes.csv is not UTF-8: byte 0xe9 at byte position 26 \(line 2\) cannot be decoded; save the file as UTF-8"),
    ({"votes.csv": VOTES.replace(",", ";")}, [],
     r"votes.csv has no column 'task', and its header 'task;worker;label' contains ';': the delimiter looks "
     r"wrong; pass --delimiter ';'"),
    ({"votes.csv": VOTES}, ["--delimiter", ";"], r"header 'task,worker,label' contains ',': .* --delimiter ','"),
    ({"votes.csv": ""}, [], r"votes.csv is empty; expected a CSV with a header row"),
    ({"votes.csv": VOTES + '04,a,"x\n'}, [], r"votes.csv is not a valid CSV: .*EOF inside string starting at row 9"),
    ({}, [], r"cannot read .*votes.csv: No such file or directory"),
    ({"votes.csv": VOTES + "04,,x\n"}, [], r"votes must have no missing 'worker'; row 10 has none"),  # line 10
    ({"votes.csv": VOTES + "04,a,\n"}, [], r"votes must have no missing 'label'; row 10 has none"),  # 3 fields
    ({"votes.csv": VOTES + "01,a,y\n"}, [], r"votes must have one vote per \(task, worker\)"),
    ({"votes.csv": VOTES}, ["--method", "gold"], r"argument --method: invalid choice: 'gold' \(choose from 'wmv', "
     r"'wmv-gold', 'one-coin', 'dawid-skene', 'dawid-skene-gold', 'difficulty'\)"),
    ({"votes.csv": VOTES, "t.csv": TRUST.replace("trust", "score")}, ["--trust", "t.csv"],
     r"t.csv has no column 'trust'"),
    ({"votes.csv": VOTES, "t.csv": TRUST + "a,0.5\n"}, ["--trust", "t.csv"],
     r"t.csv lists worker 'a' twice \(line 5\)"),
    ({"votes.csv": VOTES, "t.csv": TRUST.replace("0.9", "high")}, ["--trust", "t.csv"],
     r"t.csv: trust must be a number; line 2 has 'high'"),
    ({"votes.csv": VOTES, "t.csv": TRUST.replace("0.9", "1.5")}, ["--trust", "t.csv"],
     r"trust must lie in \[0, 1\]; trust\['a'\] = 1.5"),
    ({"votes.csv": VOTES, "t.csv": "worker,trust\na,0.9\n"}, ["--trust", "t.csv"],
     r"trust must have an entry for every worker who voted"),
    ({"votes.csv": VOTES, "g.csv": "task,truth\n01,x\n"}, ["--gold", "g.csv"], r"g.csv has no column 'label'"),
    ({"votes.csv": VOTES}, ["--seed", "-1"], r"seed must be None or a whole number >= 0; got seed = -1"),
    ({"votes.csv": VOTES}, ["--delimiter", "ab"], r"argument --delimiter: must be one character"),
    ({"votes.csv": VOTES}, ["--ties", "never"], r"argument --ties: invalid choice: 'never'"),
])
def test_aggregate_usage_errors_exit_2_with_one_line(tmp_path, capsys, monkeypatch, files, argv, message):
    for name, text in files.items():
        write(tmp_path, name, text)
    monkeypatch.chdir(tmp_path)
    assert main(["aggregate", "votes.csv", "--out", "out/labels.csv", *argv]) == 2
    assert re.search(message, one_error_line(capsys.readouterr().err))
    assert not (tmp_path / "out" / "labels.csv").exists()


@pytest.mark.parametrize("argv, message", [
    (["frobnicate"], r"argument command: invalid choice: 'frobnicate' .*; run 'wmvtrust --help' for usage\.$"),
    (["aggregate", "votes.csv"], r"the following arguments are required: --out; run 'wmvtrust aggregate --help'"),
    (["accuracy"], r"the following arguments are required: --trust"),
    (["accuracy", "--trust", "0.9,1.5"], r"trust must lie in \[0, 1\]; trust\[1\] = 1.5\.$"),
    (["accuracy", "--trust", "0.9,high"], r"argument --trust: expected comma-separated numbers .*; got '0.9,high'"),
    (["accuracy", "--trust", "0.9,0.6", "--q", "0.5"],
     r"--q must have one value per source, like --trust; got 1 and 2"),
    (["accuracy", "--trust", "0.9,0.6", "--q", "0.5,-0.1"], r"q must lie in \[0, 1\]; q\[1\] = -0.1"),
    (["accuracy", "--trust", "0.9,0.6", "--prior", "1"], r"prior must lie strictly between 0 and 1"),
    (["accuracy", "--trust", "0.9,0.6", "--trials", "0"], r"trials must be a whole number >= 1; got trials = 0"),
    (["accuracy", "--trust", ",".join(["0.61"] + ["0.6"] * 59)], r"q must have at most 52 sources .*method='bounds'"),
    (["demo", "--trust", "0.6,1.5", "--trials", "10"], r"trust must lie in \[0, 1\]; trust\[1\] = 1.5"),
])
def test_usage_errors_exit_2_with_one_line(capsys, argv, message):
    assert main(argv) == 2
    assert re.search(message, one_error_line(capsys.readouterr().err))


def test_unwritable_out_exits_2_before_reading_or_writing(tmp_path, capsys):
    blocker = write(tmp_path, "results", "a file, not a folder")
    out = blocker / "labels.csv"
    assert main(["aggregate", str(tmp_path / "missing.csv"), "--out", str(out)]) == 2  # the folder first
    assert "the results folder must be a folder that can be written" in one_error_line(capsys.readouterr().err)
    votes = write(tmp_path, "votes.csv", VOTES)
    assert main(["aggregate", str(votes), "--out", str(out)]) == 2
    assert "is a file" in one_error_line(capsys.readouterr().err)
    assert main(["aggregate", str(votes), "--out", str(tmp_path)]) == 2  # a folder is no file name
    assert "--out must name a file" in one_error_line(capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results", "votes.csv"]


def test_a_failed_write_exits_1(tmp_path, capsys, monkeypatch):
    def full_disk(df, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(wt.io, "write_table", full_disk)
    votes = write(tmp_path, "votes.csv", VOTES)
    assert main(["aggregate", str(votes), "--out", str(tmp_path / "labels.csv")]) == 1
    captured = capsys.readouterr()
    assert one_error_line(captured.err) == "wmvtrust: error: [Errno 28] No space left on device\n"
    assert captured.out == "" and sorted(p.name for p in tmp_path.iterdir()) == ["votes.csv"]


def test_an_unexpected_error_exits_1_with_its_type(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(wt.WeightedMajorityVote, "fit", lambda self, votes, gold=None: 1 / 0)
    votes = write(tmp_path, "votes.csv", VOTES)
    assert main(["aggregate", str(votes), "--out", str(tmp_path / "labels.csv")]) == 1
    assert one_error_line(capsys.readouterr().err) == "wmvtrust: error: ZeroDivisionError: division by zero\n"


# ---------------------------------------------------------------- accuracy, demo, help


def test_accuracy_prints_the_exact_value(capsys):
    trust = [0.9, 0.6, 0.6]
    expected = wt.accuracy(trust, wt.log_odds_weights(trust))
    assert round(expected.value, 12) == 0.9  # ln 9 > 2 ln 1.5: the 0.9 source outvotes the two 0.6 ones
    assert main(["accuracy", "--trust", "0.9,0.6,0.6"]) == 0
    out = capsys.readouterr().out
    assert f"accuracy: {expected.value:.12f} (exact, method: {expected.method})" in out
    assert "accuracy: 0.900000000000" in out and "Monte Carlo" not in out


def test_accuracy_at_other_trustworthiness_with_monte_carlo(capsys):
    trust, q = [0.9, 0.6, 0.6], [0.8, 0.7, 0.7]
    w = wt.log_odds_weights(trust)
    exact, est = wt.accuracy(q, w, prior=0.6), wt.accuracy_mc(q, w, 20_000, seed=3, prior=0.6)
    assert main(["accuracy", "--trust", "0.9,0.6,0.6", "--q", "0.8,0.7,0.7", "--prior", "0.6",
                 "--trials", "20000", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert f"accuracy: {exact.value:.12f}" in out
    assert f"Monte Carlo: {est.value:.6f} (95% CI [{est.ci_low:.6f}, {est.ci_high:.6f}]" in out
    assert "20,000 trials, seed 3" in out


def test_accuracy_bounds_prints_the_interval(capsys):
    assert main(["accuracy", "--trust", "0.9,0.6,0.6", "--method", "bounds"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("accuracy:"))
    low, high = map(float, re.search(r"\[(.*), (.*)\]", line).groups())
    assert low <= 0.9 <= high and "method: bounds" in line


def test_demo_runs_as_a_command_and_without_one(capsys):
    assert main(["demo", "--trust", "0.9,0.6,0.6", "--trials", "2000", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "Panel of 3 sources" in out and out.count("| weighted") == 6
    assert main([]) == 0  # `python -m wmvtrust` ran the demo before the commands came
    assert "Panel of 13 sources" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--help"], ["aggregate", "--help"], ["accuracy", "--help"], ["demo", "-h"]])
def test_help_exits_0_and_shows_examples(capsys, argv):
    assert main(argv) == 0
    out = capsys.readouterr().out
    command = "" if argv[0].startswith("-") else argv[0]
    assert out.startswith(f"usage: wmvtrust {command}".rstrip()) and "\nexamples:\n" in out
    assert re.search(rf"^  wmvtrust {command}".rstrip() + " ", out, re.M)
