"""Tests of wmvtrust.accuracy against a plain-Python brute force (tests/brute.py) and exact Fractions."""

import math
import sys
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.stats import poisson_binom

import wmvtrust as wt
from brute import accuracy_brute, accuracy_exact, accuracy_numpy, near_tie_mass
from wmvtrust.accuracy import accuracy_rows

EXACT = ("enumerate", "mitm", "lattice")
TOL = 1e-12
LOW_BITS = 12  # the enumeration kernel tabulates 2**12 profiles in its inner block (wmvtrust/_kernels/enumerate.py)
ENUMERATE_UP_TO = 16  # accuracy_rows enumerates up to 16 sources, meet-in-the-middle beyond (_kernels/rows.py)
MAX_N = ENUMERATE_UP_TO + 2  # Hypothesis instances go past both: several enumeration blocks, the rows' mitm


def reference(q, w, prior=0.5):
    """The accuracy by brute force: tests/brute.py's plain Python up to 12 sources, its numpy enumeration beyond."""
    return accuracy_brute(q, w, prior) if len(q) <= LOW_BITS else accuracy_numpy(q, w, prior)

# ---------------------------------------------------------------- strategies

prob = st.floats(0.0, 1.0) | st.sampled_from([0.0, 1.0])  # trustworthiness, 0 and 1 often


@st.composite
def probabilities(draw, n):
    """n trustworthiness values, a few of them (sometimes) exactly 0 or 1."""
    q = draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n))
    for i in draw(st.lists(st.integers(0, n - 1), max_size=3)):
        q[i] = draw(st.sampled_from([0.0, 1.0]))
    return q


@st.composite
def trusts(draw, n):
    """Trust values rich in exact ties: repeats, pairs t and 1 - t, 1/2, and (sometimes) 0 and 1."""
    pool = draw(st.lists(st.floats(0.001, 0.999), min_size=1, max_size=3))
    pool += [1.0 - t for t in pool] + [0.5]
    if draw(st.booleans()):
        pool += [0.0, 1.0]  # infinite weights
    each = st.sampled_from(pool) if draw(st.booleans()) else st.sampled_from(pool) | st.floats(0.001, 0.999)
    return draw(st.lists(each, min_size=n, max_size=n))


@st.composite
def lattice_weights(draw, n):
    """Integer multiples of one step: small integers (zeros included), times a random step or not, or all equal."""
    kind = draw(st.sampled_from(["integer", "multiple", "equal"]))
    if kind == "equal":
        return [draw(st.floats(0.001, 100.0))] * n
    w = draw(st.lists(st.integers(-4, 4), min_size=n, max_size=n))
    step = 1.0 if kind == "integer" else draw(st.floats(0.001, 1000.0))
    w = [k * step for k in w]
    for i in draw(st.lists(st.integers(0, n - 1), max_size=3)):  # some infinite weights
        w[i] = draw(st.sampled_from([math.inf, -math.inf]))
    return w


@st.composite
def instances(draw, lattice=False, min_n=1, max_n=MAX_N):
    """(q, w, prior): tie-rich weights, infinite weights, q with 0 and 1, and priors whose bias ties with a weight."""
    n = draw(st.integers(min_n, max_n))
    q = draw(probabilities(n))
    if lattice or draw(st.booleans()):
        w = draw(lattice_weights(n))
    else:
        w = [float(x) for x in wt.log_odds_weights(draw(trusts(n)))]
    tying = [1.0 / (1.0 + math.exp(-x)) for x in w if 0 < abs(x) <= 5]  # bias b = ±w_i
    prior = draw(st.just(0.5) | st.floats(0.05, 0.95) | st.sampled_from(tying or [0.5]))
    return q, w, prior


def method_instances(method):
    return instances(lattice=(method == "lattice"))


# ---------------------------------------------------------------- the reference itself
# test_oracle_*: these check the oracles of tests/brute.py against each other, not the library; every library test
# below relies on them.


