"""Trust models and estimators, each checked against an independent computation.

BetaTrust against scipy.stats.beta and numerical integration; DiscreteTrust against
sums written here in Fractions; the estimators against hand-counted tables and
against data simulated from the one-coin model with known accuracies.
"""

import itertools
import math
from fractions import Fraction as F

import numpy as np
import pytest
from scipy import integrate, stats

import wmvtrust as wt

BETA_PARAMS = [(1.0, 1.0), (2.0, 3.0), (0.5, 0.7), (21.0, 5.0), (3.5, 40.0)]


def z(value, expected, stderr):
    """How many standard errors ``value`` lies from ``expected``."""
    return abs(value - expected) / stderr


# ---------------------------------------------------------------- BetaTrust


def test_beta_mean_and_variance_match_scipy():
    a, b = map(np.array, zip(*BETA_PARAMS))
    model = wt.BetaTrust(a, b)
    assert model.n_sources == len(BETA_PARAMS)
    np.testing.assert_allclose(model.mean, stats.beta.mean(a, b), rtol=1e-14)
    np.testing.assert_allclose(model.variance, stats.beta.var(a, b), rtol=1e-12)


@pytest.mark.parametrize(("a", "b"), [(1.0, 1.0), (2.0, 3.0), (21.0, 5.0), (3.5, 40.0), (1.5, 1.2)])
def test_beta_mad_and_sign_aware_mad_match_numerical_integration(a, b):
    """E|P - t| and E[(P - t)^+ 1{P >= 1/2} + (t - P)^+ 1{P < 1/2}] by scipy.integrate.quad."""
    model = wt.BetaTrust([a], [b])
    t = a / (a + b)
    pdf = stats.beta(a, b).pdf
    mad = integrate.quad(lambda x: abs(x - t) * pdf(x), 0, 1, points=[t], epsabs=1e-14, epsrel=1e-12)[0]

    def sign_aware(x):
        return (max(x - t, 0.0) if x >= 0.5 else max(t - x, 0.0)) * pdf(x)

    aware = integrate.quad(sign_aware, 0, 1, points=sorted({t, 0.5}), epsabs=1e-14, epsrel=1e-12)[0]
    assert model.mad[0] == pytest.approx(mad, rel=1e-9)
    assert model.sign_aware_mad[0] == pytest.approx(aware, rel=1e-9, abs=1e-13)
    assert model.sign_aware_mad[0] <= model.mad[0] + 1e-15


def test_from_track_record_adds_the_counts_to_a_custom_prior():
    model = wt.BetaTrust.from_track_record([8, 0, 2.5], [2, 5, 0], beta_prior=(0.5, 3))
    np.testing.assert_array_equal(model.alpha, [8.5, 0.5, 3.0])
    np.testing.assert_array_equal(model.beta, [5.0, 8.0, 3.0])
    np.testing.assert_allclose(model.mean, [8.5 / 13.5, 0.5 / 8.5, 0.5], rtol=1e-15)
    default = wt.BetaTrust.from_track_record([8], [2])  # the Beta reputation system's uniform prior
    assert (default.alpha.tolist(), default.beta.tolist()) == ([9.0], [3.0])


def test_beta_sample_is_reproducible_has_the_right_shape_and_mean():
    model = wt.BetaTrust([2.0, 30.0, 0.5], [5.0, 3.0, 0.5])
    draws = model.sample(20_000, seed=3)
    assert draws.shape == (20_000, 3)
    assert ((draws > 0) & (draws < 1)).all()
    np.testing.assert_array_equal(draws, model.sample(20_000, seed=3))
    np.testing.assert_array_equal(draws, model.sample(20_000, seed=np.random.default_rng(3)))
    assert not np.array_equal(draws, model.sample(20_000, seed=4))
    assert model.sample(1, seed=0).shape == (1, 3)
    stderr = np.sqrt(model.variance / draws.shape[0])
    assert (np.abs(draws.mean(axis=0) - model.mean) < 4 * stderr).all()


