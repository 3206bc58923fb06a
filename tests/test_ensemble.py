"""TrustEnsemble and plurality_vote, each checked against a computation written here.

Trust against hand counts of the validation record (per quantile bin of a signal); the posterior
against the product over members of t or (1 - t) / (L - 1); plurality against counting; fitted
members against the prediction matrices they produce; the beliefs against their definitions, the
cross-fitted record against its own folds, and, on data simulated with a hard class where members err
together, the independence belief against the realised accuracy (proofs/soc_latent_class.md).
"""

import itertools
import math
import re

import numpy as np
import pytest
from scipy import stats

import wmvtrust as wt
from brute import accuracy_brute

# ---------------------------------------------------------------- helpers written for the tests


def random_record(rng, n, n_members, n_labels, skill=(0.3, 0.9)):
    """Validation truth and votes: member i right w.p. skill_i, else a uniform wrong label; all labels in y."""
    y = np.concatenate([np.arange(n_labels), rng.integers(0, n_labels, n - n_labels)])
    p = rng.uniform(*skill, n_members)
    right = rng.random((n, n_members)) < p
    wrong = (y[:, None] + rng.integers(1, n_labels, (n, n_members))) % n_labels
    return np.where(right, y[:, None], wrong), y


def member_bins(table, member, values):
    """Bin of each value from the fitted table's [low, high) ranges; asserts exactly one bin each."""
    rows = table.loc[member]
    inside = (values[:, None] >= rows["low"].to_numpy()) & (values[:, None] < rows["high"].to_numpy())
    assert (inside.sum(axis=1) == 1).all()  # every example in exactly one bin
    return rows.index.to_numpy()[inside.argmax(axis=1)]


def trust_of(ensemble, n_examples, signal=None):
    """Trust of each (example, member) read from trust_ (one bin without a signal)."""
    table = ensemble.trust_
    if signal is None:
        return np.tile(table["mean"].to_numpy(), (n_examples, 1))
    return np.column_stack([table.loc[i, "mean"].loc[member_bins(table, i, signal[:, i])].to_numpy()
                            for i in range(ensemble.n_members_)])


def brute_posterior(votes, trust, n_labels):
    """P(y | votes) proportional to prod_i (t_i if v_i = y else (1 - t_i) / (L - 1)), row by row, in plain Python."""
    out = np.empty((len(votes), n_labels))
    for j, (row, t) in enumerate(zip(votes, trust)):
        like = [math.prod(ti if vi == y else (1 - ti) / (n_labels - 1) for vi, ti in zip(row, t))
                for y in range(n_labels)]
        out[j] = [x / sum(like) for x in like]
    return out


def top_labels(probas, tol=1e-9):
    return [set(np.flatnonzero(row >= row.max() - tol)) for row in probas]


def all_profiles(n_members, n_labels):
    return np.array(list(itertools.product(range(n_labels), repeat=n_members)))


class Member:
    """A fitted classifier on inputs X = example indices: fixed predictions, probabilities and a margin."""

    def __init__(self, labels, proba):
        self.labels, self.proba = np.asarray(labels), np.asarray(proba)

    def predict(self, X):
        return self.labels[X]

    def predict_proba(self, X):
        return self.proba[X]

    def margin(self, X):
        top2 = np.sort(self.proba[X], axis=1)[:, -2:]
        return top2[:, 1] - top2[:, 0]


def members_from(votes, n_labels, rng):
    """One Member per column of votes, with random probabilities whose argmax is the vote."""
    members = []
    for i in range(votes.shape[1]):
        proba = rng.dirichlet(np.ones(n_labels), votes.shape[0])
        proba[np.arange(votes.shape[0]), votes[:, i]] += 1.0  # the predicted label is the most probable
        members.append(Member(votes[:, i], proba / proba.sum(axis=1, keepdims=True)))
    return members


