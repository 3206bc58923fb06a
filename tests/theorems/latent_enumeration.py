"""Exact enumeration shared by the latent-class theorem tests: vote profiles, weighted plurality, accuracy, belief.

Everything is in fractions.Fraction; nothing comes from the library except the ``Codes`` container
that carries every profile to it.
"""

import itertools
import math
from fractions import Fraction

import numpy as np

from wmvtrust.crowd import Codes

ONE = Fraction(1)


def profiles(n_members, n_labels):
    return list(itertools.product(range(n_labels), repeat=n_members))


def bayes_posterior(table):
    """{v: [P(Y = y | V = v)]} by the definition P(y, v) / P(v), on the profiles of positive probability."""
    return {v: [x / sum(row) for x in row] for v, row in table.items() if sum(row) > 0}


def plurality(v, w, n_labels):
    """Labels tied for the highest weighted score sum_{i: v_i = k} w_i (exact: rational weights)."""
    score = [sum((wi for vi, wi in zip(v, w) if vi == k), Fraction(0)) for k in range(n_labels)]
    return [k for k in range(n_labels) if score[k] == max(score)]


def rule_lowest(v, w, n_labels):
    """Deterministic weighted plurality: the smallest of the tied labels. {label: probability}."""
    return {plurality(v, w, n_labels)[0]: ONE}


def rule_coin(v, w, n_labels):
    """Randomised weighted plurality: a fair choice among the tied labels."""
    tied = plurality(v, w, n_labels)
    return {k: Fraction(1, len(tied)) for k in tied}


def accuracy(table, rule):
    """P(delta(V) = Y) = sum over (y, v) of P(y, v) delta(y | v)."""
    return sum((row[y] * prob for v, row in table.items() for y, prob in rule(v).items()), Fraction(0))


def belief(table, q, rule):
    """E_V[sum_y q(V)_y delta(y | V)]: the mean posterior probability of the decision, V from the model."""
    return sum((sum(row) * q[v][y] * prob for v, row in table.items() if sum(row) > 0
                for y, prob in rule(v).items()), Fraction(0))


def binary_accuracy(p, w):
    """A(p, w) = P(sum_i w_i (2 C_i - 1) > 0) + P(= 0) / 2, C_i ~ Bernoulli(p_i) independent: correctness patterns."""
    total = Fraction(0)
    for c in itertools.product((0, 1), repeat=len(p)):
        prob = math.prod((pi if ci else 1 - pi for pi, ci in zip(p, c)), start=ONE)
        s = sum((wi if ci else -wi for wi, ci in zip(w, c)), Fraction(0))
        total += prob * (1 if s > 0 else Fraction(1, 2) if s == 0 else 0)
    return total


def all_profiles(n_members, n_labels):
    """Codes with one task per vote profile, workers = members, labels = range(L)."""
    v = np.array(profiles(n_members, n_labels)).reshape(-1, n_members)
    return vote_table(v, n_labels)


def vote_table(v, n_labels):
    """Codes of an (n_tasks, n_members) matrix of label codes: every member votes on every task."""
    return Codes.dense(v, n_labels)
