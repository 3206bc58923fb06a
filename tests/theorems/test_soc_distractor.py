"""A latent class with a shared distractor (proofs/soc_latent_class.md, (f)).

Model: class D ~ pi, truth Y uniform on L labels, distractor C uniform on the L - 1 labels other than Y;
given (Y, C, D = d) member i votes Y with probability p[i][d], C with (1 - p[i][d]) (rho[d] + (1 - rho[d]) / (L - 1))
and each other label with (1 - p[i][d]) (1 - rho[d]) / (L - 1), independently of the other members. Every exact
value here comes from enumerating (d, y, c, v) in Fractions, and the simulations draw votes from that
probability table; nothing is copied from the library, which is then compared with them.
"""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

import wmvtrust as wt
from latent_enumeration import (ONE, accuracy, all_profiles, bayes_posterior, belief, binary_accuracy, profiles, rule_coin,
                                rule_lowest, vote_table)
from wmvtrust._labels.latent import distractor_em, distractor_posterior, latent_class_em, latent_class_posterior


# ---------------------------------------------------------------- the model, by enumeration


def likelihood(vote, truth, distractor, p, rho, n_labels):
    """P(V_i = vote | Y = truth, C = distractor, trustworthiness p, pull rho); rho = 1 is allowed."""
    if vote == truth:
        return p
    spread = (1 - p) * (1 - rho) / (n_labels - 1)
    return (1 - p) * rho + spread if vote == distractor else spread


def joint(pi, p, rho, n_labels):
    """{v: [P(Y = y, V = v) for each y]}: sum over d and c != y of pi_d / (L (L - 1)) prod_i lik(v_i | y, c, d)."""
    table = {}
    for v in profiles(len(p), n_labels):
        table[v] = [sum(pi[d] * math.prod((likelihood(v[i], y, c, p[i][d], rho[d], n_labels) for i in range(len(p))),
                                          start=ONE)
                        for d in range(len(pi)) for c in range(n_labels) if c != y) / n_labels / (n_labels - 1)
                    for y in range(n_labels)]
    return table


def symmetric_joint(pi, p, n_labels):
    """The latent-class model of (a): given (Y, D = d) a member errs to each wrong label with (1 - p_id) / (L - 1)."""
    return {v: [sum(pi[d] * math.prod((p[i][d] if v[i] == y else (1 - p[i][d]) / (n_labels - 1)
                                       for i in range(len(p))), start=ONE) for d in range(len(pi))) / n_labels
                for y in range(n_labels)]
            for v in profiles(len(p), n_labels)}


# ---------------------------------------------------------------- the library, one task per profile


def library_posterior(pi, p, rho, n_labels):
    """wmvtrust._labels.latent.distractor_posterior on every profile (rows in the order of profiles())."""
    return distractor_posterior(all_profiles(len(p), n_labels), np.array(p, dtype=float), np.array(rho, dtype=float),
                                np.array(pi, dtype=float), n_labels)


def library_belief(table, got, rule, n_labels, n_members):
    """sum_v P(v) sum_y q_library(v)_y delta(y | v), in floats."""
    return math.fsum(float(sum(table[v])) * got[row][y] * float(prob)
                     for row, v in enumerate(profiles(n_members, n_labels)) for y, prob in rule(v).items())


# ---------------------------------------------------------------- strategies

inner = st.fractions(min_value=Fraction(1, 10), max_value=Fraction(9, 10), max_denominator=10)
pulls = st.one_of(st.just(Fraction(0)), st.fractions(min_value=0, max_value=Fraction(9, 10), max_denominator=10))


@st.composite
def distractor_models(draw, labels=(2, 3, 4), classes=(1, 2)):
    """(pi, p, rho, L): up to 4 members for L <= 3 and 3 for L = 4; p[i][d] in [1/10, 9/10], rho[d] in [0, 9/10]."""
    n_labels = draw(st.sampled_from(labels))
    n_members = draw(st.integers(2, 4 if n_labels <= 3 else 3))
    n_classes = draw(st.integers(*classes))
    masses = draw(st.lists(st.integers(1, 9), min_size=n_classes, max_size=n_classes))
    pi = [Fraction(m, sum(masses)) for m in masses]
    p = [[draw(inner) for _ in range(n_classes)] for _ in range(n_members)]
    rho = [draw(pulls) for _ in range(n_classes)]
    return pi, p, rho, n_labels