@given(st.lists(st.tuples(prob, st.integers(-3, 3) | st.sampled_from([math.inf, -math.inf])), min_size=1, max_size=8))
def test_oracle_brute_force_agrees_with_fraction_oracle(sources):
    """The float brute force with its tie tolerance equals the exact rational accuracy (integer weights)."""
    q, w = zip(*sources)
    assert accuracy_brute(q, w) == pytest.approx(float(accuracy_exact(q, w)), abs=TOL)


@settings(max_examples=50)
@given(instances(max_n=LOW_BITS))
def test_oracle_numpy_enumeration_agrees_with_brute_force(instance):
    """tests/brute.py's numpy enumeration (the reference beyond 12 sources) equals its plain-Python brute force."""
    q, w, prior = instance
    assert accuracy_numpy(q, w, prior) == pytest.approx(accuracy_brute(q, w, prior), abs=TOL)


def test_the_instances_reach_past_the_kernels_block_sizes():
    """If the kernels' block sizes grow, the sizes above must follow, or the blocks go untested."""
    from wmvtrust._kernels import enumerate as enumeration, rows

    assert (enumeration.LOW_BITS, rows.ENUMERATE_UP_TO) == (LOW_BITS, ENUMERATE_UP_TO)
    assert MAX_N > max(LOW_BITS, ENUMERATE_UP_TO) and max(n for n, _, _ in LARGE) >= LOW_BITS + 8


# ---------------------------------------------------------------- exact methods


@pytest.mark.parametrize("method", EXACT + ("auto",))
@given(data=st.data())
def test_exact_methods_equal_brute_force(method, data):
    """Each exact method (lattice on lattice weights) equals the brute force, ties, ±inf and priors included."""
    q, w, prior = data.draw(method_instances(method))
    acc = wt.accuracy(q, w, prior=prior, method=method)
    assert acc.method == method if method != "auto" else acc.method in EXACT
    assert acc.lower is None and acc.upper is None
    assert acc.value == pytest.approx(reference(q, w, prior), abs=TOL)


@pytest.mark.parametrize("method", EXACT + ("auto",))
@given(st.lists(st.tuples(st.integers(0, 16), st.integers(-3, 3) | st.sampled_from([math.inf, -math.inf])),
                min_size=1, max_size=10))
def test_exact_methods_equal_fraction_oracle(method, sources):
    """For integer weights (and q on a 1/16 grid) each exact method equals the rational accuracy."""
    q, w = [k / 16 for k, _ in sources], [x for _, x in sources]
    assert wt.accuracy(q, w, method=method).value == pytest.approx(float(accuracy_exact(q, w)), abs=TOL)


@pytest.mark.parametrize("q, w, prior, expected", [
    (0.8, 1.0, 0.5, 0.8),  # one source decides
    (0.8, -1.0, 0.5, 0.2),  # ... against its report
    (0.8, 0.0, 0.5, 0.5),  # a zero weight: every profile ties
    (0.8, 0.0, 0.7, 0.7),  # ... and the prior decides
    (0.8, math.inf, 0.7, 0.8),  # an infinite weight overrides the prior
    (0.8, -math.inf, 0.7, 0.2),
    (0.8, 1.0, 1 / (1 + math.exp(-2)), 1 / (1 + math.exp(-2))),  # bias 2 > |w|: always decide +1
    (0.8, 1.0, 1 / (1 + math.exp(-1)),  # bias 1 = w: S + b ties when the source is wrong, S - b when right
     0.8 * (1 / (1 + math.exp(-1)) + 0.5 * (1 - 1 / (1 + math.exp(-1)))) + 0.2 * 0.5 / (1 + math.exp(-1))),
])
@pytest.mark.parametrize("method", EXACT + ("auto",))
def test_one_source_by_hand(method, q, w, prior, expected):
    """n = 1 accuracies worked out by hand from the definition."""
    assert wt.accuracy([q], [w], prior=prior, method=method).value == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize("seed", range(5))