def simulate(seed, n, n_labels=3, n_members=5, hard_share=0.2):
    """Latent-class data: on a hard example (share hard_share) every member is at chance 1/L, else right w.p. p_i."""
    rng = np.random.default_rng(seed)
    p_easy = rng.uniform(0.8, 0.95, n_members)
    y = rng.integers(0, n_labels, n)
    hard = rng.random(n) < hard_share
    right = rng.random((n, n_members)) < np.where(hard[:, None], 1 / n_labels, p_easy)
    wrong = (y[:, None] + rng.integers(1, n_labels, (n, n_members))) % n_labels
    return np.where(right, y[:, None], wrong), y


# ---------------------------------------------------------------- trust


def test_trust_is_the_beta_posterior_mean_of_each_members_record():
    rng = np.random.default_rng(1)
    votes, y = random_record(rng, 60, 4, 3)
    prior = (2.0, 3.5)
    ensemble = wt.TrustEnsemble(beta_prior=prior).fit(votes, y)
    right = np.array([sum(int(votes[j, i] == y[j]) for j in range(60)) for i in range(4)])
    table = ensemble.trust_
    assert list(table.index) == [(i, 0) for i in range(4)]  # one global bin per member
    np.testing.assert_array_equal(table["n"], [60] * 4)
    np.testing.assert_array_equal(table["alpha"], prior[0] + right)
    np.testing.assert_array_equal(table["beta"], prior[1] + 60 - right)
    np.testing.assert_allclose(table["mean"], (prior[0] + right) / (sum(prior) + 60), rtol=1e-15)
    assert (table["low"] == -np.inf).all() and (table["high"] == np.inf).all()
    assert ensemble.labels_.tolist() == [0, 1, 2]
    assert right[ensemble.best_member_] == right.max()


@pytest.mark.parametrize(("n", "bins"), [(103, 4), (50, 3), (40, 1)])
def test_trust_per_quantile_bin_of_the_signal(n, bins):
    """Edges are the quantiles k / bins of each member's validation signal; every example counted in one bin."""
    rng = np.random.default_rng(n)
    votes, y = random_record(rng, n, 3, 2)
    signal = rng.normal(size=(n, 3))
    ensemble = wt.TrustEnsemble(bins=bins, beta_prior=(1, 1)).fit(votes, y, signal=signal)
    table = ensemble.trust_
    for i in range(3):
        rows = table.loc[i]
        assert len(rows) == bins
        edges = rows["high"].to_numpy()[:-1]
        np.testing.assert_array_equal(edges, np.quantile(signal[:, i], np.arange(1, bins) / bins))
        np.testing.assert_array_equal(rows["low"].to_numpy()[1:], edges)
        assert rows["low"].iloc[0] == -np.inf and rows["high"].iloc[-1] == np.inf
        b = member_bins(table, i, signal[:, i])
        count = np.bincount(b, minlength=bins)
        right = np.bincount(b, weights=votes[:, i] == y, minlength=bins)
        np.testing.assert_array_equal(rows["n"], count)
        assert count.sum() == n and np.abs(count - n / bins).max() <= 1  # quantile bins: near-equal sizes
        np.testing.assert_array_equal(rows["alpha"], 1 + right)
        np.testing.assert_array_equal(rows["beta"], 1 + count - right)
    if bins == 1:  # one bin: the global trust
        np.testing.assert_array_equal(table["mean"], wt.TrustEnsemble().fit(votes, y).trust_["mean"])


def test_a_signal_with_repeated_values_gets_fewer_bins():
    """Coinciding quantiles merge. Member 0's signal is 0 on 60 examples and 1 on 20: the quartiles are 0, 0
    and 0.25, so the edges are {0, 0.25} and the bins (-inf, 0), [0, 0.25), [0.25, inf) hold 0, 60 and 20."""
    rng = np.random.default_rng(5)
    votes, y = random_record(rng, 80, 2, 2)
    signal = np.column_stack([rng.permutation([0.0] * 60 + [1.0] * 20), rng.normal(size=80)])
    table = wt.TrustEnsemble(bins=4).fit(votes, y, signal=signal).trust_
    np.testing.assert_array_equal(table.loc[0, "high"], [0.0, 0.25, np.inf])
    np.testing.assert_array_equal(table.loc[0, "n"], [0, 60, 20])
    assert table.loc[0, "mean"].iloc[0] == 0.5  # an empty bin keeps the prior
    ones = signal[:, 0] == 1
    assert table.loc[0, "alpha"].iloc[2] == 1 + np.sum(votes[ones, 0] == y[ones])
    assert len(table.loc[1]) == 4 and table.loc[1, "n"].sum() == 80