def beta_moment(k, a, b):
    """E[P^k] = prod_{j < k} (a + j) / (a + b + j), in exact rational arithmetic."""
    return float(math.prod((F(a) + j) / (F(a) + F(b) + j) for j in range(k)))


def test_oracle_beta_moment_reference_agrees_with_scipy_where_scipy_is_exact():
    """scipy.stats.beta.moment is exact up to k = 4 only (it integrates numerically beyond: 68% off at k = 15)."""
    for a, b in BETA_PARAMS:
        for k in range(5):
            assert beta_moment(k, a, b) == pytest.approx(stats.beta.moment(k, a, b), rel=1e-13)


@pytest.mark.parametrize("order", range(1, 9))
@pytest.mark.parametrize(("a", "b"), BETA_PARAMS)
def test_quadrature_integrates_moments_up_to_degree_2_order_minus_1_exactly(order, a, b):
    nodes, weights = wt.BetaTrust([a, 2.0], [b, 2.0]).quadrature(order)
    assert nodes.shape == weights.shape == (2, order)
    assert ((nodes > 0) & (nodes < 1)).all()
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-14)
    assert (weights > 0).all()
    for k in range(2 * order):
        assert weights[0] @ nodes[0] ** k == pytest.approx(beta_moment(k, a, b), rel=1e-12)
        assert weights[1] @ nodes[1] ** k == pytest.approx(beta_moment(k, 2.0, 2.0), rel=1e-12)
    if order <= 3:  # and no further: Gauss quadrature with `order` nodes misses E[P^(2 order)]
        exact = beta_moment(2 * order, a, b)
        assert abs(weights[0] @ nodes[0] ** (2 * order) - exact) > 1e-6 * exact


# ---------------------------------------------------------------- DiscreteTrust

RATIONAL = wt.DiscreteTrust([[F(1, 2), F(1)], [F(3, 4)], [F(0), F(1, 5), F(9, 10)]],
                            [[F(1, 3), F(2, 3)], [1], [F(1, 10), F(1, 2), F(2, 5)]])
FLOATING = wt.DiscreteTrust([[0.1, 0.5, 0.9], [0.3, 0.7]], [[0.2, 0.5, 0.3], [0.6, 0.4]])


def test_mean_exact_is_rational_for_fractions_and_float_otherwise():
    means = RATIONAL.mean_exact()
    assert all(type(t) is F for t in means)
    assert means == [F(1, 6) + F(2, 3), F(3, 4), F(1, 10) + F(9, 25)]
    np.testing.assert_array_equal(RATIONAL.mean, [float(t) for t in means])
    floats = FLOATING.mean_exact()
    assert all(type(t) is float for t in floats)
    assert floats == pytest.approx([0.02 + 0.25 + 0.27, 0.18 + 0.28], abs=1e-15)
    mixed = wt.DiscreteTrust([[F(1, 2), 0.75]], [[F(1, 2), F(1, 2)]]).mean_exact()  # one float entry: float
    assert type(mixed[0]) is float and mixed[0] == 0.625


def test_joint_enumerates_every_point_with_the_product_probability():
    points = list(RATIONAL.joint())
    assert len(points) == RATIONAL.n_joint == 2 * 1 * 3
    assert sum(p for p, _ in points) == 1  # exactly, in Fractions
    assert all(type(p) is F for p, _ in points)
    assert {x for _, x in points} == set(itertools.product(*RATIONAL.support))
    marginal = [dict(zip(s, p)) for s, p in zip(RATIONAL.support, RATIONAL.probabilities)]
    for p, x in points:
        assert p == math.prod(m[xi] for m, xi in zip(marginal, x))
    float_points = list(FLOATING.joint())
    assert len(float_points) == FLOATING.n_joint == 6
    assert math.fsum(p for p, _ in float_points) == pytest.approx(1.0, abs=1e-15)


