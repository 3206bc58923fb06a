"""Planning gold by the expected SoO gap itself: planned_soo_gap, the posterior mean after new records, and
observations_needed on a prior, against references written here (numpy sampling and profile enumeration)."""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

import wmvtrust as wt

TIE_RTOL = 1e-12  # the library's tie tolerance, relative to sum |w| (docs/design.md, section 2)


def credits(signs, w):
    """Credit of every profile (rows of ``signs``, +1 right, -1 wrong) under the weights of every draw (rows of w),
    prior 1/2, finite weights: shape (draws, profiles)."""
    s = w @ signs.T
    tol = TIE_RTOL * np.abs(w).sum(axis=1, keepdims=True)
    return (s > tol) + 0.5 * (np.abs(s) <= tol)


def independent_planned_gap(alpha, beta, m, draws, seed, block=1_000):
    """E[A(P, w(P)) - A(P, w(T_m))] for P_i ~ Beta(alpha_i, beta_i), K_i ~ Binomial(m, P_i) drawn directly (no
    quantile coupling) and T_m = (alpha + K) / (alpha + beta + m), with the exact accuracy of each draw by
    enumerating all 2**n profiles: mean and standard error. No library code."""
    rng = np.random.default_rng(seed)
    n = len(alpha)
    x = ((np.arange(1 << n)[:, None] >> np.arange(n)) & 1).astype(float)
    terms = []
    for start in range(0, draws, block):
        p = np.clip(rng.beta(alpha, beta, size=(min(block, draws - start), n)), 1e-12, 1 - 1e-12)
        t = (alpha + rng.binomial(m, p)) / (np.asarray(alpha) + np.asarray(beta) + m)
        prob = np.exp(np.log(p) @ x.T + np.log1p(-p) @ (1 - x).T)
        oracle, rule = credits(2 * x - 1, np.log(p / (1 - p))), credits(2 * x - 1, np.log(t / (1 - t)))
        terms.append((prob * (oracle - rule)).sum(axis=1))
    terms = np.concatenate(terms)
    return terms.mean(), terms.std(ddof=1) / math.sqrt(terms.size)


# ---------------------------------------------------------------- the posterior mean after new records


@pytest.mark.parametrize(("k", "m"), [(0, 0), (0, 3), (2, 3), (3, 3), (5, 9)])
def test_the_posterior_mean_is_bayes_rule(k, m):
    """BetaTrust: (alpha + k) / (alpha + beta + m); DiscreteTrust: the Bayes posterior mean written out in Fractions
    (the support holds 0 and 1, where one record rules a value out)."""
    beta_model = wt.BetaTrust([2.0, 0.5], [3.0, 1.5])
    got = beta_model.posterior_mean(np.array([float(k), float(k)]), m)
    np.testing.assert_allclose(got, [(2 + k) / (5 + m), (0.5 + k) / (2 + m)], rtol=1e-15)
    support, probs = [Fraction(0), Fraction(1, 3), Fraction(3, 4), Fraction(1)], [Fraction(1, 8), Fraction(3, 8),
                                                                                 Fraction(1, 4), Fraction(1, 4)]
    like = [p * x ** k * (1 - x) ** (m - k) for x, p in zip(support, probs)]
    expected = sum(x * w for x, w in zip(support, like)) / sum(like)
    model = wt.DiscreteTrust([support], [probs])
    assert model.posterior_mean(np.array([[float(k)]]), m)[0, 0] == pytest.approx(float(expected), rel=1e-13)


# ---------------------------------------------------------------- the planned gap


def test_the_planned_gap_at_no_observation_is_the_soo_gap_on_the_same_draws():
    model = wt.BetaTrust([3.0, 1.0, 2.0, 5.0], [1.0, 1.0, 2.0, 2.0])
    now = wt.planned_soo_gap(model, 0, draws=3_000, seed=7)
    assert now.value == wt.soo_gap(model, method="montecarlo", draws=3_000, seed=7).value


@pytest.mark.parametrize("m", [0, 4, 16])
def test_the_planned_gap_agrees_with_an_independent_monte_carlo(m):
    """Six sources with different Beta priors: the library (quantile-coupled records) and the reference (records
    drawn directly, another seed) agree within 4.4 combined standard errors (Bonferroni over 3 cases: a false
    failure about once in 10**4 runs)."""
    alpha, beta = [1.0, 2.0, 4.0, 1.0, 3.0, 6.0], [1.0, 1.0, 2.0, 3.0, 3.0, 2.0]
    got = wt.planned_soo_gap(wt.BetaTrust(alpha, beta), m, draws=20_000, seed=1)
    value, stderr = independent_planned_gap(alpha, beta, m, 20_000, seed=2)
    assert abs(got.value - value) < 4.4 * math.hypot(got.stderr, stderr)


