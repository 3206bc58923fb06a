"""Stability of correctness given a latent difficulty class (proofs/soc_latent_class.md).

Model: class D ~ pi, truth Y uniform on L labels and independent of D; given (Y, D = d) member i votes
Y with probability p[i][d], otherwise each of the L - 1 other labels with probability (1 - p[i][d]) / (L - 1),
independently of the other members. Every expected value here comes from enumerating (d, y, v) in
Fractions; nothing is copied from the library, which is then compared with the enumeration.
"""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wmvtrust as wt
from latent_enumeration import (ONE, accuracy, all_profiles, bayes_posterior, belief, binary_accuracy, profiles, rule_coin,
                                rule_lowest)
from wmvtrust._labels.latent import latent_class_posterior
from wmvtrust._labels.models import posterior, symmetric_weights


# ---------------------------------------------------------------- the model, by enumeration


def likelihood(vote, truth, p, n_labels):
    """P(V_i = vote | Y = truth, trustworthiness p) under symmetric noise."""
    return p if vote == truth else (1 - p) / (n_labels - 1)


def joint(pi, p, n_labels):
    """{v: [P(Y = y, V = v) for each y]}: the sum over every class d of pi_d (1/L) prod_i lik(v_i | y, p_id)."""
    return {v: [sum(pi[d] * math.prod(likelihood(v[i], y, p[i][d], n_labels) for i in range(len(p)))
                    for d in range(len(pi))) / n_labels for y in range(n_labels)]
            for v in profiles(len(p), n_labels)}


# ---------------------------------------------------------------- the library, one task per profile


def library_posterior(pi, p, n_labels):
    """wmvtrust._labels.latent.latent_class_posterior on every profile (rows in the order of profiles())."""
    data = all_profiles(len(p), n_labels)
    return latent_class_posterior(data, np.array(p, dtype=float), np.array(pi, dtype=float), n_labels)


# ---------------------------------------------------------------- strategies

inner = st.fractions(min_value=Fraction(1, 10), max_value=Fraction(9, 10), max_denominator=10)


@st.composite
def latent_models(draw, members=(1, 4), classes=(2, 2)):
    """(pi, p, L): K classes with rational weights, p[i][d] rational in [1/10, 9/10]."""
    n_labels = draw(st.sampled_from([2, 3]))
    n_members = draw(st.integers(*members))
    n_classes = draw(st.integers(*classes))
    masses = draw(st.lists(st.integers(1, 9), min_size=n_classes, max_size=n_classes))
    pi = [Fraction(m, sum(masses)) for m in masses]
    p = [[draw(inner) for _ in range(n_classes)] for _ in range(n_members)]
    return pi, p, n_labels


# ---------------------------------------------------------------- (a) the posterior


@settings(max_examples=80)
@given(latent_models(classes=(1, 3)))
def test_latent_class_posterior_is_the_bayes_posterior(model):
    """(a): sum_d P(d | v) P(y | v, d) with P(v | d) written out equals P(y, v) / P(v) exactly; the library agrees.

    P(y | v, d) is proportional to prod_{i: v_i = y} (L - 1) p_id / (1 - p_id) (the exponential of the summed
    log weights), and P(v | d) = (1/L) prod_i (1 - p_id) / (L - 1) sum_y prod_{i: v_i = y} (L - 1) p_id / (1 - p_id).
    """
    pi, p, n_labels = model
    exact = bayes_posterior(joint(pi, p, n_labels))
    got = library_posterior(pi, p, n_labels)
    for row, v in enumerate(profiles(len(p), n_labels)):
        formula = [Fraction(0)] * n_labels
        evidence = []
        for d in range(len(pi)):
            odds = [math.prod(((n_labels - 1) * p[i][d] / (1 - p[i][d]) for i in range(len(p)) if v[i] == y), start=ONE)
                    for y in range(n_labels)]
            evidence.append(pi[d] * math.prod((1 - p[i][d]) / (n_labels - 1) for i in range(len(p)))
                            * sum(odds) / n_labels)
            for y in range(n_labels):
                formula[y] += evidence[d] * odds[y] / sum(odds)
        formula = [x / sum(evidence) for x in formula]
        assert formula == exact[v]  # (a), exactly
        assert got[row] == pytest.approx([float(x) for x in exact[v]], abs=1e-12)  # the library


# ---------------------------------------------------------------- (b) belief equals accuracy


