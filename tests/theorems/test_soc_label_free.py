"""The label-free belief (proofs/soc_label_free.md): exact checks in Fractions on small models.

The joint law of (truth, votes) under the hard-class model is built here by enumeration, with
its own arithmetic; the library's posterior is compared with it, and the proof's identities
(belief = accuracy for any rule, plug-in exact for independent blocks, the misleading-task
counterexample) are checked without tolerance.
"""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from latent_enumeration import ONE, accuracy, bayes_posterior, belief, profiles, rule_coin, rule_lowest, vote_table
from wmvtrust._labels.latent import hard_class_posterior


def joint(rho, share, confusion, rates):
    """{v: [P(Y = y, V = v)]} with every member voting: rho_y ((1 - s) prod Pi_i[y, v_i] + s prod mu_i[v_i])."""
    n_labels = len(rho)
    table = {}
    for v in profiles(len(confusion), n_labels):
        hard = math.prod((mu[vi] for mu, vi in zip(rates, v)), start=ONE)
        table[v] = [rho[y] * ((1 - share) * math.prod((pi[y][vi] for pi, vi in zip(confusion, v)), start=ONE)
                              + share * hard) for y in range(n_labels)]
    return table


def hard_given_votes(rho, share, confusion, rates):
    """{v: P(D = hard | V = v)}, exactly."""
    out = {}
    for v in profiles(len(confusion), len(rho)):
        hard = share * math.prod((mu[vi] for mu, vi in zip(rates, v)), start=ONE)
        easy = (1 - share) * sum(rho[y] * math.prod((pi[y][vi] for pi, vi in zip(confusion, v)), start=ONE)
                                 for y in range(len(rho)))
        out[v] = hard / (hard + easy)
    return out


@st.composite
def distributions(draw, size):
    """A probability vector of ``size`` positive fractions (denominators up to 12)."""
    masses = draw(st.lists(st.integers(1, 12), min_size=size, max_size=size))
    return [Fraction(m, sum(masses)) for m in masses]


@st.composite
def models(draw):
    n_labels, n_members = draw(st.integers(2, 3)), draw(st.integers(1, 3))
    rho = draw(distributions(n_labels))
    share = Fraction(draw(st.integers(0, 8)), 8)
    confusion = [[draw(distributions(n_labels)) for _ in range(n_labels)] for _ in range(n_members)]
    rates = [draw(distributions(n_labels)) for _ in range(n_members)]
    return rho, share, confusion, rates


def as_float(x):
    return np.array(x, dtype=float)


@settings(max_examples=60)
@given(models())
def test_hard_class_posterior_is_the_bayes_posterior(model):
    """(b): the library's P(truth | votes) and P(hard | votes) on every profile, against the exact ones."""
    rho, share, confusion, rates = model
    n_labels, n_members = len(rho), len(confusion)
    exact, hard = bayes_posterior(joint(*model)), hard_given_votes(*model)
    v = np.array(profiles(n_members, n_labels))
    got, _ = hard_class_posterior(vote_table(v, n_labels), as_float(confusion), as_float(rates), float(share),
                                  as_float(rho))
    for row, votes in enumerate(map(tuple, v)):
        np.testing.assert_allclose(got[row].sum(axis=0), [float(x) for x in exact[votes]], rtol=1e-12, atol=1e-15)
        assert got[row, 1].sum() == pytest.approx(float(hard[votes]), rel=1e-12, abs=1e-15)


@settings(max_examples=40)
@given(models(), st.lists(st.integers(-3, 3), min_size=3, max_size=3))
def test_the_belief_is_the_accuracy_for_any_rule(model, weights):
    """(c): E[sum_y q(V)_y delta(y | V)] = P(delta right), exactly, for weighted plurality rules that ignore the model."""
    rho, share, confusion, rates = model
    table = joint(*model)
    q = bayes_posterior(table)
    w = [Fraction(x) for x in weights[:len(confusion)]]
    for rule in (rule_lowest, rule_coin):
        decide = lambda v, rule=rule: rule(v, w, len(rho))  # noqa: E731
        assert belief(table, q, decide) == accuracy(table, decide)


