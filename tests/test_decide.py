"""decide: the weighted majority rule, its ties and infinite weights, and agreement with accuracy."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import wmvtrust as wt


def profiles(n):
    return np.array(list(itertools.product([1, -1], repeat=n)))


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=8), st.floats(0.05, 0.95), st.booleans())
def test_accuracy_is_the_probability_that_decide_is_right(trust, prior, integer_weights):
    """A(q, w) = sum over truths and vote profiles of P(y) P(x | y) credit(decide(x) == y), ties 1/2."""
    q = np.asarray(trust)
    w = np.round(4 * q) - 2 if integer_weights else wt.log_odds_weights(q)  # integer weights: many ties
    x = profiles(q.size)
    decisions = wt.decide(x, w, prior, ties="report")
    expected = 0.0
    for y, p_y in ((1, prior), (-1, 1 - prior)):
        p_x = np.prod(np.where(x == y, q, 1 - q), axis=1)
        expected += p_y * (p_x @ np.where(decisions == 0, 0.5, decisions == y))
    assert wt.accuracy(q, w, prior).value == pytest.approx(expected, abs=1e-12)


def test_sign_of_weighted_sum_and_reported_ties():
    w = [2.0, 1.0, 1.0]
    votes = [[1, -1, -1], [-1, 1, 1], [1, -1, 1], [-1, -1, 1]]  # sums 0, 0, 2, -2
    assert wt.decide(votes, w, ties="report").tolist() == [0, 0, 1, -1]


def test_ties_from_rounding_are_ties():
    """Trust t and 1 - t give weights that cancel only up to rounding; still a tie."""
    w = wt.log_odds_weights([0.61, 1 - 0.61])
    assert w[0] + w[1] != 0.0  # rounding leaves about 5.6e-17
    assert wt.decide([1, 1], w, ties="report").item() == 0
    assert wt.accuracy([0.8, 0.8], w).value == pytest.approx(0.5, abs=1e-15)  # ties earn 1/2: 0.5 (0.64 + 0.04) + 0.16


def test_prior_breaks_ties_and_shifts_decisions():
    w = [1.0, 1.0]
    assert wt.decide([[1, -1]], w, prior=0.6).tolist() == [1]
    assert wt.decide([[1, -1]], w, prior=0.4).tolist() == [-1]
    b = math.log(0.9 / 0.1)  # a strong prior outvotes one weak source
    assert wt.decide([[-1]], [b - 0.1], prior=0.9).tolist() == [1]
    assert wt.decide([[-1]], [b + 0.1], prior=0.9).tolist() == [-1]


def test_infinite_weights_decide_first():
    w = [np.inf, -np.inf, np.inf, 5.0]
    # the signed count sums sign(w_i) x_i over the infinite weights
    votes = [[1, 1, 1, -1],    # count 1 - 1 + 1 = 1 -> +1 despite the finite -5
             [-1, 1, 1, 1],    # count -1 - 1 + 1 = -1 -> -1 despite the finite +5
             [1, 1, -1, -1]]   # count 1 - 1 - 1 = -1 -> -1
    assert wt.decide(votes, w).tolist() == [1, -1, -1]
    assert wt.decide([[1, -1, 1]], [np.inf, np.inf, 0.5]).tolist() == [1]  # infinite votes cancel: finite decides
    assert wt.decide([[1, -1]], [np.inf, np.inf], ties="report").tolist() == [0]


def test_coin_is_seeded_and_fair():
    votes = np.tile([1, -1], (20_000, 1))  # every row a tie
    a = wt.decide(votes, [1.0, 1.0], seed=5)
    assert np.array_equal(a, wt.decide(votes, [1.0, 1.0], seed=5))
    assert np.array_equal(a, wt.decide(votes, [1.0, 1.0], seed=np.random.default_rng(5)))
    assert set(np.unique(a)) == {-1, 1}
    assert abs((a == 1).sum() - 10_000) < 4 * math.sqrt(20_000 * 0.25)  # within 4 standard deviations
    assert not np.array_equal(a, wt.decide(votes, [1.0, 1.0], seed=6))


def test_one_profile_gives_a_scalar_decision():
    d = wt.decide([1, -1, 1], [1.0, 1.0, 1.0])
    assert d.shape == () and int(d) == 1