# ---------------------------------------------------------------- voting


@pytest.mark.parametrize("n_labels", [2, 3, 4])
@pytest.mark.parametrize("seed", range(4))
def test_predict_proba_is_the_product_posterior(n_labels, seed):
    """Every vote profile of 1-4 members: the posterior from the trust, and predict picks its argmax."""
    rng = np.random.default_rng(100 * n_labels + seed)
    n_members = 1 + seed
    votes, y = random_record(rng, 40, n_members, n_labels)
    ensemble = wt.TrustEnsemble().fit(votes, y)
    X = all_profiles(n_members, n_labels)
    expected = brute_posterior(X, trust_of(ensemble, len(X)), n_labels)
    np.testing.assert_allclose(ensemble.predict_proba(X), expected, rtol=0, atol=1e-12)
    decision = ensemble.predict(X)
    assert all(d in top for d, top in zip(decision, top_labels(expected)))
    unique = np.array([len(top) == 1 for top in top_labels(expected)])
    assert unique.sum() >= n_labels  # not vacuous: at least the unanimous profiles are decided by the trust
    np.testing.assert_array_equal(decision[unique], expected[unique].argmax(axis=1))


@pytest.mark.parametrize("n_labels", [2, 3])
def test_predict_proba_uses_the_trust_of_each_examples_bin(n_labels):
    rng = np.random.default_rng(7 + n_labels)
    votes, y = random_record(rng, 200, 3, n_labels)
    signal = rng.random((200, 3))
    ensemble = wt.TrustEnsemble(bins=3).fit(votes, y, signal=signal)
    new_votes, new_signal = rng.integers(0, n_labels, (300, 3)), rng.uniform(-0.2, 1.2, (300, 3))
    expected = brute_posterior(new_votes, trust_of(ensemble, 300, new_signal), n_labels)
    np.testing.assert_allclose(ensemble.predict_proba(new_votes, signal=new_signal), expected, rtol=0, atol=1e-12)
    global_trust = brute_posterior(new_votes, trust_of(wt.TrustEnsemble().fit(votes, y), 300), n_labels)
    assert np.abs(expected - global_trust).max() > 0.05  # the bins matter here


def test_labels_may_be_strings():
    votes = np.array([["cat", "dog"], ["dog", "dog"], ["cat", "cat"], ["dog", "cat"]])
    ensemble = wt.TrustEnsemble().fit(votes, ["cat", "dog", "cat", "dog"])
    assert ensemble.labels_.tolist() == ["cat", "dog"]
    # member 0 right 4/4 (trust 5/6), member 1 right 2/4 (trust 1/2, weight 0): member 0 decides
    assert ensemble.predict([["dog", "cat"], ["cat", "dog"]]).tolist() == ["dog", "cat"]


@pytest.mark.parametrize("n_labels", [2, 3, 4])
def test_plurality_vote_counts_the_votes(n_labels):
    rng = np.random.default_rng(n_labels)
    votes = rng.integers(0, n_labels, (500, 4))
    chosen = wt.plurality_vote(votes, seed=3)
    counts = np.array([[np.sum(row == k) for k in range(n_labels)] for row in votes])
    for c, row in zip(chosen, counts):
        assert row[c] == row.max()  # a most frequent label
    tied = (counts == counts.max(axis=1, keepdims=True)).sum(axis=1) > 1
    np.testing.assert_array_equal(chosen[~tied], counts[~tied].argmax(axis=1))
    np.testing.assert_array_equal(wt.plurality_vote(votes, seed=3), chosen)  # reproducible from the seed
    assert (wt.plurality_vote(votes, seed=4)[tied] != chosen[tied]).any()  # the coin depends on the seed


