"""Functions for tests/test_sweep.py, in a module so that executors in other processes can import them."""

import time

import numpy as np

import wmvtrust as wt

FINISHED = []  # the order in which `panel_accuracy` calls returned (this process only)


def panel_accuracy(n, trials, seed, delay=0.0):
    """Accuracy of log-odds voting on a panel of ``n`` sources drawn from ``seed``: Monte Carlo and exact."""
    time.sleep(delay)  # lets a test make early configurations finish last
    rng = np.random.default_rng(seed)
    t = rng.uniform(0.55, 0.95, n)
    w = wt.log_odds_weights(t)
    mc = wt.accuracy_mc(t, w, trials=trials, seed=int(rng.integers(2**32)))
    FINISHED.append((n, trials, delay))
    return {"mean_trust": float(t.mean()), "estimate": mc.value, "stderr": mc.stderr,
            "exact": wt.accuracy(t, w).value}
