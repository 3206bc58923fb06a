"""The simulations package: the quick report builds, its figures are valid PNGs, every claim has a verdict."""

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from simulations import _common, crowd_beliefs, report  # on the path via pyproject's pytest settings: runs from a clone
from simulations.__main__ import main

ROOT = Path(__file__).resolve().parents[1]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    """The quick report, built once: (its path, the results folder, what main printed)."""
    out = tmp_path_factory.mktemp("results")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        path = main(["--quick", "--out", str(out)])
    return path, out, printed.getvalue()


def sections(text):
    """{claim letter: its section of the report}."""
    parts = re.split(r"^## \((\w)\) ", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2]))


def test_quick_report_names_only_valid_png_figures(quick_report):
    path, out, _ = quick_report
    assert path == out / "report.md"
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", path.read_text(encoding="utf-8"))
    assert len(figures) >= len(report.CLAIMS)
    for name in figures:
        figure = out / name
        assert figure.is_file(), name
        assert figure.read_bytes()[:8] == PNG_SIGNATURE, name
        image = matplotlib.image.imread(figure)
        assert image.ndim == 3 and min(image.shape[:2]) > 100, name


def test_every_claim_has_its_figures_table_data_and_verdict(quick_report):
    path, out, _ = quick_report
    found = sections(path.read_text(encoding="utf-8"))
    assert sorted(found) == sorted(report.CLAIMS)
    for letter, text in found.items():
        assert "**Claim.**" in text and "![" in text, letter
        assert re.search(r"^\|.*\|\n\|[-:|]+\|$", text, flags=re.MULTILINE), letter  # a markdown table
        verdicts = re.findall(r"^(?:Supported|Not supported): .+\.$", text, flags=re.MULTILINE)
        assert len(verdicts) == 1, letter
        for csv in re.findall(r"\]\(([^)]+\.csv)\)", text):
            table = pd.read_csv(out / csv)
            raw = csv.startswith(tuple(f"{report.name(m)}_" for m in report.CLAIMS.values()))
            assert len(table) > 0 and ("seed" in table.columns or not raw), csv  # every raw row records its seed


def test_deq_section_writes_the_label_free_summary(quick_report):
    path, out, _ = quick_report
    text = sections(path.read_text(encoding="utf-8"))["e"]
    assert "[label_free_beliefs.csv](label_free_beliefs.csv)" in text
    table = pd.read_csv(out / "label_free_beliefs.csv")
    assert list(table.columns) == ["task", "test_set", "estimator", "believed", "realised", "error", "stderr"]
    assert {"recommended", "ATC", "DoC"} <= set(table["estimator"])
    assert len(table) == table[["task", "test_set", "estimator"]].drop_duplicates().shape[0]
    np.testing.assert_allclose(table["error"], table["believed"] - table["realised"], atol=1e-12)
    assert "Can the ensemble tell its accuracy under shift without labels?" in text


def test_quick_run_prints_each_verdict_then_the_report_path(quick_report):
    path, _, printed = quick_report
    lines = printed.splitlines()
    verdicts = [line for line in lines if re.search(r"\(\w\) (Supported|Not supported): ", line)]
    assert len(verdicts) == len(report.CLAIMS)
    assert lines[-1] == f"Report: {path}"


# What the quick run at seed 0 supports (python -m simulations --quick, measured when this test was written): every
# claim, (b) included, whose claim is that stability of optimality does NOT hold (the gap is >= 0 and shrinks with
# the track record). None is "Not supported" in quick mode; if one becomes so, the simulation or the library changed
# what it shows, and the report must say why before this table does.
QUICK_SEED_0 = {"a": "Supported", "b": "Supported", "c": "Supported", "d": "Supported", "e": "Supported",
                "f": "Supported"}


def test_quick_run_at_seed_0_supports_every_claim(quick_report):
    """The verdicts themselves, in the report and as printed: not merely that each section has one."""
    path, _, printed = quick_report
    assert sorted(QUICK_SEED_0) == sorted(report.CLAIMS)
    found = sections(path.read_text(encoding="utf-8"))
    for letter, expected in QUICK_SEED_0.items():
        verdict = re.findall(r"^(Supported|Not supported): .+\.$", found[letter], flags=re.MULTILINE)
        assert verdict == [expected], (letter, verdict)
        line = [x for x in printed.splitlines() if re.match(rf"\[\d/\d\] \({letter}\) (Supported|Not supported): ", x)]
        assert len(line) == 1 and line[0].split(f"({letter}) ", 1)[1].startswith(expected + ": "), (letter, line)


@pytest.mark.parametrize("where", ["under /proc", "under a file"])
def test_unwritable_out_fails_fast_with_a_clear_message(tmp_path, capsys, where):
    if where == "under /proc":
        out, culprit = Path("/proc/forbidden/results"), "/proc"
    else:
        (tmp_path / "a-file").write_text("")
        out, culprit = tmp_path / "a-file" / "results", "a-file"
    with pytest.raises(SystemExit) as exit_info:
        main(["--quick", "--out", str(out)])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert "results folder" in captured.err and culprit in captured.err  # names the folder that fails
    assert "simulating" not in captured.out  # failed before any simulation ran


