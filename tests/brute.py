"""Plain-Python reference accuracies by brute-force enumeration; no library code.

``A(q, w) = sum over c in {0,1}^n of prod_i q_i^c_i (1 - q_i)^(1 - c_i) * credit(c)``
(DESIGN.md section 2). Infinite weights decide by their signed count K when it is
not zero; otherwise the finite sum S decides, with bias b = ln(prior / (1 - prior)):
credit = prior g(S + b) + (1 - prior) g(S - b).
"""

import itertools
import math
from fractions import Fraction


def _profiles(q, one):
    """Yield (probability, c) for every correctness profile c in {0,1}^n."""
    for c in itertools.product((0, 1), repeat=len(q)):
        p = one
        for qi, ci in zip(q, c):
            p *= qi if ci else one - qi
        yield p, c


def _signed_count(w, c):
    """K: the signed count of infinite-weight votes pointing to the truth."""
    return sum((1 if wi > 0 else -1) * (2 * ci - 1) for wi, ci in zip(w, c) if math.isinf(wi))


def accuracy_brute(q, w, prior=0.5):
    """A(q, w) in floating point, a weighted sum within the tie tolerance counting as a tie."""
    q, w = [float(x) for x in q], [float(x) for x in w]
    b = math.log(prior / (1 - prior))
    tol = 1e-12 * (sum(abs(x) for x in w if math.isfinite(x)) + abs(b))

    def g(s):
        return 1.0 if s > tol else 0.5 if s >= -tol else 0.0

    terms = []
    for p, c in _profiles(q, 1.0):
        k = _signed_count(w, c)
        if k != 0:
            credit = 1.0 if k > 0 else 0.0
        else:
            s = sum(wi * (2 * ci - 1) for wi, ci in zip(w, c) if math.isfinite(wi))
            credit = prior * g(s + b) + (1 - prior) * g(s - b)
        terms.append(p * credit)
    return math.fsum(terms)


def accuracy_exact(q, w):
    """A(q, w) as a Fraction for integer (or ±inf) weights and prior 1/2: no tolerance needed."""
    q = [Fraction(x) for x in q]
    half = Fraction(1, 2)
    total = Fraction(0)
    for p, c in _profiles(q, Fraction(1)):
        k = _signed_count(w, c)
        s = sum(int(wi) * (2 * ci - 1) for wi, ci in zip(w, c) if not math.isinf(wi))
        key = k if k != 0 else s
        total += p * (1 if key > 0 else half if key == 0 else 0)
    return total


def near_tie_mass(q, w, prior, radius):
    """Prior-weighted probability that the finite sum decides and lies within ``radius`` of a tie.

    ``sum over profiles with K = 0 of P(c) (prior [|S + b| <= radius] + (1 - prior) [|S - b| <= radius])``.
    """
    q, w = [float(x) for x in q], [float(x) for x in w]
    b = math.log(prior / (1 - prior))
    terms = []
    for p, c in _profiles(q, 1.0):
        if _signed_count(w, c) == 0:
            s = sum(wi * (2 * ci - 1) for wi, ci in zip(w, c) if math.isfinite(wi))
            terms.append(p * (prior * (abs(s + b) <= radius) + (1 - prior) * (abs(s - b) <= radius)))
    return math.fsum(terms)