@settings(max_examples=80)
@given(latent_models(classes=(1, 3)), st.data(), st.booleans())
def test_belief_equals_accuracy(model, data, randomised):
    """(b): P(delta(V) = Y) = E_V[q(V)_delta(V)] for a fixed weighted plurality, deterministic or randomised ties.

    Exact with the Bayes posterior; with the library's float posterior to 1e-12. Small integer weights
    make ties frequent, so the tie rule matters.
    """
    pi, p, n_labels = model
    w = data.draw(st.lists(st.integers(-1, 3), min_size=len(p), max_size=len(p)))
    rule_of = rule_coin if randomised else rule_lowest

    def rule(v):
        return rule_of(v, w, n_labels)

    table = joint(pi, p, n_labels)
    exact = bayes_posterior(table)
    assert belief(table, exact, rule) == accuracy(table, rule)  # (b), no tolerance
    got = library_posterior(pi, p, n_labels)
    library = {v: list(got[row]) for row, v in enumerate(profiles(len(p), n_labels))}
    label_free = math.fsum(float(sum(table[v])) * library[v][y] * float(prob)
                           for v in table for y, prob in rule(v).items())
    assert label_free == pytest.approx(float(accuracy(table, rule)), abs=1e-12)


# ---------------------------------------------------------------- (c) plug-in equals Bayes


@st.composite
def uncertain_models(draw, within_member_dependence=False):
    """A discrete prior over (pi, p): pi on two points; each p_id on two rational values, independent.

    With ``within_member_dependence`` each member's pair (p_i1, p_i2) has an arbitrary joint law on four
    points instead (members independent of each other and of pi): only independence within each class is
    needed (proofs/soc_latent_class.md, remark to (c)).
    """
    n_labels = draw(st.sampled_from([2, 3]))
    n_members = draw(st.integers(1, 3 if n_labels == 2 else 2))
    frac = st.fractions(min_value=0, max_value=1, max_denominator=6)

    def law(k):
        masses = draw(st.lists(st.integers(1, 5), min_size=k, max_size=k))
        return [Fraction(m, sum(masses)) for m in masses]

    pis = [(a, 1 - a) for a in draw(st.lists(frac, min_size=2, max_size=2))]
    pi_law = list(zip(law(2), pis))  # (probability, pi)
    members = []  # per member: list of (probability, (p_i1, p_i2))
    for _ in range(n_members):
        if within_member_dependence:
            points = [tuple(draw(frac) for _ in range(2)) for _ in range(4)]
            members.append(list(zip(law(4), points)))
        else:
            per_class = [list(zip(law(2), [draw(frac) for _ in range(2)])) for _ in range(2)]
            members.append([(m1 * m2, (x1, x2)) for (m1, x1), (m2, x2) in itertools.product(*per_class)])
    return pi_law, members, n_labels


def predictive(pi_law, members, n_labels):
    """The decision maker's P(Y = y, V = v) for one new example: the model averaged over the joint support."""
    total = {v: [Fraction(0)] * n_labels for v in profiles(len(members), n_labels)}
    for (m_pi, pi), *combo in itertools.product(pi_law, *members):
        mass = m_pi * math.prod(m for m, _ in combo)
        for v, row in joint(pi, [point for _, point in combo], n_labels).items():
            for y in range(n_labels):
                total[v][y] += mass * row[y]
    return total


def plug_in(pi_law, members, n_labels):
    """The model at the means: E[pi] and t_id = E[p_id]."""
    pi = [sum((m * point[d] for m, point in pi_law), Fraction(0)) for d in range(2)]
    t = [[sum((m * point[d] for m, point in law), Fraction(0)) for d in range(2)] for law in members]
    return joint(pi, t, n_labels)


@settings(max_examples=40)
@given(uncertain_models())
def test_plug_in_equals_bayes(model):
    """(c): the predictive distribution of (Y, V) is the model with pi -> E[pi], p_id -> E[p_id], exactly.

    Hence any fixed rule's expected accuracy, and the belief computed from the means, are equal.
    """
    pi_law, members, n_labels = model
    bayes = predictive(pi_law, members, n_labels)
    assert bayes == plug_in(pi_law, members, n_labels)


@settings(max_examples=25)
@given(uncertain_models(within_member_dependence=True))
def test_plug_in_equals_bayes_with_dependence_across_classes_of_one_member(model):
    """(c), remark: p_i1 and p_i2 of the same member may be dependent; each product holds one class only."""
    pi_law, members, n_labels = model
    assert predictive(pi_law, members, n_labels) == plug_in(pi_law, members, n_labels)