# ---------------------------------------------------------------- (f) the posterior


@settings(max_examples=60)
@given(distractor_models())
def test_distractor_posterior_is_the_bayes_posterior(model):
    """(f): the separable formula equals P(y, v) / P(v) exactly on every profile; the library agrees to 1e-12.

    With E_id = (1 - p_id)(1 - rho_d)/(L - 1) and B_id = (1 - p_id)(rho_d + (1 - rho_d)/(L - 1)),
    P(y | v) is proportional to sum_d pi_d prod_i E_id prod_{i: v_i = y} p_id / E_id
    (1/(L - 1)) sum_{c != y} prod_{i: v_i = c} B_id / E_id: the products of ratios are the exponentials of S_d, T_d.
    """
    pi, p, rho, n_labels = model
    m = len(p)
    exact = bayes_posterior(joint(pi, p, rho, n_labels))
    got = library_posterior(pi, p, rho, n_labels)
    for row, v in enumerate(profiles(m, n_labels)):
        formula = [Fraction(0)] * n_labels
        for d, y in itertools.product(range(len(pi)), range(n_labels)):
            spread = [(1 - p[i][d]) * (1 - rho[d]) / (n_labels - 1) for i in range(m)]
            via = [(1 - p[i][d]) * (rho[d] + (1 - rho[d]) / (n_labels - 1)) for i in range(m)]
            s = math.prod((p[i][d] / spread[i] for i in range(m) if v[i] == y), start=ONE)
            t = sum(math.prod((via[i] / spread[i] for i in range(m) if v[i] == c), start=ONE)
                    for c in range(n_labels) if c != y)
            formula[y] += pi[d] * math.prod(spread) * s * t / (n_labels - 1)
        formula = [x / sum(formula) for x in formula]
        assert formula == exact[v]  # (f), exactly
        assert got[row] == pytest.approx([float(x) for x in exact[v]], abs=1e-12)  # the library


@settings(max_examples=30)
@given(distractor_models())
def test_no_pull_and_two_labels_are_the_symmetric_latent_class_model(model):
    """(f): rho = 0 gives the model of (a) exactly, and so does L = 2 for any rho (C is then the other label).

    The library's distractor_posterior then equals latent_class_posterior to 1e-12.
    """
    pi, p, rho, n_labels = model
    if n_labels > 2:
        rho = [Fraction(0)] * len(pi)
    assert joint(pi, p, rho, n_labels) == symmetric_joint(pi, p, n_labels)  # exactly
    got = library_posterior(pi, p, rho, n_labels)
    symmetric = latent_class_posterior(all_profiles(len(p), n_labels), np.array(p, dtype=float),
                                       np.array(pi, dtype=float), n_labels)
    np.testing.assert_allclose(got, symmetric, rtol=0, atol=1e-12)


def test_a_pull_changes_the_posterior_and_labels_nobody_voted_still_distract():
    """rho > 0 with L > 2 is another model; codes with fewer labels than n_labels count the others as C.

    The reference is a direct masked sum in logs over an (n, L, L) array, restricted to the labels of the table and
    renormalised (the posterior given that the truth is one of them).
    """
    rng = np.random.default_rng(7)
    n_members, n_labels, n_classes = 8, 6, 2
    trust = rng.uniform(0.2, 0.9, (n_members, n_classes))
    rho, weights = np.array([0.3, 0.9]), np.array([0.6, 0.4])
    v = rng.integers(4, size=(300, n_members))  # only labels 0..3 appear; 4 and 5 can still be the distractor
    v[:, 0] = np.arange(300) % 4  # every label of the table is voted, so the table has 4 labels
    data = vote_table(v, 4)
    got = distractor_posterior(data, trust, rho, weights, n_labels)
    symmetric = distractor_posterior(data, trust, np.zeros(2), weights, n_labels)
    assert np.abs(got - symmetric).max() > 0.1

    spread = np.log((1 - trust) * (1 - rho) / (n_labels - 1))
    hit = np.log(trust)
    via = np.log((1 - trust) * (rho + (1 - rho) / (n_labels - 1)))
    members = np.arange(n_members)
    log_joint = np.full((v.shape[0], n_classes, n_labels, n_labels), -np.inf)  # (task, d, y, c)
    for d, y, c in itertools.product(range(n_classes), range(n_labels), range(n_labels)):
        if c != y:
            per_vote = np.where(v == y, hit[members, d], np.where(v == c, via[members, d], spread[members, d]))
            log_joint[:, d, y, c] = np.log(weights[d]) + per_vote.sum(axis=1) - np.log(n_labels - 1)
    score = special.logsumexp(log_joint, axis=(1, 3))[:, :4]
    np.testing.assert_allclose(got, special.softmax(score, axis=1), rtol=0, atol=1e-12)


