"""``python -m simulations [--quick] [--seed N] [--out results]``: run every simulation, write the report."""

import argparse
import sys
import time
from pathlib import Path

import wmvtrust as wt

from . import report


def _parse(argv):
    parser = argparse.ArgumentParser(prog="python -m simulations",
                                     description="Simulate the claims of wmvtrust and write a report "
                                                 "(tables as CSV, figures as PNG, report.md).")
    parser.add_argument("--quick", action="store_true", help="small sweeps: about a minute on two cores")
    parser.add_argument("--seed", type=_seed, default=0, help="root seed of every simulation (default 0)")
    parser.add_argument("--out", type=Path, default=Path("results"), help="results folder (default: results)")
    args = parser.parse_args(argv)
    try:  # before any simulation runs: minutes of work must not end in an unwritable folder
        wt.io.check_writable_folder(args.out)
    except ValueError as error:
        parser.error(str(error))
    return args


def _seed(text):
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"the seed must be a whole number >= 0; got {text!r}")
    return int(text)


def main(argv=None):
    """Run every simulation, print each claim's verdict and the path of the report; returns that path."""
    args = _parse(argv)
    start = time.perf_counter()
    results = {}
    for k, (letter, module) in enumerate(report.CLAIMS.items(), start=1):
        print(f"[{k}/{len(report.CLAIMS)}] ({letter}) {module.TITLE}: simulating...", flush=True)
        began = time.perf_counter()
        results[letter] = module.run(quick=args.quick, seed=args.seed)
        ok, sentence = module.verdict(results[letter])
        print(f"[{k}/{len(report.CLAIMS)}] ({letter}) {sentence} ({time.perf_counter() - began:.0f} s)", flush=True)
    print("Writing tables, figures and the report...", flush=True)
    path = report.write(results, args.out, quick=args.quick, seed=args.seed, seconds=time.perf_counter() - start)
    print(f"Report: {path}", flush=True)
    return path


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