def majority3(v):
    """Plurality of three binary votes (never tied)."""
    return {int(sum(v) >= 2): ONE}


def test_plug_in_fails_when_members_trustworthiness_is_correlated():
    """Counterexample: p_11 = p_21 = p_31 = P in {1/2, 1} (one draw for all), class 2 at p = 1/2, pi = (1/2, 1/2).

    Majority of three: actual E[A] = 1/2 (E[A_1(P)] + 1/2) = 1/2 (3/4 + 1/2) = 5/8, plug-in at t = 3/4:
    1/2 (27/32 + 1/2) = 43/64. Gap -3/64.
    """
    half = Fraction(1, 2)
    pi = (half, half)
    pi_law = [(ONE, pi)]
    coupled = [(half, (half, half)), (half, (ONE, half))]  # (probability, (p_i1, p_i2)), shared by all
    actual = sum((m * accuracy(joint(pi, [point] * 3, 2), majority3) for m, point in coupled), Fraction(0))
    plug = accuracy(plug_in(pi_law, [coupled] * 3, 2), majority3)
    assert (actual, plug) == (Fraction(5, 8), Fraction(43, 64))
    assert actual - plug == Fraction(-3, 64)


def test_plug_in_fails_when_class_weights_and_trustworthiness_are_correlated():
    """Counterexample: one member, pi_1 = p_11 = U in {1/4, 3/4}, p_12 = 1/2: E[pi_1 p_11] = 5/16 != 1/4.

    'Follow the member': actual E[A] = E[U^2 + (1 - U)/2] = 9/16, plug-in at E[pi] = (1/2, 1/2), t = (1/2, 1/2): 1/2.
    """
    half, quarter = Fraction(1, 2), Fraction(1, 4)
    support = [(half, quarter), (half, 3 * quarter)]
    follow = lambda v: {v[0]: ONE}  # noqa: E731
    actual = sum((m * accuracy(joint((u, 1 - u), [[u, half]], 2), follow) for m, u in support), Fraction(0))
    plug = accuracy(joint((half, half), [[half, half]], 2), follow)
    assert (actual, plug) == (Fraction(9, 16), half)


# ---------------------------------------------------------------- K = 1 is the independence posterior


@pytest.mark.parametrize("n_labels", [2, 3, 4])
def test_one_class_is_the_independence_posterior(n_labels):
    """K = 1 (Theorem 1's model): latent_class_posterior equals crowd.posterior with symmetric weights.

    So does K = 2 with identical classes (the class carries no information), whatever the class weights.
    """
    rng = np.random.default_rng(n_labels)
    t = rng.uniform(0.05, 0.95, 4)
    data = all_profiles(4, n_labels)
    independent = posterior(data, symmetric_weights(t, n_labels), np.zeros(n_labels))
    one = latent_class_posterior(data, t[:, None], np.array([1.0]), n_labels)
    two = latent_class_posterior(data, np.column_stack([t, t]), np.array([0.3, 0.7]), n_labels)
    np.testing.assert_allclose(one, independent, rtol=0, atol=1e-12)
    np.testing.assert_allclose(two, independent, rtol=0, atol=1e-12)
    other = latent_class_posterior(data, np.column_stack([t, rng.uniform(0.05, 0.95, 4)]), np.array([0.5, 0.5]),
                                   n_labels)
    assert np.abs(other - independent).max() > 1e-3  # two different classes do change the posterior


# ---------------------------------------------------------------- (d) correlated correctness


@settings(max_examples=40)
@given(latent_models(members=(2, 3), classes=(1, 3)))
def test_correctness_covariance_is_the_covariance_of_trustworthiness_over_classes(model):
    """(d): Cov(1{V_i = Y}, 1{V_j = Y}) = sum_d pi_d p_id p_jd - pbar_i pbar_j, by enumeration of (y, v)."""
    pi, p, n_labels = model
    table = joint(pi, p, n_labels)

    def right(*members):
        return sum((row[y] for v, row in table.items() for y in range(n_labels)
                    if all(v[i] == y for i in members)), Fraction(0))

    pbar = [sum(pi[d] * p[i][d] for d in range(len(pi))) for i in range(len(p))]
    for i, j in itertools.combinations(range(len(p)), 2):
        assert right(i) == pbar[i]
        cov = right(i, j) - right(i) * right(j)
        assert cov == sum(pi[d] * p[i][d] * p[j][d] for d in range(len(pi))) - pbar[i] * pbar[j]
        if len(pi) == 2:
            assert cov == pi[0] * pi[1] * (p[i][0] - p[i][1]) * (p[j][0] - p[j][1])