def test_the_planned_gap_falls_with_the_observations_and_reaches_zero_for_a_certain_model():
    model = wt.BetaTrust([1.0] * 5, [1.0] * 5)
    values = [wt.planned_soo_gap(model, m, draws=5_000, seed=3).value for m in (0, 2, 8, 32, 128)]
    assert all(a > b for a, b in zip(values, values[1:])), values  # common random numbers: no wobble at this spacing
    certain = wt.DiscreteTrust([[0.8], [0.7], [0.6]], [[1.0], [1.0], [1.0]])  # nothing to learn: no gap at any m
    assert wt.planned_soo_gap(certain, 5, draws=500, seed=0).value == 0.0


# ---------------------------------------------------------------- observations needed, planned by the gap


def test_the_default_example_is_planned_within_a_factor_two():
    """benchmarks/stability.py's default example (which times it): 10 sources with a Beta(1, 1) prior, epsilon 0.01.
    The answer m must bring the expected gap below 0.01 while m / 2 must not, by the independent Monte Carlo (the gap
    there is about 0.009 at m = 16 and 0.018 at m = 8); the Theorem 3 bound asked for about 98,000."""
    prior, epsilon = wt.BetaTrust(np.ones(10), np.ones(10)), 0.01
    needed = wt.observations_needed(prior, epsilon)
    assert needed.criterion == "expected gap" and needed.value < epsilon
    assert needed.low <= needed.observations <= needed.high
    m = needed.observations
    at_2m, _ = independent_planned_gap(np.ones(10), np.ones(10), 2 * m, 4_000, seed=11)
    at_half, _ = independent_planned_gap(np.ones(10), np.ones(10), m // 2, 4_000, seed=12)
    assert at_2m < epsilon < at_half, (m, at_2m, at_half)


def test_observations_needed_on_a_discrete_prior_and_the_interval_of_the_answer():
    """A DiscreteTrust prior plans by the gap too; the interval from the Monte Carlo error holds the answer, and is
    one observation wide or more only where the gap at the answer lies within the interval of epsilon."""
    prior = wt.DiscreteTrust([[0.55, 0.9]] * 4, [[0.5, 0.5]] * 4)
    needed = wt.observations_needed(prior, 0.005, draws=5_000)
    assert needed.criterion == "expected gap" and needed.low <= needed.observations <= needed.high
    at = wt.planned_soo_gap(prior, needed.observations, draws=5_000, seed=0)
    before = wt.planned_soo_gap(prior, needed.observations - 1, draws=5_000, seed=0)
    assert at.value < 0.005 <= before.value and needed.value == at.value and needed.stderr == at.stderr


def test_the_theorem_3_criterion_needs_a_beta_prior():
    prior = wt.DiscreteTrust([[0.55, 0.9]], [[0.5, 0.5]])
    with pytest.raises(TypeError, match=r"p_or_prior must be a BetaTrust for criterion='theorem 3 bound'; got "
                                        r"DiscreteTrust\."):
        wt.observations_needed(prior, 0.01, criterion="theorem 3 bound")
    with pytest.raises(ValueError, match=r"criterion must be one of 'regret'; got 'expected gap'\."):
        wt.observations_needed([0.7, 0.6], 0.01, criterion="expected gap")


def test_the_exact_expectation_over_records_matches_the_quantile_coupled_estimate():
    """One source and a two-point prior: the expected gap after m records is a finite sum, written here in
    Fractions over the support and every record; the library's Monte Carlo is within 4.4 standard errors."""
    support, probs, m = [Fraction(3, 10), Fraction(9, 10)], [Fraction(1, 2), Fraction(1, 2)], 3
    others = [(Fraction(7, 10), Fraction(1))]  # a second, known source (probability 1) keeps ties rare
    total = Fraction(0)
    for (x, px), k in itertools.product(zip(support, probs), range(m + 1)):
        pk = px * math.comb(m, k) * x ** k * (1 - x) ** (m - k)
        like = [p * s ** k * (1 - s) ** (m - k) for s, p in zip(support, probs)]
        t = sum(s * w for s, w in zip(support, like)) / sum(like)
        q = [x, others[0][0]]
        oracle = wt.accuracy_fraction(q, wt.log_odds_weights([float(x), 0.7]))
        rule = wt.accuracy_fraction(q, wt.log_odds_weights([float(t), 0.7]))
        total += pk * (oracle - rule)
    model = wt.DiscreteTrust([support, [Fraction(7, 10)]], [probs, [Fraction(1)]])
    got = wt.planned_soo_gap(model, m, draws=40_000, seed=4)
    assert abs(got.value - float(total)) < 4.4 * got.stderr, (got.value, float(total))
