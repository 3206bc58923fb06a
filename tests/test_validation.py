"""Every bad input raises the documented error, with its message pinned (one table)."""

import re

import numpy as np
import pandas as pd
import pytest

import wmvtrust as wt

Q2, W2 = [0.6, 0.7], [1.0, 1.0]
GENERIC = np.random.default_rng(0).uniform(0.1, 2.0, 60)  # weights on no lattice

CASES = [  # (call, error type, message)
    (lambda: wt.accuracy([0.5, 0.6, 0.7, 1.2, -1, 2], [1] * 6), ValueError,
     "q must lie in [0, 1]; q[3] = 1.2 (2 more entries are out of range)."),
    (lambda: wt.accuracy([0.5, np.nan], W2), ValueError, "q must not be NaN; q[1] = nan."),
    (lambda: wt.accuracy([], []), ValueError, "q must have at least one source; got shape (0,)."),
    (lambda: wt.accuracy([[0.5, 0.5]], W2), ValueError,
     "q must be one-dimensional, one entry per source; got shape (1, 2)."),
    (lambda: wt.accuracy(["a"], [1]), TypeError, "q must be an array of real numbers; got dtype <U1."),
    (lambda: wt.accuracy([0.5] * 5, [1] * 4), ValueError,
     "weights must have one entry per source, like q; weights has shape (4,) but q has shape (5,)."),
    (lambda: wt.accuracy(Q2, [1, np.nan]), ValueError,
     "weights must not be NaN (±inf is allowed); weights[1] = nan."),
    (lambda: wt.accuracy(Q2, W2, prior=1.0), ValueError, "prior must lie strictly between 0 and 1; got prior = 1.0."),
    (lambda: wt.accuracy(Q2, W2, prior=0), ValueError, "prior must lie strictly between 0 and 1; got prior = 0.0."),
    (lambda: wt.accuracy(Q2, W2, prior=float("nan")), ValueError,
     "prior must lie strictly between 0 and 1; got prior = nan."),
    (lambda: wt.accuracy(Q2, W2, prior="x"), TypeError, "prior must be a real number in (0, 1); got 'x'."),
    (lambda: wt.accuracy(Q2, W2, method="fast"), ValueError,
     "method must be one of 'auto', 'enumerate', 'mitm', 'lattice', 'bounds'; got 'fast'."),
    (lambda: wt.accuracy([0.6] * 31, GENERIC[:31], method="enumerate"), ValueError,
     "q must have at most 30 sources with finite weight for method='enumerate'; got n = 31. Use method='mitm', "
     "method='bounds' (a certified interval), or accuracy_mc (an estimate)."),
    (lambda: wt.accuracy([0.6] * 53, GENERIC[:53], method="mitm"), ValueError,
     "q must have at most 52 sources with finite weight for method='mitm'; got n = 53. Use method='bounds' "
     "(a certified interval), or accuracy_mc (an estimate)."),
    (lambda: wt.accuracy([0.6] * 60, GENERIC), ValueError,
     "q must have at most 52 sources with finite weight, or weights on a lattice, for an exact method; got n = 60 "
     "and weights on no lattice. Use method='bounds' (a certified interval), or accuracy_mc (an estimate)."),
    (lambda: wt.accuracy([0.6] * 40, np.ones(40), method="enumerate"), ValueError,
     "got n = 40. Use method='lattice', method='mitm', method='bounds'"),
    (lambda: wt.accuracy([0.6] * 5, GENERIC[:5], method="lattice"), ValueError,
     "weights must be integer multiples of one step for method='lattice', with under 67108864 lattice points; "
     "these are not. Use method='enumerate', method='mitm', method='bounds'"),
    (lambda: wt.accuracy(Q2, W2, resolution=8), ValueError,
     "resolution and width must be given only with method='bounds'; got method='auto'."),
    (lambda: wt.accuracy(Q2, W2, method="bounds", resolution=8, width=0.1), ValueError,
     "resolution and width must not both be given; choose a resolution or a target width."),
    (lambda: wt.accuracy(Q2, W2, method="bounds", resolution=0), ValueError,
     "resolution must be a whole number >= 1; got resolution = 0."),
    (lambda: wt.accuracy(Q2, W2, method="bounds", resolution=2.5), TypeError,
     "resolution must be a whole number >= 1; got 2.5."),
    (lambda: wt.accuracy(Q2, W2, method="bounds", width=-1.0), ValueError,
     "width must be a finite real number > 0; got width = -1.0."),
    (lambda: wt.accuracy(Q2, [1e6, 1e-6], method="bounds", resolution=10**8), ValueError,
     "resolution must keep the lattice under 67108864 points; resolution = 100000000 gives 100000000"),
    (lambda: wt.accuracy_mc(Q2, W2, trials=0), ValueError, "trials must be a whole number >= 1; got trials = 0."),
    (lambda: wt.accuracy_mc(Q2, W2, trials=1.5), TypeError, "trials must be a whole number >= 1; got 1.5."),
    (lambda: wt.accuracy_mc(Q2, W2, trials=True), TypeError, "trials must be a whole number >= 1; got True."),
    (lambda: wt.accuracy_mc(Q2, W2, trials=10, seed=-1), ValueError,
     "seed must be None or a whole number >= 0; got seed = -1."),
    (lambda: wt.accuracy_mc(Q2, W2, trials=10, seed="0"), TypeError,
     "seed must be None or a whole number >= 0; got '0'."),
    (lambda: wt.accuracy_mc(Q2, W2, trials=10, confidence=1), ValueError,
     "confidence must lie strictly between 0 and 1; got confidence = 1.0."),
    (lambda: wt.accuracy_mc([0.5, 2.0], W2, trials=10), ValueError, "q must lie in [0, 1]; q[1] = 2.0."),
    (lambda: wt.decide([[1, 0]], W2), ValueError, "votes must contain only +1 and -1; votes[0, 1] = 0.0."),
    (lambda: wt.decide([[1, 1], [1, np.nan]], W2), ValueError,
     "votes must contain only +1 and -1; votes[1, 1] = nan."),
    (lambda: wt.decide([[1, 1, 1]], W2), ValueError,
     "votes must have shape (n_sources,) or (n_profiles, n_sources) with n_sources = 2 as in weights; "
     "got shape (1, 3)."),
    (lambda: wt.decide([[1, 1]], W2, ties="maybe"), ValueError, "ties must be one of 'coin', 'report'; got 'maybe'."),
    (lambda: wt.decide([[1, 1]], W2, prior=1.5), ValueError,
     "prior must lie strictly between 0 and 1; got prior = 1.5."),
    (lambda: wt.decide([[1, 1]], [1.0, np.nan]), ValueError,
     "weights must not be NaN (±inf is allowed); weights[1] = nan."),
    (lambda: wt.log_odds_weights([0.5, 1.5]), ValueError, "trust must lie in [0, 1]; trust[1] = 1.5."),
    (lambda: wt.log_odds_weights([0.5, np.nan]), ValueError, "trust must not be NaN; trust[1] = nan."),
]


