"""Monte Carlo accuracy: agrees with the exact value, reproducible, independent of the thread count."""

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wmvtrust as wt

TRIALS = 50_000  # not a multiple of the kernel's chunk of 2**14 trials


@settings(max_examples=25)
@given(st.integers(1, 12), st.integers(0, 2**32 - 1), st.sampled_from(["log-odds", "majority", "with inf"]),
       st.floats(0.2, 0.8))
def test_estimate_is_within_four_standard_errors_of_the_exact_value(n, seed, rule, prior):
    rng = np.random.default_rng(seed)
    q = rng.uniform(0.3, 0.8, n)
    w = {"log-odds": wt.log_odds_weights(rng.uniform(0.3, 0.8, n)), "majority": np.ones(n),
         "with inf": wt.log_odds_weights(np.where(rng.random(n) < 0.3, rng.integers(0, 2, n), q))}[rule]
    exact = wt.accuracy(q, w, prior).value
    est = wt.accuracy_mc(q, w, TRIALS, seed=seed, prior=prior)
    if est.stderr == 0.0:  # every trial credited the same: then the exact value is that credit
        assert exact == pytest.approx(est.value, abs=1e-12)
    else:
        assert abs(est.value - exact) <= 4 * est.stderr
    assert est.ci_low <= est.value <= est.ci_high


def test_same_seed_same_result_and_another_seed_another():
    q, w = [0.7, 0.6, 0.55, 0.8], [1.0, 0.5, 0.2, 1.4]
    a, b = wt.accuracy_mc(q, w, TRIALS, seed=7), wt.accuracy_mc(q, w, TRIALS, seed=7)
    assert a == b
    assert wt.accuracy_mc(q, w, TRIALS, seed=8).value != a.value


def test_unseeded_run_records_a_seed_that_reproduces_it():
    q, w = [0.7, 0.6, 0.55], [1.0, 0.5, 0.2]
    first = wt.accuracy_mc(q, w, 20_000)
    assert wt.accuracy_mc(q, w, 20_000, seed=first.seed) == first


_SCRIPT = ("import wmvtrust as wt, numpy as np, numba; rng = np.random.default_rng(3); n = 40; "
           "q = rng.uniform(0.4, 0.8, n); w = wt.log_odds_weights(rng.uniform(0.4, 0.8, n)); w[3] = np.inf; "
           "print(numba.get_num_threads(), repr(wt.accuracy_mc(q, w, 300_001, seed=11, prior=0.3)))")


def test_bit_identical_with_one_and_two_threads():
    out = {}
    for threads in ("1", "2"):
        env = dict(os.environ, NUMBA_NUM_THREADS=threads)
        run = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, check=True)
        used, result = run.stdout.split(" ", 1)
        assert used == threads
        out[threads] = result
    assert out["1"] == out["2"]


def test_interval_is_not_degenerate_when_every_trial_agrees():
    """A sure panel still gets an interval of positive width (Wilson), not [1, 1]."""
    est = wt.accuracy_mc([1.0, 1.0, 1.0], [1.0, 1.0, 1.0], 1_000, seed=0)
    assert est.value == 1.0 and est.stderr == 0.0
    assert 0.99 < est.ci_low < 1.0 == est.ci_high


def test_confidence_level_widens_the_interval():
    q, w = [0.7, 0.6, 0.55], [1.0, 0.5, 0.2]
    narrow = wt.accuracy_mc(q, w, 10_000, seed=1, confidence=0.5)
    wide = wt.accuracy_mc(q, w, 10_000, seed=1, confidence=0.99)
    assert wide.ci_low < narrow.ci_low < narrow.value < narrow.ci_high < wide.ci_high