def test_lattice_rejects_generic_weights(seed):
    """Random real weights lie on no lattice, so method='lattice' refuses them."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 13))
    with pytest.raises(ValueError, match="method='lattice'"):
        wt.accuracy(rng.uniform(0, 1, n), rng.normal(size=n), method="lattice")


@pytest.mark.parametrize("n, kind, prior", [(20, "generic", 0.5), (23, "ties", 0.3), (24, "integer", 0.5),
                                            (25, "infinite", 0.7), (28, "generic", 0.2), (29, "ties", 0.5),
                                            (30, "infinite", 0.4)])
def test_mitm_equals_enumerate_for_larger_n(n, kind, prior):
    """Meet-in-the-middle (serial, and parallel from 28 finite weights) equals enumeration, ties and ±inf included."""
    rng = np.random.default_rng(n)
    q = rng.uniform(0, 1, n)
    if kind == "integer":
        w = rng.integers(-3, 4, n).astype(float)
    else:
        t = rng.uniform(0.05, 0.95, n)
        if kind == "ties":
            t[: n // 2] = rng.choice([0.6, 0.7, 0.4], n // 2)  # repeats and the pair 0.6, 0.4
        if kind == "infinite":
            t[:2] = [1.0, 0.0]
        w = wt.log_odds_weights(t)
    mitm = wt.accuracy(q, w, prior=prior, method="mitm").value
    assert mitm == pytest.approx(wt.accuracy(q, w, prior=prior, method="enumerate").value, abs=TOL)


def _large_instance(n, kind, rng):
    """q and weights for n sources: generic log-odds, tie-rich log-odds (repeats and pairs t, 1 - t, with q 0 and 1),
    small integers (many exact ties, zeros included), or log-odds with a +inf and a -inf weight."""
    q = rng.uniform(0, 1, n)
    if kind == "integer":
        return q, rng.integers(-3, 4, n).astype(float)
    t = rng.uniform(0.05, 0.95, n)
    if kind == "ties":
        q[:2] = [0.0, 1.0]
        t[: n - 3] = rng.choice([0.6, 0.4, 0.7, 0.3, 0.5], n - 3)
    if kind == "infinite":
        t[[3, 5]] = [1.0, 0.0]
    return q, wt.log_odds_weights(t)


def _prior(w, prior):
    """The prior; "tying": the prior whose bias ln(prior / (1 - prior)) equals |w_i| of the last finite weight."""
    return 1.0 / (1.0 + math.exp(-abs(w[np.isfinite(w)][-1]))) if prior == "tying" else prior


LARGE = [(13, "generic", 0.5), (13, "integer", 0.5), (14, "ties", 0.3), (15, "infinite", 0.7),
         (16, "integer", 0.2), (17, "ties", 0.5), (18, "generic", 0.4), (19, "infinite", 0.5),
         (20, "integer", 0.6), (20, "ties", "tying")]


@pytest.mark.parametrize("n, kind, prior", LARGE)
def test_enumerate_beyond_one_block_equals_numpy_enumeration(n, kind, prior):
    """13 to 20 sources: the enumeration kernel combines 2**(n - 12) blocks of 2**12 profiles; the result
    equals tests/brute.py's numpy enumeration of all 2**n profiles (ties, ±inf, q 0 and 1, priors)."""
    q, w = _large_instance(n, kind, np.random.default_rng([n, LARGE.index((n, kind, prior))]))
    prior = _prior(w, prior)
    expected = accuracy_numpy(q, w, prior)
    acc = wt.accuracy(q, w, prior=prior, method="enumerate")
    assert acc.method == "enumerate"
    assert acc.value == pytest.approx(expected, abs=TOL)
    assert wt.accuracy(q, w, prior=prior, method="mitm").value == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize("n", [12, 13, 16, 17, 20])
@pytest.mark.parametrize("prior", [0.5, 0.3, "tying"])
def test_accuracy_rows_equals_numpy_enumeration(n, prior):
    """accuracy_rows (enumeration up to 16 sources per row, meet-in-the-middle beyond, rows with ±inf one by one)
    equals tests/brute.py's numpy enumeration row by row, with the prior's bias on both sides of the truth."""
    rng = np.random.default_rng([n, 7])
    rows = [_large_instance(n, kind, rng) for kind in ("generic", "integer", "ties", "infinite", "integer")]
    q, w = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
    prior = _prior(w[2], prior)
    got = accuracy_rows(q, w, prior)
    assert got.shape == (len(rows),)
    for k in range(len(rows)):
        assert got[k] == pytest.approx(accuracy_numpy(q[k], w[k], prior), abs=TOL), k