def test_posterior_stays_finite_with_many_members_and_a_strong_pull():
    """200 members, rho within 1e-9 of 1: one label per task far ahead of the others in T_d; no overflow, no nan.

    The reference is the same direct masked sum; the library never subtracts exp(T_d[y]) from a total it dominates.
    """
    rng = np.random.default_rng(8)
    n_members, n_labels = 200, 5
    trust = rng.uniform(0.1, 0.5, (n_members, 1))
    rho = np.array([1 - 1e-9])
    v = np.where(rng.random((50, n_members)) < 0.3, 0, rng.choice([1, 2], size=(50, n_members), p=[0.95, 0.05]))
    got = distractor_posterior(vote_table(v, n_labels), trust, rho, np.ones(1), n_labels)
    assert np.isfinite(got).all()
    spread = np.log((1 - trust[:, 0]) * (1 - rho[0]) / (n_labels - 1))
    hit, via = np.log(trust[:, 0]), np.log((1 - trust[:, 0]) * (rho[0] + (1 - rho[0]) / (n_labels - 1)))
    log_joint = np.full((v.shape[0], n_labels, n_labels), -np.inf)
    for y, c in itertools.product(range(n_labels), range(n_labels)):
        if c != y:
            log_joint[:, y, c] = np.where(v == y, hit, np.where(v == c, via, spread)).sum(axis=1)
    reference = special.softmax(special.logsumexp(log_joint, axis=2), axis=1)
    np.testing.assert_allclose(got, reference, rtol=0, atol=1e-12)


# ---------------------------------------------------------------- (b) for this model: belief equals accuracy


@settings(max_examples=60)
@given(distractor_models(), st.data(), st.booleans())
def test_belief_equals_accuracy(model, data, randomised):
    """(b) holds for any model: P(delta(V) = Y) = E_V[q(V)_delta(V)] for a fixed weighted plurality.

    Exact with the Bayes posterior of the distractor model; with the library's float posterior to 1e-12.
    """
    pi, p, rho, n_labels = model
    w = data.draw(st.lists(st.integers(-1, 3), min_size=len(p), max_size=len(p)))
    rule_of = rule_coin if randomised else rule_lowest

    def rule(v):
        return rule_of(v, w, n_labels)

    table = joint(pi, p, rho, n_labels)
    assert belief(table, bayes_posterior(table), rule) == accuracy(table, rule)  # no tolerance
    got = library_posterior(pi, p, rho, n_labels)
    assert library_belief(table, got, rule, n_labels, len(p)) == pytest.approx(float(accuracy(table, rule)), abs=1e-12)


# ---------------------------------------------------------------- rho -> 1: the errors-agreeing bound of (e)


