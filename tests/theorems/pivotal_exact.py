"""The pivotality bound of a small discrete trust model, summed exactly (proofs/soo_pivotal_bound.md).

A second exact evaluator for the tests, computed the way the kernel ``pivotal_bound_profiles`` is (pivot
probabilities of the other sources' vote profiles), not from the accuracies as test_soo_pivotal.py's oracle is:
in Fractions with exact ties (log-odds sums compared as products of odds) for a rational model, in floating point
with the library's tie tolerance otherwise. Only ``bias`` and ``TIE_RTOL`` come from the library.
"""

import itertools
import math
from fractions import Fraction

from wmvtrust import TIE_RTOL
from wmvtrust.voting import bias


def is_rational(model):
    return all(isinstance(x, (int, Fraction)) for xs in model.support + model.probabilities for x in xs)


class Rule:
    """Signed credits of one source for WMV, exactly (odds products, exact ties) or with the tie tolerance."""

    def __init__(self, prior, exact):
        self.exact, self.prior = exact, prior
        self.bias = bias(float(prior))
        self.odds = Fraction(prior) / (1 - Fraction(prior)) if exact else Fraction(1)

    def weight(self, q):
        """(sign of an infinite weight or 0, the finite weight): the odds q / (1 - q), or their log."""
        if q == 1 or q == 0:
            return (1 if q == 1 else -1), (Fraction(1) if self.exact else 0.0)
        return 0, (Fraction(q) / (1 - Fraction(q)) if self.exact else math.log(float(q) / (1.0 - float(q))))

    def credit(self, count, s, others_abs, own_abs):
        """Credit of a profile, expected over the truth: the signed count first, then the finite part ``s``."""
        if count != 0:
            return 1 if count > 0 else 0
        prior = self.prior
        if self.exact:  # s is the product of the odds: the sum of log-odds is > 0 iff s * odds > 1
            up, down = Fraction(s) * self.odds, Fraction(s) / self.odds
            g_up = 1 if up > 1 else Fraction(1, 2) if up == 1 else 0
            g_down = 1 if down > 1 else Fraction(1, 2) if down == 1 else 0
            return prior * g_up + (1 - prior) * g_down
        tol = TIE_RTOL * (others_abs + own_abs + abs(self.bias))
        x_up, x_down = float(s) + self.bias, float(s) - self.bias
        return (prior * (1.0 if x_up > tol else 0.5 if x_up >= -tol else 0.0)
                + (1 - prior) * (1.0 if x_down > tol else 0.5 if x_down >= -tol else 0.0))

    def pivot(self, count, s, others_abs, q):
        """h for one profile of the others: credit with the source (trustworthiness q) right minus wrong."""
        sign, f = self.weight(q)
        if sign:  # an infinite weight moves the signed count
            return self.credit(count + sign, s, others_abs, 0.0) - self.credit(count - sign, s, others_abs, 0.0)
        if self.exact:  # a finite one multiplies the odds
            return self.credit(count, Fraction(s) * f, 0.0, 0.0) - self.credit(count, Fraction(s) / f, 0.0, 0.0)
        own = abs(f)  # or adds its log, and its size to the rule's tolerance
        return self.credit(count, s + f, others_abs, own) - self.credit(count, s - f, others_abs, own)


def slopes(rule, others, xs):
    """h(x) for each x in ``xs``, the other sources right with probabilities ``others``: over all 2**(n-1)
    profiles of the others."""
    one = Fraction(1) if rule.exact else 1.0
    weights = [rule.weight(r) for r in others]
    others_abs = math.fsum(abs(float(f)) for sign, f in weights if sign == 0)
    out = [0 * one for _ in xs]
    for signs in itertools.product((1, -1), repeat=len(others)):
        prob, count, s, terms = one, 0, Fraction(1), []
        for r, (sign, f), v in zip(others, weights, signs):
            prob *= r if v == 1 else 1 - r
            if sign:
                count += sign * v
            elif rule.exact:
                s *= f if v == 1 else 1 / f
            else:
                terms.append(v * f)
        if prob == 0:
            continue
        if not rule.exact:
            s = math.fsum(terms)
        for i, x in enumerate(xs):
            out[i] += prob * rule.pivot(count, s, others_abs, x)
    return out


def steps(x, t, levels):
    """The points x_1..x_m, x_(m+1) = x on the way from t: x_i = x - (x - t) 2**-i."""
    return [x - (x - t) / 2**i for i in range(1, levels + 1)] + [x]


def pivotal_bound_terms(model, prior, levels):
    """Per source k, ``E[sum_i (x_(i+1) - x_i) (h_k(x_(i+1)) - h_k(t_k))]`` over ``t_k = x_0, x_1..x_m,
    x_(m+1) = P_k`` (levels = 0: ``E[(P_k - t_k) (h_k(P_k) - h_k(t_k))]``), over the joint support of the sources
    up to k and every vote profile of the others. Fractions for a rational ``model`` (a float prior is then the
    dyadic rational it is), floats otherwise."""
    exact = is_rational(model)
    rule = Rule(Fraction(prior) if exact else float(prior), exact)
    t = model.mean_exact() if exact else [float(x) for x in model.mean]
    support = [list(xs) if exact else [float(x) for x in xs] for xs in model.support]
    probs = [list(ps) if exact else [float(p) for p in ps] for ps in model.probabilities]
    one = Fraction(1) if exact else 1.0
    terms = []
    for k in range(model.n_sources):
        paths = [steps(x, t[k], levels) for x in support[k]]
        term = 0 * one
        for combo in itertools.product(*(list(zip(probs[j], support[j])) for j in range(k))):
            weight = math.prod((p for p, _ in combo), start=one)
            if weight == 0:
                continue
            h = slopes(rule, [x for _, x in combo] + t[k + 1:], [t[k]] + [x for path in paths for x in path])
            h_t, at = h[0], iter(h[1:])
            for p, path in zip(probs[k], paths):
                below, pay = t[k], 0 * one
                for x in path:
                    pay += (x - below) * (next(at) - h_t)
                    below = x
                term += weight * p * pay
        terms.append(term)
    return terms


def pivotal_bound_exact(model, prior, levels):
    """The sum of ``pivotal_bound_terms``: a Fraction for a rational model, else a float."""
    terms = pivotal_bound_terms(model, prior, levels)
    return sum(terms, Fraction(0)) if is_rational(model) else math.fsum(terms)
