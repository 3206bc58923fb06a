"""Theorems 2 and 3 with the tie tolerance (proofs/theorem2_soo_nonnegative.md, "The tie tolerance").

The library counts a finite weighted sum s with |s| <= tau = TIE_RTOL * (sum_i |w_i| + |b|) as a tie. For the
oracle's weights w(q) this loses eps(q) = A*(q) - A_tau(q, w(q)) = 1/2 sum over the near ties 0 < |s(x)| <= tau of
|a_+(x) - a_-(x)|, at most (tau / 4) P_q(near tie); and, under the standing assumptions of Theorem 3,
D_O^tau = D_O - E[eps(P)] + eps(t) exactly. Every quantity is computed here in Fractions from the definitions: the
exact rule compares products of rational odds with 1, the tolerance rule decides in floats (the instances keep every
|s| far from the edge of the tolerance), and credits and probabilities stay rational.
"""

import itertools
import math
from fractions import Fraction

import pytest

import wmvtrust as wt

HALF, ONE = Fraction(1, 2), Fraction(1)
TIE_RTOL = 1e-12  # docs/design.md, section 2, voting.TIE_RTOL
ETA = Fraction(1, 10**13)


def joint_probabilities(q, x):
    """(a_+(x), a_-(x)) = (P(y = +1, votes x), P(y = -1, votes x)) under trustworthiness q, prior 1/2."""
    up = math.prod((qi if xi > 0 else 1 - qi for qi, xi in zip(q, x)), start=ONE)
    down = math.prod((qi if xi < 0 else 1 - qi for qi, xi in zip(q, x)), start=ONE)
    return HALF * up, HALF * down


def profiles(n):
    return list(itertools.product((1, -1), repeat=n))


def exact_rule(u):
    """WMV with weights ln(u_i / (1 - u_i)), exact: the sign of the sum is the side of 1 of prod_i odds_i^x_i."""
    def rule(x):
        ratio = math.prod(((ui / (1 - ui)) ** xi for ui, xi in zip(u, x)), start=ONE)
        return ONE if ratio > 1 else HALF if ratio == 1 else Fraction(0)
    return rule


def near_tie(u, x):
    """0 < |s| <= tau for WMV with weights w(u) on votes x, s and tau in floats (bias 0)."""
    w = [math.log(ui / (1 - ui)) for ui in u]
    s, tau = math.fsum(wi * xi for wi, xi in zip(w, x)), TIE_RTOL * math.fsum(abs(wi) for wi in w)
    assert not tau / 2 < abs(s) < 2 * tau  # far from the edge: float rounding cannot move x across it
    return 0 < abs(s) <= tau and exact_rule(u)(x) != HALF


def tolerance_rule(u):
    """WMV with weights w(u) and the library's tie rule: the exact decision, except 1/2 on a near tie."""
    exact = exact_rule(u)
    return lambda x: HALF if near_tie(u, x) else exact(x)


def accuracy(q, rule):
    """A(q, delta) = sum_x delta(x) a_+(x) + (1 - delta(x)) a_-(x)."""
    return sum((rule(x) * a + (1 - rule(x)) * b for x in profiles(len(q)) for a, b in [joint_probabilities(q, x)]),
               Fraction(0))


def oracle(q):
    """A*(q) = sum_x max(a_+(x), a_-(x)) (Lemma 1 of theorem2_soo_nonnegative.md)."""
    return sum((max(joint_probabilities(q, x)) for x in profiles(len(q))), Fraction(0))


def loss(q):
    """eps(q) = A*(q) - A_tau(q, w(q)), checked against its formula and its bound (tau / 4) P_q(near tie)."""
    eps = oracle(q) - accuracy(q, tolerance_rule(q))
    ties = [x for x in profiles(len(q)) if near_tie(q, x)]
    assert eps == HALF * sum((abs(a - b) for x in ties for a, b in [joint_probabilities(q, x)]), Fraction(0))
    tau = Fraction(TIE_RTOL * math.fsum(abs(math.log(qi / (1 - qi))) for qi in q))
    assert eps <= tau / 4 * sum((sum(joint_probabilities(q, x)) for x in ties), Fraction(0))
    return eps