def test_command_line_rejects_an_unwritable_out_folder():
    done = subprocess.run([sys.executable, "-m", "simulations", "--out", "/proc/forbidden"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "results folder" in done.stderr and "/proc/forbidden" in done.stderr
    assert done.stdout == ""  # nothing ran


def test_markdown_table():
    table = pd.DataFrame({"reading": ["a|b", "c"], "gap": [0.012345, float("nan")], "n": [3, 15]})
    assert _common.markdown_table(table).splitlines() == [
        "| reading | gap | n |", "|---|---:|---:|", "| a\\|b | 0.0123 | 3 |", "| c |  | 15 |"]


def test_verdict_sentence_names_the_failed_checks():
    assert _common.verdict([(True, "x holds"), (True, "y holds")]) == (True, "Supported: x holds; and y holds.")
    assert _common.verdict([(True, "x holds"), (False, "y fails")]) == (False, "Not supported: y fails.")


def test_panels_are_reproducible_and_track_records_nested():
    p, k_short, _ = _common.panel("diverse", 5, 20, panel_seed=7)
    q, k_long, f_long = _common.panel("diverse", 5, 500, panel_seed=7)
    assert (p == q).all() and (k_long + f_long == 500).all()
    assert (k_short <= k_long).all() and (k_long - k_short <= 480).all()
    assert not (p == _common.panel("diverse", 5, 20, panel_seed=8)[0]).all()


CROWD_COLUMNS = {"n_tasks", "n_workers", "hard_share", "biased_share", "gold_fraction", "crowd_seed", "seed", "n_gold",
                 "realised", "belief", "belief_low", "belief_high", "source", "model_belief", "label_free",
                 "fitted_hard_share", "p_value", "empirical", "covered"}


def test_crowd_beliefs_section_has_its_table_and_figures(quick_report):
    path, out, _ = quick_report
    text = sections(path.read_text(encoding="utf-8"))["f"]
    assert "(crowd_beliefs_1.png)" in text and "(crowd_beliefs_2.png)" in text
    df = pd.read_csv(out / "crowd_beliefs_crowds.csv")
    assert set(df.columns) == CROWD_COLUMNS
    size = crowd_beliefs.QUICK
    configurations = len(size.hard_shares) * len(crowd_beliefs.BIASED_SHARES) * len(crowd_beliefs.GOLD_FRACTIONS)
    assert len(df) == configurations * size.repetitions
    gold = df["gold_fraction"] > 0
    assert (df["source"][gold] == "gold").all() and df["source"][~gold].isin(["hard tasks", "Dawid-Skene"]).all()
    assert df["empirical"][gold].notna().all() and df["empirical"][~gold].isna().all()
    assert df["label_free"][gold].isna().all() and df["label_free"][~gold].notna().all()
    assert (df["covered"] == df["realised"].between(df["belief_low"], df["belief_high"])).all()
    assert len(crowd_beliefs.summary({"crowds": df})) == configurations


def _crowd_table(recommended_error):
    """A table in the shape of crowd_beliefs.run's: the recommended belief off by ``recommended_error`` points with
    25% hard tasks and no gold, the model's own by 6; nearly right elsewhere; every gold interval covering."""
    rows = []
    for hard in crowd_beliefs.QUICK.hard_shares:
        for biased in crowd_beliefs.BIASED_SHARES:
            for gold in crowd_beliefs.GOLD_FRACTIONS:
                for k, noise in enumerate([-0.001, 0.0, 0.0015]):
                    off = recommended_error / 100 if hard > 0 and gold == 0 else noise
                    rows.append({"n_tasks": crowd_beliefs.QUICK.n_tasks, "hard_share": hard, "biased_share": biased,
                                 "gold_fraction": gold, "seed": k, "realised": 0.8, "belief": 0.8 + off,
                                 "model_belief": 0.86 if hard > 0 else 0.8 + noise,
                                 "label_free": np.nan if gold else 0.8 + off, "source": "gold" if gold else "Dawid-Skene",
                                 "covered": True})
    return {"crowds": pd.DataFrame(rows)}


def test_crowd_beliefs_verdict_names_the_check_that_fails():
    ok, sentence = crowd_beliefs.verdict(_crowd_table(1.0))
    assert ok and sentence.startswith("Supported: with 25% hard tasks and no gold")
    assert "+1.00 ± 0.00 points" in sentence and "(model's own: +6.00 ± 0.00)" in sentence
    ok, sentence = crowd_beliefs.verdict(_crowd_table(3.0))
    assert not ok and sentence.startswith("Not supported: with 25% hard tasks") and "+3.00 ± 0.00" in sentence
    assert "independent workers" not in sentence and "with gold" not in sentence  # only the failed check


def test_crowds_are_paired_and_as_described():
    draw = crowd_beliefs.crowd
    votes, truth = draw(4_000, 30, 0.0, 0.0, crowd_seed=5)
    hard_votes, hard_truth = draw(4_000, 30, 1.0, 0.5, crowd_seed=5)
    assert (truth == hard_truth).all()  # the same crowd, paired
    assert (votes[["task", "worker"]] == hard_votes[["task", "worker"]]).all().all()
    assert (votes.groupby("task")["worker"].nunique() == crowd_beliefs.PER_TASK).all()
    right = votes["label"].to_numpy() == truth[votes["task"]]
    assert 0.7 < right.mean() < 0.95
    says_one = hard_votes.groupby("worker")["label"].mean()  # every task hard: 1/2, or 0.3 + 0.7 / 2 if biased
    biased = says_one > 0.575
    assert biased.sum() == 15
    assert says_one[biased].mean() == pytest.approx(0.65, abs=0.02)
    assert says_one[~biased].mean() == pytest.approx(0.5, abs=0.02)


def test_the_achieving_gold_is_the_first_m_below_the_target():
    """soo.achieving, the search of the separate Monte Carlo: the first m with a gap below the target, for a gap that
    crosses it between two doublings, at m = 1, and never (inf)."""
    from simulations import soo
    assert soo.achieving(lambda m: 1.0 / m, 0.01, 10_000) == 101
    assert soo.achieving(lambda m: 0.0, 0.01, 10_000) == 1
    assert soo.achieving(lambda m: 1.0 / m, 0.01, 64) == np.inf
