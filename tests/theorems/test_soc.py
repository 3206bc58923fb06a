"""Stability of correctness (docs/design.md, section 5): Theorem 1 and the counterexamples to its hypotheses.

Proofs: proofs/theorem1_soc.md (Theorem 1), proofs/soc_nonuniform_prior.md (with a prior),
proofs/soc_necessary_conditions.md (independence and the Bayesian reading cannot be dropped). Every expected
value below is computed here from the definitions, in rational arithmetic where the model is rational; the
library is then checked against it.
"""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import stats

import wmvtrust as wt
from brute import accuracy_brute, accuracy_exact

HALF = Fraction(1, 2)
TIE_RTOL = 1e-12  # |S| <= 1e-12 * (sum |finite weights| + |bias|) is a tie: docs/design.md, section 2, voting.TIE_RTOL


# ---------------------------------------------------------------- a Fraction oracle for any weights


def _g(s, tol):
    """Credit of a weighted sum: 1 right, 1/2 tie, 0 wrong."""
    return 1 if s > tol else HALF if s >= -tol else 0


def credit_table(w, prior=HALF, decision_prior=None):
    """kappa(c) for every correctness profile c (c_i = 1: source i is right), as a Fraction.

    Depends on the rule and the prior only, never on the trustworthiness. The signed count K of
    infinite-weight votes decides when it is not zero (credit 1 if K > 0, else 0, whatever the
    truth); otherwise the finite sum S does: pi g(S + b) + (1 - pi) g(S - b), with the decision maker's
    bias b = ln(pi'/(1-pi')), pi' = decision_prior (default: the true prior pi).
    Decisions are taken in floats with the library's documented tie rule; credits stay rational.
    """
    rule_prior = prior if decision_prior is None else decision_prior
    b = math.log(rule_prior / (1 - rule_prior))
    tol = TIE_RTOL * (math.fsum(abs(x) for x in w if math.isfinite(x)) + abs(b))
    table = {}
    for c in itertools.product((0, 1), repeat=len(w)):
        k = sum((1 if wi > 0 else -1) * (2 * ci - 1) for wi, ci in zip(w, c) if math.isinf(wi))
        if k != 0:
            table[c] = Fraction(int(k > 0))
        else:
            s = math.fsum(wi * (2 * ci - 1) for wi, ci in zip(w, c) if math.isfinite(wi))
            table[c] = prior * _g(s + b, tol) + (1 - prior) * _g(s - b, tol)
    return table


def accuracy_from_table(q, table):
    """A(q, w) = sum_c prod_i q_i^c_i (1 - q_i)^(1 - c_i) kappa(c), exactly for rational q."""
    total = Fraction(0)
    for c, credit in table.items():
        if credit:
            total += math.prod(qi if ci else 1 - qi for qi, ci in zip(q, c)) * credit
    return total


def joint(sources):
    """Every joint support point of independent sources, with its probability: (probability, point)."""
    for combo in itertools.product(*(list(zip(probs, support)) for support, probs in sources)):
        yield math.prod(p for p, _ in combo), tuple(x for _, x in combo)


def mean(source):
    support, probs = source
    return sum((p * x for x, p in zip(support, probs)), Fraction(0))


def logit(x):
    """ln(x / (1 - x)) as a float, +-inf at 1 and 0."""
    return math.inf if x == 1 else -math.inf if x == 0 else math.log(x / (1 - x))


# ---------------------------------------------------------------- strategies


@st.composite
def discrete_sources(draw, max_sources=5):
    """1..max_sources independent sources, each with 1-3 rational support points and rational probabilities."""
    sources = []
    for _ in range(draw(st.integers(1, max_sources))):
        k = draw(st.integers(1, 3))
        support = draw(st.lists(st.fractions(0, 1, max_denominator=8), min_size=k, max_size=k, unique=True))
        masses = draw(st.lists(st.integers(1, 8), min_size=k, max_size=k))
        sources.append((support, [Fraction(m, sum(masses)) for m in masses]))
    return sources


small_weight = st.sampled_from([-3, -2, -1, 0, 1, 2, 3, math.inf, -math.inf])  # small integers: many ties


