"""The command line: ``wmvtrust aggregate | accuracy | demo`` (also ``python -m wmvtrust``).

``main`` returns the exit code: 0 success, 2 a usage error (bad arguments, an unreadable
or malformed input file, a ValueError or TypeError about the user's input), 1 any other
error (e.g. writing failed). Every error is one line on stderr, without a traceback.
"""

import argparse
import os
import sys
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from . import demo
from . import io as wio
from .accuracy import METHODS, accuracy, accuracy_mc
from .crowd import WeightedMajorityVote
from .voting import log_odds_weights

PROG = "wmvtrust"
PROGRESS_FROM = 100_000  # vote rows: larger inputs show a stage bar on stderr
DELIMITERS = {",": "','", ";": "';'", "\t": "'\\t'", "|": "'|'"}  # what a wrong --delimiter may hide

EPILOG = """\
examples:
  wmvtrust aggregate votes.csv --out labels.csv                  # trust by EM
  wmvtrust aggregate votes.csv --gold gold.csv --out labels.csv  # from gold
  wmvtrust accuracy --trust 0.9,0.6,0.6          # exact accuracy of WMV
  wmvtrust demo --trials 100000                  # every method, timed

Without a command, wmvtrust runs the demo; each command has its own --help.
Exit codes: 0 success, 1 runtime error (e.g. writing failed), 2 usage error
(bad arguments or input files); an error is one line on stderr.
"""

AGGREGATE_DESCRIPTION = """\
Learn each worker's trust and label every task by weighted majority voting.
Trust comes from --trust if given, else from --gold if given, else from EM
on the votes (one-coin model); --method forces EM or gold.
"""

