"""Sensitivity (docs/design.md, section 7) against brute force written here: finite differences of the exact
accuracy, exhaustive search over vote profiles, and every corner of the perturbation box."""

import itertools
import math
import re

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import optimize

import wmvtrust as wt
from brute import accuracy_brute

TIE = 1e-12  # docs/design.md, section 2: |S| <= 1e-12 (sum |finite w_i| + |b|) is a tie

# --- strategies -------------------------------------------------------------------------------------------------
dyadic = st.integers(-320, 320).map(lambda k: k / 64)  # sums of these are exact: ties are exact ties
generic = st.floats(0.02, 0.98).map(lambda t: math.log(t / (1 - t)))  # the log-odds weight of some trust
small_int = st.integers(-3, 3).map(float)  # many ties
finite_weight = st.one_of(small_int, dyadic, generic)
any_weight = st.one_of(finite_weight, st.sampled_from([math.inf, -math.inf]))
probability = st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 0.5, 1.0]))
priors = st.one_of(st.just(0.5), st.floats(0.05, 0.95))


def vectors(element, lo, hi):
    return st.integers(lo, hi).flatmap(lambda n: st.lists(element, min_size=n, max_size=n))


def q_and_w(lo, hi):
    return st.integers(lo, hi).flatmap(lambda n: st.tuples(st.lists(probability, min_size=n, max_size=n),
                                                           st.lists(any_weight, min_size=n, max_size=n)))


# --- brute-force helpers (no library code) --------------------------------------------------------------------
def bias(prior):
    return math.log(prior / (1 - prior))


def logit(t):
    t = np.asarray(t, dtype=float)
    return np.log(t / (1 - t))


def all_profiles(n):
    """Every x in {-1, +1}^n, one per row."""
    return np.array(list(itertools.product((-1.0, 1.0), repeat=n))).reshape(-1, n)


def subset_sums(w):
    """Every sum_i w_i x_i over x in {-1, +1}^n (in some order), built by doubling."""
    s = np.zeros(1)
    for wi in w:
        s = np.concatenate([s - wi, s + wi])
    return s


def min_abs_sum_mitm(w, b):
    """min over x of |w.x + b| by numpy meet-in-the-middle: for each left sum, the nearest right sums."""
    k = len(w) // 2
    left, right = subset_sums(w[:k]) + b, np.sort(subset_sums(w[k:]))
    j = np.searchsorted(right, -left)
    best = math.inf
    for jj in (j - 1, j):
        ok = (jj >= 0) & (jj < right.size)
        best = min(best, float(np.abs(left[ok] + right[jj[ok]]).min()))
    return best


def signs(s, tol):
    """The decisions +1 / 0 (tie) / -1 of weighted sums s, with tie tolerance tol."""
    return np.where(s > tol, 1, np.where(s < -tol, -1, 0))


# --- derivatives ----------------------------------------------------------------------------------------------
H = 1e-3  # A is affine in q_i, so a central difference with any step is exact up to rounding


@settings(max_examples=60, derandomize=True)
@given(q_and_w(1, 10), priors)
def test_derivatives_equal_exact_differences_and_have_the_sign_of_the_weight(qw, prior):
    q, w = qw
    got = wt.derivatives(q, w, prior)
    assert got.shape == (len(q),)
    for i in range(len(q)):
        def acc_at(value):  # accuracy_brute is plain algebra: it accepts q_i outside [0, 1] (the affine extension)
            return accuracy_brute(q[:i] + [value] + q[i + 1:], w, prior)
        central = (acc_at(q[i] + H) - acc_at(q[i] - H)) / (2 * H)
        assert got[i] == pytest.approx(central, abs=1e-9)
        assert got[i] == pytest.approx(acc_at(1.0) - acc_at(0.0), abs=1e-9)
        # raising q_i can only help a source with w_i >= 0 (S is non-decreasing in c_i) and only hurt one with w_i < 0
        if w[i] >= 0:
            assert 0.0 <= got[i] <= 1.0
        else:
            assert -1.0 <= got[i] <= 0.0


