"""The Beta mean absolute deviation behind Theorem 3's bound (proofs/beta_mean_absolute_deviation.md).

For P ~ Beta(a, b) with t = a / (a + b): E|P - t| = 2 a^a b^b / (B(a, b) (a + b)^(a + b + 1)), which behaves
like sqrt(2 / pi) sqrt(t (1 - t) / (a + b)) for large a + b. The library's closed forms are checked here
against adaptive quadrature of the defining integrals.
"""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats

import wmvtrust as wt

shape = st.floats(0.2, 500.0)


def beta_expectation(f, a, b, lo, hi):
    """int_lo^hi f(p) Beta(a, b) density dp, by adaptive quadrature.

    A density factor p^(a-1) (a < 2, at lo = 0) or (1 - p)^(b-1) (b < 2, at hi = 1) is infinite at the
    endpoint or has an infinite derivative there (a cusp that adaptive quadrature cannot resolve to 1e-13,
    e.g. b = 1.03); it is then handed to QUADPACK's algebraic weight (QAWS), which integrates it exactly,
    and ``f`` times the rest of the density is integrated as a smooth function.
    """
    if hi <= lo:
        return 0.0
    weight_lo, weight_hi = a < 2 and lo == 0.0, b < 2 and hi == 1.0
    log_norm = special.betaln(a, b)

    def integrand(p):
        log = -log_norm
        if not weight_lo:
            log += (a - 1) * math.log(p)
        if not weight_hi:
            log += (b - 1) * math.log1p(-p)
        return f(p) * math.exp(log)

    options = dict(epsabs=0.0, epsrel=1e-13, limit=200)
    if weight_lo or weight_hi:
        alg = (a - 1 if weight_lo else 0.0, b - 1 if weight_hi else 0.0)
        value, _ = integrate.quad(integrand, lo, hi, weight="alg", wvar=alg, **options)
    else:
        value, _ = integrate.quad(integrand, lo, hi, **options)
    return value


@settings(max_examples=200)
@given(shape, shape)
def _closed_forms_match_integrals(a, b):
    model = wt.BetaTrust([a], [b])
    t = a / (a + b)
    # E|P - t|, split at t where |p - t| has its kink
    mad = beta_expectation(lambda p: p - t, a, b, t, 1.0) + beta_expectation(lambda p: t - p, a, b, 0.0, t)
    assert model.mad[0] == pytest.approx(mad, rel=1e-9)
    # E[(P - t)^+ 1{P >= 1/2} + (t - P)^+ 1{P < 1/2}]: its pieces can be tiny (far tails), hence abs
    sign_aware = (beta_expectation(lambda p: p - t, a, b, max(t, 0.5), 1.0)
                  + beta_expectation(lambda p: t - p, a, b, 0.0, min(t, 0.5)))
    assert model.sign_aware_mad[0] == pytest.approx(sign_aware, rel=1e-9, abs=1e-15)
    reference = stats.beta(a, b)
    assert model.mean[0] == pytest.approx(reference.mean(), rel=1e-12)
    assert model.variance[0] == pytest.approx(reference.var(), rel=1e-10)


def test_beta_mean_absolute_deviation_closed_form():
    """E|P - t| for P ~ Beta(a, b) (proofs/beta_mean_absolute_deviation.md), and its large-sample behaviour.

    For a, b in [0.2, 500] (Hypothesis): ``mad`` and ``sign_aware_mad`` equal their defining integrals to
    1e-9 relative (plus 1e-15 absolute for the sign-aware one, whose pieces can be far-tail masses);
    ``mean`` and ``variance`` equal scipy.stats.beta's. At a + b = 10^5, ``mad`` divided by
    sqrt(2 / pi) sqrt(t (1 - t) / (a + b)) is within 1% of 1 (the normal approximation's E|Z| sigma).
    """
    _closed_forms_match_integrals()

    for t in (0.05, 0.1, 0.3, 0.5, 0.77, 0.95):
        total = 1e5
        model = wt.BetaTrust([t * total], [(1 - t) * total])
        asymptotic = math.sqrt(2 / math.pi) * math.sqrt(t * (1 - t) / total)
        assert model.mad[0] / asymptotic == pytest.approx(1.0, abs=0.01)
