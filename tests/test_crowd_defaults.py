"""The defaults never lose to majority voting, and Dawid-Skene recovers the truth where its model holds.

On crowds with the worker types behind the failures real data showed (tests/crowds.py):
label-biased workers, spammers, skewed classes, workers below chance, workers with very few
votes. "Not below majority voting by more than chance" is a one-sided sign test on the tasks
where exactly one of the two is right: with b tasks right only by majority voting and c only
by the aggregator, b - c must stay within 3 standard deviations of 0 under equal chances
(sqrt(b + c)); a systematic loss of a few points on 500 tasks fails it.
"""

import numpy as np
import pytest

import wmvtrust as wt
from crowds import GENERATORS, label_biased, majority
from wmvtrust._labels.models import balanced_accuracy, symmetric_weights

CASES = [(name, n_labels, seed) for name in GENERATORS for n_labels in (2, 4) for seed in range(2)]


def accuracy_and_sign_test(model, votes, truth, n_labels, seed):
    labels = model.fit_predict(votes).loc[np.arange(truth.size)].to_numpy()
    mv = majority(votes, truth.size, n_labels, np.random.default_rng(seed))
    only_mv, only_model = int(((mv == truth) & (labels != truth)).sum()), int(((mv != truth) & (labels == truth)).sum())
    return (labels == truth).mean(), (mv == truth).mean(), only_mv - only_model, np.sqrt(only_mv + only_model)


@pytest.mark.parametrize(("generator", "n_labels", "seed"), CASES)
@pytest.mark.parametrize("model", [wt.WeightedMajorityVote(), wt.ConfusionMatrixVote()], ids=lambda m: m.name)
def test_default_aggregators_are_never_below_majority_voting_by_more_than_chance(model, generator, n_labels, seed):
    votes, truth = GENERATORS[generator](np.random.default_rng(seed), n_labels)
    acc, mv, excess, scale = accuracy_and_sign_test(model, votes, truth, n_labels, seed)
    assert excess <= 3 * scale, (acc, mv)


@pytest.mark.parametrize("n_labels", [2, 4])
@pytest.mark.parametrize("seed", range(3))
def test_dawid_skene_recovers_the_truth_of_label_biased_crowds(n_labels, seed):
    """40 workers x 120 tasks, 80% of them label-biased: the model holds, and unsupervised EM finds >= 95%."""
    votes, truth = label_biased(np.random.default_rng(seed), n_labels)
    model = wt.ConfusionMatrixVote().fit(votes)
    assert model.converged_
    assert (model.labels_.loc[np.arange(truth.size)].to_numpy() == truth).mean() >= 0.95


@pytest.mark.parametrize("seed", range(3))
def test_one_coin_em_collapses_on_label_biased_crowds_and_the_default_does_not(seed):
    """What real data showed, reproduced: one-coin EM runs away with one label; the default keeps the prior near 1/2."""
    votes, truth = label_biased(np.random.default_rng(seed), 2)
    one_coin = wt.WeightedMajorityVote(trust="one-coin").fit(votes)
    default = wt.WeightedMajorityVote().fit(votes)
    mv = majority(votes, truth.size, 2, np.random.default_rng(seed))
    assert one_coin.class_prior_.max() > 0.9 and (one_coin.labels_.to_numpy() == truth).mean() < (mv == truth).mean() - 0.2
    assert abs(default.class_prior_.iloc[0] - 0.5) < 0.15
    assert (default.labels_.loc[np.arange(truth.size)].to_numpy() == truth).mean() >= (mv == truth).mean()


@pytest.mark.parametrize("n_labels", [2, 3, 5])
def test_a_worker_whose_answers_ignore_the_truth_has_the_trust_of_chance_and_weight_zero(n_labels):
    """Equal rows: balanced accuracy exactly 1/L, whatever the row, and so weight ln((L - 1)(1/L)/(1 - 1/L)) = 0."""
    rng = np.random.default_rng(n_labels)
    row = rng.dirichlet(np.ones(n_labels))
    confusion = np.broadcast_to(row, (1, n_labels, n_labels))
    trust = balanced_accuracy(confusion)
    assert trust[0] == pytest.approx(1 / n_labels, abs=1e-15)
    assert symmetric_weights(trust, n_labels)[0] == pytest.approx(0.0, abs=1e-14)


def test_one_coin_summary_survives_a_class_prior_of_zero():
    """After one-coin EM runs away, one label has prior 0: the summary still says what it can, without a warning."""
    votes, truth = label_biased(np.random.default_rng(0), 2)
    model = wt.WeightedMajorityVote(trust="one-coin").fit(votes)
    assert model.class_prior_.min() == 0.0  # the runaway, complete
    summary = model.summary()
    assert summary.optimality.soo_gap is not None and np.isfinite(summary.believed_accuracy)