def gaps(model):
    """(D_O, D_O^tau, E eps(P), eps(t)) for independent sources, model = [[(probability, value), ...] per source]."""
    t = [sum((m * v for m, v in source), Fraction(0)) for source in model]
    draws = [(math.prod((m for m, _ in combo), start=ONE), [v for _, v in combo])
             for combo in itertools.product(*model)]
    exact = sum((m * (oracle(q) - accuracy(q, exact_rule(t))) for m, q in draws), Fraction(0))
    tolerant = sum((m * (accuracy(q, tolerance_rule(q)) - accuracy(q, tolerance_rule(t))) for m, q in draws),
                   Fraction(0))
    return exact, tolerant, sum((m * loss(q) for m, q in draws), Fraction(0)), loss(t)


def sign_aware_bound(model):
    """sum_i E[h_i(P_i)], h_i(u) = (u - t_i)^+ 1{u >= 1/2} + (t_i - u)^+ 1{u < 1/2} (Theorem 3')."""
    total = Fraction(0)
    for source in model:
        t = sum((m * v for m, v in source), Fraction(0))
        total += sum((m * (max(v - t, 0) if v >= HALF else max(t - v, 0)) for m, v in source), Fraction(0))
    return total


def test_tolerance_changes_the_soo_gap_by_the_near_tie_losses():
    """D_O^tau = D_O - E[eps(P)] + eps(t) exactly; eps at most tau / 4 times the mass of the near ties.

    (1) P = (3/4, 3/4 + eta or 17/20 - eta), t = (3/4, 4/5): w(t) follows source 2 when the two disagree, which is
    optimal for both draws (D_O = 0); at the first draw the oracle's weights are within the tolerance of a tie and
    it tosses a coin, losing eta/2: D_O^tau = -eta/4 < 0. The library's exact soo_gap reports the same value.
    (2) P = (3/4, 5/8 + eta or 7/8 + eta), t = (3/4, 3/4 + eta): now w(t) is the near tie, D_O^tau = D_O + eta/2.
    (3) P = (3/4, 3/4 + eta or 3/4 - eta), t = (3/4, 3/4): D_O = eta/2 > 0 but D_O^tau = 0, so with the tolerance
    a zero gap no longer means that w(t) is optimal for almost every P (Theorem 2, part 2, is about exact ties).
    """
    trust_rule_optimal = [[(ONE, Fraction(3, 4))], [(HALF, Fraction(3, 4) + ETA), (HALF, Fraction(17, 20) - ETA)]]
    exact, tolerant, mean_loss, loss_at_t = gaps(trust_rule_optimal)
    assert (exact, mean_loss, loss_at_t) == (0, ETA / 4, 0)
    assert tolerant == exact - mean_loss + loss_at_t == -ETA / 4  # below Theorem 2's 0, by eta/4 = 2.5e-14
    model = wt.DiscreteTrust([[Fraction(3, 4)], [Fraction(3, 4) + ETA, Fraction(17, 20) - ETA]],
                             [[ONE], [HALF, HALF]])
    assert wt.soo_gap(model, method="exact").value == pytest.approx(float(tolerant), abs=1e-16)  # the library

    trust_near_tie = [[(ONE, Fraction(3, 4))], [(HALF, Fraction(5, 8) + ETA), (HALF, Fraction(7, 8) + ETA)]]
    exact, tolerant, mean_loss, loss_at_t = gaps(trust_near_tie)
    assert (mean_loss, loss_at_t) == (0, ETA / 2)
    assert exact > 0 and tolerant == exact - mean_loss + loss_at_t == exact + ETA / 2
    assert exact <= sign_aware_bound(trust_near_tie)  # Theorem 3'
    assert tolerant <= sign_aware_bound(trust_near_tie) + loss_at_t  # Theorem 3' with the tolerance

    hidden = [[(ONE, Fraction(3, 4))], [(HALF, Fraction(3, 4) + ETA), (HALF, Fraction(3, 4) - ETA)]]
    exact, tolerant, mean_loss, loss_at_t = gaps(hidden)
    assert (exact, tolerant, mean_loss, loss_at_t) == (ETA / 2, 0, ETA / 2, 0)