def test_plurality_vote_breaks_ties_fairly():
    """4000 rows tied between labels 3 and 8: each chosen about half the time (binomial, 4 sd)."""
    votes = np.tile([3, 8, 3, 8], (4000, 1))
    chosen = wt.plurality_vote(votes, seed=11)
    assert set(np.unique(chosen)) == {3, 8}
    assert abs((chosen == 3).sum() - 2000) <= 4 * math.sqrt(4000 / 4)
    assert wt.plurality_vote([["b", "a", "b"]]).tolist() == ["b"]


# ---------------------------------------------------------------- members given as objects


def test_members_give_the_same_trust_and_decisions_as_their_predictions():
    rng = np.random.default_rng(21)
    votes, y = random_record(rng, 300, 4, 3)
    members = members_from(votes, 3, rng)
    val, test = np.arange(200), np.arange(200, 300)

    proba = np.stack([m.predict_proba(np.arange(300)) for m in members], axis=1)
    by_objects = wt.TrustEnsemble(members).fit(val, y[val])
    by_matrix = wt.TrustEnsemble().fit(votes[val], y[val], proba=proba[val])
    np.testing.assert_array_equal(by_objects.trust_.to_numpy(), by_matrix.trust_.to_numpy())
    np.testing.assert_array_equal(by_objects.predict(test), by_matrix.predict(votes[test]))
    assert by_objects.belief(test, y[test]) == by_matrix.belief(votes[test], y[test], proba=proba[test])
    assert by_objects.belief(test).label_free is not None

    confidence = np.column_stack([m.predict_proba(np.arange(300)).max(axis=1) for m in members])
    by_objects = wt.TrustEnsemble(members, signal="confidence", bins=3).fit(val, y[val])
    by_matrix = wt.TrustEnsemble(bins=3).fit(votes[val], y[val], signal=confidence[val], proba=proba[val])
    np.testing.assert_array_equal(by_objects.trust_.to_numpy(), by_matrix.trust_.to_numpy())
    np.testing.assert_array_equal(by_objects.predict_proba(test),
                                  by_matrix.predict_proba(votes[test], signal=confidence[test]))
    assert by_objects.belief(test, y[test]) == by_matrix.belief(votes[test], y[test], signal=confidence[test],
                                                                proba=proba[test])

    margin = np.column_stack([m.margin(np.arange(300)) for m in members])
    by_objects = wt.TrustEnsemble(members, signal=lambda m, X: m.margin(X), bins=2).fit(val, y[val])
    by_matrix = wt.TrustEnsemble(bins=2).fit(votes[val], y[val], signal=margin[val])
    np.testing.assert_array_equal(by_objects.trust_.to_numpy(), by_matrix.trust_.to_numpy())
    np.testing.assert_array_equal(by_objects.predict(test), by_matrix.predict(votes[test], signal=margin[test]))
    assert not np.array_equal(by_matrix.trust_["mean"], wt.TrustEnsemble(bins=2).fit(
        votes[val], y[val], signal=confidence[val]).trust_["mean"])  # a different signal, different trust


# ---------------------------------------------------------------- beliefs


def wilson_solves(p_hat, bound, n, confidence):
    """A Wilson bound p solves (p_hat - p)^2 = z^2 p (1 - p) / n."""
    z = stats.norm.ppf(0.5 + confidence / 2)
    return (p_hat - bound) ** 2 == pytest.approx(z * z * bound * (1 - bound) / n, abs=1e-12)


