"""The command line: ``wmvtrust aggregate | accuracy | demo`` (also ``python -m wmvtrust``).

``main`` returns the exit code: 0 success, 2 a usage error (bad arguments, an unreadable
or malformed input file, a ValueError or TypeError about the user's input), 1 any other
error (e.g. writing failed). Every error is one line on stderr, without a traceback.
"""

import argparse
import contextlib
import csv
import logging
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeAlias, TypeVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from tqdm import tqdm

from . import __version__, demo
from . import io as wio
from ._validation import check_pyarrow
from .accuracy import METHODS, accuracy, accuracy_mc
from .crowd import ConfusionMatrixVote, DifficultyAwareVote, WeightedMajorityVote
from .crowd.distributed import label_table, labelled
from .crowd.votes import parquet_columns, parquet_rows, read_parquet_table
from .voting import TIES, log_odds_weights

_T = TypeVar("_T")
PROG = "wmvtrust"
PROGRESS_FROM = 100_000  # vote rows: larger inputs show a stage bar on stderr
DELIMITERS = {",": "','", ";": "';'", "\t": "'\\t'", "|": "'|'"}  # what a wrong --delimiter may hide
Aggregator: TypeAlias = WeightedMajorityVote | ConfusionMatrixVote | DifficultyAwareVote
# --method: (aggregator, its trust argument, needs --gold, where its trust comes from)
AGGREGATORS: dict[str, tuple[type[Aggregator], str | None, bool, str]] = {
    "wmv": (WeightedMajorityVote, "em", False, "each worker's balanced accuracy in a Dawid-Skene fit by EM"),
    "wmv-gold": (WeightedMajorityVote, "gold", True, "each worker's record on gold (Beta posterior mean)"),
    "one-coin": (WeightedMajorityVote, "one-coin", False, "one accuracy per worker by one-coin EM"),
    "dawid-skene": (ConfusionMatrixVote, "em", False, "a confusion matrix per worker by Dawid-Skene EM"),
    "dawid-skene-gold": (ConfusionMatrixVote, "gold", True, "a confusion matrix per worker from gold"),
    "difficulty": (DifficultyAwareVote, None, True, "an accuracy per worker and difficulty class, by EM on gold"),
}

EPILOG = """\
examples:
  wmvtrust aggregate votes.csv --out labels.csv                  # trust by EM
  wmvtrust aggregate votes.csv --gold gold.csv --out labels.csv  # gold kept
  wmvtrust accuracy --trust 0.9,0.6,0.6          # exact accuracy of WMV
  wmvtrust demo --trials 100000                  # every method, timed

Without a command, wmvtrust runs the demo; each command has its own --help.
Exit codes: 0 success, 1 runtime error (e.g. writing failed), 2 usage error
(bad arguments or input files); an error is one line on stderr.
"""

AGGREGATE_DESCRIPTION = """\
Learn how far to trust each worker and label every task. --method chooses
the aggregator and where its trust comes from:
  wmv               (the default) weighted majority vote
                    (WeightedMajorityVote); trust: each worker's balanced
                    accuracy in a Dawid-Skene fit by EM, or --trust if given
  wmv-gold          weighted majority vote; trust: each worker's record on
                    gold (needs --gold)
  one-coin          weighted majority vote; trust: one accuracy per worker
                    by one-coin EM (the classical baseline)
  dawid-skene       a confusion matrix per worker by EM (ConfusionMatrixVote)
  dawid-skene-gold  a confusion matrix per worker from gold (needs --gold)
  difficulty        an accuracy per worker and latent task difficulty,
                    learned on gold (DifficultyAwareVote; needs --gold)
With --gold, every method keeps the gold tasks' labels and infers the rest.
"""

