"""The stability API against sums written here: over the joint support, the binomial outcomes, the draws.

Every expected value is computed in this file from its definition (docs/design.md,
sections 5-6) with the plain-Python accuracy of tests/brute.py or the Fraction
accuracy below; nothing is copied from the library's output.
"""

import itertools
import math
import re
from fractions import Fraction as F

import numpy as np
import pytest
from scipy import integrate, special, stats

import wmvtrust as wt
from brute import accuracy_brute


# ---------------------------------------------------------------- oracles written here


def log_odds(t):
    """ln(t / (1 - t)) with ±inf at 1 and 0, in plain Python."""
    t = float(t)
    return math.inf if t == 1.0 else -math.inf if t == 0.0 else math.log(t / (1.0 - t))


def weights_of(t):
    return [log_odds(x) for x in t]


def accuracy_fraction_oracle(q, w, prior=F(1, 2)):
    """A(q, w) as a Fraction: profile probabilities and credits in Fractions, decisions by float sums.

    Infinite weights decide by their signed count when it is not zero; a finite sum S
    with |S ± b| <= 1e-12 (sum |w_i| + |b|) is a tie, credited 1/2.
    """
    q, prior = [F(x) for x in q], F(prior)
    w = [float(x) for x in w]
    b = math.log(float(prior) / (1.0 - float(prior)))
    tol = 1e-12 * (math.fsum(abs(x) for x in w if math.isfinite(x)) + abs(b))

    def g(s):
        return F(1) if s > tol else F(1, 2) if s >= -tol else F(0)

    total = F(0)
    for c in itertools.product((0, 1), repeat=len(q)):
        prob = math.prod((qi if ci else 1 - qi for qi, ci in zip(q, c)), start=F(1))
        count = sum((1 if wi > 0 else -1) * (2 * ci - 1) for wi, ci in zip(w, c) if math.isinf(wi))
        if count != 0:
            credit = F(int(count > 0))
        else:
            s = math.fsum(wi * (2 * ci - 1) for wi, ci in zip(w, c) if math.isfinite(wi))
            credit = prior * g(s + b) + (1 - prior) * g(s - b)
        total += prob * credit
    return total


