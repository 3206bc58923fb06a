"""What every benchmark script shares: timing, number formats and the one markdown table they print."""

import os
import statistics
import time
from dataclasses import dataclass


@dataclass
class Row:
    case: str
    timed: str
    median: str
    baseline: str = "—"
    baseline_median: str = "—"
    ratio: str = "—"
    target: str = "—"
    passed: bool | None = None  # None: informational, no target


def median_time(fn, repeat, min_seconds=0.2):
    """(median seconds per call, the last result), after one warm-up call.

    At least ``repeat`` calls, and more, up to 10,000, until ``min_seconds`` have passed:
    a call of microseconds needs many samples for a stable median.
    """
    result = fn()
    times = []
    while len(times) < repeat or (sum(times) < min_seconds and len(times) < 10_000):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def fmt_time(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 0.9995:  # not "1e+03 ms"
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def fmt_ratio(x):
    return f"{x:,.0f}x" if x >= 100 else f"{x:.3g}x"


def print_table(rows):
    """The one markdown table of a benchmark."""
    header = ("case", "what is timed", "median", "baseline", "baseline median", "ratio", "target", "result")
    print("| " + " | ".join(header) + " |")
    print("|---|---|---:|---|---:|---:|---|---|")
    for r in rows:
        result = "info" if r.passed is None else ("PASS" if r.passed else "FAIL")
        print(f"| {r.case} | {r.timed} | {r.median} | {r.baseline} | {r.baseline_median} | {r.ratio} "
              f"| {r.target} | {result} |")


def run_cases(cases):
    """The rows of every ``(name, case)``, printing the load average around each: the machine may be shared."""
    rows = []
    for name, case in cases:
        load = os.getloadavg()[0]
        rows += case()
        print(f"load average during {name}: {load:.2f} -> {os.getloadavg()[0]:.2f}")
    return rows


def targets_met(rows):
    """(targets met, targets set) among the rows."""
    targets = [r.passed for r in rows if r.passed is not None]
    return sum(targets), len(targets)
