"""Stability of correctness for L classes under symmetric noise (docs/design.md, section 5, proofs/soc_multiclass.md).

Source i reports the truth with probability p_i and each of the other L - 1 classes with probability
(1 - p_i) / (L - 1). The rule is plurality weighted voting: class k scores the sum of the weights of the
sources that report k; the highest score wins, ties split uniformly (credit 1/k to each of k tied
classes). The probability of a report vector is prod_i f_i with f_i = p_i or (1 - p_i) / (L - 1), affine
in p_i, so the accuracy is multi-affine and E[A(P, w)] = A(t, w) for independent P_i with E[P_i] = t_i.
The library has no multi-class accuracy yet: the theorem is checked here, and the library's decision rule
(``WeightedMajorityVote`` with given trust) against the rule of the theorem on every report vector.
"""

import itertools
import math
from fractions import Fraction

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import wmvtrust as wt
from brute import accuracy_exact

TIE_RTOL = 1e-12


def winners(reports, w, n_classes):
    """The classes tied for the highest score.

    Infinite weights decide first (the signed count of infinite-weight votes per class, compared before
    the finite scores, as in the binary rule); finite scores within 1e-12 * sum |finite w| of the best tie.
    """
    infinite = [0] * n_classes
    finite = [[] for _ in range(n_classes)]
    for k, wi in zip(reports, w):
        if math.isinf(wi):
            infinite[k] += 1 if wi > 0 else -1
        else:
            finite[k].append(wi)
    top = max(infinite)
    candidates = [k for k in range(n_classes) if infinite[k] == top]
    score = {k: math.fsum(finite[k]) for k in candidates}
    best = max(score.values())
    tol = TIE_RTOL * math.fsum(abs(x) for x in w if math.isfinite(x))
    return [k for k in candidates if score[k] >= best - tol]


def report_credits(w, n_classes):
    """(truth, reports, credit) for every truth and every one of the L^n report vectors."""
    for truth in range(n_classes):
        for reports in itertools.product(range(n_classes), repeat=len(w)):
            tied = winners(reports, w, n_classes)
            yield truth, reports, Fraction(1, len(tied)) if truth in tied else Fraction(0)


def accuracy_direct(q, w, n_classes):
    """A(q, w): sum over the truth (prior 1/L) and all L^n report vectors of P(reports | truth) * credit."""
    total = Fraction(0)
    for truth, reports, credit in report_credits(w, n_classes):
        if credit:
            total += credit * math.prod(qi if k == truth else (1 - qi) / (n_classes - 1)
                                        for qi, k in zip(q, reports))
    return total / n_classes


def credit_by_pattern(w, n_classes):
    """The same sum grouped by correctness pattern c (c_i = 1: source i reports the truth).

    P(reports | truth) = prod_i q_i^c_i (1 - q_i)^(1 - c_i) / (L - 1)^(number wrong), so
    A(q, w) = sum_c prod_i q_i^c_i (1 - q_i)^(1 - c_i) K(c) with K(c) collected here from all report vectors.
    """
    table = {c: Fraction(0) for c in itertools.product((0, 1), repeat=len(w))}
    for truth, reports, credit in report_credits(w, n_classes):
        c = tuple(int(k == truth) for k in reports)
        table[c] += credit / (n_classes - 1) ** (len(w) - sum(c)) / n_classes
    return table


def accuracy_by_pattern(q, table):
    return sum((math.prod(qi if ci else 1 - qi for qi, ci in zip(q, c)) * credit
                for c, credit in table.items() if credit), Fraction(0))


def joint(sources):
    for combo in itertools.product(*(list(zip(probs, support)) for support, probs in sources)):
        yield math.prod(p for p, _ in combo), tuple(x for _, x in combo)


@st.composite
def discrete_sources(draw):
    """1..4 independent sources, each with 1-3 rational support points and rational probabilities."""
    sources = []
    for _ in range(draw(st.integers(1, 4))):
        k = draw(st.integers(1, 3))
        support = draw(st.lists(st.fractions(0, 1, max_denominator=8), min_size=k, max_size=k, unique=True))
        masses = draw(st.lists(st.integers(1, 8), min_size=k, max_size=k))
        sources.append((support, [Fraction(m, sum(masses)) for m in masses]))
    return sources


def plurality_log_odds(t, n_classes):
    """ln((L - 1) t / (1 - t)): +inf at t = 1, -inf at t = 0."""
    return math.inf if t == 1 else -math.inf if t == 0 else math.log((n_classes - 1) * t / (1 - t))


@settings(max_examples=100)
@given(st.sampled_from([3, 4]), discrete_sources(), st.booleans(), st.data())
def test_soc_multiclass_symmetric_noise(n_classes, sources, integer, data):
    """Theorem 1 for L = 3, 4 classes under symmetric noise (proofs/soc_multiclass.md): E[A(P, w)] = A(t, w).

    Weights: small integers (many ties) or the plurality log-odds ln((L - 1) t_i / (1 - t_i)) of the trust.
    Exact in Fractions; the grouped sum is checked against the direct sum over all report vectors at t,
    and for L = 2 the same code must reproduce tests/brute.py's binary accuracy.
    """
    t = [sum((p * x for x, p in zip(*s)), Fraction(0)) for s in sources]
    if integer:
        w = data.draw(st.lists(st.integers(-2, 3), min_size=len(t), max_size=len(t)))
    else:
        w = [plurality_log_odds(x, n_classes) for x in t]
    table = credit_by_pattern(w, n_classes)
    believed = accuracy_by_pattern(t, table)
    assert believed == accuracy_direct(t, w, n_classes)
    expected = sum((prob * accuracy_by_pattern(point, table) for prob, point in joint(sources)), Fraction(0))
    assert expected == believed  # Theorem 1, no tolerance

    if integer:  # the oracle's L = 2 case is binary weighted majority voting
        assert accuracy_by_pattern(t, credit_by_pattern(w, 2)) == accuracy_exact(t, w)


@settings(max_examples=30)
@given(st.sampled_from([3, 4]), st.lists(st.sampled_from([0.4, 0.6, 0.75, 0.9]), min_size=1, max_size=4))
def test_the_library_decides_by_the_rule_of_the_theorem(n_classes, trust):
    """On every report vector, WeightedMajorityVote with given trust (ties reported) picks the single winner of
    ``winners`` with the weights ln((L - 1) t / (1 - t)), and reports a tie where ``winners`` has several.
    Repeated trusts make exact ties common; distinct ones differ far beyond the tolerance."""
    w = [math.log((n_classes - 1) * t / (1 - t)) for t in trust]
    vectors = list(itertools.product(range(n_classes), repeat=len(trust)))
    votes = pd.DataFrame([(j, i, k) for j, reports in enumerate(vectors) for i, k in enumerate(reports)],
                         columns=["task", "worker", "label"])
    labels = np.arange(n_classes)
    model = wt.WeightedMajorityVote(trust=pd.Series(trust), ties="report").fit(votes)
    for j, reports in enumerate(vectors):
        tied = winners(reports, w, n_classes)
        got = model.labels_.iloc[j]
        assert (pd.isna(got) if len(tied) > 1 else got == tied[0]), (reports, tied, got)
    assert set(model.labels_.dropna()) <= set(labels)