@settings(max_examples=25)
@given(distractor_models(labels=(3, 4)), st.data())
def test_full_pull_reaches_the_errors_agreeing_bound(model, data):
    """(f), Proposition F: with positive weights and fair ties, as rho -> 1 the belief tends to sum_d pi_d A(p_d, w).

    At rho = 1 exactly (Fractions) belief = accuracy = the bound of (e), A by enumeration of correctness patterns.
    For the drawn rho, for rho = 0 and for rho = 1 - 1e-9: bound <= accuracy <= bound + (L - 2)/(L - 1)
    sum_d pi_d (1 - rho_d) sum_i (1 - p_id). At rho = 1 - 1e-9 the library's belief matches the exact accuracy
    to 1e-12, and the library's exact binary kernels compute the bound.
    """
    pi, p, rho, n_labels = model
    m, k = len(p), len(pi)
    w = data.draw(st.lists(st.fractions(min_value=Fraction(1, 4), max_value=3, max_denominator=4),
                           min_size=m, max_size=m))

    def rule(v):
        return rule_coin(v, w, n_labels)

    bound = sum((pi[d] * binary_accuracy([p[i][d] for i in range(m)], w) for d in range(k)), Fraction(0))
    full = joint(pi, p, [ONE] * k, n_labels)
    assert accuracy(full, rule) == bound
    assert belief(full, bayes_posterior(full), rule) == bound
    library_bound = sum(float(pi[d]) * wt.accuracy([float(p[i][d]) for i in range(m)], [float(x) for x in w]).value
                        for d in range(k))
    assert library_bound == pytest.approx(float(bound), abs=1e-12)

    near = [1 - Fraction(1, 10**9)] * k
    for pull in (rho, [Fraction(0)] * k, near):
        table = joint(pi, p, pull, n_labels)
        slack = Fraction(n_labels - 2, n_labels - 1) * sum(pi[d] * (1 - pull[d]) * sum(1 - p[i][d] for i in range(m))
                                                           for d in range(k))
        assert bound <= accuracy(table, rule) <= bound + slack
        assert belief(table, bayes_posterior(table), rule) == accuracy(table, rule)
    near_table = joint(pi, p, near, n_labels)
    got = library_posterior(pi, p, [1 - 1e-9] * k, n_labels)
    assert library_belief(near_table, got, rule, n_labels, m) == pytest.approx(float(accuracy(near_table, rule)),
                                                                               abs=1e-12)


# ---------------------------------------------------------------- (c) for this model: plug-in in p and pi, not in rho


@st.composite
def uncertain_trust(draw):
    """A discrete prior over (pi, p) with rho known: pi on two points; each p_id on two rational values, independent."""
    n_labels = draw(st.sampled_from([3, 4]))
    n_members = draw(st.integers(1, 2))
    frac = st.fractions(min_value=0, max_value=1, max_denominator=6)

    def law(k):
        masses = draw(st.lists(st.integers(1, 5), min_size=k, max_size=k))
        return [Fraction(m, sum(masses)) for m in masses]

    pi_law = list(zip(law(2), [(a, 1 - a) for a in draw(st.lists(frac, min_size=2, max_size=2))]))
    members = []  # per member: [(probability, (p_i1, p_i2))], the two classes independent
    for _ in range(n_members):
        per_class = [list(zip(law(2), [draw(frac) for _ in range(2)])) for _ in range(2)]
        members.append([(m1 * m2, (x1, x2)) for (m1, x1), (m2, x2) in itertools.product(*per_class)])
    rho = [draw(st.fractions(min_value=0, max_value=1, max_denominator=6)) for _ in range(2)]
    return pi_law, members, rho, n_labels


@settings(max_examples=15)
@given(uncertain_trust())
def test_plug_in_with_a_known_pull_equals_bayes(model):
    """(f): rho known, (H) for pi and p: the predictive law of (Y, V) is the model at E[pi], E[p_id], exactly.

    Each factor of a term of (2) is affine in one p_id, which appears in no other factor of that term.
    """
    pi_law, members, rho, n_labels = model
    bayes = {v: [Fraction(0)] * n_labels for v in profiles(len(members), n_labels)}
    for (m_pi, pi), *combo in itertools.product(pi_law, *members):
        mass = m_pi * math.prod(m for m, _ in combo)
        for v, row in joint(pi, [point for _, point in combo], rho, n_labels).items():
            for y in range(n_labels):
                bayes[v][y] += mass * row[y]
    pi_bar = [sum((m * point[d] for m, point in pi_law), Fraction(0)) for d in range(2)]
    t = [[sum((m * point[d] for m, point in law), Fraction(0)) for d in range(2)] for law in members]
    assert bayes == joint(pi_bar, t, rho, n_labels)