def test_derivatives_of_small_rules_by_hand():
    # three equal votes: source i decides exactly when the other two split, 2 (0.7)(0.3) = 0.42
    np.testing.assert_allclose(wt.derivatives([0.7] * 3, [1.0] * 3), [0.42] * 3, rtol=0, atol=1e-15)
    # prior 0.9 (b = ln 9 = 2.197) outweighs a single vote of weight 0.5: the rule always says +1, A = 0.9 for any q
    assert wt.derivatives([0.8], [0.5], prior=0.9).tolist() == [0.0]
    # prior 0.3 (b = -0.847) does not outweigh a vote of weight 1: the rule follows the source, A = q
    assert wt.derivatives([0.8], [1.0], prior=0.3).tolist() == [1.0]
    # an infinite weight decides alone (derivative 1), the finite ones never matter
    assert wt.derivatives([0.6, 0.9, 0.9], [math.inf, 5.0, 5.0]).tolist() == [1.0, 0.0, 0.0]
    # +inf against -inf: the two cancel when sources 0 and 1 are both right or both wrong, and source 2 decides;
    # otherwise source 0 decides. A = q0 (1 - q1) + (q0 q1 + (1 - q0)(1 - q1)) q2, differentiated by hand:
    np.testing.assert_allclose(wt.derivatives([0.6, 0.7, 0.8], [math.inf, -math.inf, 1.0]),
                               [0.3 + 0.4 * 0.8, -0.6 + 0.2 * 0.8, 0.6 * 0.7 + 0.4 * 0.3], rtol=0, atol=1e-15)


# --- decision margin ------------------------------------------------------------------------------------------
@settings(max_examples=80, derandomize=True)
@given(vectors(finite_weight, 1, 14), priors)
def test_decision_margin_is_the_smallest_sum_over_all_profiles(w, prior):
    b = bias(prior)
    sums = all_profiles(len(w)) @ np.array(w) + b
    expected = float(np.abs(sums).min())
    tol = TIE * (sum(abs(x) for x in w) + abs(b))
    got = wt.decision_margin(w, prior)
    if expected <= tol:
        assert got == 0.0  # a tie, up to the tie tolerance, is reported as exactly 0
    else:
        assert got == pytest.approx(expected, rel=0, abs=tol)  # the two summation orders differ by rounding only


@settings(derandomize=True)
@given(vectors(small_int, 1, 14))
def test_decision_margin_of_integer_weights_is_exact(w):
    # integer sums are exact in floating point: no tolerance at all, and ties (margin 0) are frequent
    expected = min(abs(sum(wi * xi for wi, xi in zip(w, x))) for x in itertools.product((-1, 1), repeat=len(w)))
    assert wt.decision_margin(w) == float(expected)


@pytest.mark.parametrize(("n", "seed", "prior"), [(30, 0, 0.5), (30, 1, 0.3), (31, 2, 0.5), (40, 3, 0.8)])
def test_decision_margin_of_many_sources_against_numpy_meet_in_the_middle(n, seed, prior):
    rng = np.random.default_rng(seed)
    if n <= 31:
        w = rng.uniform(-2.0, 2.0, n)
    else:  # 2**40 generic sums are denser than the tie tolerance; multiples of 1/16 keep the margin resolvable
        w = rng.integers(-2**20, 2**20, n) / 16
    b = bias(prior)
    expected = min_abs_sum_mitm(w, b)  # over 2**15 x 2**15 (up to 2**20 x 2**20) profiles
    assert expected > 10 * TIE * (np.abs(w).sum() + abs(b))  # not a tie: the value itself is checked
    assert wt.decision_margin(w, prior) == pytest.approx(expected, rel=0, abs=TIE * (np.abs(w).sum() + abs(b)))