def test_discrete_sample_frequencies_match_the_probabilities():
    size = 40_000
    draws = FLOATING.sample(size, seed=11)
    assert draws.shape == (size, 2)
    np.testing.assert_array_equal(draws, FLOATING.sample(size, seed=11))
    for i, (xs, ps) in enumerate(zip(FLOATING.support, FLOATING.probabilities)):
        assert set(np.unique(draws[:, i])) == set(xs)
        for x, p in zip(xs, ps):
            assert z(np.mean(draws[:, i] == x), p, math.sqrt(p * (1 - p) / size)) < 4
    for p, x in FLOATING.joint():  # the sources are drawn independently
        freq = np.mean((draws == x).all(axis=1))
        assert z(freq, p, math.sqrt(p * (1 - p) / size)) < 4


@pytest.mark.parametrize("model", [RATIONAL, FLOATING], ids=["rational", "float"])
def test_discrete_variance_and_mad_are_the_direct_sums(model):
    variance, mad, aware = [], [], []
    for xs, ps in zip(model.support, model.probabilities):
        xs, ps = [F(x) for x in xs], [F(p) for p in ps]  # exact arithmetic on the given values
        t = sum(p * x for p, x in zip(ps, xs))
        variance.append(float(sum(p * (x - t) ** 2 for p, x in zip(ps, xs))))
        mad.append(float(sum(p * abs(x - t) for p, x in zip(ps, xs))))
        aware.append(float(sum(p * (max(x - t, 0) if x >= F(1, 2) else max(t - x, 0)) for p, x in zip(ps, xs))))
    np.testing.assert_allclose(model.variance, variance, rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(model.mad, mad, rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(model.sign_aware_mad, aware, rtol=1e-13, atol=1e-16)


# ---------------------------------------------------------------- trust_from_gold

GOLD_VOTES = [[1, -1, 0, 1, 0],
              [-1, -1, 1, 0, 0],
              [1, 0, 0, -1, 0],
              [-1, 1, -1, -1, 0]]
GOLD_TRUTH = [1, -1, -1, 1]
# right / wrong per source, counted by hand (0 is no vote; the last source never voted)
GOLD_RIGHT, GOLD_WRONG = [2, 2, 0, 2, 0], [2, 1, 2, 1, 0]


@pytest.mark.parametrize("prior", [(1, 1), (0.5, 2.0)])
def test_trust_from_gold_counts_right_wrong_and_abstentions(prior):
    model = wt.trust_from_gold(GOLD_VOTES, GOLD_TRUTH, **({} if prior == (1, 1) else {"beta_prior": prior}))
    a0, b0 = prior
    np.testing.assert_array_equal(model.alpha, [a0 + r for r in GOLD_RIGHT])
    np.testing.assert_array_equal(model.beta, [b0 + w for w in GOLD_WRONG])


# ---------------------------------------------------------------- trust_em


def one_coin(p, n_tasks, seed, positive=0.5, abstain=0.0):
    """Votes from the one-coin model: source i right with probability p[i], independently; 0 = no vote."""
    rng = np.random.default_rng(seed)
    truth = np.where(rng.random(n_tasks) < positive, 1, -1)
    right = rng.random((n_tasks, len(p))) < np.asarray(p)
    votes = np.where(right, truth[:, None], -truth[:, None])
    votes[rng.random(votes.shape) < abstain] = 0
    return votes, truth


def oracle_decisions(votes, p, positive):
    """WMV with the true accuracies and the true class prior (the Bayes rule); 0 for a tie."""
    w = np.log(np.asarray(p) / (1 - np.asarray(p)))
    return np.sign(votes @ w + math.log(positive / (1 - positive)))


EM_CASES = {  # (accuracies, tasks, P(y = +1), abstention rate, seed)
    "n=5": ([0.9, 0.8, 0.7, 0.65, 0.6], 3_000, 0.5, 0.0, 1),
    "n=7, one adversarial, skewed classes": ([0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.35], 4_000, 0.7, 0.0, 2),
    "n=9, 30% abstentions": ([0.92, 0.88, 0.8, 0.75, 0.72, 0.7, 0.66, 0.6, 0.55], 5_000, 0.4, 0.3, 3),
}


@pytest.mark.parametrize("case", EM_CASES.values(), ids=EM_CASES.keys())
def test_trust_em_recovers_the_accuracies_of_one_coin_data(case):
    p, n_tasks, positive, abstain, seed = case
    votes, truth = one_coin(p, n_tasks, seed, positive, abstain)
    fit = wt.trust_em(votes)
    assert fit.converged and fit.n_iter < 1000
    voted = (votes != 0).sum(axis=0)
    assert isinstance(fit.trust, wt.BetaTrust)
    np.testing.assert_allclose(fit.trust.alpha + fit.trust.beta, 2.0 + voted, rtol=1e-12)
    stderr = np.sqrt(np.multiply(p, np.subtract(1, p)) / voted)  # of the gold-label estimate of p
    assert (np.abs(fit.trust.mean - p) < 4 * stderr).all(), (fit.trust.mean - p) / stderr
    # the fitted class prior, within sampling error of P(y = +1)
    assert z(fit.class_prior, positive, math.sqrt(positive * (1 - positive) / n_tasks)) < 4
    # the posterior decides (almost) as well as the Bayes rule that knows p on the same votes
    assert fit.posterior.shape == (n_tasks,) and ((fit.posterior >= 0) & (fit.posterior <= 1)).all()
    em_right = np.mean(np.where(fit.posterior > 0.5, 1, -1) == truth)
    oracle = oracle_decisions(votes, p, positive)
    oracle_right = np.mean(oracle == truth) + 0.5 * np.mean(oracle == 0)
    assert em_right >= oracle_right - 0.005
    assert em_right > 0.9


def test_trust_em_is_a_fixed_point_of_its_m_step_with_a_custom_prior():
    """alpha - a0 = expected right votes under the returned posterior; alpha + beta = a0 + b0 + votes cast."""
    p = [0.85, 0.8, 0.75, 0.7, 0.6, 0.55]
    votes, _ = one_coin(p, 3_000, seed=4, positive=0.5, abstain=0.2)
    fit = wt.trust_em(votes, beta_prior=(2.0, 3.0))
    mu = fit.posterior
    expected_right = (votes == 1).T @ mu + (votes == -1).T @ (1 - mu)
    voted = (votes != 0).sum(axis=0)
    # converged (tol = 1e-9 on the trust): one more M-step would move alpha by about tol * (a0 + b0 + votes)
    np.testing.assert_allclose(fit.trust.alpha, 2.0 + expected_right, atol=2e-9 * (5.0 + voted.max()))
    np.testing.assert_allclose(fit.trust.alpha + fit.trust.beta, 5.0 + voted, rtol=1e-12)
    assert fit.class_prior == pytest.approx(mu.mean(), abs=1e-8)
    # the E-step: the posterior is the logistic of the WMV score with the fitted trust and class prior
    t = fit.trust.mean
    logit = math.log(fit.class_prior / (1 - fit.class_prior)) + votes @ np.log(t / (1 - t))
    np.testing.assert_allclose(mu, 1 / (1 + np.exp(-logit)), rtol=1e-12, atol=1e-15)


def test_trust_em_is_invariant_to_relabelling_reordering_and_flipping():
    p = [0.9, 0.8, 0.7, 0.65, 0.6]
    votes, _ = one_coin(p, 2_000, seed=5, positive=0.6, abstain=0.1)
    fit = wt.trust_em(votes)
    flipped = wt.trust_em(-votes)  # the labels swapped: same trust, complementary posterior
    np.testing.assert_allclose(flipped.trust.mean, fit.trust.mean, atol=1e-8)
    np.testing.assert_allclose(flipped.posterior, 1 - fit.posterior, atol=1e-8)
    assert flipped.class_prior == pytest.approx(1 - fit.class_prior, abs=1e-8)
    rng = np.random.default_rng(0)
    tasks, sources = rng.permutation(votes.shape[0]), rng.permutation(votes.shape[1])
    shuffled = wt.trust_em(votes[tasks][:, sources])
    np.testing.assert_allclose(shuffled.trust.mean, fit.trust.mean[sources], atol=1e-8)
    np.testing.assert_allclose(shuffled.posterior, fit.posterior[tasks], atol=1e-8)


def test_trust_em_gives_a_silent_source_its_prior():
    votes, _ = one_coin([0.9, 0.8, 0.7], 500, seed=6)
    votes = np.column_stack([votes, np.zeros(500, dtype=int)])
    fit = wt.trust_em(votes, beta_prior=(3.0, 2.0))
    assert (fit.trust.alpha[3], fit.trust.beta[3]) == (3.0, 2.0)


def test_trust_em_reports_no_convergence_when_stopped_early():
    votes, _ = one_coin([0.9, 0.8, 0.7, 0.6], 1_000, seed=7)
    fit = wt.trust_em(votes, max_iter=1)
    assert fit.n_iter == 1 and not fit.converged


# ---------------------------------------------------------------- trust_mle and tempered_trust


def test_trust_mle_is_successes_over_trials():
    t = wt.trust_mle([3, 0, 5, 2.5], [1, 2, 0, 2.5])
    np.testing.assert_array_equal(t, [0.75, 0.0, 1.0, 0.5])


def test_tempered_trust_scales_the_odds_by_a_power():
    """logit t' = factor * logit t, i.e. odds t'/(1-t') = (odds t)**factor, checked by hand."""
    t = wt.tempered_trust([0.75, 0.2, 0.5, 0.9], 2.0)
    np.testing.assert_allclose(t, [9 / 10, 1 / 17, 0.5, 81 / 82], rtol=1e-14)
    t = wt.tempered_trust([0.75, 0.2], 0.5)
    np.testing.assert_allclose(t, [math.sqrt(3) / (1 + math.sqrt(3)), 1 / 3], rtol=1e-14)
    assert wt.tempered_trust([0.2], 3.0)[0] == pytest.approx(1 / 65, rel=1e-14)


def test_tempered_trust_with_factor_one_is_the_identity():
    t = np.concatenate([np.linspace(0.001, 0.999, 999), [1e-6, 0.5, 1 - 1e-6]])
    np.testing.assert_allclose(wt.tempered_trust(t, 1.0), t, rtol=1e-9, atol=1e-16)


@pytest.mark.parametrize("factor", [0.1, 0.5, 1.5, 4.0])
def test_tempered_trust_keeps_sides_of_one_half_and_the_ends(factor):
    t = np.array([0.0, 0.01, 0.3, 0.49, 0.5, 0.51, 0.7, 0.99, 1.0])
    out = wt.tempered_trust(t, factor)
    np.testing.assert_array_equal(np.sign(out - 0.5), np.sign(t - 0.5))
    assert (out[0], out[-1], out[4]) == (0.0, 1.0, 0.5)
    inner = slice(1, -1)
    assert ((out[inner] > 0) & (out[inner] < 1)).all()
    off_half = (t > 0) & (t < 1) & (t != 0.5)
    moved = np.abs(out - 0.5)[off_half] - np.abs(t - 0.5)[off_half]
    assert (np.sign(moved) == np.sign(factor - 1)).all()  # further from 1/2 when over-confident, closer when under


def test_tempered_trust_keeps_small_trust_positive():
    # factor 1: the identity, up to the log-odds round trip (|ln t| eps = 690 * 2.2e-16 = 1.5e-13 relative)
    assert wt.tempered_trust([1e-300], 1.0)[0] == pytest.approx(1e-300, rel=1e-12)
    assert wt.tempered_trust([0.01], 100.0)[0] > 0  # (1/99)**100 / (1 + ...) = 2.7e-200, a normal float