# ---------------------------------------------------------------- the worked example of the proof

EASY = [Fraction(x, 200) for x in (198, 197, 196, 195, 194, 193, 192, 191, 190)]  # 0.99, 0.985, ..., 0.95
WORKED_PI = [Fraction(24, 25), Fraction(1, 25)]  # easy, hard
WORKED_P = [[e, Fraction(1, 2)] for e in EASY]  # hard examples: every member at chance


def test_worked_example():
    """Nine members, two labels, 4% hard examples at chance (proofs/soc_latent_class.md, (d)).

    Rule: weighted majority with the pooled-trust weights ln(tbar_i / (1 - tbar_i)); exact ties checked absent
    (products of rational odds compared). Every number of the proof recomputed by enumeration.
    """
    n_labels = 2
    pooled = [sum(WORKED_PI[d] * p[d] for d in range(2)) for p in WORKED_P]
    assert [float(x) for x in pooled] == [0.9704, 0.9656, 0.9608, 0.956, 0.9512, 0.9464, 0.9416, 0.9368, 0.932]
    odds = [x / (1 - x) for x in pooled]

    def rule(v):
        up = math.prod((o for o, vi in zip(odds, v) if vi == 1), start=ONE)
        down = math.prod((o for o, vi in zip(odds, v) if vi == 0), start=ONE)
        assert up != down  # no exact tie: the rule is deterministic
        return {int(up > down): ONE}

    table = joint(WORKED_PI, WORKED_P, n_labels)
    independence_model = joint([ONE], [[x] for x in pooled], n_labels)
    true = accuracy(table, rule)
    assert true == Fraction(48999895465137181, 50000000000000000)  # 0.97999790930274...
    latent = belief(table, bayes_posterior(table), rule)
    assert latent == true  # (b): the latent-class belief reproduces it exactly
    believed = accuracy(independence_model, rule)  # Theorem 1's belief A(tbar, w(tbar))
    assert believed == Fraction(7450376585548442227626019, 7450580596923828125000000)  # 0.99997261805671
    held_out = belief(table, bayes_posterior(independence_model), rule)  # what the ensemble would report
    assert float(held_out) == pytest.approx(0.998731568241999, abs=1e-15)
    assert 1 - believed < (1 - true) / 700  # error 2.7e-5 believed, 2.0e-2 made
    # hard examples are at chance: whatever the rule, accuracy <= 1 - pi_hard (1 - 1/L) = 0.98
    assert true <= 1 - WORKED_PI[1] * (1 - Fraction(1, n_labels))

    # correlated correctness: Cov(C_1, C_2) = pi_1 pi_2 (p_11 - 1/2)(p_21 - 1/2) = 14259/1562500
    both_right = sum(row[y] for v, row in table.items() for y in range(2) if v[0] == v[1] == y)
    assert both_right - pooled[0] * pooled[1] == Fraction(14259, 1562500)
    all_wrong = sum(row[y] for v, row in table.items() for y in range(2) if all(vi != y for vi in v))
    assert float(all_wrong) == pytest.approx(7.8125000006804e-05, rel=1e-12)  # independence: 1.15e-12
    assert float(math.prod(1 - x for x in pooled)) == pytest.approx(1.1529549731453965e-12, rel=1e-12)

    # the library's latent-class posterior at the true parameters gives the same belief, in floats
    got = library_posterior(WORKED_PI, WORKED_P, n_labels)
    label_free = math.fsum(float(sum(table[v])) * got[row][y]
                           for row, v in enumerate(profiles(9, 2)) for y in rule(v))
    assert label_free == pytest.approx(float(true), abs=1e-12)


# ---------------------------------------------------------------- (e) the errors-agreeing belief


