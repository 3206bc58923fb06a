"""Monte Carlo accuracy: agrees with the exact value, its standard error is right, reproducible, independent of
the thread count."""

import math
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import wmvtrust as wt
from brute import profile_credits

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


# ---------------------------------------------------------------- the standard error

REPLICATES, REPLICATE_TRIALS = 60, 20_000
ALPHA = 0.001  # each check below fails with probability under 0.001 when the standard error is right
SE_PANELS = {  # credits 0, 1 and in between (ties, the prior's bias equal to a weight), so Var(credit) < A (1 - A)
    "bias ties a weight": ([0.8, 0.7, 0.6, 0.65, 0.55, 0.9, 0.6, 0.75], [2, 1, 1, 1, 0, 1, 1, 2],
                           1 / (1 + math.exp(-1))),
    "equal weights, bias 2, ±inf": ([0.8, 0.7, 0.6, 0.65, 0.55, 0.9, 0.6, 0.75, 0.9, 0.95],
                                    [1] * 8 + [math.inf, -math.inf], 1 / (1 + math.exp(-2))),
}


def credit_moments(q, w, prior):
    """Exact mean, variance and fourth central moment of one trial's credit, over all 2**n profiles (tests/brute.py)."""
    probs, credits = profile_credits(q, w, prior)
    mean = math.fsum(probs * credits)
    return mean, math.fsum(probs * (credits - mean) ** 2), math.fsum(probs * (credits - mean) ** 4)


@pytest.fixture(scope="module", params=list(SE_PANELS))
def replicates(request):
    """(panel, exact moments, 60 estimates of 20,000 trials with seeds 0..59): independent SplitMix64 streams."""
    q, w, prior = SE_PANELS[request.param]
    return (q, w, prior), credit_moments(q, w, prior), \
        [wt.accuracy_mc(q, w, REPLICATE_TRIALS, seed=seed, prior=prior) for seed in range(REPLICATES)]


def test_oracle_credit_variance_is_below_the_bernoulli_variance(replicates):
    """The panels are chosen so that a standard error computed as sqrt(A (1 - A) / trials) would be visibly wrong."""
    _, (mean, variance, _), _ = replicates
    assert variance < 0.8 * mean * (1 - mean)


def test_each_standard_error_estimates_the_exact_one(replicates):
    """stderr**2 * trials is the sample variance of the credit, whose exact value Var(credit) comes from enumerating
    the profiles; its sampling sd is sqrt((mu4 - Var**2) / trials) (about 1% here), so each of the 60 is within
    z = 4.15 of those (Bonferroni: under 0.001 for all 60 together)."""
    _, (mean, variance, fourth), estimates = replicates
    sd = math.sqrt((fourth - variance**2) / REPLICATE_TRIALS)
    z = stats.norm.isf(ALPHA / (2 * REPLICATES))
    for seed, est in enumerate(estimates):
        assert est.trials == REPLICATE_TRIALS and est.seed == seed
        assert abs(est.stderr**2 * REPLICATE_TRIALS - variance) <= z * sd, (seed, est.stderr, variance)


def test_standard_error_matches_the_spread_of_independent_replicates(replicates):
    """Over 60 seeds: (R - 1) s**2 / SE**2 lies in the central 99.9% of chi-square(R - 1), s the sample sd of the
    estimates and SE the mean reported standard error; sum ((estimate - A) / stderr)**2 against the exact accuracy A
    lies in the central 99.9% of chi-square(R); and at least k of the 60 95% intervals contain A, where fewer has
    probability under 0.001 at 95% coverage (the Wilson interval is conservative, so the coverage is at least that)."""
    _, (exact, _, _), estimates = replicates
    values, errors = np.array([e.value for e in estimates]), np.array([e.stderr for e in estimates])
    lo, hi = stats.chi2.ppf([ALPHA / 2, 1 - ALPHA / 2], REPLICATES - 1)
    spread = (REPLICATES - 1) * values.var(ddof=1) / errors.mean() ** 2
    assert lo <= spread <= hi, (spread, lo, hi)
    lo, hi = stats.chi2.ppf([ALPHA / 2, 1 - ALPHA / 2], REPLICATES)
    squares = float((((values - exact) / errors) ** 2).sum())
    assert lo <= squares <= hi, (squares, lo, hi)
    covered = sum(e.ci_low <= exact <= e.ci_high for e in estimates)
    k = int(stats.binom.ppf(ALPHA, REPLICATES, 0.95))  # P(Binomial(60, 0.95) < k) < 0.001
    assert stats.binom.cdf(k - 1, REPLICATES, 0.95) < ALPHA
    assert covered >= k, (covered, k)