@settings(max_examples=40)
@given(st.integers(1, MAX_N).flatmap(lambda n: st.lists(instances(min_n=n, max_n=n), min_size=1, max_size=4)))
def test_accuracy_rows_equals_brute_force(batch):
    """accuracy_rows on Hypothesis' tie-rich rows (1 to 18 sources, ±inf, q 0 and 1) at the first row's prior."""
    q, w, prior = np.array([b[0] for b in batch]), np.array([b[1] for b in batch]), batch[0][2]
    got = accuracy_rows(q, w, prior)
    for k in range(len(batch)):
        assert got[k] == pytest.approx(reference(q[k], w[k], prior), abs=TOL), k


@settings(max_examples=25)  # 2**28 profiles per enumeration
@given(instances(min_n=28, max_n=30))
def test_parallel_mitm_equals_enumerate(instance):
    """The parallel meet-in-the-middle kernel (28+ finite weights) equals enumeration on tie-rich instances."""
    q, w, prior = instance
    assume(np.isfinite(w).sum() >= 28)
    mitm = wt.accuracy(q, w, prior=prior, method="mitm").value
    assert mitm == pytest.approx(wt.accuracy(q, w, prior=prior, method="enumerate").value, abs=TOL)


@pytest.mark.parametrize("method", ["lattice", "auto"])
@pytest.mark.parametrize("n", [1, 2, 7, 10, 501, 1000, 3001])
def test_equal_weights_give_poisson_binomial_tail(method, n):
    """Equal-weight voting is P(U > n/2) + P(U = n/2)/2 for the Poisson-binomial count U of correct sources."""
    rng = np.random.default_rng(n)
    q = rng.uniform(0.4, 0.62, n)
    q[: n // 10] = rng.choice([0.0, 1.0], n // 10)
    u = poisson_binom(q)
    expected = u.sf(n // 2) + (0.5 * u.pmf(n // 2) if n % 2 == 0 else 0.0)
    acc = wt.accuracy(q, np.full(n, rng.uniform(0.1, 5)), method=method)
    assert acc.method == "lattice" or n <= 52  # beyond 52 sources only the lattice is exact
    assert acc.value == pytest.approx(expected, abs=TOL)


# ---------------------------------------------------------------- certified bounds


def _width(acc):
    return acc.upper - acc.lower


def _contains(acc, reference, n):
    """lower <= reference <= upper, up to the brute force's own rounding (under 2n + 4 per term)."""
    rounding = (2 * n + 4) * sys.float_info.epsilon
    return acc.lower - rounding <= reference <= acc.upper + rounding


@given(instances(), st.sampled_from([None, 1, 2, 5, 64, 1000]))
def test_bounds_contain_brute_force(instance, resolution):
    """The certified interval contains the accuracy at every resolution (None: the default width 1e-6)."""
    q, w, prior = instance
    acc = wt.accuracy(q, w, prior=prior, method="bounds", resolution=resolution)
    assert acc.method == "bounds" and acc.value == pytest.approx(0.5 * (acc.lower + acc.upper), abs=1e-15)
    assert 0.0 <= acc.lower <= acc.upper <= 1.0
    assert _contains(acc, reference(q, w, prior), len(q))
    if resolution is None:
        assert _width(acc) <= 1e-6


@pytest.mark.parametrize("seed", range(6))
def test_bounds_width_shrinks_with_resolution(seed):
    """Width at resolution R is at most the mass within n * max|w| / R of a tie, so it vanishes as R grows.

    Not monotone step by step: rounding to the nearest point of a finer lattice can make a group of
    profiles straddle a tie that the coarser lattice kept apart (q = [.5, 1, .1], w = [1.9, .69, .9]:
    width ~1e-14 at resolution 1, 0.05 at resolution 2), so the test bounds the width by a
    decreasing envelope instead.
    """
    rng = np.random.default_rng(seed)
    n = int(rng.integers(6, 12))
    q, w, prior = rng.uniform(0, 1, n), rng.normal(size=n), rng.uniform(0.2, 0.8)
    tol = 1e-12 * (np.abs(w).sum() + abs(math.log(prior / (1 - prior))))
    slack = 8 * (n + 1) * sys.float_info.epsilon  # the library's stated allowance for the DP's rounding
    widths = []
    for resolution in 2 ** np.arange(15):
        widths.append(_width(wt.accuracy(q, w, prior=prior, method="bounds", resolution=int(resolution))))
        radius = n * np.abs(w).max() / resolution + 2 * tol  # rounding moves a sum by at most n * step / 2
        assert widths[-1] <= near_tie_mass(q, w, prior, radius) + slack
    assert widths[-1] < widths[0] and widths[-1] <= TOL


@pytest.mark.parametrize("width", [1e-3, 1e-10])
@given(instance=instances(max_n=10))
def test_bounds_meet_width_target(width, instance):
    """Asked for a width, the interval is that narrow (no budget warning) and still contains the accuracy."""
    q, w, prior = instance
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        acc = wt.accuracy(q, w, prior=prior, method="bounds", width=width)
    assert _width(acc) <= width
    assert _contains(acc, accuracy_brute(q, w, prior), len(q))


@pytest.mark.parametrize("seed", range(4))
def test_bounds_width_vanishes_with_ties_off_lattice(seed):
    """Exact ties among generic (non-lattice) weights still let the certified width go to ~0."""
    rng = np.random.default_rng(seed)
    a, b, c, d = rng.uniform(0.05, 0.95, 4)
    t = [a, a, b, 1 - b, c, d, c] + ([1.0, 0.0] if seed % 2 else [])  # ties: a - a, b + (1 - b), ±inf
    q, w, prior = rng.uniform(0, 1, len(t)), wt.log_odds_weights(t), (0.5, a)[seed // 2]  # prior a: b ties w
    with pytest.raises(ValueError, match="method='lattice'"):
        wt.accuracy(q, w, method="lattice")  # these weights are on no lattice
    acc = wt.accuracy(q, w, prior=prior, method="bounds", width=1e-12)
    assert _width(acc) <= 1e-12
    assert _contains(acc, accuracy_brute(q, w, prior), len(q))


# ---------------------------------------------------------------- properties


@given(st.integers(1, 10).flatmap(lambda n: st.tuples(
    st.lists(prob, min_size=n, max_size=n),
    st.lists(st.floats(-5, 5) | st.integers(-3, 3) | st.sampled_from([math.inf, -math.inf]), min_size=n, max_size=n),
    st.just(0.5) | st.floats(0.05, 0.95))))
def test_log_odds_weights_are_optimal(case):
    """Nitzan-Paroush: weights log(q / (1 - q)) reach the highest accuracy of any weights, at any prior."""
    q, other, prior = case
    best = wt.accuracy(q, wt.log_odds_weights(q), prior=prior).value
    assert best >= wt.accuracy(q, other, prior=prior).value - TOL


@pytest.mark.parametrize("method", EXACT + ("auto",))
@settings(max_examples=50)  # two calls per example
@given(data=st.data())
def test_accuracy_invariant_under_permuting_sources(method, data):
    """Relabelling the sources (q and weights together) does not change the accuracy."""
    q, w, prior = data.draw(method_instances(method))
    perm = data.draw(st.permutations(range(len(q))))
    permuted = wt.accuracy([q[i] for i in perm], [w[i] for i in perm], prior=prior, method=method).value
    assert permuted == pytest.approx(wt.accuracy(q, w, prior=prior, method=method).value, abs=TOL)


@pytest.mark.parametrize("method", EXACT + ("auto",))
@settings(max_examples=50)  # two calls per example
@given(data=st.data())
def test_flipping_weights_and_q_preserves_accuracy(method, data):
    """At prior 1/2, (q, w) and (1 - q, -w) describe the same vote distribution, hence the same accuracy."""
    q, w, _ = data.draw(method_instances(method))
    flipped = wt.accuracy([1.0 - x for x in q], [-x for x in w], method=method).value
    assert flipped == pytest.approx(wt.accuracy(q, w, method=method).value, abs=TOL)
