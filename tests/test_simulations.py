"""The simulations package: the quick report builds, its figures are valid PNGs, every claim has a verdict."""

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import pandas as pd
import pytest

from simulations import _common, report  # on the path from pyproject's pytest settings: it runs from a clone
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
            assert len(table) > 0 and "seed" in table.columns, csv  # every row records its seed


def test_quick_run_prints_each_verdict_then_the_report_path(quick_report):
    path, _, printed = quick_report
    lines = printed.splitlines()
    verdicts = [line for line in lines if re.search(r"\(\w\) (Supported|Not supported): ", line)]
    assert len(verdicts) == len(report.CLAIMS)
    assert lines[-1] == f"Report: {path}"


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