def weights_for(t, kind, integers, other):
    """Small integers (with 0 and +-inf), the log-odds of the trust t, or the log-odds of another trust vector.

    For the log-odds of t the tie rule cannot change the accuracy: a tie there means a profile and its mirror
    image are equally likely at t, so any tie-break gives A(t, w) and hence, by Theorem 1, E[A(P, w)].
    The log-odds of an unrelated trust vector make the tie tolerance matter.
    """
    if kind == "integer":
        return integers[: len(t)]
    return [logit(x) for x in (t if kind == "log-odds" else other[: len(t)])]


kinds = st.sampled_from(["integer", "log-odds", "log-odds of other"])
other_trust = st.lists(st.fractions(0, 1, max_denominator=8), min_size=5, max_size=5)

# Near-ties that exist only up to rounding: ln(1/2) + ln 3 - ln(3/2) is 1.1e-16, not 0, in floats, so these
# examples need the tie tolerance: weights w(1/3), w(3/4), w(3/5) on a model whose profiles (1, 1, 0) and
# (0, 0, 1) are not equally likely; and trust 1/3, 3/4 with prior 3/5 (bias ln(3/2)).
NEAR_TIE_TRUST = [Fraction(1, 3), Fraction(3, 4), Fraction(3, 5), Fraction(1, 2), Fraction(1, 2)]
NEAR_TIE = [([Fraction(0), HALF], [Fraction(1, 3), Fraction(2, 3)]), ([HALF, Fraction(1)], [HALF, HALF]),
            ([Fraction(2, 5), Fraction(4, 5)], [HALF, HALF])]
SKEWED = [([Fraction(0), Fraction(1)], [HALF, HALF]), ([Fraction(1, 4)], [Fraction(1)]),
          ([Fraction(3, 4), Fraction(1)], [HALF, HALF])]


def library_model(sources):
    return wt.DiscreteTrust([s for s, _ in sources], [p for _, p in sources])


# ---------------------------------------------------------------- Theorem 1


@settings(max_examples=150)
@given(discrete_sources(), kinds, st.lists(small_weight, min_size=5, max_size=5), other_trust)
@example(NEAR_TIE, "log-odds", [0] * 5, NEAR_TIE_TRUST)
@example(SKEWED, "log-odds of other", [0] * 5, NEAR_TIE_TRUST)
def test_theorem1_expected_accuracy_equals_accuracy_at_trust(sources, kind, integers, other):
    """Theorem 1 (proofs/theorem1_soc.md): independent P_i with E[P_i] = t_i give E[A(P, w)] = A(t, w), exactly.

    Rational discrete models of 1-5 sources; weights small integers (with 0 and +-inf, oracle
    tests/brute.py's accuracy_exact), the log-odds w(t) of the trust, or the log-odds of an unrelated
    rational trust vector (oracle: credit_table, decisions in floats with the library's tie rule).
    Then the library: expected_actual_accuracy's rational path returns the same Fraction, and
    accuracy at float t agrees to 1e-12.
    """
    t = [mean(s) for s in sources]
    w = weights_for(t, kind, integers, other)
    table = credit_table(w)
    if kind == "integer":  # tests/brute.py's oracle needs no tolerance; the table must agree with it
        oracle = accuracy_exact
        assert accuracy_from_table(t, table) == accuracy_exact(t, w)
    else:
        oracle = lambda q, _w: accuracy_from_table(q, table)  # noqa: E731
    expected = sum((prob * oracle(point, w) for prob, point in joint(sources)), Fraction(0))
    believed = oracle(t, w)
    assert expected == believed  # Theorem 1, no tolerance

    model = library_model(sources)
    assert model.mean_exact() == t
    got = wt.expected_actual_accuracy(model, w)
    assert got.method == "exact" and isinstance(got.value, Fraction)
    assert got.value == expected  # the library's rational path, by its definition
    assert wt.accuracy([float(x) for x in t], w).value == pytest.approx(float(believed), abs=1e-12)


@settings(max_examples=100)
@given(discrete_sources(), st.fractions(Fraction(1, 8), Fraction(7, 8), max_denominator=8).filter(lambda x: x != HALF),
       kinds, st.lists(small_weight, min_size=5, max_size=5), other_trust)