@pytest.mark.parametrize("confidence", [0.9, 0.99])
def test_belief_realised_and_independent(confidence):
    rng = np.random.default_rng(31)
    votes, y = random_record(rng, 500, 4, 3)
    ensemble = wt.TrustEnsemble().fit(votes[:300], y[:300])
    held, truth = votes[300:], y[300:]
    b = ensemble.belief(held, truth, confidence=confidence)
    decision = ensemble.predict(held)
    assert b.realised == np.mean(decision == truth) and b.n_examples == 200 and b.confidence == confidence
    assert b.ci_low < b.realised < b.ci_high
    assert wilson_solves(b.realised, b.ci_low, 200, confidence) and wilson_solves(b.realised, b.ci_high, 200,
                                                                                    confidence)
    expected = brute_posterior(held, trust_of(ensemble, 200), 3)
    assert b.independent == pytest.approx(expected[np.arange(200), decision].mean(), abs=1e-12)
    assert b.theorem1 is None  # three labels
    beliefs = {"independent": b.independent, "latent": b.latent, "record": b.record}
    assert {k: v for k, v in b.errors().items() if k in beliefs} == {k: v - b.realised for k, v in beliefs.items()}


def test_theorem1_belief_for_two_labels_and_global_trust():
    rng = np.random.default_rng(41)
    votes, y = random_record(rng, 120, 5, 2, skill=(0.55, 0.9))
    prior = (1.5, 2.0)
    ensemble = wt.TrustEnsemble(beta_prior=prior).fit(votes, y)
    right = (votes == y[:, None]).sum(axis=0)
    alpha, beta = prior[0] + right, prior[1] + 120 - right
    b = ensemble.belief(votes[:50], y[:50])
    assert b.theorem1 == wt.believed_accuracy(wt.BetaTrust(alpha, beta)).value
    t = alpha / (alpha + beta)
    assert b.theorem1 == pytest.approx(accuracy_brute(t, np.log(t / (1 - t))), abs=1e-12)  # A(t, w(t))
    assert b.errors()["theorem1"] == b.theorem1 - b.realised
    assert ensemble.belief(votes[:50], y[:50], signal=None).theorem1 == b.theorem1
    # one latent class is the pooled trust: sum_d pi_d A(t_d, w) is then A(t, w(t)) as well
    assert ensemble.belief(votes[:50], y[:50], latent_classes=1).latent_agree == pytest.approx(b.theorem1, abs=1e-12)
    binned = wt.TrustEnsemble().fit(votes, y, signal=rng.random((120, 5)))
    assert binned.belief(votes[:50], y[:50], signal=rng.random((50, 5))).theorem1 is None  # trust per bin


def record_by_hand(votes, y, n_labels, folds, seed, prior=(1, 1), signal=None, bins=4):
    """Cross-fitted accuracy: trust (a + c) / (a + b + n) from the other folds (per quantile bin of the training
    signal), the product posterior's argmax on the held fold; (a + right) / (a + b + n).

    An exact tie is broken by a coin: returns the number of examples decided right without a tie, the number
    of ties that include the truth, and the number of ties.
    """
    n, m = votes.shape
    fold = np.random.default_rng(seed).permutation(n) % folds
    right = ties = tied_with_truth = 0
    for k in range(folds):
        train, held = fold != k, fold == k
        ok = votes[train] == y[train][:, None]
        if signal is None:
            t = np.tile((prior[0] + ok.sum(axis=0)) / (sum(prior) + ok.shape[0]), (held.sum(), 1))
        else:
            t = np.empty((held.sum(), m))
            for i in range(m):
                edges = np.unique(np.quantile(signal[train, i], np.arange(1, bins) / bins))
                train_bin = (signal[train, i][:, None] >= edges).sum(axis=1)
                held_bin = (signal[held, i][:, None] >= edges).sum(axis=1)
                hits = np.bincount(train_bin, weights=ok[:, i], minlength=bins)
                cast = np.bincount(train_bin, minlength=bins)
                t[:, i] = ((prior[0] + hits) / (sum(prior) + cast))[held_bin]
        for top, truth in zip(top_labels(brute_posterior(votes[held], t, n_labels)), y[held]):
            right += top == {truth}
            ties += len(top) > 1
            tied_with_truth += len(top) > 1 and truth in top
    return right, tied_with_truth, ties