AGGREGATE_EPILOG = """\
examples:
  wmvtrust aggregate votes.csv --out labels.csv
  wmvtrust aggregate votes.csv --gold gold.csv --out out/labels.csv
  wmvtrust aggregate votes.csv --method dawid-skene --out labels.csv
  wmvtrust aggregate votes.csv --gold gold.csv --method difficulty --out labels.csv
  wmvtrust aggregate votes.csv --trust trust.csv --ties report --out labels.csv
  wmvtrust aggregate votes/ --out labels.parquet    # votes/: Parquet files
  wmvtrust aggregate votes/ --workers 4 --out labels.parquet   # on dask
  wmvtrust aggregate votes.tsv --delimiter '\\t' --task item --worker annotator \\
      --label answer --out labels.csv

files: UTF-8 CSV with a header row; task, worker and label values are kept
as text (01 stays 01); row numbers in error messages are line numbers.
  VOTES.csv    one row per vote: task, worker, label
  GOLD.csv     known truths: task, label (the column names of the votes)
  TRUST.csv    worker, trust in [0, 1] (or the mean of a <stem>.trust.csv
               written by wmv, wmv-gold or one-coin); --method wmv only
  LABELS.csv   written: task, label (the decision; empty for a reported tie)
               and p_<label> for each label (posterior probabilities); one
               row per task, in order of first appearance
  <stem>.trust.csv  written next to LABELS.csv, the fitted trust:
               wmv, wmv-gold, one-coin: worker, mean (the trust), alpha, beta
               (its Beta posterior; empty for wmv), n_gold (gold votes;
               empty without --gold)
               dawid-skene, dawid-skene-gold: worker, truth, and for each
               reported label the Dirichlet parameter of that confusion cell
               difficulty: worker, and its accuracy in each difficulty class
               (class 0, class 1)
Neither written file may be an input file, nor lie in an input folder.

Parquet: VOTES, GOLD and TRUST may each be a .parquet file or a folder of
Parquet files (a dataset as pandas, dask or pyarrow write it: files read in
natural order, part.2 before part.10; names starting with '.' or '_' skipped;
hive folders such as label=x/ give their column). Only the needed columns
are read, with their Parquet types: give gold and trust in the format of the
votes. Row numbers in error messages count from 0. A LABELS.parquet name
writes both tables as Parquet (<stem>.trust.parquet beside it).
"""

ACCURACY_DESCRIPTION = """\
The accuracy of weighted majority voting with log-odds weights
w = ln(t / (1 - t)) of the trust t, evaluated at trustworthiness q
(default q = t: the believed accuracy); exact, and with --trials also a
Monte Carlo estimate with its 95% interval.
"""

ACCURACY_EPILOG = """\
examples:
  wmvtrust accuracy --trust 0.9,0.6,0.6                  # believed: q = t
  wmvtrust accuracy --trust 0.9,0.6,0.6 --q 0.8,0.7,0.7  # actual at q
  wmvtrust accuracy --trust 0.9,0.8,0.7 --prior 0.6 --trials 1000000 --seed 1
"""

DEMO_EPILOG = """\
examples:
  wmvtrust demo
  wmvtrust demo --trust 0.9,0.8,0.7,0.6 --trials 100000 --seed 1
"""


class UsageError(Exception):
    """A problem with the user's arguments or input files: exit code 2."""


class _Parser(argparse.ArgumentParser):
    # one line with the house prefix, exit 2 (argparse's own also prints the usage)
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message}; run '{self.prog} --help' for usage.\n")


