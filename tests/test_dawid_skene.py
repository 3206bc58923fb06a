"""Bayesian Dawid-Skene (ConfusionMatrixVote without gold, with some gold, from gold alone), each checked independently.

The references are written here in plain numpy: plurality voting, the pooled prior, the
posterior density EM must raise, the Bayes posterior under given matrices, expected counts.
"""

import itertools
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import wmvtrust as wt
from crowds import label_biased, sample, symmetric
from wmvtrust._labels.codes import Codes
from wmvtrust._labels.models import dawid_skene_em, row_prior


def small_crowd(seed, n_labels=3, n_tasks=80, n_workers=6):
    rng = np.random.default_rng(seed)
    conf = rng.dirichlet(np.ones(n_labels), size=(n_workers, n_labels)) * 0.5 + 0.5 * symmetric(
        rng.uniform(0.5, 0.9, n_workers), n_labels)
    panels = [rng.choice(n_workers, rng.integers(2, n_workers + 1), replace=False) for _ in range(n_tasks)]
    return sample(rng, conf, np.full(n_labels, 1 / n_labels), panels)


def reference_counts(votes, probas, n_workers, n_labels):
    counts = np.zeros((n_workers, n_labels, n_labels))
    for t, w, v in votes[["task", "worker", "label"]].itertuples(index=False):
        counts[w, :, v] += probas[t]
    return counts


def reference_plurality(votes, n_tasks, n_labels):
    counts = np.zeros((n_tasks, n_labels))
    np.add.at(counts, (votes["task"].to_numpy(), votes["label"].to_numpy()), 1)
    top = counts == counts.max(axis=1, keepdims=True)
    return top / top.sum(axis=1, keepdims=True)


def reference_posterior(votes, confusion, class_prior, n_tasks):
    log = np.tile(np.log(class_prior), (n_tasks, 1))
    for t, w, v in votes[["task", "worker", "label"]].itertuples(index=False):
        log[t] += np.log(confusion[w, :, v])
    p = np.exp(log - log.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True), log


def objective(votes, confusion, class_prior, prior_rows, n_tasks):
    """ln P(votes | Pi, rho) + sum prior ln Pi + sum ln rho: the MAP objective of the posterior-mean M-step."""
    _, log = reference_posterior(votes, confusion, class_prior, n_tasks)
    top = log.max(axis=1)
    loglik = (top + np.log(np.exp(log - top[:, None]).sum(axis=1))).sum()
    return loglik + (prior_rows * np.log(confusion)).sum() + np.log(class_prior).sum()


def codes_of(votes, n_tasks, n_workers, n_labels):
    return Codes(votes["task"].to_numpy(), votes["worker"].to_numpy(), votes["label"].to_numpy(), n_tasks, n_workers,
                 n_labels)


@pytest.mark.parametrize("seed", range(3))
def test_the_pooled_prior_spreads_L_pseudo_votes_like_the_crowds_pooled_rows_at_the_plurality_start(seed):
    votes, truth = small_crowd(seed)
    n_tasks, n_labels, n_workers = truth.size, 3, 6
    start = reference_plurality(votes, n_tasks, n_labels)
    pooled = reference_counts(votes, start, n_workers, n_labels).sum(axis=0) + 1
    expected = n_labels * pooled / pooled.sum(axis=1, keepdims=True)
    got = row_prior(reference_counts(votes, start, n_workers, n_labels), "pooled")
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    np.testing.assert_allclose(got.sum(axis=1), n_labels, rtol=1e-14)
    np.testing.assert_array_equal(row_prior(np.zeros((2, 3, 3)), 0.5), np.full((3, 3), 0.5))


@pytest.mark.parametrize("seed", range(3))
def test_every_em_iteration_raises_the_posterior_density(seed):
    """MAP-EM for the prior plus one pseudo-count: the objective, recomputed here, never falls with more iterations."""
    votes, truth = small_crowd(seed)
    codes, n = codes_of(votes, truth.size, 6, 3), truth.size
    prior_rows = row_prior(reference_counts(votes, reference_plurality(votes, n, 3), 6, 3), "pooled")
    values = []
    for max_iter in range(1, 25):
        fit = dawid_skene_em(codes, truth=np.full(n, -1), max_iter=max_iter, tol=1e-300)
        value = objective(votes, fit.confusion, fit.class_prior, prior_rows, n)
        assert value == pytest.approx(fit.log_posterior, rel=1e-12)
        values.append(value)
    assert np.all(np.diff(values) >= -1e-9 * np.abs(values[1:]))
    assert values[-1] > values[0]