@pytest.mark.parametrize(("folds", "seed", "with_signal"), [(5, 0, False), (3, 7, False), (4, 2, True)])
def test_record_is_the_cross_fitted_accuracy(folds, seed, with_signal):
    rng = np.random.default_rng(51 + seed)
    votes, y = random_record(rng, 150, 5, 3, skill=(0.4, 0.8))
    signal = rng.random((150, 5)) if with_signal else None
    ensemble = wt.TrustEnsemble(seed=seed, bins=3).fit(votes, y, signal=signal)
    held_signal = None if signal is None else signal[:20]
    b = ensemble.belief(votes[:20], y[:20], signal=held_signal, folds=folds)
    right, tied_with_truth, ties = record_by_hand(votes, y, 3, folds, seed, signal=signal, bins=3)
    assert ties <= 3  # the coin can move the record by at most 3 / 152: the check is tight
    got = b.record * (2 + 150) - 1  # (1 + right) / (2 + n): the library's count of right answers
    assert got == pytest.approx(round(got), abs=1e-9)
    assert right <= round(got) <= right + tied_with_truth
    if ties == 0:
        assert b.record == (1 + right) / (2 + 150)


def test_one_fold_is_refused():
    rng = np.random.default_rng(61)
    votes, y = random_record(rng, 100, 3, 2, skill=(0.8, 0.9))
    ensemble = wt.TrustEnsemble().fit(votes, y)
    with pytest.raises(ValueError, match="folds"):
        ensemble.belief(votes, y, folds=1)  # no fold to learn from: record would be 1/102


SEEDS = 40


def beliefs_over_seeds(hard_share, latent_classes):
    """Belief minus realised accuracy, per seed: 1000 validation and 1000 held-out examples, 5 members, L = 3."""
    rows = []
    for seed in range(SEEDS):
        votes, y = simulate(seed, 2000, hard_share=hard_share)
        b = wt.TrustEnsemble(seed=seed).fit(votes[:1000], y[:1000]).belief(votes[1000:], y[1000:],
                                                                            latent_classes=latent_classes)
        rows.append([b.independent, b.latent, b.record, b.realised])
    rows = np.array(rows)
    gap = rows[:, :3] - rows[:, 3:]
    return gap.mean(axis=0), gap.std(axis=0, ddof=1) / math.sqrt(SEEDS), rows


def test_with_a_hard_class_independence_overstates_and_the_latent_belief_does_not():
    """20% hard examples on which all members are at chance (proofs/soc_latent_class.md, (d)).

    Over 40 simulated ensembles, belief minus realised accuracy: the independence belief is above by far
    more than 5 standard errors (and above the bound 1 - 0.2 (1 - 1/3) that no rule can beat); the
    latent-class belief (2 classes, EM on validation) and the cross-fitted record are within 3 standard
    errors of zero.
    """
    mean, stderr, rows = beliefs_over_seeds(0.2, 2)
    independent, latent, record = zip(mean, stderr)
    assert independent[0] > 5 * independent[1] and independent[0] > 0.05
    assert np.mean(rows[:, 0]) > 1 - 0.2 * (1 - 1 / 3) + 0.05  # believes what no rule can reach
    assert abs(latent[0]) <= 3 * latent[1]
    assert abs(record[0]) <= 3 * record[1]