def _parser() -> _Parser:
    def formatter(prog: str) -> argparse.RawDescriptionHelpFormatter:
        return argparse.RawDescriptionHelpFormatter(prog, max_help_position=28)

    parser = _Parser(prog=PROG, formatter_class=formatter, epilog=EPILOG,
                     description="Trust-aware weighted majority voting: aggregate crowd labels, compute accuracy.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", title="commands")

    agg = commands.add_parser("aggregate", formatter_class=formatter, epilog=AGGREGATE_EPILOG,
                              help="learn trust and label every task of a vote table",
                              description=AGGREGATE_DESCRIPTION)
    agg.add_argument("votes", type=Path, metavar="VOTES",
                     help="the votes, one row per (task, worker, label): a CSV file, or a .parquet file or a folder "
                          "of Parquet files")
    agg.add_argument("--out", type=Path, required=True, metavar="LABELS.csv",
                     help="the labels to write (Parquet for a .parquet name)")
    agg.add_argument("--gold", type=Path, metavar="GOLD.csv",
                     help="known truths of some tasks (task, label): kept as their labels, and used to learn "
                          "trust (except with --trust); CSV or Parquet, like VOTES")
    agg.add_argument("--trust", type=Path, metavar="TRUST.csv",
                     help="trust of every worker (worker, trust); with --method wmv only; CSV or Parquet, like VOTES")
    agg.add_argument("--method", choices=AGGREGATORS, default="wmv", metavar="METHOD",
                     help="the aggregator and its trust source, one of those above (default: wmv)")
    agg.add_argument("--task", default="task", help="task column name (default: task)")
    agg.add_argument("--worker", default="worker", help="worker column name (default: worker)")
    agg.add_argument("--label", default="label", help="label column name (default: label)")
    agg.add_argument("--duplicates", choices=("error", "first", "last"), default="error",
                     help="a worker voting twice on a task: refuse, or keep the first or last vote (default: error)")
    agg.add_argument("--ties", choices=TIES, default="coin",
                     help="break a tie by a seeded fair coin, or leave its label empty (default: coin)")
    agg.add_argument("--seed", type=int, default=0,
                     help="seed of the tie-breaking coin and of every other random choice (default: 0)")
    agg.add_argument("--delimiter", type=_delimiter, default=",",
                     help="field separator of the input files, one character; '\\t' for tab (default: ,)")
    on = agg.add_mutually_exclusive_group()
    on.add_argument("--scheduler", metavar="ADDRESS",
                    help="fit on the dask cluster of this scheduler (e.g. tcp://10.0.0.5:8786), partition by "
                         "partition: the votes may be larger than memory; --out then names a Parquet folder")
    on.add_argument("--workers", type=_positive, metavar="N",
                    help="the same on a local dask cluster of N worker processes")
    agg.set_defaults(run=_aggregate)

    acc = commands.add_parser("accuracy", formatter_class=formatter, epilog=ACCURACY_EPILOG,
                              help="exact accuracy of WMV with log-odds weights",
                              description=ACCURACY_DESCRIPTION)
    acc.add_argument("--trust", type=demo.numbers, required=True, metavar="T1,T2,...",
                     help="trust of each source, comma-separated, in [0, 1]")
    acc.add_argument("--q", type=demo.numbers, metavar="Q1,Q2,...",
                     help="trustworthiness of each source (default: the trust)")
    acc.add_argument("--prior", type=float, default=0.5, help="prior probability that the truth is +1 (default: 0.5)")
    acc.add_argument("--method", choices=METHODS, default="auto",
                     help="exact algorithm, or 'bounds' for a certified interval (default: auto)")
    acc.add_argument("--trials", type=int, help="also estimate by Monte Carlo with this many trials")
    acc.add_argument("--seed", type=int, default=0, help="Monte Carlo seed (default: 0)")
    acc.set_defaults(run=_accuracy)

    dem = commands.add_parser("demo", formatter_class=formatter, epilog=DEMO_EPILOG,
                              help="the accuracy of a panel by every method, timed", description=demo.run.__doc__)
    demo.add_arguments(dem)
    dem.set_defaults(run=lambda args: demo.run(args.trust, args.trials, args.seed))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 success, 1 runtime error, 2 usage error)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:  # `python -m wmvtrust` has always run the demo
            args = parser.parse_args(["demo"])
        args.run(args)
    except SystemExit as stop:  # argparse: --help (0) or a usage error it has already printed (2)
        return int(stop.code or 0)
    except (UsageError, ValueError, TypeError) as error:
        return _fail(error, 2)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:  # e.g. `wmvtrust demo | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's recipe: no error at exit
        return 1
    except Exception as error:  # noqa: BLE001 -- one line for the user, not a traceback
        return _fail(error if isinstance(error, OSError) else f"{type(error).__name__}: {error}", 1)
    return 0


def _fail(error: Exception | str, code: int) -> int:
    print(f"{PROG}: error: {' '.join(str(error).split())}", file=sys.stderr)  # one line
    return code