@pytest.mark.parametrize("seed", range(3))
def test_the_fit_is_an_em_fixed_point_and_its_posterior_is_bayes_under_the_reported_means(seed):
    votes, truth = small_crowd(seed)
    n = truth.size
    model = wt.ConfusionMatrixVote(tol=1e-10, max_iter=5000).fit(votes)
    assert model.converged_ and model.n_iter_ > 1
    probas = model.probas_.loc[np.arange(n)].to_numpy()
    confusion = model.confusion_[np.argsort(model.trust_.index.get_level_values(0).unique())]  # rows by worker id
    class_prior = model.class_prior_.to_numpy()
    expected, _ = reference_posterior(votes, confusion, class_prior, n)
    np.testing.assert_allclose(probas, expected, atol=1e-12)
    # M-step of those posteriors gives the reported means back (to the stopping tolerance)
    prior_rows = row_prior(reference_counts(votes, reference_plurality(votes, n, 3), 6, 3), "pooled")
    alpha = prior_rows + reference_counts(votes, probas, 6, 3)
    np.testing.assert_allclose(confusion, alpha / alpha.sum(axis=2, keepdims=True), atol=1e-8)
    np.testing.assert_allclose(class_prior, (1 + probas.sum(axis=0)) / (3 + n), atol=1e-8)
    np.testing.assert_allclose(model.trust_.to_numpy().reshape(6, 3, 3), prior_rows + model.counts_, rtol=1e-12)


def test_gold_tasks_keep_their_truth_and_count_exactly():
    votes, truth = small_crowd(5)
    n = truth.size
    gold = pd.DataFrame({"task": np.arange(0, n, 4), "label": truth[::4]})
    model = wt.ConfusionMatrixVote(tol=1e-10, max_iter=5000).fit(votes, gold)
    probas = model.probas_.loc[np.arange(n)].to_numpy()
    np.testing.assert_array_equal(probas[::4], np.eye(3)[truth[::4]])
    known = np.full(n, -1)
    known[::4] = truth[::4]
    # the other tasks: the Bayes posterior under the reported means; the gold ones: certainty
    order = np.argsort(model.trust_.index.get_level_values(0).unique())
    expected, _ = reference_posterior(votes, model.confusion_[order], model.class_prior_.to_numpy(), n)
    rest = known < 0
    np.testing.assert_allclose(probas[rest], expected[rest], atol=1e-12)
    # the counts are those of the final posteriors, which are exact (0 or 1) on the gold tasks
    np.testing.assert_allclose(model.counts_[order], reference_counts(votes, probas, 6, 3), atol=1e-8)


def test_restarts_keep_the_start_of_highest_posterior_density():
    votes, truth = label_biased(np.random.default_rng(4), 3, n_tasks=60, n_workers=12)
    codes = codes_of(votes, truth.size, 12, 3)
    single = dawid_skene_em(codes, truth=np.full(truth.size, -1))
    several = dawid_skene_em(codes, truth=np.full(truth.size, -1), restarts=4, rng=np.random.default_rng(0))
    assert several.log_posterior >= single.log_posterior
    again = dawid_skene_em(codes, truth=np.full(truth.size, -1), restarts=4, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(several.probas, again.probas)  # seeded


def test_two_coin_model_recovers_sensitivity_and_specificity():
    """Binary workers with their own sensitivity and specificity, 20,000 tasks, 6 workers on each."""
    rng = np.random.default_rng(11)
    n_workers = 20
    sens, spec = rng.uniform(0.6, 0.98, n_workers), rng.uniform(0.6, 0.98, n_workers)
    conf = np.stack([np.column_stack([spec, 1 - spec]), np.column_stack([1 - sens, sens])], axis=1)
    panels = [rng.choice(n_workers, 6, replace=False) for _ in range(20_000)]
    votes, truth = sample(rng, conf, np.array([0.6, 0.4]), panels)
    model = wt.ConfusionMatrixVote().fit(votes)
    order = np.argsort(model.trust_.index.get_level_values(0).unique())
    got = model.confusion_[order]
    # ~6,000 votes per worker, ~2,400 of them on class-1 tasks: sd of a rate ~0.01; 0.04 is 4 sd
    assert np.abs(got[:, 1, 1] - sens).max() < 0.04 and np.abs(got[:, 0, 0] - spec).max() < 0.04
    np.testing.assert_allclose(model.class_prior_.to_numpy(), [0.6, 0.4], atol=0.015)


def test_from_gold_alone_the_other_tasks_do_not_inform_the_matrices():
    votes, truth = small_crowd(2)
    gold = pd.DataFrame({"task": np.arange(0, truth.size, 2), "label": truth[::2]})
    model = wt.ConfusionMatrixVote(trust="gold").fit(votes, gold)
    shuffled = votes.copy()
    odd = shuffled["task"] % 2 == 1
    shuffled.loc[odd, "label"] = (shuffled.loc[odd, "label"] + 1) % 3  # change every vote on a non-gold task
    other = wt.ConfusionMatrixVote(trust="gold").fit(shuffled, gold)
    np.testing.assert_array_equal(model.confusion_, other.confusion_)
    assert model.n_iter_ == 0


def test_a_single_label_and_a_single_vote_work():
    votes = pd.DataFrame({"task": [1, 2], "worker": ["a", "a"], "label": ["x", "x"]})
    for model in (wt.ConfusionMatrixVote(), wt.WeightedMajorityVote(), wt.WeightedMajorityVote("one-coin")):
        model.fit(votes)
        assert model.labels_.tolist() == ["x", "x"] and model.probas_["x"].tolist() == [1.0, 1.0]
    one = wt.ConfusionMatrixVote().fit(pd.DataFrame({"task": [1], "worker": ["a"], "label": [0]}))
    assert one.labels_.tolist() == [0]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"trust": "both"}, "trust must be one of 'em', 'gold'; got 'both'."),
    ({"dirichlet_prior": "flat"}, "dirichlet_prior must be a real number > 0; got 'flat'."),
    ({"dirichlet_prior": -1.0}, "dirichlet_prior must be a finite real number > 0; got dirichlet_prior = -1.0."),
    ({"restarts": -1}, "restarts must be a whole number >= 0; got -1."),
    ({"max_iter": 0}, "max_iter must be a whole number >= 1; got max_iter = 0."),
    ({"tol": 0.0}, "tol must be a finite real number > 0; got tol = 0.0."),
])
def test_bad_parameters_are_named(kwargs, message):
    votes = pd.DataFrame({"task": [1, 1], "worker": ["a", "b"], "label": ["x", "y"]})
    with pytest.raises((ValueError, TypeError), match=re.escape(message)):
        wt.ConfusionMatrixVote(**kwargs).fit(votes)