def test_decision_margin_at_the_size_limit_by_arithmetic():
    # sums of +-2**i (i < n) are exactly the odd integers in [-(2**n - 1), 2**n - 1]: the margin is 1 (n = 36 keeps
    # 1 above the tie tolerance 1e-12 (2**n - 1); at n = 40 that tolerance exceeds 1 and the margin counts as 0)
    assert wt.decision_margin(2.0 ** np.arange(36)) == 1.0
    assert wt.decision_margin(2.0 ** np.arange(36)[::-1]) == 1.0
    assert wt.decision_margin(2.0 ** np.arange(40)) == 0.0
    # n equal votes: a tie for even n, margin 1 for odd n; 43 votes and a half vote: odd integers +- 0.5
    assert wt.decision_margin(np.ones(44)) == 0.0
    assert wt.decision_margin(np.ones(43)) == 1.0
    assert wt.decision_margin(np.r_[np.ones(43), 0.5]) == 0.5
    assert wt.decision_margin(np.r_[0.5, -np.ones(43)]) == 0.5


def test_decision_margin_by_hand():
    assert wt.decision_margin([3.0]) == 3.0
    assert wt.decision_margin([3.0], prior=0.9) == pytest.approx(3.0 - math.log(9), rel=1e-14)  # b = ln 9
    assert wt.decision_margin([1.0, -1.0]) == 0.0
    assert wt.decision_margin([2.0, 2.0], prior=0.6) == pytest.approx(math.log(1.5), rel=1e-14)  # the split profile
    assert wt.decision_margin([0.1 + 0.2, -0.3]) == 0.0  # equal up to rounding (5.6e-17): a tie by the tolerance


# --- trust radius ---------------------------------------------------------------------------------------------
trusts = vectors(st.floats(0.05, 0.95), 2, 10)


@pytest.mark.parametrize("space", ["logit", "probability"])
@settings(max_examples=60, derandomize=True)
@given(t=trusts, prior=priors)
def test_trust_radius_separates_no_change_from_a_change(space, t, prior):
    t, n, b = np.array(t), len(t), bias(prior)
    w = logit(t)
    profiles = all_profiles(n)
    sums = profiles @ w + b
    scale = np.abs(w).sum() + abs(b)
    before = signs(sums, TIE * scale)
    margin = float(np.abs(sums).min())
    radius = wt.trust_radius(t, prior, space)
    if margin <= TIE * scale:  # some profile ties already: any change of trust may decide it
        assert radius == 0.0
        return
    cap = float(np.minimum(t, 1 - t).min())  # beyond it some trust leaves [0, 1]
    if space == "logit":
        assert radius == pytest.approx((margin - TIE * scale) / n, rel=1e-12)  # within tol of 0 is a tie
    else:
        assert 0.0 < radius <= cap

    corners = all_profiles(n)  # the direction (+r or -r) of each source's move

    def weights_at(r):  # one row of perturbed weights per corner of the max-norm box of radius r
        return w + r * corners if space == "logit" else logit(t + r * corners)

    def changes(r):
        """Whether some profile changes its decision (or starts to tie) at some corner of the box of radius r.

        Checking the corners is exhaustive: for a fixed profile x the sum sum_i w'_i x_i + b is monotone in each
        perturbed weight w'_i (increasing if x_i = +1, decreasing if x_i = -1), and w'_i = logit(t'_i) is increasing
        in t'_i, so over the box the sum is smallest at one corner and largest at another, and a sign change
        anywhere in the box is a sign change at a corner.
        """
        ws = weights_at(r)
        after = signs(profiles @ ws.T + b, TIE * (np.abs(ws).sum(axis=1) + abs(b)))
        return bool((after != before[:, None]).any())

    # "just below": 1e-6 relative, and at least 4 tie tolerances (in radius units) below. The radius is that of
    # exact arithmetic, so within a tie tolerance of it a decided profile may already count as a tie
    resolution = TIE * (np.abs(weights_at(radius * (1 - 1e-6))).sum(axis=1).max() + abs(b)) / n
    below = min(radius * (1 - 1e-6), radius - 4 * resolution)
    assume(below > 0)
    assert not changes(below)
    if space == "logit":
        # the worst move of all: every weight by r against the profile x* nearest to a tie
        k = int(np.argmin(np.abs(sums)))
        x, s = profiles[k], sums[k]
        for r, changed in ((radius * (1 + 1e-6), True), (below, False)):
            moved = w - np.sign(s) * r * x
            assert bool(signs(x @ moved + b, TIE * (np.abs(moved).sum() + abs(b))) != before[k]) == changed
        assert changes(radius * (1 + 1e-6))
    elif radius < cap:
        assert changes(min(radius * (1 + 1e-6), 0.5 * (radius + cap)))