def _delimiter(text: str) -> str:
    text = {"\\t": "\t", "tab": "\t"}.get(text, text)
    if len(text) != 1:
        raise argparse.ArgumentTypeError(f"must be one character ('\\t' for tab); got {text!r}")
    return text


# ---------------------------------------------------------------- aggregate


def _aggregate(args: argparse.Namespace) -> None:
    trust: str | pd.Series | None  # the trust argument of the method, replaced by the table --trust gives
    aggregator, trust, needs_gold, _ = AGGREGATORS[args.method]
    if args.trust is not None and args.method != "wmv":
        raise UsageError(f"--trust goes with --method wmv only; got --method {args.method}. "
                         "Drop --trust, or use --method wmv")
    if needs_gold and args.gold is None:
        raise UsageError(f"--method {args.method} needs --gold GOLD.csv; the methods that need no gold are "
                         f"{', '.join(m for m, spec in AGGREGATORS.items() if not spec[2])}")
    out = args.out
    on_dask = args.scheduler is not None or args.workers is not None
    if on_dask and out.suffix != ".parquet":
        raise UsageError(f"--out must end in .parquet with --scheduler or --workers (a folder of Parquet parts, one "
                         f"per partition); got {str(out)!r}")
    if out.is_dir() and not on_dask:
        raise UsageError(f"--out must name a file; {str(out)!r} is a folder")
    trust_out = out.with_name(f"{out.stem}.trust{out.suffix or '.csv'}")
    _check_not_an_input(args, out, trust_out)
    wio.check_writable_folder(out.parent)  # before any work: a long fit must not end in an unwritable folder
    if out.suffix == ".parquet":  # write_table needs pyarrow for it: say so before the fit
        _as_usage_error(check_pyarrow, "--out", out, "written")

    columns = {"task": args.task, "worker": args.worker, "label": args.label}
    if on_dask:
        _aggregate_on_dask(args, aggregator, trust, columns, out, trust_out)
        return
    bar = tqdm(total=3, desc="read", file=sys.stderr, disable=not _more_rows_than(args.votes, PROGRESS_FROM),
               bar_format="wmvtrust: {desc} ({n}/{total} stages done, {elapsed})")
    with bar:
        votes = _read_table(args.votes, args.delimiter, columns, "--task, --worker and --label", "votes")
        model, gold = _model_and_gold(args, aggregator, trust, columns)
        bar.update()
        bar.set_description_str("fit")
        model.fit(votes, gold)
        bar.update()
        bar.set_description_str("write")
        tables = [label_table(model.probas_, model.labels_), model.trust_.reset_index()]  # both before either is written
        written = [wio.write_table(tables[0], out), wio.write_table(tables[1], trust_out)]
        bar.update()
    _summary(args, model, votes, gold, written)


def _aggregate_on_dask(args: argparse.Namespace, aggregator: type[Aggregator], trust: str | pd.Series | None,
                       columns: dict[str, Any], out: Path, trust_out: Path) -> None:
    """``aggregate`` on a dask cluster: the votes read lazily, the labels written as a Parquet folder, whole."""
    dd, distributed = _import_dask()
    if _is_parquet(args.votes):  # every file's footer read first: a bad partition is named before any work
        _as_usage_error(parquet_rows, args.votes, name="votes")
        votes = dd.read_parquet(args.votes, columns=list(columns.values()))
    else:
        votes = dd.read_csv(args.votes, sep=args.delimiter, dtype=str, keep_default_na=False, na_values=[""],
                            usecols=list(columns.values()))
    model, gold = _model_and_gold(args, aggregator, trust, columns)
    # the scheduler logs every shuffle's start and end as a warning: noise here, whatever else it warns of stays
    logging.getLogger("distributed.shuffle._scheduler_plugin").setLevel(logging.ERROR)
    cluster = distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=":0") \
        if args.workers is not None else contextlib.nullcontext(None)
    with cluster as local, distributed.Client(args.scheduler if local is None else local):
        model.fit(votes, gold)
        written = [wio.write_parquet_folder(labelled(model), out), wio.write_table(model.trust_.reset_index(), trust_out)]
    print(f"votes: {votes.npartitions} partitions of {args.votes}")
    print(f"workers: {len(model.trust_.index.unique(0)):,}; labels: {len(model.class_prior_)}")
    print(f"aggregator: {model.name} (--method {args.method}) on dask "
          f"({'scheduler ' + args.scheduler if args.workers is None else f'{args.workers} local workers'})")
    print(_em_line(model))
    print("beliefs: not computed on dask (run without --scheduler/--workers on a sample of the votes for them)")
    for path in written:
        print(f"wrote {path}")


