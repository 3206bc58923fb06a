"""Calibration of the crowd beliefs: model-based, cross-fitted and dependence-aware, on simulated crowds."""

import numpy as np
import pandas as pd
import pytest

import wmvtrust as wt

N_TASKS, N_WORKERS, PER_TASK = 6000, 30, 5


def crowd(seed, hard_share):
    """Binary one-coin crowd; a share of hard tasks on which every worker is right only 30% of the time.

    Returns the votes, a gold table on every third task, and the truth.
    """
    rng = np.random.default_rng(seed)
    accuracy, truth = rng.beta(5, 2, N_WORKERS), rng.integers(0, 2, N_TASKS)
    task = np.repeat(np.arange(N_TASKS), PER_TASK)
    worker = np.concatenate([rng.choice(N_WORKERS, PER_TASK, replace=False) for _ in range(N_TASKS)])
    hard = rng.random(N_TASKS) < hard_share
    right = rng.random(task.size) < np.where(hard[task], 0.3, accuracy[worker])
    votes = pd.DataFrame({"task": task, "worker": worker, "label": np.where(right, truth[task], 1 - truth[task])})
    gold = pd.DataFrame({"task": np.arange(0, N_TASKS, 3), "label": truth[::3]})
    return votes, gold, truth


def realised(labels, truth, off_gold=True):
    keep = np.arange(N_TASKS) % 3 != 0 if off_gold else np.ones(N_TASKS, bool)
    correct = labels.to_numpy()[keep] == truth[keep]
    return correct.mean(), correct.std(ddof=1) / np.sqrt(correct.size)


@pytest.mark.parametrize("seed", [0, 1])
def test_independent_workers_model_belief_is_calibrated(seed):
    """Stability of correctness on data: with independent workers the model-based belief is the realised accuracy."""
    votes, gold, truth = crowd(seed, hard_share=0.0)
    model = wt.WeightedMajorityVote(trust="gold").fit(votes, gold)
    summary = model.summary(seed=seed)
    achieved, stderr = realised(model.labels_, truth)
    assert abs(summary.believed_accuracy - achieved) <= 4 * stderr
    assert not summary.empirical.independence_refuted
    assert "do not refute independence" in str(summary)


@pytest.mark.parametrize("seed", [0, 1])
def test_correlated_errors_are_flagged_and_the_other_beliefs_cover_the_truth(seed):
    """Workers erring together: the model-based belief overstates; cross-fitted and difficulty-aware beliefs hold."""
    votes, gold, truth = crowd(seed, hard_share=0.3)
    model = wt.WeightedMajorityVote(trust="gold").fit(votes, gold)
    summary = model.summary(seed=seed)
    achieved, stderr = realised(model.labels_, truth)
    assert summary.believed_accuracy > achieved + 4 * stderr  # the model believes too much
    empirical = summary.empirical
    assert empirical.independence_refuted and "refute the model's assumptions" in str(summary)
    assert empirical.ci_low - 2 * stderr <= achieved <= empirical.ci_high + 2 * stderr  # two samples of tasks
    aware = wt.DifficultyAwareVote().fit(votes, gold)
    achieved_aware, stderr_aware = realised(aware.labels_, truth)
    assert abs(aware.believed_accuracy_ - achieved_aware) <= 4 * stderr_aware


def test_given_trust_is_checked_on_every_gold_task():
    """Trust that never learns from gold is checked on every gold task: the labels a fit without gold gives them."""
    votes, gold, truth = crowd(2, hard_share=0.0)
    trust = pd.Series(np.full(N_WORKERS, 0.7), index=range(N_WORKERS))
    summary = wt.WeightedMajorityVote(trust=trust).fit(votes, gold).summary()
    assert summary.empirical.n_tasks == len(gold)
    gold_rows = np.arange(0, N_TASKS, 3)
    labels = wt.WeightedMajorityVote(trust=trust).fit_predict(votes).to_numpy()[gold_rows]
    assert summary.empirical.accuracy == pytest.approx((labels == truth[gold_rows]).mean(), abs=1e-12)


@pytest.mark.parametrize("model", [wt.WeightedMajorityVote(), wt.ConfusionMatrixVote(), wt.DifficultyAwareVote()],
                         ids=lambda m: m.name)