def test_plug_in_of_an_uncertain_pull_is_not_the_bayes_predictive():
    """Counterexample: M = 3, L = 3, K = 1, p = 1/2, plurality with fair ties, rho = R in {0, 1} equally likely.

    Acc(rho) = 1/2 + (1 - rho^2)/16 (one right vote against two wrong ones wins a three-way tie only if the
    wrong votes split), so E[Acc(R)] = (9/16 + 1/2)/2 = 17/32 but Acc(E[R]) = Acc(1/2) = 35/64: gap -Var(R)/16.
    """
    half = Fraction(1, 2)

    def acc(rho):
        return accuracy(joint([ONE], [[half]] * 3, [rho], 3), lambda v: rule_coin(v, [1, 1, 1], 3))

    for rho in (Fraction(0), Fraction(1, 3), half, ONE):
        assert acc(rho) == half + (1 - rho**2) / 16
    assert ((acc(Fraction(0)) + acc(ONE)) / 2, acc(half)) == (Fraction(17, 32), Fraction(35, 64))
    predictive = {v: [(a + b) / 2 for a, b in zip(row, joint([ONE], [[half]] * 3, [ONE], 3)[v])]
                  for v, row in joint([ONE], [[half]] * 3, [Fraction(0)], 3).items()}
    assert predictive != joint([ONE], [[half]] * 3, [half], 3)  # already the law of the votes differs


# ---------------------------------------------------------------- EM on simulated gold

N_MEMBERS, N_LABELS = 6, 10
TRUE_P = np.column_stack([np.linspace(0.86, 0.94, N_MEMBERS), np.linspace(0.30, 0.40, N_MEMBERS)])  # easy, hard
TRUE_RHO = np.array([0.2, 0.8])
TRUE_PI = np.array([0.85, 0.15])


def simulate(n_tasks, rng, p=TRUE_P, rho=TRUE_RHO, pi=TRUE_PI, n_labels=N_LABELS):
    """(truth, votes of shape (n_tasks, M)): D, Y, C drawn, then each vote from its row of the probability table."""
    d = rng.choice(pi.size, size=n_tasks, p=pi)
    y = rng.integers(n_labels, size=n_tasks)
    c = (y + rng.integers(1, n_labels, size=n_tasks)) % n_labels  # uniform on the labels other than y
    p_vote = p[:, d].T[:, :, None]  # (task, member, 1)
    pull = rho[d][:, None, None]
    labels = np.arange(n_labels)
    table = np.where(labels == y[:, None, None], p_vote,
                     np.where(labels == c[:, None, None], (1 - p_vote) * (pull + (1 - pull) / (n_labels - 1)),
                              (1 - p_vote) * (1 - pull) / (n_labels - 1)))
    u = rng.random((n_tasks, p.shape[0], 1))
    return y, np.minimum((u > table.cumsum(axis=2)).sum(axis=2), n_labels - 1)


def fit(y, v, rng, tol):
    """distractor_em on gold votes, classes sorted by mean trust (easy first): (trust, rho, pi, iterations)."""
    n, m = v.shape
    em = distractor_em(np.repeat(np.arange(n), m), np.tile(np.arange(m), n), v.ravel(), y, n_workers=m, n_classes=2,
                       n_labels=N_LABELS, beta_prior=(1, 1), max_iter=2000, tol=tol, rng=rng)
    order = np.argsort(-em.trust.mean(axis=0))
    return em.trust[:, order], em.rho[order], em.class_weights[order], em.n_iter


