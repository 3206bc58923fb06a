"""The "profiles" method of the stability estimates: Monte Carlo over P and vote profiles given P, O(n) per profile.

Checked against independent values: the exact sums over a discrete model's joint support, Theorem 1's accuracy at
the trust estimated by the library's other Monte Carlo path (wt.accuracy_mc, which draws votes at the trust, not at
P), and, for planning, the same draws scored with exact accuracies. Each check asserts |difference| <= 5 standard
errors; a correct implementation fails one of them with probability below 1e-5 for a random seed (the seeds are
fixed).
"""

import math

import numpy as np
import pytest

import wmvtrust as wt
import wmvtrust.stability as stability

Z = 5.0
# six sources, 4 * 3 * 2 * 3 * 2 * 2 = 288 joint support points (exact by default), values 0 and 1 included
DISCRETE = wt.DiscreteTrust([[0.55, 0.7, 0.8, 0.95], [0.3, 0.6, 1.0], [0.65, 0.9], [0.0, 0.5, 0.75], [0.6, 0.7],
                             [0.45, 0.85]],
                            [[0.1, 0.4, 0.3, 0.2], [0.2, 0.5, 0.3], [0.5, 0.5], [0.1, 0.3, 0.6], [0.5, 0.5],
                             [0.3, 0.7]])


def assert_close(estimate, exact, label):
    assert estimate.method == "profiles", label
    assert abs(estimate.value - float(exact)) <= Z * estimate.stderr, \
        f"{label}: {estimate.value} against {float(exact)}, {abs(estimate.value - float(exact)) / estimate.stderr:.1f} se"


@pytest.mark.parametrize("prior", [0.5, 0.35])
def test_profiles_agree_with_the_exact_sums_over_a_discrete_model(prior):
    """Every estimate with method='profiles' against the exact sum over the 288 joint support points: a fixed rule
    with an infinite and a negative weight, a biased trust (the SoC gap is then not 0), and the SoO gap."""
    weights = [math.inf, 0.5, 1.0, -0.5, 0.25, 1.5]
    trust = wt.tempered_trust(DISCRETE.mean, 2.5)
    kwargs = {"draws": 20_000, "seed": 4}
    pairs = [(wt.expected_actual_accuracy(DISCRETE, weights, prior, method="profiles", **kwargs),
              wt.expected_actual_accuracy(DISCRETE, weights, prior, method="exact"), "actual"),
             (wt.soc_gap(DISCRETE, trust, prior, method="profiles", **kwargs),
              wt.soc_gap(DISCRETE, trust, prior, method="exact"), "soc"),
             (wt.soo_gap(DISCRETE, prior, method="profiles", **kwargs), wt.soo_gap(DISCRETE, prior, method="exact"),
              "soo")]
    assert abs(pairs[1][1].value) > 0.01  # the biased trust opens a gap a sign error would show
    for estimate, exact, label in pairs:
        assert_close(estimate, exact.value, label)


def test_auto_chooses_profiles_from_26_sources_and_says_so():
    def beta(n):
        return wt.BetaTrust.from_track_record(np.arange(n) % 7 + 5, np.arange(n) % 3 + 2)

    assert wt.soo_gap(beta(25), draws=10, seed=0).method == "montecarlo"
    assert wt.soo_gap(beta(26), draws=10, seed=0).method == "profiles"
    assert wt.soc_gap(beta(26), draws=10, seed=0).method == "profiles"
    assert wt.soc_gap(beta(5), seed=0).method == "quadrature"
    assert wt.expected_actual_accuracy(beta(30), draws=10, seed=0).method == "profiles"
    large_discrete = wt.DiscreteTrust([[0.6, 0.8]] * 30, [[0.5, 0.5]] * 30)  # 2**30 joint points
    assert wt.soo_gap(large_discrete, draws=10, seed=0).method == "profiles"
    assert wt.planned_soo_gap(beta(26), 3, draws=10, seed=0).method == "profiles"
    assert wt.planned_soo_gap(beta(25), 3, draws=10, seed=0).method == "montecarlo"