def test_gold_is_withheld_from_the_fit_that_labels_it_in_the_empirical_belief(model):
    """The fit keeps every gold task's truth (accuracy 1 there); the cross-fitted check must not see it."""
    votes, gold, truth = crowd(2, hard_share=0.3)
    model.fit(votes, gold)
    gold_rows = np.arange(0, N_TASKS, 3)
    assert (model.labels_.to_numpy()[gold_rows] == truth[gold_rows]).all()
    empirical = model.summary().empirical
    assert empirical.n_tasks == len(gold)
    assert empirical.accuracy < 0.95  # hard tasks: 30% of gold tasks are mostly wrong once their truth is withheld


def test_optimality_section_and_its_bounds():
    """The SoO gap of sampled panels lies within its bounds; more gold is needed for a smaller regret."""
    votes, gold, _ = crowd(3, hard_share=0.0)
    model = wt.WeightedMajorityVote(trust="gold").fit(votes, gold)
    loose, tight = model.summary(epsilon=0.05).optimality, model.summary(epsilon=0.005).optimality
    assert -4 * loose.stderr <= loose.soo_gap <= loose.sign_aware_bound <= loose.theorem3_bound  # Monte Carlo gap
    assert tight.observations_needed >= loose.observations_needed >= 1
    given = wt.WeightedMajorityVote(trust=pd.Series(np.full(N_WORKERS, 0.7))).fit(votes).summary().optimality
    assert given.soo_gap is None and given.theorem3_bound is None and given.observations_needed >= 1


def test_summary_before_fit_is_an_error():
    with pytest.raises(RuntimeError, match="the aggregator must be fitted before its summary"):
        wt.WeightedMajorityVote().summary()


@pytest.mark.parametrize("model", [wt.WeightedMajorityVote(), wt.WeightedMajorityVote("one-coin"),
                                   wt.WeightedMajorityVote("gold"), wt.ConfusionMatrixVote(),
                                   wt.ConfusionMatrixVote("gold"), wt.DifficultyAwareVote()],
                         ids=lambda m: f"{m.name}-{getattr(m, 'trust', 'gold')}")
def test_every_aggregator_summarises_in_one_shape(model):
    """The same parts for every model; those that do not apply are None, with a note saying why."""
    votes, gold, truth = crowd(4, hard_share=0.0)
    summary = model.fit(votes, gold).summary()
    assert isinstance(summary, wt.crowd.CrowdSummary) and summary.model == model.name
    assert (summary.n_tasks, summary.n_workers, summary.n_labels, summary.n_gold) == (N_TASKS, N_WORKERS, 2, len(gold))
    achieved, stderr = realised(model.labels_, truth)
    assert abs(summary.believed_accuracy - achieved) <= 4 * stderr  # independent workers: the model belief holds
    assert summary.empirical.n_tasks == len(gold)
    text = str(summary)
    assert text.startswith(f"{model.name}: {N_TASKS} tasks ({len(gold)} with gold)")
    soo = summary.optimality
    if isinstance(model, wt.DifficultyAwareVote):
        assert soo is None and "not computed for the latent-class model" in text
        return
    assert soo.soo_gap is not None and soo.soo_gap >= -4 * soo.stderr and "Stability of optimality" in text
    beta_trust = isinstance(model, wt.WeightedMajorityVote) and model.trust in ("one-coin", "gold")
    assert (soo.theorem3_bound is not None) == beta_trust
    assert (soo.observations_needed is not None) == isinstance(model, wt.WeightedMajorityVote)


@pytest.mark.parametrize("model", [wt.WeightedMajorityVote(), wt.ConfusionMatrixVote(), wt.DifficultyAwareVote()],
                         ids=lambda m: m.name)
def test_a_summary_changes_nothing_and_repeats_itself(model):
    """Cross-fitting refits the model on part of the gold: neither the fit nor a later summary may see those refits."""
    votes, gold, _ = crowd(5, hard_share=0.2)
    model.fit(votes, gold)
    probas, trust = model.probas_.copy(), model.trust_.copy()
    first, second = model.summary(seed=3), model.summary(seed=3)
    assert first == second
    pd.testing.assert_frame_equal(model.probas_, probas)
    pd.testing.assert_frame_equal(model.trust_, trust)