@example(NEAR_TIE[:2], Fraction(3, 5), "log-odds", [0] * 5, NEAR_TIE_TRUST)
@example(SKEWED[:2], Fraction(3, 5), "log-odds of other", [0] * 5, NEAR_TIE_TRUST)
def test_theorem1_with_nonuniform_prior(sources, prior, kind, integers, other):
    """Theorem 1 with a prior pi != 1/2 (proofs/soc_nonuniform_prior.md): credit pi g(S + b) + (1 - pi) g(S - b).

    The decision maker's bias b = ln(pi / (1 - pi)) uses the true prior; the library offers no way to
    give the rule a different prior from the truth's, so the library is checked only in that case
    (a mismatched bias, proofs/soc_nonuniform_prior.md remark 1, is checked on the oracle alone).
    The tie tolerance is the library's documented one, 1e-12 * (sum |finite w| + |b|).
    """
    t = [mean(s) for s in sources]
    w = weights_for(t, kind, integers, other)
    table = credit_table(w, prior)
    expected = sum((prob * accuracy_from_table(point, table) for prob, point in joint(sources)), Fraction(0))
    believed = accuracy_from_table(t, table)
    assert expected == believed  # Theorem 1, no tolerance

    mismatched = credit_table(w, prior, decision_prior=1 - prior)  # the rule's bias has the wrong sign
    assert sum((prob * accuracy_from_table(point, mismatched) for prob, point in joint(sources)),
               Fraction(0)) == accuracy_from_table(t, mismatched)

    got = wt.expected_actual_accuracy(library_model(sources), w, prior=prior)
    assert got.method == "exact" and got.value == expected
    assert wt.accuracy([float(x) for x in t], w, prior=float(prior)).value == pytest.approx(float(believed), abs=1e-12)
    # the float brute force of tests/brute.py takes the same decisions
    assert accuracy_brute([float(x) for x in t], w, float(prior)) == pytest.approx(float(believed), abs=1e-12)


# ---------------------------------------------------------------- the hypotheses are needed


def majority_of_three(q):
    """A(q, (1, 1, 1)) for three sources all of trustworthiness q: at least two right, no ties with n = 3."""
    return q**3 + 3 * q**2 * (1 - q)  # = 3 q^2 - 2 q^3


def test_correlated_trustworthiness_breaks_soc():
    """Independence is needed (proofs/soc_necessary_conditions.md (a)): one P shared by all sources breaks SoC.

    n = 3 and all trust equal, so w(t) is equal weights: the same rule as (1, 1, 1), simple majority with
    no ties. With h(q) = q^3 + 3 q^2 (1 - q) = 3 q^2 - 2 q^3 the accuracy at common trustworthiness q:
    P uniform on {1/2, 1} (the proof's example): t = 3/4,
      E[A(P, w)] = (h(1/2) + h(1)) / 2 = (1/2 + 1) / 2 = 3/4,  A(t, w) = h(3/4) = 27/16 - 27/32 = 27/32,
      gap = 24/32 - 27/32 = -3/32.
    P uniform on {1/4, 1}: t = 5/8,
      E[A(P, w)] = (h(1/4) + h(1)) / 2 = (5/32 + 1) / 2 = 37/64,  A(t, w) = h(5/8) = 75/64 - 125/256 = 175/256,
      gap = 148/256 - 175/256 = -27/256.
    Both agree with the proof's remark, gap = 3 (1 - 2t) Var P - 2 E[(P - t)^3]: the third moments are 0
    (two equally likely points) and Var P = 1/16, 9/64. Independent sources with the same marginals: gap 0.
    """
    cases = [(Fraction(1, 2), Fraction(3, 4), Fraction(27, 32), Fraction(-3, 32)),
             (Fraction(1, 4), Fraction(37, 64), Fraction(175, 256), Fraction(-27, 256))]
    hi, w = Fraction(1), [1, 1, 1]
    for lo, actual, believed_by_hand, gap in cases:
        t = (lo + hi) / 2
        variance = ((lo - t) ** 2 + (hi - t) ** 2) / 2
        assert ((lo - t) ** 3 + (hi - t) ** 3) / 2 == 0
        assert 3 * (1 - 2 * t) * variance == gap  # the proof's closed form
        assert (majority_of_three(lo) + majority_of_three(hi)) / 2 == actual
        assert majority_of_three(t) == believed_by_hand

        correlated = HALF * accuracy_exact([lo] * 3, w) + HALF * accuracy_exact([hi] * 3, w)  # 2 joint points
        believed = accuracy_exact([t] * 3, w)
        assert (correlated, believed) == (actual, believed_by_hand)
        assert correlated - believed == gap != 0  # SoC fails

        # log-odds weights of the common trust are equal: the same rule, the same numbers
        w_t = [logit(t)] * 3
        assert accuracy_from_table([t] * 3, credit_table(w_t)) == believed

        # independent sources with the same marginals: the 8 joint points give the gap 0
        sources = [([lo, hi], [HALF, HALF])] * 3
        independent = sum((prob * accuracy_exact(point, w) for prob, point in joint(sources)), Fraction(0))
        assert independent - believed == 0
        model = library_model(sources)
        assert wt.expected_actual_accuracy(model, w_t).value == believed_by_hand
        assert wt.soc_gap(model).value == pytest.approx(0.0, abs=1e-12)