def test_trust_gold_without_gold_is_an_error():
    votes = pd.DataFrame({"task": [1, 1], "worker": ["a", "b"], "label": ["x", "y"]})
    with pytest.raises(ValueError, match="gold must be given for trust='gold'"):
        wt.ConfusionMatrixVote(trust="gold").fit(votes)


def test_every_labelling_of_a_tiny_crowd_matches_brute_force_bayes():
    """Two tasks, three workers, two labels: the fit's posterior of each task is the brute-force Bayes posterior."""
    for reports in itertools.product(range(2), repeat=3):
        votes = pd.DataFrame({"task": [0, 0, 0, 1, 1, 1], "worker": [0, 1, 2] * 2, "label": [*reports, 1, 1, 0]})
        model = wt.ConfusionMatrixVote().fit(votes)
        conf = model.confusion_  # workers 0, 1, 2 in order of appearance
        for task, rep in ((0, reports), (1, (1, 1, 0))):
            joint = np.array([model.class_prior_.iloc[y] * np.prod([conf[w, y, rep[w]] for w in range(3)])
                              for y in range(2)])
            np.testing.assert_allclose(model.probas_.loc[task].to_numpy(), joint / joint.sum(), rtol=1e-12)


def test_em_gives_the_same_numbers_whatever_the_thread_count():
    """The passes cut the tasks into chunks by the table's size, never by the threads: one thread and two agree
    to the last bit, on a table large enough to be cut (100,000 votes)."""
    code = ("import numpy as np, sys; sys.path.insert(0, 'tests'); from crowds import spammers; "
            "import wmvtrust as wt; votes, _ = spammers(np.random.default_rng(0), 3, n_tasks=20_000, per_task=5); "
            "m = wt.ConfusionMatrixVote().fit(votes); w = wt.WeightedMajorityVote('one-coin').fit(votes); "
            "print(m.probas_.to_numpy().tobytes().hex()[:4000], m.n_iter_, "
            "float(np.abs(m.probas_.to_numpy()).sum()).hex(), float(w.probas_.to_numpy().sum()).hex())")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "NUMBA_NUM_THREADS": str(k)}).stdout for k in (1, 2)]
    assert runs[0] == runs[1] and len(runs[0]) > 100


@pytest.mark.parametrize("model", [wt.ConfusionMatrixVote, wt.WeightedMajorityVote])
def test_fit_predict_and_fit_predict_proba_are_fit_then_the_attribute(model):
    votes = pd.DataFrame({"task": [1, 1, 1, 2, 2, 2], "worker": list("abcabc"), "label": list("xxyyyx")})
    fitted = model().fit(votes)
    pd.testing.assert_series_equal(model().fit_predict(votes), fitted.labels_)
    pd.testing.assert_frame_equal(model().fit_predict_proba(votes), fitted.probas_)