def test_em_recovers_the_parameters():
    """6 independent samples of 4,000 gold tasks, M = 6, L = 10, pi = (0.85, 0.15), p in [0.86, 0.94] and
    [0.30, 0.40], rho = (0.2, 0.8).

    Tolerances are about 4 standard deviations of each estimate, measured over 90 other seeds (SeedSequence(99), 60,
    and default_rng([2024, s]), 30) when this test was tightened: the largest error over the 6 members has mean
    0.009 and sd 0.003 for easy p (at most 0.018 in 90 fits), mean 0.038 and sd 0.012 for hard p (at most 0.091);
    sd of rho_easy 0.051, rho_hard 0.0095, pi 0.0065; the means over the 90 fits were within 1.3 standard errors of
    the truth (no bias to speak of). rho_easy is the least determined (only the easy tasks with two or more wrong
    votes say whether wrong votes agree): one fit pins it only to 0.2 +- 0.2, so the check is on the mean of the 6
    fits, 4 sd / sqrt(6) = 0.083 (and rho_hard's mean to 4 * 0.0095 / sqrt(6) = 0.016).
    """
    fits = []
    for stream in np.random.SeedSequence(2024).spawn(6):
        rng = np.random.default_rng(stream)
        y, v = simulate(4000, rng)
        t, rho, pi, n_iter = fit(y, v, rng, 1e-8)
        assert n_iter < 2000
        assert np.abs(t[:, 0] - TRUE_P[:, 0]).max() < 0.025
        assert np.abs(t[:, 1] - TRUE_P[:, 1]).max() < 0.12
        assert abs(rho[1] - TRUE_RHO[1]) < 0.04
        assert abs(pi[0] - TRUE_PI[0]) < 0.026
        fits.append(rho)
    rho = np.mean(fits, axis=0)
    assert abs(rho[0] - TRUE_RHO[0]) < 0.083 and abs(rho[1] - TRUE_RHO[1]) < 0.016


def test_em_stops_at_a_fixed_point_of_the_stated_update():
    """The returned parameters are a fixed point of the EM update of (f), computed here from the probability table.

    E-step: r[j, d, c] proportional to pi_d prod_i P(v_ji | y_j, c, d) over c != y_j. M-step: pi_d = mean_j sum_c r;
    p_id = (1 + expected right votes) / (2 + expected votes) in class d; rho_d = (1 + expected wrong votes that
    went via C) / (2 + expected wrong votes), a wrong vote equal to c having gone via C with probability
    rho_d / (rho_d + (1 - rho_d) / (L - 1)).
    """
    rng = np.random.default_rng(3)
    n_labels = 4
    p = np.column_stack([np.linspace(0.6, 0.8, 4), np.linspace(0.3, 0.4, 4)])
    y, v = simulate(400, rng, p=p, rho=np.array([0.3, 0.7]), pi=np.array([0.6, 0.4]), n_labels=n_labels)
    n, m = v.shape
    em = distractor_em(np.repeat(np.arange(n), m), np.tile(np.arange(m), n), v.ravel(), y, n_workers=m, n_classes=2,
                       n_labels=n_labels, beta_prior=(1, 1), max_iter=50_000, tol=1e-13, rng=np.random.default_rng(4))
    assert em.converged and em.n_iter < 50_000
    t, rho, pi = em.trust, em.rho, em.class_weights

    log_r = np.full((n, 2, n_labels), -np.inf)
    for d, c in itertools.product(range(2), range(n_labels)):
        lik = np.where(v == y[:, None], t[:, d], np.where(v == c, (1 - t[:, d]) * (rho[d] + (1 - rho[d]) / 3),
                                                           (1 - t[:, d]) * (1 - rho[d]) / 3))
        log_r[:, d, c] = np.where(y != c, np.log(pi[d]) + np.log(lik).sum(axis=1), -np.inf)
    r = special.softmax(log_r.reshape(n, -1), axis=1).reshape(n, 2, n_labels)
    in_class = r.sum(axis=2)
    right = v == y[:, None]
    wrong_count = (~right).sum(axis=1)
    on_c = np.stack([sum(r[np.arange(n), d, v[:, i]] * ~right[:, i] for i in range(m)) for d in range(2)], axis=1)
    share = rho / (rho + (1 - rho) / 3)
    np.testing.assert_allclose(in_class.mean(axis=0), pi, rtol=0, atol=1e-10)
    np.testing.assert_allclose((1 + right.T.astype(float) @ in_class) / (2 + in_class.sum(axis=0)), t, rtol=0,
                               atol=1e-10)
    np.testing.assert_allclose((1 + share * on_c.sum(axis=0)) / (2 + wrong_count @ in_class), rho, rtol=0, atol=1e-10)