def test_frequentist_reading_breaks_soc():
    """The Bayesian reading is needed (proofs/soc_necessary_conditions.md): fixed p = 1/2, T = K/m, n = 1.

    Believed accuracy A(T, w(T)) = max(T, 1 - T) (T = 1/2: weight 0, a tie, 1/2); actual A(1/2, w(T)) = 1/2
    for every T. So believed minus actual is E|T - 1/2| with K ~ Binomial(m, 1/2) (the SoC gap, actual
    minus believed, is its negative; frequentist_soc_gap reports believed minus actual):
      m = 1: K = 0, 1 (1/2 each), |T - 1/2| = 1/2           -> 1/2
      m = 2: (1/4, 1/2, 1/4) x (1/2, 0, 1/2)                 -> 1/4
      m = 3: (1/8, 3/8, 3/8, 1/8) x (1/2, 1/6, 1/6, 1/2)     -> 1/8 + 1/8 = 1/4
      m = 4: (1, 4, 6, 4, 1)/16 x (1/2, 1/4, 0, 1/4, 1/2)    -> 1/16 + 2/16 = 3/16
      m = 5: (1, 5, 10, 10, 5, 1)/32 x (1/2, 3/10, 1/10, 1/10, 3/10, 1/2) -> (1 + 3 + 2)/32 = 3/16
    in agreement with de Moivre's E|K - m/2| / m = C(m - 1, floor(m/2)) / 2^m.
    """
    expected = {1: Fraction(1, 2), 2: Fraction(1, 4), 3: Fraction(1, 4), 4: Fraction(3, 16), 5: Fraction(3, 16)}
    p = HALF
    for m, gap in expected.items():
        pmf = {k: Fraction(math.comb(m, k), 2**m) for k in range(m + 1)}
        assert sum(pmf[k] * abs(Fraction(k, m) - HALF) for k in pmf) == gap
        assert Fraction(math.comb(m - 1, m // 2), 2**m) == gap
        # the same from the accuracy's definition: believed minus actual, per track record
        by_definition = Fraction(0)
        for k, prob in pmf.items():
            t = Fraction(k, m)
            table = credit_table([logit(t)])
            by_definition += prob * (accuracy_from_table([t], table) - accuracy_from_table([p], table))
            assert accuracy_from_table([p], table) == HALF  # the actual accuracy is 1/2 whatever the rule
        assert by_definition == gap
        got = wt.frequentist_soc_gap([0.5], m, estimator="mle")
        assert got.method == "exact"
        assert got.value == pytest.approx(float(gap), abs=1e-12)


# ---------------------------------------------------------------- Monte Carlo over Beta trust


def beta_models(count, seed):
    """Random Beta posteriors from track records: n = 3..10 sources, 5..50 observations each (seeded)."""
    rng = np.random.default_rng(seed)
    models = []
    for _ in range(count):
        n = int(rng.integers(3, 11))
        m = rng.integers(5, 51, size=n)
        successes = rng.binomial(m, rng.uniform(0.3, 0.95, size=n))
        models.append(wt.BetaTrust.from_track_record(successes, m - successes))
    return models


SOC_MODELS, SOC_LEVEL = 20, 0.99
ALPHA = 0.001  # the chance that the count check fails when every interval has its nominal coverage


def intervals_containing_zero(models, trust=None):
    """How many of the models' 99% Monte Carlo intervals of the SoC gap contain 0 (trust: a function of the mean)."""
    count = 0
    for index, model in enumerate(models):
        gap = wt.soc_gap(model, trust=None if trust is None else trust(model.mean), method="montecarlo", draws=2000,
                         seed=1000 + index, confidence=SOC_LEVEL)
        assert gap.method == "montecarlo"
        assert 0 < gap.stderr and gap.ci_high - gap.ci_low < 0.02  # an interval that could exclude 0
        count += gap.ci_low <= 0 <= gap.ci_high
    return count


def fewest_hits(n, level, alpha):
    """The largest k with P(Binomial(n, level) < k) < alpha: fewer than k hits is evidence against the level."""
    return max(k for k in range(n + 1) if stats.binom.cdf(k - 1, n, level) < alpha)


def test_monte_carlo_soc_gap_contains_zero_for_beta_trust():
    """Theorem 1 for Beta trust (proofs/theorem1_soc.md), seen through the Monte Carlo estimate.

    The gap is exactly 0, so each 99% interval contains 0 unless the estimate is biased. Out of 20 independent
    instances, a count of intervals containing 0 below k = 17 has probability P(Binomial(20, 0.99) < 17) = 4e-5
    < 0.001 at the nominal coverage (requiring 20 of 20, as this test once did, fails 18% of the time by chance).
    Negative control: the same 20 models with trust tempered by 1.2 (slightly over-confident) or 0.8 (slightly
    under-confident) open a gap, and the count falls below k (0 of 20 here): the check fails when SoC does.
    """
    models = beta_models(SOC_MODELS, seed=20240601)
    k = fewest_hits(SOC_MODELS, SOC_LEVEL, ALPHA)
    assert k == 17 and stats.binom.cdf(k - 1, SOC_MODELS, SOC_LEVEL) < ALPHA
    assert intervals_containing_zero(models) >= k
    for temper in (1.2, 0.8):
        assert intervals_containing_zero(models, lambda t: wt.tempered_trust(t, temper)) < k, temper


def test_monte_carlo_soc_gap_excludes_zero_for_biased_trust():
    """Biased trust opens an SoC gap (proofs/soc_necessary_conditions.md): the 99% interval excludes 0.

    The exact gap E[A(P, w(s))] - A(s, w(s)) for biased trust s is A(t, w(s)) - A(s, w(s)) by Theorem 1
    (w(s) is a fixed rule); it is computed here with tests/brute.py and required to be material before the
    interval is checked: at least 0.03 in absolute value, over ten standard errors (these instances have
    0.05 to 0.25). The Monte Carlo estimate must also lie within 5 standard errors of it.
    """
    cases = []
    for model in beta_models(4, seed=7):
        cases.append((model, wt.tempered_trust(model.mean, 3.0), -1))  # over-confident: believes too much
        cases.append((model, wt.tempered_trust(model.mean, 0.3), +1))  # under-confident: believes too little
    # maximum likelihood on short, lopsided records: K/m is far from (K + 1)/(m + 2), and 5/5 gives trust 1
    for successes, failures in [([5, 8, 4, 3], [0, 1, 1, 2]), ([9, 2, 7, 6, 1], [1, 4, 0, 3, 5]),
                                ([6, 5, 5], [0, 1, 2])]:
        model = wt.BetaTrust.from_track_record(successes, failures)
        cases.append((model, wt.trust_mle(successes, failures), -1))  # MLE is more extreme than the mean

    for index, (model, trust, sign) in enumerate(cases):
        t, w = model.mean, [logit(x) for x in trust]
        exact = accuracy_brute(t, w) - accuracy_brute(trust, w)
        assert sign * exact >= 0.03, (index, exact)  # the bias is material
        gap = wt.soc_gap(model, trust=trust, method="montecarlo", draws=2000, seed=index, confidence=0.99)
        assert not gap.ci_low <= 0 <= gap.ci_high, (index, gap)
        assert abs(gap.value - exact) <= 5 * gap.stderr, (index, exact, gap)