def test_trust_radius_is_zero_when_a_profile_ties():
    for space in ("logit", "probability"):
        assert wt.trust_radius([0.7, 0.7], space=space) == 0.0  # one for, one against
        assert wt.trust_radius([0.3, 0.7, 0.6, 0.6], space=space) == 0.0  # logit(0.3) = -logit(0.7)
    # the prior breaks the tie: b = ln 1.5 is the smallest |sum|, and in logit space the radius is (b - tol) / n
    tol = TIE * (2 * math.log(7 / 3) + math.log(1.5))
    assert wt.trust_radius([0.7, 0.7], prior=0.6) == pytest.approx((math.log(1.5) - tol) / 2, rel=1e-13)


def test_trust_radius_in_logit_space_is_the_margin_per_source():
    for t, prior in (([0.9, 0.6, 0.6], 0.5), ([0.8, 0.55, 0.65, 0.7], 0.3), ([0.51] * 5, 0.5)):
        w = logit(t)
        tol = TIE * (np.abs(w).sum() + abs(bias(prior)))  # a sum within tol of 0 is a tie
        expected = (float(np.abs(all_profiles(len(t)) @ w + bias(prior)).min()) - tol) / len(t)
        assert wt.trust_radius(t, prior) == pytest.approx(expected, rel=1e-12)
        assert wt.trust_radius(t, prior) == pytest.approx((wt.decision_margin(w, prior) - tol) / len(t), rel=1e-12)


def test_trust_radius_in_probability_space_solves_the_worst_corner_equation():
    # t = (0.9, 0.6, 0.6): the nearest decision to change is "source 0 against the two others"; its worst corner
    # lowers t_0 and raises t_1, t_2, so the radius solves logit(0.9 - r) = 2 logit(0.6 + r), below the cap 0.1
    root = optimize.brentq(lambda r: math.log((0.9 - r) / (0.1 + r)) - 2 * math.log((0.6 + r) / (0.4 - r)),
                           0.0, 0.1, xtol=1e-15, rtol=1e-15)
    assert wt.trust_radius([0.9, 0.6, 0.6], space="probability") == pytest.approx(root, rel=1e-10)


def test_trust_radius_in_probability_space_is_capped_where_a_trust_reaches_0_or_1():
    # a dictator: ln 99 = 4.60 outweighs 2 logit(0.61) = 0.89 anywhere in the box of radius 0.01, and at the box's
    # edge its trust reaches 1 (an infinite weight, still deciding alone); beyond it trust is not a probability
    t = [0.99, 0.6, 0.6]
    cap = min(min(x, 1 - x) for x in t)
    assert wt.trust_radius(t, space="probability") == cap
    profiles, w = all_profiles(3), logit(t)
    before = signs(profiles @ w, TIE * np.abs(w).sum())
    for r in (0.5 * cap, cap * (1 - 1e-6)):
        moved = logit(np.array(t) + r * all_profiles(3))  # every corner
        assert (signs(profiles @ moved.T, TIE * np.abs(moved).sum(axis=1)) == before[:, None]).all()
    # the logit radius of the same rule is not capped: the margin ln 99 - 2 ln 1.5, less the tie tolerance, over 3
    tol = TIE * (math.log(99) + 2 * math.log(1.5))
    assert wt.trust_radius(t) == pytest.approx((math.log(99) - 2 * math.log(1.5) - tol) / 3, rel=1e-13)


