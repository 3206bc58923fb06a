"""Plain-Python reference accuracies by brute-force enumeration; no library code.

``A(q, w) = sum over c in {0,1}^n of prod_i q_i^c_i (1 - q_i)^(1 - c_i) * credit(c)``
(docs/design.md, section 3). Infinite weights decide by their signed count K when it is
not zero; otherwise the finite sum S decides, with bias b = ln(prior / (1 - prior)):
credit = prior g(S + b) + (1 - prior) g(S - b).

Also the kernels' documented random numbers, re-implemented in plain Python integers: SplitMix64 as a
counter-based stream (``wmvtrust/_kernels/common.py``), so that tests can replay a kernel's profiles one by one.
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


def credit(count, s, b, prior, tol):
    """The credit of one profile, expected over the truth: the signed count ``count`` of infinite-weight votes
    decides when it is not 0, else ``prior g(s + b) + (1 - prior) g(s - b)``, a sum within ``tol`` of 0 a tie."""
    if count != 0:
        return 1.0 if count > 0 else 0.0

    def g(x):
        return 1.0 if x > tol else 0.5 if x >= -tol else 0.0

    return prior * g(s + b) + (1 - prior) * g(s - b)


def profile_credit(w, signs, prior):
    """The credit of weights ``w`` when source i votes for the truth iff ``signs[i] = +1``: the tie tolerance is
    1e-12 (sum of |finite w_i| + |b|)."""
    b = math.log(prior / (1 - prior))
    tol = 1e-12 * (sum(abs(x) for x in w if math.isfinite(x)) + abs(b))
    count = sum((1 if wi > 0 else -1) * si for wi, si in zip(w, signs) if math.isinf(wi))
    s = sum(wi * si for wi, si in zip(w, signs) if math.isfinite(wi))
    return credit(count, s, b, prior, tol)


def accuracy_brute(q, w, prior=0.5):
    """A(q, w) in floating point, a weighted sum within the tie tolerance counting as a tie."""
    q, w = [float(x) for x in q], [float(x) for x in w]
    return math.fsum(p * profile_credit(w, [2 * ci - 1 for ci in c], prior) for p, c in _profiles(q, 1.0))


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


def profile_credits(q, w, prior=0.5, chunk=1 << 14):
    """(P(c), credit(c)) for every correctness profile c, as numpy arrays: the same definition, vectorised.

    Profile ``j`` has source ``i`` right when bit ``i`` of ``j`` is set. For the 2**13..2**20 profiles that
    the pure-Python ``accuracy_brute`` is too slow for; plain numpy, no library code, the same tie rule.
    """
    import numpy as np

    q, w = np.asarray(q, dtype=float), np.asarray(w, dtype=float)
    n, finite = q.size, np.isfinite(w)
    b = math.log(prior / (1 - prior))
    tol = 1e-12 * (float(np.abs(w[finite]).sum()) + abs(b))

    def g(s):
        return np.where(s > tol, 1.0, np.where(s >= -tol, 0.5, 0.0))

    probs, credits = [], []
    for start in range(0, 1 << n, chunk):
        masks = np.arange(start, min(start + chunk, 1 << n))
        right = ((masks[:, None] >> np.arange(n)) & 1).astype(bool)
        probs.append(np.prod(np.where(right, q, 1.0 - q), axis=1))
        signs = np.where(right, 1.0, -1.0)
        k = (signs[:, ~finite] * np.sign(w[~finite])).sum(axis=1)  # the signed count K of infinite-weight votes
        s = (signs[:, finite] * w[finite]).sum(axis=1)
        credits.append(np.where(k > 0, 1.0, np.where(k < 0, 0.0, prior * g(s + b) + (1 - prior) * g(s - b))))
    return np.concatenate(probs), np.concatenate(credits)


def accuracy_numpy(q, w, prior=0.5):
    """A(q, w) from ``profile_credits``: sum over all 2**n profiles of P(c) credit(c)."""
    probs, credits = profile_credits(q, w, prior)
    return math.fsum(probs * credits)


M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15  # the SplitMix64 increment


def splitmix(z):
    """The SplitMix64 output function."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def stream(key, index):
    """Start state of stream ``index`` of the run keyed by ``key``."""
    return splitmix(key ^ splitmix(index * GOLDEN & M64))


def profile_signs(key, draw, profile, *rows):
    """Replay profile ``profile`` of draw ``draw``: source i reads the (i + 1)-th step of the stream
    stream(stream(key, draw), profile), the 53-bit k of a uniform k 2**-53, and votes for the truth (+1, else -1)
    under trustworthiness q iff k < ceil(q 2**53). One list of signs per row of trustworthiness in ``rows``, all
    from the same uniforms."""
    state = stream(stream(key, draw), profile)
    bits = [splitmix((state + (i + 1) * GOLDEN) & M64) >> 11 for i in range(len(rows[0]))]
    return [[1 if k < math.ceil(q * 2.0**53) else -1 for k, q in zip(bits, row)] for row in rows]
