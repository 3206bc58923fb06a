"""Theorem 1' needs the P_i independent *given* the information (proofs/soc_necessary_conditions.md, (c)).

P_1, P_2, P_3 i.i.d. uniform on {1/2, 1}; the decision maker learns whether all three are equal. Every expected
value is computed here by enumerating the eight points of the support in Fractions; the library is used only
to check its exact accuracy at the trust against the enumeration.
"""

import itertools
import math
from fractions import Fraction

import pytest

import wmvtrust as wt

HALF, ONE = Fraction(1, 2), Fraction(1)
SUPPORT = list(itertools.product((HALF, ONE), repeat=3))  # each point has probability 1/8


def majority_accuracy(q):
    """A(q, w) for three equal positive weights and prior 1/2: P(at least two of three right), never tied."""
    return sum((math.prod((qi if ci else 1 - qi for qi, ci in zip(q, c)), start=ONE)
                for c in itertools.product((0, 1), repeat=3) if sum(c) >= 2), Fraction(0))


def conditional(points):
    """The law of P given that it lies in ``points`` (uniform on them, as every point has probability 1/8)."""
    return [(Fraction(1, len(points)), q) for q in points]


def test_theorem1_needs_independence_given_the_information():
    """E[P_i | info] = 3/4 = t_i on both events, the P_i are independent, but not given the information.

    The trust rule w(3/4) = (ln 3, ln 3, ln 3) is majority voting, believed accuracy A(t, w(t)) = 27/32. Given that
    all three are equal the expected accuracy is 3/4; given that they are not, 7/8. Averaged over the information
    (probabilities 1/4 and 3/4) it is 27/32 again, as Theorem 1 (unconditional independence) says it must be.
    """
    equal = [q for q in SUPPORT if len(set(q)) == 1]
    unequal = [q for q in SUPPORT if len(set(q)) > 1]
    assert (len(equal), len(unequal)) == (2, 6)

    # unconditionally the P_i are independent: the joint law is the product of its marginals
    for q in SUPPORT:
        assert Fraction(1, 8) == math.prod(Fraction(sum(p[i] == q[i] for p in SUPPORT), 8) for i in range(3))

    t = [Fraction(3, 4)] * 3
    believed = majority_accuracy(t)
    assert believed == Fraction(27, 32)
    for event in (equal, unequal):
        law = conditional(event)
        for i in range(3):  # unbiased given the information, source by source
            assert sum((m * q[i] for m, q in law), Fraction(0)) == Fraction(3, 4)
    # ... but not independent given it: given "not all equal", P_1 = P_2 = 1 has probability 1/6, not 1/2 * 1/2
    law = conditional(unequal)
    assert sum((m for m, q in law if q[0] == q[1] == ONE), Fraction(0)) == Fraction(1, 6)

    given_equal = sum((m * majority_accuracy(q) for m, q in conditional(equal)), Fraction(0))
    given_unequal = sum((m * majority_accuracy(q) for m, q in conditional(unequal)), Fraction(0))
    assert (given_equal, given_unequal) == (Fraction(3, 4), Fraction(7, 8))  # neither is 27/32
    assert Fraction(1, 4) * given_equal + Fraction(3, 4) * given_unequal == believed  # Theorem 1, unconditionally

    weights = wt.log_odds_weights([0.75] * 3)
    assert wt.accuracy([0.75] * 3, weights).value == pytest.approx(float(believed), abs=1e-12)  # the library