def test_when_errors_share_a_wrong_label_the_distractor_belief_is_calibrated():
    """A hard fifth of the examples on which members are right w.p. 0.3 and otherwise vote one wrong label shared
    by the example (proofs/soc_latent_class.md, (f)). Over 20 ensembles (L = 5, 1000 validation and 1000 held-out
    examples), the symmetric latent-class belief is far above the realised accuracy and the distractor belief is
    within 3 standard errors of it; with two labels the distractor belief is not defined (it is the latent one)."""
    gaps = []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        y = rng.integers(0, 5, 2000)
        hard = rng.random(2000) < 0.2
        right = rng.random((2000, 5)) < np.where(hard[:, None], 0.3, rng.uniform(0.8, 0.95, 5))
        shared = (y + rng.integers(1, 5, 2000)) % 5
        scattered = (y[:, None] + rng.integers(1, 5, (2000, 5))) % 5
        votes = np.where(right, y[:, None], np.where(hard[:, None], shared[:, None], scattered))
        b = wt.TrustEnsemble(seed=seed).fit(votes[:1000], y[:1000]).belief(votes[1000:], y[1000:])
        gaps.append([b.latent - b.realised, b.latent_distractor - b.realised])
    gaps = np.array(gaps)
    mean, stderr = gaps.mean(axis=0), gaps.std(axis=0, ddof=1) / np.sqrt(len(gaps))
    assert mean[0] > 10 * stderr[0] and mean[0] > 0.03
    assert abs(mean[1]) <= 3 * stderr[1]
    votes, y = simulate(0, 400, n_labels=2)
    assert wt.TrustEnsemble().fit(votes[:200], y[:200]).belief(votes[200:], y[200:]).latent_distractor is None


def test_with_independent_members_the_independence_belief_is_calibrated():
    """The control: no hard class. Independence belief minus realised within 3 standard errors of zero over
    40 ensembles; with one latent class the latent belief is the independence belief."""
    mean, stderr, rows = beliefs_over_seeds(0.0, 1)
    assert abs(mean[0]) <= 3 * stderr[0]
    np.testing.assert_allclose(rows[:, 1], rows[:, 0], rtol=0, atol=1e-12)


# ---------------------------------------------------------------- bad input

VOTES = np.array([[0, 1, 1], [1, 1, 0], [0, 0, 0], [1, 0, 1]])
Y = np.array([0, 1, 0, 1])
FITTED = wt.TrustEnsemble().fit(VOTES, Y)
BINNED = wt.TrustEnsemble().fit(VOTES, Y, signal=np.arange(12.0).reshape(4, 3))
MEMBERS = members_from(VOTES, 2, np.random.default_rng(0))
IDX = np.arange(4)


def call(f, *args, **kwargs):
    return lambda: f(*args, **kwargs)