AGGREGATE_EPILOG = """\
examples:
  wmvtrust aggregate votes.csv --out labels.csv
  wmvtrust aggregate votes.csv --gold gold.csv --out out/labels.csv
  wmvtrust aggregate votes.csv --trust trust.csv --ties report --out labels.csv
  wmvtrust aggregate votes.tsv --delimiter '\\t' --task item --worker annotator \\
      --label answer --out labels.csv

files: UTF-8 CSV with a header row; task, worker and label values are kept
as text (01 stays 01); row numbers in error messages are line numbers.
  VOTES.csv    one row per vote: task, worker, label
  GOLD.csv     known truths: task, label (the column names of the votes)
  TRUST.csv    worker, trust in [0, 1] (or the mean of a <stem>.trust.csv)
  LABELS.csv   written: task, label (the decision; empty for a reported tie)
               and p_<label> for each label (posterior probabilities); one
               row per task, in order of first appearance
  <stem>.trust.csv  written next to LABELS.csv: worker, mean (the trust),
               alpha, beta (its Beta posterior; empty for given trust),
               n_gold (gold votes; empty unless trust is from gold)
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
    def error(self, message):  # one line with the house prefix, exit 2 (argparse's own also prints the usage)
        self.exit(2, f"{PROG}: error: {message}; run '{self.prog} --help' for usage.\n")


def _parser():
    def formatter(prog):
        return argparse.RawDescriptionHelpFormatter(prog, max_help_position=28)

    parser = _Parser(prog=PROG, formatter_class=formatter, epilog=EPILOG,
                     description="Trust-aware weighted majority voting: aggregate crowd labels, compute accuracy.")
    commands = parser.add_subparsers(dest="command", title="commands")

    agg = commands.add_parser("aggregate", formatter_class=formatter, epilog=AGGREGATE_EPILOG,
                              help="learn trust and label every task of a vote table",
                              description=AGGREGATE_DESCRIPTION)
    agg.add_argument("votes", type=Path, metavar="VOTES.csv", help="the votes, one row per (task, worker, label)")
    agg.add_argument("--out", type=Path, required=True, metavar="LABELS.csv", help="the labels to write")
    agg.add_argument("--gold", type=Path, metavar="GOLD.csv", help="known truths of some tasks (task, label)")
    agg.add_argument("--trust", type=Path, metavar="TRUST.csv", help="trust of every worker (worker, trust)")
    agg.add_argument("--method", choices=("em", "gold"), help="force the trust source (default: see above)")
    agg.add_argument("--task", default="task", help="task column name (default: task)")
    agg.add_argument("--worker", default="worker", help="worker column name (default: worker)")
    agg.add_argument("--label", default="label", help="label column name (default: label)")
    agg.add_argument("--duplicates", choices=("error", "first", "last"), default="error",
                     help="a worker voting twice on a task: refuse, or keep the first or last vote (default: error)")
    agg.add_argument("--ties", choices=("coin", "report"), default="coin",
                     help="break a tie by a seeded fair coin, or leave its label empty (default: coin)")
    agg.add_argument("--seed", type=int, default=0, help="seed of the tie-breaking coin (default: 0)")
    agg.add_argument("--delimiter", type=_delimiter, default=",",
                     help="field separator of the input files, one character; '\\t' for tab (default: ,)")
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
                              help="the accuracy of a panel by every method, timed", description=demo.main.__doc__)
    demo.add_arguments(dem)
    dem.set_defaults(run=lambda args: demo.run(args.trust, args.trials, args.seed))
    return parser


def main(argv=None):
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


def _fail(error, code):
    print(f"{PROG}: error: {' '.join(str(error).split())}", file=sys.stderr)  # one line
    return code


def _delimiter(text):
    text = {"\\t": "\t", "tab": "\t"}.get(text, text)
    if len(text) != 1:
        raise argparse.ArgumentTypeError(f"must be one character ('\\t' for tab); got {text!r}")
    return text


# ---------------------------------------------------------------- aggregate


def _aggregate(args):
    if args.trust is not None and args.method is not None:
        raise UsageError("give --trust TRUST.csv or --method, not both")
    source = "file" if args.trust is not None else args.method or ("gold" if args.gold is not None else "em")
    if source == "gold" and args.gold is None:
        raise UsageError("--method gold needs --gold GOLD.csv")
    out = args.out
    if out.is_dir():
        raise UsageError(f"--out must name a file; {str(out)!r} is a folder")
    trust_out = out.with_name(f"{out.stem}.trust{out.suffix or '.csv'}")
    wio.check_writable_folder(out.parent)  # before any work: a long fit must not end in an unwritable folder

    columns = {"task": args.task, "worker": args.worker, "label": args.label}
    bar = tqdm(total=3, desc="read", file=sys.stderr, disable=not _more_rows_than(args.votes, PROGRESS_FROM),
               bar_format="wmvtrust: {desc} ({n}/{total} stages done, {elapsed})")
    with bar:
        votes = _read_csv(args.votes, args.delimiter, columns.values(), "--task, --worker and --label")
        gold = trust = None
        if source == "gold":
            gold = _read_csv(args.gold, args.delimiter, [args.task, args.label], "--task and --label")
        elif source == "file":
            trust = _read_trust(args.trust, args.delimiter, args.worker)
        bar.update()
        bar.set_description_str("fit")
        model = WeightedMajorityVote(trust if source == "file" else source, ties=args.ties, seed=args.seed,
                                     duplicates=args.duplicates, **columns).fit(votes, gold)
        bar.update()
        bar.set_description_str("write")
        labels = model.probas_.add_prefix("p_")
        labels.insert(0, args.label, model.labels_)
        written = [wio.write_table(labels.reset_index(), out), wio.write_table(model.trust_.reset_index(), trust_out)]
        bar.update()
    _summary(args, model, source, votes, gold, written)


def _summary(args, model, source, votes, gold, written):
    labels = model.probas_.columns
    shown = ", ".join(map(str, labels[:10])) + (f", ... ({len(labels) - 10} more)" if len(labels) > 10 else "")
    print(f"votes: {len(votes):,} from {args.votes}")
    print(f"tasks: {len(model.labels_):,}; workers: {len(model.trust_):,}; labels: {len(labels)} ({shown})")
    if source == "gold":
        voted = gold[args.task].drop_duplicates().isin(model.labels_.index)
        print(f"trust: from gold ({int(voted.sum()):,} of the {len(voted):,} gold tasks were voted on; "
              f"{int((model.trust_['n_gold'] == 0).sum()):,} workers without a gold vote keep the prior)")
    else:
        unused = " (--gold not used)" if args.gold is not None else ""
        print(f"trust: given in {args.trust}{unused}" if source == "file" else f"trust: EM on the votes{unused}")
    print(f"EM iterations: {model.n_iter_}")
    if args.ties == "report":
        print(f"ties reported (label left empty): {int(model.labels_.isna().sum()):,}")
    print(model.summary(seed=args.seed))
    for path in written:
        print(f"wrote {path}")


def _more_rows_than(path, n):
    """Whether the CSV ``path`` has more than ``n`` rows below its header (counting lines; False if unreadable)."""
    try:
        if path.stat().st_size <= 6 * n:  # a row takes at least 6 bytes: "t,w,l\n"
            return False
        with open(path, "rb") as f:
            return sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b"")) > n + 1
    except OSError:
        return False  # reading will report it


def _read_csv(path, delimiter, required, flags):
    """Read a UTF-8 CSV as text, indexed by line number, with the ``required`` columns; else a UsageError."""
    try:
        frame = pd.read_csv(path, sep=delimiter, dtype=str, keep_default_na=False, na_values=[""])
    except UnicodeDecodeError:
        raise UsageError(_not_utf8(path)) from None
    except pd.errors.EmptyDataError:
        raise UsageError(f"{path} is empty; expected a CSV with a header row") from None
    except pd.errors.ParserError as error:
        raise UsageError(f"{path} is not a valid CSV: {error}") from None
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
    frame.index = pd.RangeIndex(2, len(frame) + 2)  # line numbers: the header is line 1
    return frame


def _not_utf8(path):
    data = Path(path).read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        utf16 = " (it starts like UTF-16)" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        return (f"{path} is not UTF-8{utf16}: byte 0x{data[error.start]:02x} at byte position {error.start} "
                f"(line {line}) cannot be decoded; save the file as UTF-8")
    return f"{path} is not UTF-8; save the file as UTF-8"


def _read_trust(path, delimiter, worker):
    frame = _read_csv(path, delimiter, [worker], "--worker")
    column = next((c for c in ("trust", "mean") if c in frame.columns), None)  # mean: a table aggregate wrote
    if column is None:
        raise UsageError(f"{path} has no column 'trust'; its columns are {', '.join(map(repr, frame.columns))}")
    repeated = frame[worker].duplicated()
    if repeated.any():
        raise UsageError(f"{path} lists worker {frame[worker][repeated].iloc[0]!r} twice "
                         f"(line {frame.index[repeated.to_numpy()][0]}); give one trust per worker")
    trust = pd.to_numeric(frame[column], errors="coerce")
    bad = trust.isna() & frame[column].notna()
    if bad.any():
        raise UsageError(f"{path}: {column} must be a number; line {trust.index[bad.to_numpy()][0]} has "
                         f"{frame[column][bad].iloc[0]!r}")
    return pd.Series(trust.to_numpy(dtype=float), index=frame[worker].to_numpy(), name="trust")


# ---------------------------------------------------------------- accuracy


def _accuracy(args):
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


def _short(values, most=10):
    shown = ", ".join(f"{float(v):.6g}" for v in values[:most])
    return shown + (f", ... ({len(values) - most} more)" if len(values) > most else "")