def test_em_with_two_labels_is_the_latent_class_em():
    """L = 2: rho is not identifiable and stays at 1/2; trust, class weights and iterations are latent_class_em's."""
    rng = np.random.default_rng(5)
    p = np.column_stack([np.linspace(0.8, 0.95, 5), np.full(5, 0.55)])
    y, v = simulate(1500, rng, p=p, rho=np.array([0.3, 0.6]), pi=np.array([0.7, 0.3]), n_labels=2)
    n, m = v.shape
    task, worker = np.repeat(np.arange(n), m), np.tile(np.arange(m), n)
    em = {"n_workers": m, "n_classes": 2, "n_labels": 2, "beta_prior": (1, 1), "max_iter": 500, "tol": 1e-9}
    shared = distractor_em(task, worker, v.ravel(), y, rng=np.random.default_rng(1), **em)
    symmetric = latent_class_em(task, worker, v.ravel() == y[task], rng=np.random.default_rng(1), **em)
    assert shared.rho.tolist() == [0.5, 0.5] and symmetric.rho.tolist() == [0.0, 0.0]
    np.testing.assert_allclose(shared.trust, symmetric.trust, rtol=0, atol=1e-10)
    np.testing.assert_allclose(shared.class_weights, symmetric.class_weights, rtol=0, atol=1e-10)
    assert shared.n_iter == symmetric.n_iter and shared.converged and symmetric.converged


def test_belief_on_held_out_tasks_is_the_realised_accuracy_and_the_symmetric_belief_is_not():
    """20 seeds: fit on 4,000 gold tasks, decide 2,000 held-out tasks by each model's most probable label.

    EM stops at tol = 1e-4 (the mean beliefs agree with tol = 1e-5 to 1e-4). The distractor belief (mean posterior
    of its decision) is within 3 standard errors of the realised accuracy;
    the symmetric latent-class belief (latent_class_em + latent_class_posterior on the same gold) is too
    optimistic by more than 10 standard errors: it reads agreeing wrong votes as independent evidence.
    """
    gaps, symmetric_gaps = [], []
    for stream in np.random.SeedSequence(11).spawn(20):
        rng = np.random.default_rng(stream)
        y, v = simulate(4000, rng)
        y_new, v_new = simulate(2000, rng)
        t, rho, pi, _ = fit(y, v, rng, 1e-4)
        q = distractor_posterior(vote_table(v_new, N_LABELS), t, rho, pi, N_LABELS)
        gaps.append(q.max(axis=1).mean() - (q.argmax(axis=1) == y_new).mean())
        n, m = v.shape
        task = np.repeat(np.arange(n), m)
        sym = latent_class_em(task, np.tile(np.arange(m), n), v.ravel() == y[task], n_workers=m, n_classes=2,
                              n_labels=N_LABELS, beta_prior=(1, 1), max_iter=2000, tol=1e-4, rng=rng)
        q_sym = latent_class_posterior(vote_table(v_new, N_LABELS), sym.trust, sym.class_weights, N_LABELS)
        symmetric_gaps.append(q_sym.max(axis=1).mean() - (q_sym.argmax(axis=1) == y_new).mean())
    gaps, symmetric_gaps = np.array(gaps), np.array(symmetric_gaps)
    assert abs(gaps.mean()) < 3 * gaps.std(ddof=1) / np.sqrt(gaps.size)
    assert symmetric_gaps.mean() > 10 * symmetric_gaps.std(ddof=1) / np.sqrt(symmetric_gaps.size)


# ---------------------------------------------------------------- between the two ends: equal weights (Proposition G)


@settings(max_examples=25)
@given(distractor_models(labels=(3, 4)), st.data())
def test_with_equal_weights_the_accuracy_falls_as_the_pull_grows(model, data):
    """(f), Proposition G: plurality with equal weights and fair ties, rho <= rho' in every class:

    sum_d pi_d A(p_d, w) = Acc(rho = 1) <= Acc(rho') <= Acc(rho) <= Acc(0), and Acc(0) is the symmetric-noise
    accuracy of the model of (a). Exact, by enumeration of (d, y, c, v).
    """
    pi, p, rho, n_labels = model
    m, k = len(p), len(pi)
    w = [1] * m
    more = [r + (1 - r) * data.draw(st.fractions(0, 1, max_denominator=4)) for r in rho]  # rho' >= rho

    def acc(pull):
        return accuracy(joint(pi, p, pull, n_labels), lambda v: rule_coin(v, w, n_labels))

    bound = sum((pi[d] * binary_accuracy([p[i][d] for i in range(m)], w) for d in range(k)), Fraction(0))
    symmetric = accuracy(symmetric_joint(pi, p, n_labels), lambda v: rule_coin(v, w, n_labels))
    assert acc([Fraction(0)] * k) == symmetric
    assert acc([ONE] * k) == bound
    assert bound <= acc(more) <= acc(rho) <= symmetric