def _model_and_gold(args: argparse.Namespace, aggregator: type[Aggregator], trust: str | pd.Series | None,
                    columns: dict[str, Any]) -> tuple[Aggregator, pd.DataFrame | None]:
    """The aggregator --method names, with the trust table --trust gives, and the gold table --gold gives."""
    gold = None if args.gold is None else _read_table(args.gold, args.delimiter,
                                                      {"task": args.task, "label": args.label},
                                                      "--task and --label", "--gold")
    if args.trust is not None:  # a given table replaces the learned trust
        trust = _read_trust(args.trust, args.delimiter, args.worker)
    # Any: the keyword goes to whichever constructor --method chose (none for difficulty), which checks it
    trust_keyword: dict[str, Any] = {} if trust is None else {"trust": trust}
    return aggregator(**trust_keyword, ties=args.ties, seed=args.seed, duplicates=args.duplicates, **columns), gold


def _em_line(model: Aggregator) -> str:
    em = "no EM" if model.n_iter_ == 0 else "converged" if model.converged_ else "did not converge"
    return f"EM iterations: {model.n_iter_} ({em})"


def _import_dask() -> tuple[Any, Any]:
    try:
        import dask.dataframe as dd
        import distributed
    except ImportError as error:
        raise UsageError(f"--scheduler and --workers need dask ({error}); install it: pip install \"wmvtrust[dask]\"") \
            from None
    return dd, distributed


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1; got {text!r}")
    return int(text)


def _check_not_an_input(args: argparse.Namespace, out: Path, trust_out: Path) -> None:
    """A UsageError if ``out`` or the trust table beside it is one of the input files, or lies in an input folder
    (a Parquet dataset, which would read it next time); compared resolved."""
    inputs = {"the votes": args.votes, "--gold": args.gold, "--trust": args.trust}
    for target in (out, trust_out):
        for name, path in inputs.items():
            if path is not None and _same_file(target, path):
                action = "overwrite" if target is out else f"write its trust table {target} over"
                raise UsageError(f"--out {out} would {action} the input file {path} ({name}); choose another --out")
            if path is not None and path.is_dir() and target.resolve().is_relative_to(path.resolve()):
                action = "write" if target is out else f"write its trust table {target}"
                raise UsageError(f"--out {out} would {action} into the input folder {path} ({name}); "
                                 "choose another --out")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return a.resolve() == b.resolve()


def _summary(args: argparse.Namespace, model: Aggregator, votes: pd.DataFrame, gold: pd.DataFrame | None,
             written: list[Path]) -> None:
    labels = model.probas_.columns
    shown = ", ".join(map(str, labels[:10])) + (f", ... ({len(labels) - 10} more)" if len(labels) > 10 else "")
    print(f"votes: {len(votes):,} from {args.votes}")
    workers = votes[args.worker].nunique()
    print(f"tasks: {len(model.labels_):,}; workers: {workers:,}; labels: {len(labels)} ({shown})")
    source = AGGREGATORS[args.method][3] if args.trust is None else f"given in {args.trust}"
    print(f"aggregator: {model.name} (--method {args.method}); trust: {source}")
    if gold is not None:
        tasks = gold[args.task].drop_duplicates()
        voted = int(tasks.isin(votes[args.task]).sum())
        unvoted = len(tasks) - voted
        if unvoted:
            verbs = "has no votes and is" if unvoted == 1 else "have no votes and are"
            print(f"{PROG}: warning: {unvoted:,} of the {len(tasks):,} gold tasks {verbs} not used", file=sys.stderr)
        with_gold = votes.loc[votes[args.task].isin(tasks), args.worker].nunique()
        print(f"gold: {voted:,} of the {len(tasks):,} gold tasks were voted on and keep their label; "
              f"{with_gold:,} of the {workers:,} workers voted on them")
    print(_em_line(model))
    if args.ties == "report":
        print(f"ties reported (label left empty): {int(model.labels_.isna().sum()):,}")
    print(model.summary(seed=args.seed))
    for path in written:
        print(f"wrote {path}")


