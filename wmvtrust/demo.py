"""The demo: the accuracy of a default panel by every applicable method, with timings."""

import argparse
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from .accuracy import METHODS, accuracy, accuracy_mc
from ._warmup import warm_up
from .voting import log_odds_weights

DEFAULT_TRUST = (0.9, 0.85, 0.8, 0.75, 0.7, 0.7, 0.65, 0.6, 0.6, 0.55, 0.55, 0.52, 0.51)

_T = TypeVar("_T")


def _timed(f: Callable[[], _T]) -> tuple[_T, float]:
    start = time.perf_counter()
    out = f()
    return out, time.perf_counter() - start


def rows(trust: Sequence[float], trials: int, seed: int | None
         ) -> list[tuple[str, str, float | None, str, float | None]]:
    """(rule, method, value, interval, seconds) for each rule and each method that applies."""
    n = len(trust)
    rules = {"weighted (log-odds of trust)": log_odds_weights(trust), "majority (equal weights)": np.ones(n)}
    out: list[tuple[str, str, float | None, str, float | None]] = []
    for rule, w in rules.items():
        for method in METHODS:
            try:
                acc, seconds = _timed(lambda: accuracy(trust, w, method=method))
            except ValueError as error:
                out.append((rule, method, None, f"not applicable: {str(error).split(';')[0]}", None))
                continue
            interval = f"[{acc.lower:.12f}, {acc.upper:.12f}]" if acc.lower is not None else ""
            name = f"auto -> {acc.method}" if method == "auto" else method
            out.append((rule, name, acc.value, interval, seconds))
        est, seconds = _timed(lambda: accuracy_mc(trust, w, trials, seed=seed))
        out.append((rule, f"Monte Carlo, {trials:,} trials", est.value,
                    f"95% CI [{est.ci_low:.6f}, {est.ci_high:.6f}], SE {est.stderr:.1e}", seconds))
    return out


def numbers(text: str) -> list[float]:
    """Parse ``"0.9,0.7,0.6"`` into a list of floats (an argparse type: a bad entry is a usage error)."""
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers such as 0.9,0.7,0.6; got {text!r}"
                                         ) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``wmvtrust demo``."""
    parser.add_argument("--trust", type=numbers, default=list(DEFAULT_TRUST),
                        help="comma-separated trust of each source (default: a panel of 13)")
    parser.add_argument("--trials", type=int, default=1_000_000, help="Monte Carlo trials (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=0, help="Monte Carlo seed (default 0)")


def run(trust: Sequence[float], trials: int, seed: int | None) -> None:
    """Print the accuracy of a panel (trust taken as trustworthiness) by every method."""
    print(f"Panel of {len(trust)} sources; trust = trustworthiness = {trust}")
    print(f"Compiling or loading the numba kernels: {warm_up():.2f} s (once per machine; cached on disk)\n")
    print("| rule | method | accuracy | interval | time |\n|---|---|---:|---|---:|")
    for rule, method, value, interval, seconds in rows(trust, trials, seed):
        shown = "" if value is None else f"{value:.12f}"
        took = "" if seconds is None else f"{seconds * 1e3:.2f} ms"
        print(f"| {rule} | {method} | {shown} | {interval} | {took} |")