def test_plug_in_is_exact_for_independent_blocks_and_not_for_dependent_workers():
    """(d): each worker's (Pi_i, mu_i) and the share drawn from two-point laws, independent across blocks: the
    expected accuracy of a rule that ignores them is its accuracy at the means. One worker's Pi and mu may be
    dependent. Two workers drawn together break it."""
    half = Fraction(1, 2)
    rho = [Fraction(2, 5), Fraction(3, 5)]
    rule = lambda v: rule_lowest(v, [ONE, ONE, ONE], 2)  # noqa: E731  plain majority, ties to label 0
    # worker options: (Pi, mu) pairs, drawn together (dependent within the worker)
    options = [
        [([[Fraction(9, 10), Fraction(1, 10)], [Fraction(3, 10), Fraction(7, 10)]], [Fraction(4, 5), Fraction(1, 5)]),
         ([[Fraction(3, 5), Fraction(2, 5)], [Fraction(1, 5), Fraction(4, 5)]], [Fraction(1, 4), Fraction(3, 4)])],
        [([[Fraction(7, 10), Fraction(3, 10)], [Fraction(1, 10), Fraction(9, 10)]], [half, half]),
         ([[Fraction(1, 2), Fraction(1, 2)], [Fraction(2, 5), Fraction(3, 5)]], [Fraction(9, 10), Fraction(1, 10)])],
        [([[Fraction(4, 5), Fraction(1, 5)], [Fraction(1, 5), Fraction(4, 5)]], [Fraction(3, 5), Fraction(2, 5)]),
         ([[Fraction(2, 3), Fraction(1, 3)], [Fraction(1, 3), Fraction(2, 3)]], [Fraction(1, 3), Fraction(2, 3)])],
    ]
    shares = [Fraction(1, 10), Fraction(2, 5)]

    def mean(pairs):
        return ([[(a + b) / 2 for a, b in zip(ra, rb)] for ra, rb in zip(pairs[0][0], pairs[1][0])],
                [(a + b) / 2 for a, b in zip(pairs[0][1], pairs[1][1])])

    def acc(share, chosen):
        return accuracy(joint(rho, share, [c[0] for c in chosen], [c[1] for c in chosen]), rule)

    expected = sum(acc(s, [options[i][c] for i, c in enumerate(choice)])
                   for s in shares for choice in itertools.product(range(2), repeat=3)) / (2 * 8)
    means = [mean(o) for o in options]
    assert expected == acc(sum(shares) / 2, means)  # exact
    together = sum(acc(s, [options[i][c] for i in range(3)]) for s in shares for c in range(2)) / 4
    assert together != acc(sum(shares) / 2, means)


@pytest.mark.parametrize(("n", "t", "s"), [(3, Fraction(3, 4), Fraction(1, 5)), (5, Fraction(2, 3), Fraction(1, 10))])
def test_misleading_tasks_leave_the_vote_law_unchanged_and_move_the_accuracy(n, t, s):
    """(e): a share s of tasks on which every worker is right with 1 - t: same law of votes, majority accuracy
    (1 - s) alpha + s (1 - alpha) instead of alpha. No function of the votes tells the two apart."""
    ordinary = [[t, 1 - t], [1 - t, t]]
    flipped = [[1 - t, t], [t, 1 - t]]
    half = [Fraction(1, 2)] * 2
    law_a = {v: sum(row) for v, row in joint(half, Fraction(0), [ordinary] * n, [half] * n).items()}
    table_b = {v: [(1 - s) * a + s * b for a, b in zip(row_o, row_f)]
               for (v, row_o), row_f in zip(joint(half, Fraction(0), [ordinary] * n, [half] * n).items(),
                                           joint(half, Fraction(0), [flipped] * n, [half] * n).values())}
    assert {v: sum(row) for v, row in table_b.items()} == law_a
    majority = lambda v: rule_lowest(v, [ONE] * n, 2)  # noqa: E731  odd n: never tied
    alpha = accuracy(joint(half, Fraction(0), [ordinary] * n, [half] * n), majority)
    assert accuracy(table_b, majority) == (1 - s) * alpha + s * (1 - alpha)
    assert alpha - accuracy(table_b, majority) == s * (2 * alpha - 1) > 0