def _more_rows_than(path: Path, n: int) -> bool:
    """Whether the CSV ``path`` has more than ``n`` rows below its header (counting lines), or the Parquet file or
    folder more than ``n`` rows (from the files' metadata); False if unreadable."""
    if _is_parquet(path):
        try:
            return parquet_rows(path) > n
        except (OSError, ValueError, ImportError):
            return False  # reading will report it
    try:
        if path.stat().st_size <= 6 * n:  # a row takes at least 6 bytes: "t,w,l\n"
            return False
        with open(path, "rb") as f:
            return sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b"")) > n + 1
    except OSError:
        return False  # reading will report it


def _is_parquet(path: Path) -> bool:
    """A folder or a ``.parquet`` name is Parquet; anything else CSV."""
    return path.suffix.lower() == ".parquet" or path.is_dir()


def _as_usage_error(read: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """``read(*args, **kwargs)``, its errors about a missing file or pyarrow reported as usage errors (exit code 2)
    like its ValueErrors; not as the runtime errors (1) that OSError and ImportError otherwise are."""
    try:
        return read(*args, **kwargs)
    except (FileNotFoundError, ImportError) as error:
        raise UsageError(str(error)) from None


def _read_table(path: Path, delimiter: str, columns: dict[str, str], flags: str, name: str) -> pd.DataFrame:
    """The CSV ``path`` (all its columns, indexed by line number) or the ``columns`` (role -> name) of the Parquet
    file or folder ``path`` (indexed by row number from 0), read as ``name``; else a usage error."""
    if not _is_parquet(path):
        return _read_csv(path, delimiter, columns.values(), flags)
    return _as_usage_error(read_parquet_table, path, columns, name=name, hint=f"Name the columns with {flags}.")


def _read_csv(path: Path, delimiter: str, required: Iterable[str], flags: str) -> pd.DataFrame:
    """Read a UTF-8 CSV as text, indexed by line number, with the ``required`` columns; else a UsageError."""
    try:
        frame = pd.read_csv(path, sep=delimiter, dtype=str, keep_default_na=False, na_values=[""])
    except UnicodeDecodeError:
        raise UsageError(_not_utf8(path)) from None
    except pd.errors.EmptyDataError:
        raise UsageError(f"{path} is empty; expected a CSV with a header row") from None
    except pd.errors.ParserError as error:  # e.g. a row with more fields than the header
        raise UsageError(_ragged_row(path, delimiter) or f"{path} is not a valid CSV: {error}") from None
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from None
    missing = [name for name in required if name not in frame.columns]
    if missing:
        found = ", ".join(map(repr, frame.columns))
        header = "".join(map(str, frame.columns))
        other = next((d for d in DELIMITERS if d != delimiter and d in header), None)
        if other is not None:
            raise UsageError(f"{path} has no column {missing[0]!r}, and its header {found} contains "
                             f"{DELIMITERS[other]}: the delimiter looks wrong; pass --delimiter {DELIMITERS[other]}")
        raise UsageError(f"{path} has no column {missing[0]!r}; its columns are {found}. "
                         f"Name the columns with {flags}")
    # pandas takes extra fields in the first row for an index, and fills a short row with NaN: look closer
    ragged = not isinstance(frame.index, pd.RangeIndex) or frame.iloc[:, -1].isna().any()
    if ragged and (message := _ragged_row(path, delimiter)):
        raise UsageError(message)
    frame.index = pd.RangeIndex(2, len(frame) + 2)  # line numbers: the header is line 1
    return frame


def _ragged_row(path: Path, delimiter: str) -> str | None:
    """The error for the first line of the CSV ``path`` whose field count is not the header's (one pass), or None."""
    width, end = None, 0  # fields of the header; the line where the last record ended
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        rows = csv.reader(f, delimiter=delimiter)
        try:
            for row in rows:
                if len(row) > 1 or "".join(row).strip():  # pandas skips blank lines
                    width = len(row) if width is None else width
                    if len(row) != width:
                        hint = "quote the field that holds the delimiter" if len(row) > width else \
                            "add the missing fields (they may be empty)"
                        return (f"{path}: line {end + 1} has {len(row)} field{'s' * (len(row) != 1)}; the header "
                                f"has {width}. Fix the row or {hint}.")
                end = rows.line_num
        except csv.Error:  # e.g. a field over the csv module's size limit: pandas' own message will do
            pass
    return None


def _not_utf8(path: Path) -> str:
    data = Path(path).read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        utf16 = " (it starts like UTF-16)" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        return (f"{path} is not UTF-8{utf16}: byte 0x{data[error.start]:02x} at byte position {error.start} "
                f"(line {line}) cannot be decoded; save the file as UTF-8")
    return f"{path} is not UTF-8; save the file as UTF-8"


def _read_trust(path: Path, delimiter: str, worker: str) -> pd.Series:
    parquet = _is_parquet(path)
    if parquet:  # the trust column's name first, then only the two columns
        columns = _as_usage_error(parquet_columns, path, name="--trust")
    else:
        frame = _read_csv(path, delimiter, [worker], "--worker")
        columns = list(frame.columns)
    column = next((c for c in ("trust", "mean") if c in columns), None)  # mean: a table aggregate wrote
    if column is None:
        raise UsageError(f"{path} has no column 'trust'; its columns are {', '.join(map(repr, columns))}")
    if parquet:
        frame = _read_table(path, delimiter, {"worker": worker, "trust": column}, "--worker", "--trust")
    where = "row" if parquet else "line"  # Parquet rows count from 0, CSV lines from the header's 1
    repeated = frame[worker].duplicated()
    if repeated.any():
        raise UsageError(f"{path} lists worker {frame[worker][repeated].iloc[0]!r} twice "
                         f"({where} {frame.index[repeated.to_numpy()][0]}); give one trust per worker")
    trust = pd.to_numeric(frame[column], errors="coerce")
    bad = trust.isna() & frame[column].notna()
    if bad.any():
        raise UsageError(f"{path}: {column} must be a number; {where} {trust.index[bad.to_numpy()][0]} has "
                         f"{frame[column][bad].iloc[0]!r}")
    return pd.Series(trust.to_numpy(dtype=float), index=frame[worker].to_numpy(), name="trust")


# ---------------------------------------------------------------- accuracy


def _accuracy(args: argparse.Namespace) -> None:
    q = args.trust if args.q is None else args.q
    if len(q) != len(args.trust):
        raise UsageError(f"--q must have one value per source, like --trust; got {len(q)} and {len(args.trust)}")
    w = log_odds_weights(args.trust)
    acc = accuracy(q, w, args.prior, args.method)
    est = None if args.trials is None else accuracy_mc(q, w, args.trials, seed=args.seed, prior=args.prior)
    print(f"sources: {len(w)}; prior P(truth = +1): {args.prior:g}")
    print(f"weights w = ln(t / (1 - t)): {_short(w)}")
    print(f"trustworthiness q: {'the trust (believed accuracy)' if args.q is None else _short(q)}")
    if acc.lower is None:
        print(f"accuracy: {acc.value:.12f} (exact, method: {acc.method})")
    else:
        print(f"accuracy: {acc.value:.12f} (certified interval [{acc.lower:.12f}, {acc.upper:.12f}], "
              f"method: {acc.method})")
    if est is not None:
        print(f"Monte Carlo: {est.value:.6f} (95% CI [{est.ci_low:.6f}, {est.ci_high:.6f}], SE {est.stderr:.1e}; "
              f"{est.trials:,} trials, seed {est.seed})")


def _short(values: Sequence[float] | NDArray[np.float64], most: int = 10) -> str:
    shown = ", ".join(f"{float(v):.6g}" for v in values[:most])
    return shown + (f", ... ({len(values) - most} more)" if len(values) > most else "")