# --- accuracy-loss curve --------------------------------------------------------------------------------------
@pytest.mark.parametrize("space", ["logit", "probability"])
@pytest.mark.parametrize(("p", "prior"), [([0.8, 0.7, 0.6], 0.5), ([0.9, 0.55, 0.6, 0.7, 0.65], 0.3),
                                          ([0.6] * 4, 0.5), (list(np.linspace(0.55, 0.9, 12)), 0.7)])
def test_loss_curve_loses_nothing_at_size_zero(space, p, prior):
    curve = wt.accuracy_loss_curve(p, [0.0, 0.3], space=space, draws=20, seed=3, prior=prior)
    assert curve.columns.tolist() == ["size", "mean_loss", "stderr", "worst_loss"]
    assert curve["size"].tolist() == [0.0, 0.3]
    assert curve.loc[0, ["mean_loss", "stderr", "worst_loss"]].tolist() == [0.0, 0.0, 0.0]  # exactly


@pytest.mark.parametrize("space", ["logit", "probability"])
@pytest.mark.parametrize(("p", "prior"), [([0.8, 0.7, 0.6], 0.5), ([0.9, 0.55, 0.6, 0.7, 0.65], 0.3),
                                          (list(np.linspace(0.55, 0.9, 11)), 0.6)])
def test_every_loss_is_between_zero_and_the_largest_possible(space, p, prior):
    # Nitzan-Paroush: w(p) is optimal, so no perturbed rule gains; and no rule is worse than the reverse of the
    # optimal rule, whose accuracy is 1 - A*: every loss lies in [0, 2 A* - 1]
    best = accuracy_brute(p, logit(p), prior)
    sizes = [0.0, 0.05, 0.2, 0.5, 1.0, 3.0]
    for seed in range(3):
        # with one draw per size the mean is the loss of that single draw: each loss is checked, not only a mean
        one = wt.accuracy_loss_curve(p, sizes, space=space, draws=1, seed=seed, prior=prior)
        assert one["stderr"].isna().all()
        many = wt.accuracy_loss_curve(p, sizes, space=space, draws=30, seed=seed, prior=prior)
        for curve in (one, many):
            assert (curve["mean_loss"] >= -1e-12).all()
            assert (curve["mean_loss"] <= curve["worst_loss"] + 1e-15).all()
            assert (curve["worst_loss"] <= 2 * best - 1 + 1e-12).all()


def test_loss_curve_in_probability_space_reaches_the_reversed_rule():
    # size 3 moves every trust past 0 or 1: it is clipped to [0, 1] (else log_odds_weights would refuse it), and the
    # corner with every trust at 0 votes every source's opposite with infinite weight; its loss is computed here
    p = [0.8, 0.7, 0.6, 0.65]
    best = accuracy_brute(p, logit(p))
    reversed_majority = accuracy_brute(p, [-math.inf] * 4)
    curve = wt.accuracy_loss_curve(p, [3.0], space="probability", draws=10, seed=0)
    worst = curve.loc[0, "worst_loss"]
    assert worst >= best - reversed_majority - 1e-12
    assert worst <= 2 * best - 1 + 1e-12
    assert 0.0 <= curve.loc[0, "mean_loss"] <= worst