CASES = [  # (call, error type, message)
    (call(wt.TrustEnsemble().fit, [0, 1, 1], [0, 1, 1]), ValueError,
     "X must be a 2-D matrix of predictions (n_examples, n_members) with at least one entry; got shape (3,)."),
    (call(wt.TrustEnsemble().fit, np.empty((0, 3)), []), ValueError,
     "X must be a 2-D matrix of predictions (n_examples, n_members) with at least one entry; got shape (0, 3)."),
    (call(wt.TrustEnsemble().fit, [[0, 1], [1, None]], [0, 1]), ValueError,
     "X must have no missing labels; X[1, 1] is missing."),
    (call(wt.TrustEnsemble().fit, [[0.0, np.nan], [1.0, 1.0]], [0, 1]), ValueError,
     "X must have no missing labels; X[0, 1] is missing."),
    (call(wt.TrustEnsemble().fit, VOTES, Y[:3]), ValueError,
     "y must hold one label per example; y has shape (3,) for 4 examples."),
    (call(wt.TrustEnsemble().fit, VOTES, [0, 1, None, 1]), ValueError,
     "y must have no missing labels; y[2] is missing."),
    (call(wt.TrustEnsemble().fit, VOTES, Y, signal=np.ones((4, 2))), ValueError,
     "signal must have one value per example and member, like the votes; signal has shape (4, 2), the votes (4, 3)."),
    (call(wt.TrustEnsemble().fit, VOTES, Y, signal=np.where(VOTES == 1, np.inf, 0.0)), ValueError,
     "signal must be finite; signal[0, 1] = inf (5 more entries are not finite)."),
    (call(wt.TrustEnsemble().fit, VOTES, Y, signal=np.full((4, 3), "high")), TypeError,
     "signal must be real numbers; got dtype <U4."),
    (call(wt.TrustEnsemble(MEMBERS).fit, IDX, Y, signal=np.ones((4, 3))), ValueError,
     "signal must be computed from the members when they are given; got signal values. "
     "Set TrustEnsemble(members, signal=...) instead."),
    (call(wt.TrustEnsemble(signal="confidence").fit, VOTES, Y), ValueError,
     "signal must be None without members; got 'confidence'. Pass the signal values to fit, predict and belief "
     "as signal=."),
    (call(wt.TrustEnsemble(MEMBERS, signal="entropy").fit, IDX, Y), ValueError,
     "signal must be None, 'confidence' or a callable signal(member, X); got 'entropy'."),
    (call(wt.TrustEnsemble().predict_proba, VOTES), RuntimeError,
     "the ensemble must be fitted first; labels_ is not set. Call fit(X, y) first."),
    (call(wt.TrustEnsemble().predict, VOTES), RuntimeError, "the ensemble must be fitted first"),
    (call(wt.TrustEnsemble().belief, VOTES, Y), RuntimeError, "the ensemble must be fitted first"),
    (call(FITTED.predict, VOTES[:, :2]), ValueError,
     "X must hold the predictions of the 3 members seen at fit; got 2 columns."),
    (call(FITTED.predict, [[0, 7, 1]]), ValueError, "X must use the labels seen at fit; prediction [0, 1] = 7."),
    (call(FITTED.belief, VOTES, [0, 1, 2, 1]), ValueError, "y must use the labels seen at fit; y[2] = 2."),
    (call(FITTED.belief, VOTES, Y[:2]), ValueError,
     "y must hold one label per example; y has shape (2,) for 4 examples."),
    (call(FITTED.predict, VOTES, signal=np.ones((4, 3))), ValueError,
     "signal must be given at prediction exactly when it was given at fit; got signal values."),
    (call(BINNED.predict, VOTES), ValueError,
     "signal must be given at prediction exactly when it was given at fit; got none."),
    (call(wt.TrustEnsemble(bins=0).fit, VOTES, Y), ValueError, "bins must be a whole number >= 1; got bins = 0."),
    (call(wt.TrustEnsemble(bins=2.5).fit, VOTES, Y), TypeError, "bins must be a whole number >= 1; got 2.5."),
    (call(wt.TrustEnsemble(beta_prior=(0, 1)).fit, VOTES, Y), ValueError,
     "beta_prior must be finite and > 0; beta_prior[0] = 0.0."),
    (call(wt.TrustEnsemble(beta_prior=1).fit, VOTES, Y), TypeError,
     "beta_prior must be a pair (alpha0, beta0) of numbers > 0; got 1."),
    (call(FITTED.belief, VOTES, Y, confidence=1.0), ValueError,
     "confidence must lie strictly between 0 and 1; got confidence = 1.0."),
    (call(FITTED.belief, VOTES, Y, confidence="95%"), TypeError,
     "confidence must be a real number in (0, 1); got '95%'."),
    (call(FITTED.belief, VOTES, Y, latent_classes=0), ValueError,
     "latent_classes must be a whole number >= 1; got latent_classes = 0."),
    (call(FITTED.belief, VOTES, Y, folds=0), ValueError, "folds must be a whole number >= 1; got folds = 0."),
    (call(FITTED.belief, VOTES, Y, folds=1), ValueError,
     "folds must be a whole number >= 2 (cross-fitting needs a fold to learn from); got 1."),
    (call(wt.plurality_vote, [0, 1, 1]), ValueError,
     "votes must be a 2-D matrix of predictions (n_examples, n_members) with at least one entry; got shape (3,)."),
    (call(wt.plurality_vote, VOTES, seed=-1), ValueError, "seed must be None or a whole number >= 0; got seed = -1."),
]


@pytest.mark.parametrize(("call", "error", "message"), CASES)
def test_bad_input_raises_the_documented_error(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


def test_a_callable_signal_returning_non_numbers_is_named():
    ensemble = wt.TrustEnsemble(MEMBERS, signal=lambda m, X: np.full(len(X), "high"))
    with pytest.raises(TypeError, match=re.escape("signal must be real numbers")):
        ensemble.fit(IDX, Y)