@pytest.mark.parametrize(("call", "error", "message"), CASES)
def test_bad_input_raises_the_documented_error(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


def test_inputs_are_never_modified():
    """Validation copies: the caller's arrays are left as they were."""
    q, w = np.array([0.7, 0.2, 0.9]), np.array([1.0, -2.0, np.inf])
    votes = np.array([[1, -1, 1], [-1, -1, 1]])
    before = q.copy(), w.copy(), votes.copy()
    wt.accuracy(q, w, prior=0.3)
    wt.accuracy_mc(q, w, trials=100, seed=0)
    wt.decide(votes, w, seed=0)
    for now, then in zip((q, w, votes), before):
        np.testing.assert_array_equal(now, then)


VOTES = np.array([[1, 1, -1], [1, -1, -1], [-1, -1, -1], [1, 1, 1]])
CROWD = pd.DataFrame({"task": [1, 1, 1, 2, 2, 2], "worker": list("abcabc"), "label": list("xxyyyx")})
GOLD = pd.DataFrame({"task": [1, 2], "label": ["x", "y"]})
RENAMED = [  # (name, call with the new name, call with the old name, the fitted value to compare)
    ("from_track_record", lambda **k: wt.BetaTrust.from_track_record([3, 1], [1, 2], **k), lambda r: r.alpha),
    ("trust_from_gold", lambda **k: wt.trust_from_gold(VOTES, [1, 1, -1, 1], **k), lambda r: r.beta),
    ("trust_em", lambda **k: wt.trust_em(VOTES, **k), lambda r: r.trust.alpha),
    ("frequentist_soc_gap", lambda **k: wt.frequentist_soc_gap([0.7, 0.6], 2, **k), lambda r: r.value),
    ("expected_regret", lambda **k: wt.expected_regret([0.7, 0.6], 2, **k), lambda r: r.value),
    ("WeightedMajorityVote", lambda **k: wt.WeightedMajorityVote("gold", **k).fit(CROWD, GOLD),
     lambda r: r.trust_["mean"].to_numpy()),
    ("DifficultyAwareVote", lambda **k: wt.DifficultyAwareVote(**k).fit(CROWD, GOLD),
     lambda r: r.trust_.to_numpy()),
    ("TrustEnsemble", lambda **k: wt.TrustEnsemble(**k).fit(VOTES, [1, 1, -1, 1]), lambda r: r.predict_proba(VOTES)),
]


@pytest.mark.parametrize(("name", "call", "value"), RENAMED, ids=[r[0] for r in RENAMED])
def test_the_former_name_of_beta_prior_still_works_for_one_release(name, call, value):
    """``prior=`` (a Beta pair) is now ``beta_prior=``: the old name gives the same result, with a FutureWarning."""
    new = value(call(beta_prior=(2.0, 3.0)))
    with pytest.warns(FutureWarning, match=re.escape("prior= is renamed beta_prior= and will be removed")):
        old = value(call(prior=(2.0, 3.0)))
    np.testing.assert_array_equal(old, new)
    assert not np.array_equal(value(call()), new)  # the prior is used, not ignored


def test_the_former_name_of_dirichlet_prior_still_works_for_one_release():
    new = wt.ConfusionMatrixVote("gold", dirichlet_prior=0.5).fit(CROWD, GOLD).confusion_
    with pytest.warns(FutureWarning, match=re.escape("prior= is renamed dirichlet_prior=")):
        old = wt.ConfusionMatrixVote("gold", prior=0.5).fit(CROWD, GOLD).confusion_
    np.testing.assert_array_equal(old, new)
    assert not np.array_equal(wt.ConfusionMatrixVote("gold").fit(CROWD, GOLD).confusion_, new)