def test_loss_curve_stderr_is_the_standard_error_of_the_draws():
    # with two sources every rule follows one of them (or its opposite): A(p, w') is 0.8, 0.6, 0.4 or 0.2, so each
    # drawn loss is one of four numbers and (mean_loss, stderr) must come from some counts of them
    p = [0.8, 0.6]
    best = accuracy_brute(p, logit(p))
    losses = np.array(sorted({round(best - accuracy_brute(p, w), 12) for w in ([1, .5], [.5, 1], [-1, .5], [.5, -1])}))
    assert losses.tolist() == [0.0, 0.2, 0.4, 0.6]
    draws = 12
    counts = np.array([c for c in itertools.product(range(draws + 1), repeat=4) if sum(c) == draws])
    means = counts @ losses / draws
    stderrs = np.sqrt((counts * (losses - means[:, None]) ** 2).sum(axis=1) / (draws - 1) / draws)
    seen_spread = False
    for seed in range(6):
        curve = wt.accuracy_loss_curve(p, [0.7, 2.5], draws=draws, seed=seed)
        for m, se in zip(curve["mean_loss"], curve["stderr"]):
            assert ((np.abs(means - m) < 1e-12) & (np.abs(stderrs - se) < 1e-12)).any(), (m, se)
            seen_spread |= se > 0
    assert seen_spread  # the check above was not only about zeros
    # two draws: the losses are mean -+ stderr
    for seed in range(6):
        curve = wt.accuracy_loss_curve(p, [2.5], draws=2, seed=seed)
        m, se = curve.loc[0, "mean_loss"], curve.loc[0, "stderr"]
        for loss in (m - se, m + se):
            assert np.abs(losses - loss).min() < 1e-12


def test_loss_curve_is_reproducible_from_the_seed():
    p, sizes = [0.8, 0.7, 0.6, 0.65, 0.55], [0.0, 0.4, 1.5]
    for space in ("logit", "probability"):
        a = wt.accuracy_loss_curve(p, sizes, space=space, draws=50, seed=11)
        b = wt.accuracy_loss_curve(p, sizes, space=space, draws=50, seed=11)
        c = wt.accuracy_loss_curve(p, sizes, space=space, draws=50, seed=12)
        assert a.equals(b)
        assert not np.array_equal(a["mean_loss"].to_numpy()[1:], c["mean_loss"].to_numpy()[1:])


@pytest.mark.parametrize(("space", "sizes"), [("logit", [0.0, 0.1, 0.3, 0.6, 1.0, 2.0]),
                                              ("probability", [0.0, 0.02, 0.05, 0.1, 0.2, 0.4])])
def test_loss_grows_with_the_size_of_the_perturbation(space, sizes):
    curve = wt.accuracy_loss_curve([0.85, 0.7, 0.65, 0.6, 0.55], sizes, space=space, draws=400, seed=5)
    m, se = curve["mean_loss"].to_numpy(), curve["stderr"].to_numpy()
    assert m[0] == 0.0
    assert m[-1] > 10 * se[-1] > 0  # a large perturbation costs accuracy, far beyond the noise
    assert (np.diff(m) > -3 * np.hypot(se[1:], se[:-1])).all()  # never falls by more than the noise


# --- bad input ------------------------------------------------------------------------------------------------
P2 = [0.6, 0.7]