def beta_mad(a, b):
    """E|P - a/(a+b)| for P ~ Beta(a, b): 2 a^a b^b / (B(a, b) (a + b)^(a + b + 1)), via log-gamma."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return 2.0 * np.exp(a * np.log(a) + b * np.log(b) - special.gammaln(a) - special.gammaln(b)
                        + special.gammaln(a + b) - (a + b + 1.0) * np.log(a + b))


def frequentist_brute(p, m, estimator, prior, which):
    """Sum over every track record K ~ Binomial(m, p_i) (independent) of believed - actual, or the regret."""
    a0, b0 = prior
    oracle = accuracy_brute(p, weights_of(p))
    terms = []
    for k in itertools.product(range(m + 1), repeat=len(p)):
        prob = math.prod(math.comb(m, ki) * pi ** ki * (1 - pi) ** (m - ki) for pi, ki in zip(p, k))
        t = [(ki + a0) / (m + a0 + b0) for ki in k] if estimator == "mean" else [ki / m for ki in k]
        w = weights_of(t)
        actual = accuracy_brute(p, w)
        terms.append(prob * ((accuracy_brute(t, w) if which == "soc" else oracle) - actual))
    return math.fsum(terms)


def frequentist_equal_p(p, n, m, which):
    """The same sum when every source has trustworthiness p (mean estimator, prior (1, 1)), over multisets of K."""
    pmf = [math.comb(m, k) * p ** k * (1 - p) ** (m - k) for k in range(m + 1)]
    oracle = accuracy_brute([p] * n, weights_of([p] * n))
    terms = []
    for ks in itertools.combinations_with_replacement(range(m + 1), n):
        arrangements = math.factorial(n) // math.prod(math.factorial(ks.count(k)) for k in set(ks))
        t = [(k + 1) / (m + 2) for k in ks]
        w = weights_of(t)
        actual = accuracy_brute([p] * n, w)
        gap = (accuracy_brute(t, w) if which == "soc" else oracle) - actual
        terms.append(arrangements * math.prod(pmf[k] for k in ks) * gap)
    return math.fsum(terms)


def test_oracle_the_beta_mad_formula_written_here_matches_numerical_integration():
    for a, b in [(1.0, 1.0), (3.0, 7.0), (40.0, 2.5)]:
        t = a / (a + b)
        mad = integrate.quad(lambda x: abs(x - t) * stats.beta.pdf(x, a, b), 0, 1, points=[t], epsabs=1e-14)[0]
        assert beta_mad(a, b) == pytest.approx(mad, rel=1e-9)


# ---------------------------------------------------------------- models

BETA = wt.BetaTrust.from_track_record([8, 3, 5, 6], [1, 2, 4, 0])  # n = 4: quadrature by default
BETA3 = wt.BetaTrust([9.0, 4.0, 6.0], [3.0, 3.0, 2.0])
RATIONAL = wt.DiscreteTrust([[F(1, 2), F(1)], [F(3, 4)], [F(0), F(1, 5), F(9, 10)], [F(2, 5), F(3, 5)]],
                            [[F(1, 3), F(2, 3)], [1], [F(1, 10), F(1, 2), F(2, 5)], [F(1, 4), F(3, 4)]])
FLOATING = wt.DiscreteTrust([[0.55, 0.95], [0.3, 0.7, 1.0], [0.6], [0.0, 0.45, 0.85]],
                            [[0.4, 0.6], [0.2, 0.5, 0.3], [1.0], [0.1, 0.3, 0.6]])


def joint_sum(model, term):
    """sum over the joint support of p * term(point), in floats."""
    return math.fsum(float(p) * term([float(x) for x in point]) for p, point in model.joint())


# ---------------------------------------------------------------- believed accuracy

BELIEVED = {
    "beta": (BETA, 0.5), "rational": (RATIONAL, 0.5), "float discrete": (FLOATING, 0.3),
    "trust array": ([0.9, 0.6, 0.6], 0.5), "ties": ([0.5, 0.7, 0.7, 0.3], 0.5),
    "trust 0 and 1": ([1.0, 0.0, 0.8, 0.65], 0.5), "prior": ([0.8, 0.75, 0.6, 0.55, 0.9], 0.2),
}


@pytest.mark.parametrize(("model", "prior"), BELIEVED.values(), ids=BELIEVED.keys())
def test_believed_accuracy_is_the_accuracy_at_the_trust(model, prior):
    t = model.mean if isinstance(model, (wt.BetaTrust, wt.DiscreteTrust)) else model
    got = wt.believed_accuracy(model, prior) if prior != 0.5 else wt.believed_accuracy(model)
    assert got.method == "exact"
    assert got.value == pytest.approx(accuracy_brute(t, weights_of(t), prior), abs=1e-12)


# ---------------------------------------------------------------- expected actual accuracy

RATIONAL_WEIGHTS = {"trust": None, "majority (ties)": [1.0, 1.0, 1.0, 1.0], "integer": [2.0, 1.0, 1.0, 0.0],
                    "infinite": [math.inf, 1.0, -2.0, 0.5], "all zero": [0.0] * 4}


@pytest.mark.parametrize("weights", RATIONAL_WEIGHTS.values(), ids=RATIONAL_WEIGHTS.keys())
@pytest.mark.parametrize("prior", [F(1, 2), 0.25])
def test_rational_model_gives_the_exact_fraction_over_its_joint_support(weights, prior):
    w = weights_of(RATIONAL.mean_exact()) if weights is None else weights
    expected = sum((p * accuracy_fraction_oracle(point, w, prior) for p, point in RATIONAL.joint()), F(0))
    for method in ("auto", "exact"):
        got = wt.expected_actual_accuracy(RATIONAL, weights, prior, method=method)
        assert type(got.value) is F and got.method == "exact"
        assert got.value == expected
    assert expected == accuracy_fraction_oracle(RATIONAL.mean_exact(), w, prior)  # multi-affinity: A at the mean
    if weights is None and prior == F(1, 2):  # Monte Carlo on the same model: within 4 standard errors
        mc = wt.expected_actual_accuracy(RATIONAL, method="montecarlo", draws=20_000, seed=2)
        assert mc.method == "montecarlo" and abs(mc.value - float(expected)) < 4 * mc.stderr


@pytest.mark.parametrize("weights", [None, [1.0, 1.0, 1.0, 1.0], [-0.5, 2.0, math.inf, 1.0]])
def test_float_discrete_model_exact_is_the_float_sum_over_its_joint_support(weights):
    w = weights_of(FLOATING.mean) if weights is None else weights
    got = wt.expected_actual_accuracy(FLOATING, weights, method="exact")
    assert got.method == "exact" and type(got.value) is float and got.stderr is None
    assert got.value == pytest.approx(joint_sum(FLOATING, lambda q: accuracy_brute(q, w)), abs=1e-12)
    assert wt.expected_actual_accuracy(FLOATING, weights).value == got.value  # "auto" is exact here


@pytest.mark.parametrize("weights", [None, [1.0, 1.0, 1.0, 1.0], [0.3, -1.0, 2.0, 0.7]])
def test_beta_model_quadrature_montecarlo_and_accuracy_at_the_mean_agree(weights):
    """E[A(P, w)] = A(t, w) for independent P (A is multi-affine): quadrature exactly, Monte Carlo within error."""
    w = weights_of(BETA.mean) if weights is None else weights
    at_mean = accuracy_brute(BETA.mean, w)
    quad = wt.expected_actual_accuracy(BETA, weights)
    assert quad.method == "quadrature" and quad.stderr is None
    assert quad.value == pytest.approx(at_mean, abs=1e-12)
    low = wt.expected_actual_accuracy(BETA, weights, method="quadrature", order=1)  # affine: one node suffices
    assert low.value == pytest.approx(at_mean, abs=1e-12)
    mc = wt.expected_actual_accuracy(BETA, weights, method="montecarlo", draws=20_000, seed=3)
    assert mc.method == "montecarlo" and abs(mc.value - at_mean) < 4 * mc.stderr


def test_beta_model_with_an_infinite_weight_and_a_prior():
    w, prior = [math.inf, 0.4, -1.2, 0.9], 0.35
    quad = wt.expected_actual_accuracy(BETA, w, prior, method="quadrature", order=3)
    assert quad.value == pytest.approx(accuracy_brute(BETA.mean, w, prior), abs=1e-12)


# ---------------------------------------------------------------- SoC and SoO gaps


@pytest.mark.parametrize("confidence", [0.95, 0.8])
def test_montecarlo_gaps_are_the_mean_of_the_per_draw_terms_of_model_sample(confidence):
    """value, stderr and the normal interval, recomputed from the same draws with the brute-force accuracy."""
    draws, seed = 400, 5
    rows = BETA3.sample(draws, seed=seed)
    t, w = BETA3.mean, weights_of(BETA3.mean)
    believed = accuracy_brute(t, w)
    z = stats.norm.ppf(0.5 + confidence / 2)
    soc_terms = np.array([accuracy_brute(q, w) - believed for q in rows])
    soo_terms = np.array([accuracy_brute(q, weights_of(q)) - accuracy_brute(q, w) for q in rows])
    soc = wt.soc_gap(BETA3, method="montecarlo", draws=draws, seed=seed, confidence=confidence)
    soo = wt.soo_gap(BETA3, draws=draws, seed=seed, confidence=confidence)  # "auto" is Monte Carlo for Beta
    for got, terms in ((soc, soc_terms), (soo, soo_terms)):
        assert got.method == "montecarlo"
        assert got.value == pytest.approx(terms.mean(), abs=1e-12)
        assert got.stderr == pytest.approx(terms.std(ddof=1) / math.sqrt(draws), rel=1e-9)
        assert got.ci_low == pytest.approx(got.value - z * got.stderr, abs=1e-14)
        assert got.ci_high == pytest.approx(got.value + z * got.stderr, abs=1e-14)
    assert soc.lower_bound is soc.upper_bound is soc.sign_aware_bound is None
    assert (soo_terms >= -1e-12).all()  # the oracle rule is optimal on every draw (Theorem 2)
    assert soo.lower_bound == 0.0
    assert soo.upper_bound == pytest.approx(beta_mad(BETA3.alpha, BETA3.beta).sum(), rel=1e-12)
    assert soo.sign_aware_bound == pytest.approx(BETA3.sign_aware_mad.sum(), rel=1e-12)
    assert 0.0 <= soo.value <= soo.sign_aware_bound <= soo.upper_bound
    assert (soo.upper_bound, soo.sign_aware_bound) == wt.soo_bounds(BETA3)


def test_same_seed_same_gap_and_another_seed_another():
    for gap in (wt.soc_gap, wt.soo_gap):
        a = gap(BETA, method="montecarlo", draws=2_000, seed=9)
        assert a == gap(BETA, method="montecarlo", draws=2_000, seed=9)
        assert a.value != gap(BETA, method="montecarlo", draws=2_000, seed=10).value


def test_soo_gap_of_a_discrete_model_is_the_sum_over_its_joint_support():
    w_t = weights_of(FLOATING.mean)
    expected = joint_sum(FLOATING, lambda q: accuracy_brute(q, weights_of(q)) - accuracy_brute(q, w_t))
    got = wt.soo_gap(FLOATING)
    assert got.method == "exact" and got.stderr is None and got.ci_low is None
    assert got.value == pytest.approx(expected, abs=1e-12)
    assert expected > 1e-3  # the model is far from its mean: a real gap, not a vacuous check
    assert got.upper_bound == pytest.approx(float(FLOATING.mad.sum()), rel=1e-12) and got.lower_bound == 0.0
    with_prior = wt.soo_gap(FLOATING, prior=0.3)
    expected = joint_sum(FLOATING, lambda q: accuracy_brute(q, weights_of(q), 0.3) - accuracy_brute(q, w_t, 0.3))
    assert with_prior.value == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("trust", [None, [0.9, 0.5, 0.6, 0.2], list(wt.tempered_trust(FLOATING.mean, 3.0))])
def test_soc_gap_of_a_discrete_model_is_the_sum_over_its_joint_support(trust):
    t = FLOATING.mean if trust is None else trust
    w = weights_of(t)
    expected = joint_sum(FLOATING, lambda q: accuracy_brute(q, w)) - accuracy_brute(t, w)
    got = wt.soc_gap(FLOATING, trust)
    assert got.method == "exact"
    assert got.value == pytest.approx(expected, abs=1e-12)
    if trust is not None:
        assert abs(expected) > 1e-3  # biased trust opens a gap


@pytest.mark.parametrize("gap", [wt.soc_gap, wt.soo_gap], ids=["soc_gap", "soo_gap"])
def test_gaps_accept_a_fraction_prior_like_expected_actual_accuracy(gap):
    assert gap(RATIONAL, prior=F(1, 4)).value == pytest.approx(gap(RATIONAL, prior=0.25).value, abs=1e-15)


# ---------------------------------------------------------------- frequentist gap and regret

FREQ_P = [[0.5], [0.8], [0.8, 0.6], [0.7, 0.7], [0.9, 0.7, 0.55], [1.0, 0.6, 0.5]]
ESTIMATORS = {"mean": ("mean", (1, 1)), "mean, prior (2, 0.5)": ("mean", (2, 0.5)), "mle": ("mle", (1, 1))}


@pytest.mark.parametrize(("estimator", "prior"), ESTIMATORS.values(), ids=ESTIMATORS.keys())
@pytest.mark.parametrize("p", FREQ_P, ids=str)
def test_frequentist_gap_and_regret_are_the_sum_over_every_track_record(p, estimator, prior):
    for m in range(1, 5):
        soc = wt.frequentist_soc_gap(p, m, estimator=estimator, beta_prior=prior)
        regret = wt.expected_regret(p, m, estimator=estimator, beta_prior=prior)
        assert soc.method == regret.method == "exact"
        assert soc.value == pytest.approx(frequentist_brute(p, m, estimator, prior, "soc"), abs=1e-12)
        assert regret.value == pytest.approx(frequentist_brute(p, m, estimator, prior, "regret"), abs=1e-12)
        assert regret.value >= -1e-15


def test_mle_with_one_observation_is_a_coin_flip_for_a_fair_source():
    """n = 1, m = 1, p = 1/2: T is 0 or 1, believed accuracy 1, actual 1/2 (proofs/soc_necessary_conditions.md, (b))."""
    assert wt.frequentist_soc_gap([0.5], 1, estimator="mle").value == pytest.approx(0.5, abs=1e-15)


@pytest.mark.parametrize("which", ["soc", "regret"])
def test_montecarlo_path_agrees_with_the_exact_sum_over_multisets(which):
    """n = 6, m = 10: 11**6 > 200,000 outcomes, so Monte Carlo; with equal p the exact sum runs over multisets."""
    p, n, m = 0.7, 6, 10
    f = wt.frequentist_soc_gap if which == "soc" else wt.expected_regret
    exact = frequentist_equal_p(p, n, m, which)
    est = f([p] * n, m, draws=20_000, seed=1)
    assert est.method == "montecarlo" and est.stderr > 0
    assert abs(est.value - exact) < 4 * est.stderr


@pytest.mark.parametrize("estimator", ["mean", "mle"])
def test_montecarlo_path_is_reproducible_and_two_seeds_agree(estimator):
    p, m = [0.9, 0.8, 0.75, 0.7, 0.6, 0.55], 10
    for f in (wt.frequentist_soc_gap, wt.expected_regret):
        a = f(p, m, estimator=estimator, draws=4_000, seed=1)
        assert a.method == "montecarlo"
        assert a == f(p, m, estimator=estimator, draws=4_000, seed=1)
        b = f(p, m, estimator=estimator, draws=4_000, seed=2)
        assert a.value != b.value
        assert abs(a.value - b.value) < 5 * math.hypot(a.stderr, b.stderr)
        if f is wt.expected_regret:
            assert a.value >= 0 and b.value >= 0


# ---------------------------------------------------------------- observations needed


def posterior_mad_criterion(alpha, beta, m):
    """sum_i sum_k BetaBinomial(k; m, a_i, b_i) * E|P - mean| for P ~ Beta(a_i + k, b_i + m - k)."""
    total = []
    for a, b in zip(alpha, beta):
        k = np.arange(m + 1)
        total.append(math.fsum(stats.betabinom.pmf(k, m, a, b) * beta_mad(a + k, b + m - k)))
    return math.fsum(total)


@pytest.mark.parametrize(("alpha", "beta", "epsilon"), [([1.0, 2.0, 1.0], [1.0, 1.0, 3.0], 0.05),
                                                        ([5.0, 2.0], [5.0, 8.0], 0.02), ([1.0], [1.0], 0.1)])
def test_observations_needed_for_a_prior_is_the_first_m_with_a_bound_below_epsilon(alpha, beta, epsilon):
    got = wt.observations_needed(wt.BetaTrust(alpha, beta), epsilon, criterion="theorem 3 bound")
    m = got.observations
    assert got.criterion == "theorem 3 bound" and got.epsilon == epsilon
    assert got.value == pytest.approx(posterior_mad_criterion(alpha, beta, m), rel=1e-10)
    assert posterior_mad_criterion(alpha, beta, m) < epsilon
    assert m > 1 and posterior_mad_criterion(alpha, beta, m - 1) >= epsilon


def test_observations_needed_is_one_when_no_observation_is_needed():
    model = wt.BetaTrust([3.0, 2.0], [1.0, 4.0])
    epsilon = 1.01 * posterior_mad_criterion(model.alpha, model.beta, 1)
    assert wt.observations_needed(model, epsilon, criterion="theorem 3 bound").observations == 1
    assert wt.observations_needed([0.8, 0.7], 0.5).observations == 1  # any regret is below 1/2


@pytest.mark.parametrize(("p", "epsilon", "estimator"), [([0.8, 0.7, 0.6], 0.02, "mean"),
                                                         ([0.8, 0.6], 0.02, "mle")])
def test_observations_needed_for_fixed_p_exact_regret(p, epsilon, estimator):
    got = wt.observations_needed(p, epsilon, estimator=estimator)
    m = got.observations
    assert got.criterion == "regret"
    assert frequentist_brute(p, m, estimator, (1, 1), "regret") < epsilon
    assert m > 1 and frequentist_brute(p, m - 1, estimator, (1, 1), "regret") >= epsilon
    assert got.value == pytest.approx(frequentist_brute(p, m, estimator, (1, 1), "regret"), abs=1e-12)


def test_observations_needed_for_fixed_p_montecarlo_regret():
    """n = 4 and m around 30: (m + 1)**4 > 200,000, so each regret is Monte Carlo with the same draws and seed."""
    p, epsilon = [0.9, 0.75, 0.7, 0.6], 0.01
    got = wt.observations_needed(p, epsilon, draws=2_000, seed=0)
    m = got.observations
    at_m = wt.expected_regret(p, m, draws=2_000, seed=0)
    assert at_m.method == "montecarlo"
    assert at_m.value < epsilon and got.value == at_m.value
    assert m > 1 and wt.expected_regret(p, m - 1, draws=2_000, seed=0).value >= epsilon


# ---------------------------------------------------------------- bad input, messages pinned

B2 = wt.BetaTrust([2.0, 3.0], [1.0, 1.0])
D2 = wt.DiscreteTrust([[0.5, 0.9], [0.7]], [[0.5, 0.5], [1.0]])

CASES = [  # (call, error type, message)
    (lambda: wt.BetaTrust([0.0, 1.0], [1.0, 1.0]), ValueError, "alpha must be finite and > 0; alpha[0] = 0.0."),
    (lambda: wt.BetaTrust([1.0, np.nan], [1.0, 1.0]), ValueError, "alpha must be finite and > 0; alpha[1] = nan."),
    (lambda: wt.BetaTrust([1.0], [-1.0]), ValueError, "beta must be finite and > 0; beta[0] = -1.0."),
    (lambda: wt.BetaTrust([1.0], [np.inf]), ValueError, "beta must be finite and > 0; beta[0] = inf."),
    (lambda: wt.BetaTrust([[1.0, 2.0]], [[1.0, 2.0]]), ValueError,
     "alpha must be one-dimensional, one entry per source; got shape (1, 2)."),
    (lambda: wt.BetaTrust(["a"], [1.0]), TypeError, "alpha must be an array of real numbers; got dtype <U1."),
    (lambda: wt.BetaTrust([1.0, 2.0], [1.0]), ValueError,
     "alpha and beta must have one entry per source each; alpha has 2 and beta has 1."),
    (lambda: wt.BetaTrust.from_track_record([1, -1], [1, 1]), ValueError,
     "successes must be finite and >= 0; successes[1] = -1.0."),
    (lambda: wt.BetaTrust.from_track_record([1, 1], [1, -2]), ValueError,
     "failures must be finite and >= 0; failures[1] = -2.0."),
    (lambda: wt.BetaTrust.from_track_record([1, 1], [1]), ValueError,
     "successes and failures must have one entry per source each; successes has 2 and failures has 1."),
    (lambda: wt.BetaTrust.from_track_record([1], [2], beta_prior=1), TypeError,
     "beta_prior must be a pair (alpha0, beta0) of numbers > 0; got 1."),
    (lambda: wt.BetaTrust.from_track_record([1], [2], beta_prior=(1, 2, 3)), TypeError,
     "beta_prior must be a pair (alpha0, beta0) of numbers > 0; got (1, 2, 3)."),
    (lambda: wt.BetaTrust.from_track_record([1], [2], beta_prior=(1, -2)), ValueError,
     "beta_prior must be finite and > 0; beta_prior[1] = -2.0."),
    (lambda: wt.trust_from_gold([[1, 1]], [1], beta_prior=(1,)), TypeError,
     "beta_prior must be a pair (alpha0, beta0) of numbers > 0; got (1,)."),
    (lambda: wt.trust_em([[1, 1]], beta_prior=(0, 1)), ValueError,
     "beta_prior must be finite and > 0; beta_prior[0] = 0.0."),
    (lambda: wt.frequentist_soc_gap([0.6], 3, beta_prior=5), TypeError,
     "beta_prior must be a pair (alpha0, beta0) of numbers > 0; got 5."),
    (lambda: B2.sample(0), ValueError, "size must be a whole number >= 1; got size = 0."),
    (lambda: B2.quadrature(0), ValueError, "order must be a whole number >= 1; got order = 0."),
    (lambda: B2.sample(3, seed=-1), ValueError, "seed must be None or a whole number >= 0; got seed = -1."),
    # DiscreteTrust
    (lambda: wt.DiscreteTrust([[0.2, 0.8]], [[0.5, 0.6]]), ValueError,
     "probabilities must sum to 1 for each source; probabilities[0] sums to 1.1."),
    (lambda: wt.DiscreteTrust([[0.2, 0.8], [0.5]], [[0.5, 0.5], [0.9]]), ValueError,
     "probabilities must sum to 1 for each source; probabilities[1] sums to 0.9."),
    (lambda: wt.DiscreteTrust([[F(1, 5), F(4, 5)]], [[F(1, 2), F(1, 3)]]), ValueError,
     "probabilities must sum to 1 for each source; probabilities[0] sums to Fraction(5, 6)."),
    (lambda: wt.DiscreteTrust([[0.2, 0.8, 0.5]], [[-0.5, 1.0, 0.5]]), ValueError,
     "probabilities must be >= 0 and not NaN; probabilities[0][0] = -0.5."),
    (lambda: wt.DiscreteTrust([[0.2, 0.8]], [[float("nan"), 1.0]]), ValueError,
     "probabilities must be >= 0 and not NaN; probabilities[0][0] = nan."),
    (lambda: wt.DiscreteTrust([[0.2, 0.8]], [[0.5, 0.5 + 9e-10]]), ValueError,
     "probabilities must sum to 1 for each source; probabilities[0] sums to 1.0000000009."),
    (lambda: wt.DiscreteTrust([[0.5, float("nan")]], [[0.5, 0.5]]), ValueError,
     "support must lie in [0, 1]; support[0][1] = nan."),
    (lambda: wt.DiscreteTrust([[0.2, 1.2]], [[0.5, 0.5]]), ValueError,
     "support must lie in [0, 1]; support[0][1] = 1.2."),
    (lambda: wt.DiscreteTrust([[0.5], [-0.1, 0.2]], [[1.0], [0.5, 0.5]]), ValueError,
     "support must lie in [0, 1]; support[1][0] = -0.1."),
    (lambda: wt.DiscreteTrust([[np.nan, 0.2]], [[0.5, 0.5]]), ValueError,
     "support must lie in [0, 1]; support[0][0] = nan."),
    (lambda: wt.DiscreteTrust([[0.2, 0.8]], [[1.0]]), ValueError,
     "support[0] and probabilities[0] must be non-empty and of the same length; got 2 and 1."),
    (lambda: wt.DiscreteTrust([[]], [[]]), ValueError,
     "support[0] and probabilities[0] must be non-empty and of the same length; got 0 and 0."),
    (lambda: wt.DiscreteTrust([[0.2, 0.8], [0.5]], [[0.5, 0.5]]), ValueError,
     "support and probabilities must have one entry per source each; support has 2 and probabilities has 1."),
    (lambda: wt.DiscreteTrust([], []), ValueError, "support must have at least one source; got none."),
    (lambda: wt.DiscreteTrust("ab", [[1.0]]), TypeError,
     "support must be a sequence with one sequence per source; got str."),
    (lambda: wt.DiscreteTrust([[0.2]], 5), TypeError,
     "probabilities must be a sequence with one sequence per source; got int."),
    # methods, estimators, observations, epsilon
    (lambda: wt.expected_actual_accuracy(B2, method="exact"), ValueError,
     "method must be 'exact' only for a DiscreteTrust; got a BetaTrust. Use 'quadrature', 'montecarlo' or 'profiles'."),
    (lambda: wt.soo_gap(B2, method="exact"), ValueError,
     "method must be 'exact' only for a DiscreteTrust; got a BetaTrust. Use 'quadrature', 'montecarlo' or 'profiles'."),
    (lambda: wt.expected_actual_accuracy(D2, method="quadrature"), ValueError,
     "method must be 'quadrature' only for a BetaTrust; got a DiscreteTrust. Use 'exact', 'montecarlo' or 'profiles'."),
    (lambda: wt.soc_gap(D2, method="quadrature"), ValueError,
     "method must be 'quadrature' only for a BetaTrust; got a DiscreteTrust. Use 'exact', 'montecarlo' or 'profiles'."),
    (lambda: wt.expected_actual_accuracy(D2, method="magic"), ValueError,
     "method must be one of 'auto', 'exact', 'quadrature', 'montecarlo', 'profiles'; got 'magic'."),
    (lambda: wt.soo_gap(B2, method="magic"), ValueError,
     "method must be one of 'auto', 'exact', 'quadrature', 'montecarlo', 'profiles'; got 'magic'."),
    (lambda: wt.soc_gap(wt.BetaTrust([2.0] * 7, [1.0] * 7), method="quadrature"), ValueError,
     "method='quadrature' must have order ** n_sources <= 200000; 8 ** 7 points. "
     "Use a lower order, method='montecarlo' or 'profiles'."),
    (lambda: wt.soc_gap(wt.DiscreteTrust([[0.2, 0.5, 0.8]] * 12, [[0.2, 0.3, 0.5]] * 12), method="exact"),
     ValueError, "method='exact' must have at most 200000 joint support points; the model has 531441. "
     "Use method='montecarlo' or 'profiles'."),
    (lambda: wt.frequentist_soc_gap([0.6], 3, estimator="median"), ValueError,
     "estimator must be one of 'mean', 'mle'; got 'median'."),
    (lambda: wt.observations_needed([0.7, 0.6], 0.1, estimator="median"), ValueError,
     "estimator must be one of 'mean', 'mle'; got 'median'."),
    (lambda: wt.expected_regret([0.6], 0), ValueError,
     "observations must be a whole number >= 1; got observations = 0."),
    (lambda: wt.frequentist_soc_gap([0.7], -2), ValueError,
     "observations must be a whole number >= 1; got observations = -2."),
    (lambda: wt.expected_regret([0.7], 1.5), TypeError, "observations must be a whole number >= 1; got 1.5."),
    (lambda: wt.expected_regret([0.7, -0.1], 3), ValueError, "p must lie in [0, 1]; p[1] = -0.1."),
    (lambda: wt.observations_needed([0.6], 0), ValueError,
     "epsilon must be a finite real number > 0; got epsilon = 0.0."),
    (lambda: wt.observations_needed(B2, -1.0), ValueError,
     "epsilon must be a finite real number > 0; got epsilon = -1.0."),
    (lambda: wt.observations_needed([0.7], float("nan")), ValueError,
     "epsilon must be a finite real number > 0; got epsilon = nan."),
    (lambda: wt.observations_needed([0.5, 1.5], 0.1), ValueError, "p must lie in [0, 1]; p[1] = 1.5."),
    (lambda: wt.observations_needed([0.7], 0.1, max_observations=0), ValueError,
     "max_observations must be a whole number >= 1; got max_observations = 0."),
    (lambda: wt.observations_needed(wt.BetaTrust([1.0, 2.0], [1.0, 1.0]), 1e-6, criterion="theorem 3 bound",
                                    max_observations=4), ValueError,
     "epsilon must be reachable within max_observations = 4; the theorem 3 bound is still "
     f"{posterior_mad_criterion([1.0, 2.0], [1.0, 1.0], 4):.3g} there. Raise max_observations or epsilon."),
    (lambda: wt.observations_needed([0.6, 0.7, 0.8], 1e-9, max_observations=4), ValueError,
     "epsilon must be reachable within max_observations = 4; the regret is still "
     f"{frequentist_brute([0.6, 0.7, 0.8], 4, 'mean', (1, 1), 'regret'):.3g} there. "
     "Raise max_observations or epsilon."),
    # the model and what must match it
    (lambda: wt.expected_actual_accuracy([0.5, 0.6]), TypeError,
     "model must be a BetaTrust or a DiscreteTrust; got list."),
    (lambda: wt.expected_actual_accuracy([0.5, 0.6], weights=[1.0, 1.0]), TypeError,
     "model must be a BetaTrust or a DiscreteTrust; got list."),
    (lambda: wt.soc_gap(np.array([0.5, 0.6]), trust=[0.5, 0.6]), TypeError,
     "model must be a BetaTrust or a DiscreteTrust; got ndarray."),
    (lambda: wt.soo_gap((2.0, 1.0)), TypeError, "model must be a BetaTrust or a DiscreteTrust; got tuple."),
    (lambda: wt.soo_bounds(np.array([0.5])), TypeError, "model must be a BetaTrust or a DiscreteTrust; got ndarray."),
    (lambda: wt.soc_gap(B2, trust=[0.5]), ValueError,
     "trust must have one entry per source, like the model; trust has shape (1,) but the model has 2 sources."),
    (lambda: wt.soc_gap(D2, trust=[0.5, 0.6, 0.7]), ValueError,
     "trust must have one entry per source, like the model; trust has shape (3,) but the model has 2 sources."),
    (lambda: wt.soc_gap(B2, trust=[0.5, 1.5]), ValueError, "trust must lie in [0, 1]; trust[1] = 1.5."),
    (lambda: wt.expected_actual_accuracy(D2, weights=[1.0]), ValueError,
     "weights must have one entry per source, like the model; weights has shape (1,) but the model has shape (2,)."),
    (lambda: wt.expected_actual_accuracy(B2, weights=[1.0, np.nan]), ValueError,
     "weights must not be NaN (±inf is allowed); weights[1] = nan."),
    (lambda: wt.soc_gap(B2, prior=0.0), ValueError, "prior must lie strictly between 0 and 1; got prior = 0.0."),
    (lambda: wt.soo_gap(B2, prior=1.0), ValueError, "prior must lie strictly between 0 and 1; got prior = 1.0."),
    (lambda: wt.soo_gap(B2, draws=0), ValueError, "draws must be a whole number >= 1; got draws = 0."),
    (lambda: wt.soo_gap(B2, confidence=1.0), ValueError,
     "confidence must lie strictly between 0 and 1; got confidence = 1.0."),
    (lambda: wt.soo_gap(B2, seed=-1), ValueError, "seed must be None or a whole number >= 0; got seed = -1."),
    # estimators
    (lambda: wt.trust_mle([0, 1], [0, 1]), ValueError,
     "successes + failures must be > 0 for the maximum-likelihood trust; source 0 has no record."),
    (lambda: wt.trust_mle([1, 1], [1]), ValueError,
     "successes and failures must have one entry per source each; successes has 2 and failures has 1."),
    (lambda: wt.tempered_trust([0.5], 0), ValueError, "factor must be a finite real number > 0; got factor = 0.0."),
    (lambda: wt.tempered_trust([0.5, 1.2], 2.0), ValueError, "trust must lie in [0, 1]; trust[1] = 1.2."),
    (lambda: wt.trust_from_gold([[1, -1]], [1, 1]), ValueError,
     "truth must have one entry per task, like the rows of votes; truth has shape (2,) and votes has 1 rows."),
    (lambda: wt.trust_from_gold([[1, -1]], [0]), ValueError, "truth must contain only +1 and -1; truth[0] = 0.0."),
    (lambda: wt.trust_em([[1, 2]]), ValueError,
     "votes must contain only +1, -1 and 0 (no vote); votes[0, 1] = 2.0."),
    (lambda: wt.trust_em([1, 1]), ValueError, "votes must have shape (n_tasks, n_sources), both >= 1; got shape (2,)."),
    (lambda: wt.trust_em([[1, 1]], tol=0), ValueError, "tol must be a finite real number > 0; got tol = 0.0."),
]


@pytest.mark.parametrize(("call", "error", "message"), CASES)
def test_bad_input_raises_the_documented_error(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()