def test_panels_beyond_every_exact_method():
    """80 sources (no exact accuracy exists beyond 52): the expected accuracy of the trust rule is A(t, w(t)) by
    Theorem 1, estimated here by wt.accuracy_mc at the trust; the SoC gap is 0; the SoO gap lies within its bounds
    and is not 0 (the panel is weak enough to err)."""
    rng = np.random.default_rng(1)
    p = rng.uniform(0.45, 0.62, 80)
    successes = rng.binomial(15, p)
    model = wt.BetaTrust.from_track_record(successes, 15 - successes)
    actual = wt.expected_actual_accuracy(model, prior=0.6, draws=20_000, seed=2)
    at_trust = wt.accuracy_mc(model.mean, wt.log_odds_weights(model.mean), prior=0.6, trials=2_000_000, seed=3)
    assert actual.method == "profiles" and 0.6 < at_trust.value < 0.999
    assert abs(actual.value - at_trust.value) <= Z * math.hypot(actual.stderr, at_trust.stderr)
    soc = wt.soc_gap(model, prior=0.6, draws=20_000, seed=2)
    assert abs(soc.value) <= Z * soc.stderr
    soo = wt.soo_gap(model, prior=0.6, draws=20_000, seed=2)
    assert soo.value > Z * soo.stderr and soo.ci_high < soo.sign_aware_bound


def test_p_is_sampled_in_blocks_reproducibly(monkeypatch):
    """With blocks of 7 draws (the last one partial) the estimate is still unbiased, uses every draw once, and the
    same seed gives the same numbers while another seed gives others."""
    monkeypatch.setattr(stability, "PROFILE_BLOCK", 7 * DISCRETE.n_sources)
    exact = wt.soo_gap(DISCRETE, method="exact").value
    first = wt.soo_gap(DISCRETE, method="profiles", draws=3_001, seed=8)
    assert_close(first, exact, "soo in blocks")
    assert wt.soo_gap(DISCRETE, method="profiles", draws=3_001, seed=8) == first
    assert wt.soo_gap(DISCRETE, method="profiles", draws=3_001, seed=9).value != first.value
    monkeypatch.setattr(stability, "PROFILES_PER_DRAW", 1)  # a mean of 3,001 single profiles: multiples of 1/3,001
    one = wt.soo_gap(DISCRETE, method="profiles", draws=3_001, seed=8)
    assert round(one.value * 3_001 * 2) == pytest.approx(one.value * 3_001 * 2, abs=1e-6)  # ties credit 1/2


def test_planning_on_profiles_agrees_with_exact_accuracies_on_the_same_draws(monkeypatch):
    """26 sources: the planned gap scored on vote profiles against the same draws of P and records scored with
    exact accuracies (PROFILES_FROM raised): they differ only by the profiles' noise, so the paired difference is
    within 5 of its standard errors, at every m."""
    rng = np.random.default_rng(6)
    model = wt.BetaTrust(rng.uniform(1, 8, 26), rng.uniform(1, 4, 26))
    on_profiles = [wt.planned_soo_gap(model, m, draws=300, seed=5) for m in (0, 4, 30)]
    monkeypatch.setattr(stability, "PROFILES_FROM", 100)
    exact = [wt.planned_soo_gap(model, m, draws=300, seed=5) for m in (0, 4, 30)]
    assert [e.method for e in on_profiles] == ["profiles"] * 3 and [e.method for e in exact] == ["montecarlo"] * 3
    for m, a, b in zip((0, 4, 30), on_profiles, exact):
        # the profile noise of a mean over 300 draws: at most the standard error of the profile estimate itself
        assert abs(a.value - b.value) <= Z * a.stderr, m
    assert exact[0].value > exact[1].value > exact[2].value


def test_soo_gap_reports_the_pivotality_bound_unless_asked_not_to():
    """By default the SoO estimate carries soo_pivotal_bound on the same draws and seed; pivotal_bound=False leaves it
    None and the gap unchanged."""
    with_bound = wt.soo_gap(DISCRETE, method="profiles", draws=2_000, seed=3)
    alone = wt.soo_pivotal_bound(DISCRETE, draws=2_000, seed=3)
    assert (with_bound.pivotal_bound, with_bound.pivotal_bound_stderr) == (alone.value, alone.stderr)
    without = wt.soo_gap(DISCRETE, method="profiles", draws=2_000, seed=3, pivotal_bound=False)
    assert without.pivotal_bound is None and without.pivotal_bound_stderr is None
    assert without.value == with_bound.value