@settings(max_examples=60)
@given(latent_models(classes=(1, 3)), st.data())
def test_errors_agreeing_bound(model, data):
    """(e): with positive weights, sum_d pi_d A(p_d, w) <= the rule's accuracy, with equality for two labels;
    the bound is attained when the members who err agree on one wrong label; the library's exact kernels
    compute it."""
    pi, p, n_labels = model
    w = data.draw(st.lists(st.fractions(min_value=Fraction(1, 4), max_value=3, max_denominator=4),
                           min_size=len(p), max_size=len(p)))
    bound = sum((pi[d] * binary_accuracy([p[i][d] for i in range(len(p))], w) for d in range(len(pi))), Fraction(0))
    actual = accuracy(joint(pi, p, n_labels), lambda v: rule_coin(v, w, n_labels))
    assert bound <= actual
    if n_labels == 2:
        assert bound == actual
    # agreeing errors: given (y, d) a wrong label k drawn uniformly, every member who errs votes k
    agreeing = Fraction(0)
    for d, y, k in itertools.product(range(len(pi)), range(n_labels), range(n_labels)):
        if k == y:
            continue
        for c in itertools.product((0, 1), repeat=len(p)):
            prob = math.prod((p[i][d] if c[i] else 1 - p[i][d] for i in range(len(p))), start=ONE)
            v = tuple(y if ci else k for ci in c)
            agreeing += pi[d] * prob / n_labels / (n_labels - 1) * rule_coin(v, w, n_labels).get(y, 0)
    assert agreeing == bound
    library = sum(float(pi[d]) * wt.accuracy([float(p[i][d]) for i in range(len(p))], [float(x) for x in w]).value
                  for d in range(len(pi)))
    assert library == pytest.approx(float(bound), abs=1e-12)


# ---------------------------------------------------------------- (e) symmetric noise is not an upper bound


def test_symmetric_noise_is_not_an_upper_bound_over_how_wrong_votes_split():
    """(e), remark after Proposition E: only the errors-agreeing end is a bound for every split of the wrong votes.

    L = 3, one class, three members each right with probability 1/2 independently, equal weights, fair ties.
    Members 1 and 3 always err to label y + 1 and member 2 to y + 2: accuracy 7/12, above the symmetric-noise
    value 9/16; wrong votes that always split (two wrong votes on two labels) give 5/8; errors agreeing 1/2.
    Every accuracy by enumeration of (y, correctness pattern, wrong votes), independently of the library.
    """
    half, n_labels, w = Fraction(1, 2), 3, [1, 1, 1]

    def accuracy_of(wrong_votes):
        """P(rule right): wrong_votes(y, c) = {vote profile: probability} given the truth y and the pattern c."""
        total = Fraction(0)
        for y, c in itertools.product(range(n_labels), itertools.product((0, 1), repeat=3)):
            for v, prob in wrong_votes(y, c).items():
                total += Fraction(1, n_labels) * half**3 * prob * rule_coin(v, w, n_labels).get(y, 0)
        return total

    def fixed_labels(y, c):  # member i, when wrong, votes y + shift[i]
        return {tuple(y if ci else (y + s) % n_labels for ci, s in zip(c, (1, 2, 1))): ONE}

    def symmetric(y, c):  # each wrong vote uniform on the two wrong labels, independently
        wrong = [i for i in range(3) if not c[i]]
        out = {}
        for shifts in itertools.product((1, 2), repeat=len(wrong)):
            v = [y] * 3
            for i, s in zip(wrong, shifts):
                v[i] = (y + s) % n_labels
            out[tuple(v)] = out.get(tuple(v), 0) + half ** len(wrong)
        return out

    def always_split(y, c):  # the k-th wrong member votes y + 1 + (k mod 2): two wrong votes never agree
        v, k = [y] * 3, 0
        for i in range(3):
            if not c[i]:
                v[i], k = (y + 1 + k % 2) % n_labels, k + 1
        return {tuple(v): ONE}

    def agreeing(y, c):  # every wrong vote on y + 1
        return {tuple(y if ci else (y + 1) % n_labels for ci in c): ONE}

    fixed, sym, split, agree = (accuracy_of(f) for f in (fixed_labels, symmetric, always_split, agreeing))
    assert (fixed, sym, split, agree) == (Fraction(7, 12), Fraction(9, 16), Fraction(5, 8), half)
    assert sym == accuracy(joint([ONE], [[half]] * 3, n_labels), lambda v: rule_coin(v, w, n_labels))  # model (1)
    assert agree == binary_accuracy([half] * 3, w)  # Proposition E, equality case
    assert agree <= sym < fixed <= split  # the lower end holds for every split, the symmetric value is no upper end