@settings(max_examples=25)
@given(distractor_models(labels=(3, 4)), st.data())
def test_with_equal_weights_identically_distributed_wrong_votes_do_no_better_than_symmetric_noise(model, data):
    """(f), Lemma G and the remark after Proposition G: given (Y, D = d) and the pattern of right votes, the wrong
    votes i.i.d. with any law a_d on the wrong labels (a vote y + s, s = 1..L-1, with probability a_d[s]): with
    equal weights the accuracy is at most the symmetric-noise accuracy (a_d uniform) and at least the bound of (e).
    """
    pi, p, _, n_labels = model
    m, k = len(p), len(pi)
    w = [1] * m
    laws = []
    for _ in range(k):
        masses = data.draw(st.lists(st.integers(0, 5), min_size=n_labels - 1, max_size=n_labels - 1).filter(any))
        laws.append([Fraction(x, sum(masses)) for x in masses])
    table = {v: [sum(pi[d] * math.prod((p[i][d] if v[i] == y else (1 - p[i][d]) * laws[d][(v[i] - y) % n_labels - 1]
                                        for i in range(m)), start=ONE) for d in range(k)) / n_labels
                 for y in range(n_labels)]
             for v in profiles(m, n_labels)}
    rule = lambda v: rule_coin(v, w, n_labels)  # noqa: E731
    bound = sum((pi[d] * binary_accuracy([p[i][d] for i in range(m)], w) for d in range(k)), Fraction(0))
    assert bound <= accuracy(table, rule) <= accuracy(symmetric_joint(pi, p, n_labels), rule)


def test_with_unequal_weights_a_pull_can_raise_the_accuracy():
    """(f), the counterexample after Proposition G: the symmetric end is not an upper bound for unequal weights.

    L = 3, K = 1, weights (6, 6, 3, 1, 1, 1), p = (1, 0, 0, 0, 0, 0): the truth scores 6 and wins only in a three-way
    tie at 6, when the wrong member of weight 6 is alone on one wrong label and the other four (3 + 1 + 1 + 1) are
    on the other; the pull makes those four agree more often. Acc(rho) = (1 - rho^2)(1 + 3 rho^2)/48, above
    Acc(0) = 1/48 for 0 < rho^2 < 2/3 (Acc(1/2) = 7/256). With p = (99/100, 1/100, ..., 1/100) still
    Acc(1/2) > Acc(0): trustworthiness strictly inside (0, 1) does not restore the bound.
    """
    w, n_labels = [6, 6, 3, 1, 1, 1], 3

    def acc(p, rho):
        return accuracy(joint([ONE], [[x] for x in p], [rho], n_labels), lambda v: rule_coin(v, w, n_labels))

    corner = [ONE] + [Fraction(0)] * 5
    for rho in (Fraction(0), Fraction(1, 4), Fraction(1, 2), Fraction(4, 5), ONE):
        assert acc(corner, rho) == (1 - rho**2) * (1 + 3 * rho**2) / 48
    assert (acc(corner, Fraction(0)), acc(corner, Fraction(1, 2)), acc(corner, ONE)) == \
        (Fraction(1, 48), Fraction(7, 256), Fraction(0))
    assert binary_accuracy(corner, w) == 0  # the errors-agreeing end of (e), still a lower bound

    inside = [Fraction(99, 100)] + [Fraction(1, 100)] * 5
    low, pulled = acc(inside, Fraction(0)), acc(inside, Fraction(1, 2))
    assert binary_accuracy(inside, w) <= low < pulled
    assert (round(float(low), 6), round(float(pulled), 6)) == (0.046002, 0.049384)