CASES = [  # (call, error type, message)
    (lambda: wt.derivatives(P2, [1.0]), ValueError,
     "weights must have one entry per source, like q; weights has shape (1,) but q has shape (2,)."),
    (lambda: wt.derivatives([0.5, 1.6], [1, 1]), ValueError, "q must lie in [0, 1]; q[1] = 1.6."),
    (lambda: wt.derivatives(P2, [1.0, np.nan]), ValueError,
     "weights must not be NaN (±inf is allowed); weights[1] = nan."),
    (lambda: wt.derivatives(P2, [1, 1], prior=1), ValueError,
     "prior must lie strictly between 0 and 1; got prior = 1.0."),
    (lambda: wt.derivatives([], []), ValueError, "q must have at least one source; got shape (0,)."),
    (lambda: wt.derivatives([0.6] * 53, np.arange(1.0, 54.0)), ValueError,
     "q must have at most 52 sources for an exact accuracy of each row; got n = 53."),
    (lambda: wt.decision_margin([1.0, np.inf]), ValueError,
     "weights must be finite here (an infinite weight decides alone); weights[1] = inf."),
    (lambda: wt.decision_margin([-np.inf, 1.0]), ValueError,
     "weights must be finite here (an infinite weight decides alone); weights[0] = -inf."),
    (lambda: wt.decision_margin(np.ones(45)), ValueError, "weights must have at most 44 sources here; got n = 45."),
    (lambda: wt.decision_margin([]), ValueError, "weights must have at least one source; got shape (0,)."),
    (lambda: wt.decision_margin([1.0, np.nan]), ValueError,
     "weights must not be NaN (±inf is allowed); weights[1] = nan."),
    (lambda: wt.decision_margin([1.0], prior=0), ValueError,
     "prior must lie strictly between 0 and 1; got prior = 0.0."),
    (lambda: wt.trust_radius([0.5, 1.0]), ValueError,
     "trust must lie strictly between 0 and 1 here; trust[1] = 1.0."),
    (lambda: wt.trust_radius([0.0, 0.5], space="probability"), ValueError,
     "trust must lie strictly between 0 and 1 here; trust[0] = 0.0."),
    (lambda: wt.trust_radius([0.6, 1.2]), ValueError, "trust must lie in [0, 1]; trust[1] = 1.2."),
    (lambda: wt.trust_radius(P2, space="prob"), ValueError, "space must be one of 'logit', 'probability'; got 'prob'."),
    (lambda: wt.trust_radius([0.6] * 25, space="probability"), ValueError,
     "trust must have at most 24 sources for space='probability'; got n = 25. Use space='logit'."),
    (lambda: wt.trust_radius([0.6] * 45), ValueError, "trust must have at most 44 sources; got n = 45."),
    (lambda: wt.trust_radius(P2, prior=1.5), ValueError, "prior must lie strictly between 0 and 1; got prior = 1.5."),
    (lambda: wt.accuracy_loss_curve(P2, [0.5, -1.0]), ValueError,
     "sizes must be a non-empty list of finite numbers >= 0; got [0.5, -1.0]."),
    (lambda: wt.accuracy_loss_curve(P2, []), ValueError, "sizes must be a non-empty list of finite numbers >= 0; got []."),
    (lambda: wt.accuracy_loss_curve(P2, [np.nan]), ValueError,
     "sizes must be a non-empty list of finite numbers >= 0; got [nan]."),
    (lambda: wt.accuracy_loss_curve(P2, [[0.1, 0.2]]), ValueError,
     "sizes must be a non-empty list of finite numbers >= 0; got [[0.1, 0.2]]."),
    (lambda: wt.accuracy_loss_curve([0.6, 1.0], [0.1]), ValueError,
     "p must lie strictly between 0 and 1 here; p[1] = 1.0."),
    (lambda: wt.accuracy_loss_curve([0.0, 0.5], [0.1]), ValueError,
     "p must lie strictly between 0 and 1 here; p[0] = 0.0."),
    (lambda: wt.accuracy_loss_curve(P2, [0.1], space="x"), ValueError,
     "space must be one of 'logit', 'probability'; got 'x'."),
    (lambda: wt.accuracy_loss_curve(P2, [0.1], draws=0), ValueError,
     "draws must be a whole number >= 1; got draws = 0."),
    (lambda: wt.accuracy_loss_curve(P2, [0.1], seed=-1), ValueError,
     "seed must be None or a whole number >= 0; got seed = -1."),
    (lambda: wt.accuracy_loss_curve(P2, [0.1], prior=0.0), ValueError,
     "prior must lie strictly between 0 and 1; got prior = 0.0."),
]


@pytest.mark.parametrize(("call", "error", "message"), CASES)
def test_bad_input_raises_the_documented_error(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


def test_infinite_size_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="sizes must"):
        wt.accuracy_loss_curve(P2, [0.5, np.inf])
