"""Calibration of the crowd beliefs: model-based, cross-fitted and dependence-aware, on simulated crowds."""

import re

import numpy as np
import pandas as pd
import pytest

import wmvtrust as wt

N_TASKS, N_WORKERS, PER_TASK = 6000, 30, 5


def crowd(seed, hard_share, *, hard_right=0.3, n_tasks=N_TASKS, accuracy=None):
    """Binary crowd of N_WORKERS workers, PER_TASK votes a task; on a share of hard tasks every worker is right
    with probability ``hard_right`` (default 30%), elsewhere with its own accuracy (default ~ Beta(5, 2)).

    Returns the votes, a gold table on every third task, and the truth.
    """
    rng = np.random.default_rng(seed)
    accuracy = rng.beta(5, 2, N_WORKERS) if accuracy is None else accuracy(rng)
    truth = rng.integers(0, 2, n_tasks)
    task = np.repeat(np.arange(n_tasks), PER_TASK)
    worker = np.concatenate([rng.choice(N_WORKERS, PER_TASK, replace=False) for _ in range(n_tasks)])
    hard = rng.random(n_tasks) < hard_share
    right = rng.random(task.size) < np.where(hard[task], hard_right, accuracy[worker])
    votes = pd.DataFrame({"task": task, "worker": worker, "label": np.where(right, truth[task], 1 - truth[task])})
    gold = pd.DataFrame({"task": np.arange(0, n_tasks, 3), "label": truth[::3]})
    return votes, gold, truth


def the_issues_crowd(seed, hard_share, n_tasks=N_TASKS):
    """Hard tasks at chance for everyone, each worker right with probability in [0.7, 0.95] elsewhere."""
    return crowd(seed, hard_share, hard_right=0.5, n_tasks=n_tasks, accuracy=lambda rng: rng.uniform(0.7, 0.95, N_WORKERS))


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
    assert tight.observations_needed_expected_gap >= loose.observations_needed_expected_gap >= 1
    given = wt.WeightedMajorityVote(trust=pd.Series(np.full(N_WORKERS, 0.7))).fit(votes).summary().optimality
    assert given.soo_gap is None and given.theorem3_bound is None and given.observations_needed >= 1


def test_summary_before_fit_is_an_error():
    with pytest.raises(RuntimeError, match=re.escape("the aggregator must be fitted first; probas_ is not set. Call fit(votes, gold) first.")):
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
    assert (soo.observations_needed_expected_gap is not None) == beta_trust  # planned over the trust's posterior
    assert ("over the trust's posterior" in text) == beta_trust


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



@pytest.mark.parametrize("seed", [0, 1])
def test_without_gold_the_belief_sees_tasks_that_are_hard_for_everyone(seed):
    """A quarter of the tasks at chance for every worker: the model believes far too much; the label-free test
    refutes independence and the belief it recommends is within 2 points of what is realised."""
    votes, _, truth = the_issues_crowd(seed, 0.25)
    model = wt.WeightedMajorityVote().fit(votes)
    summary = model.summary()
    achieved = (model.labels_.to_numpy() == truth).mean()
    assert summary.believed_accuracy > achieved + 0.04
    assert summary.label_free.independence_refuted and summary.belief_kind == "hard tasks"
    assert summary.belief_source.startswith("label-free: Dawid-Skene with a share of hard tasks")
    assert abs(summary.belief - achieved) <= 0.02
    assert summary.belief_low <= summary.belief <= summary.belief_high


def test_without_gold_independent_workers_keep_a_belief_that_holds():
    """Ten crowds of independent workers: the recommended belief within 4 standard errors of the realised accuracy
    in at least 9 (the independence test may fire by chance at its 1% level: two in ten has probability 0.4%)."""
    held = 0
    for seed in range(10):
        votes, _, truth = the_issues_crowd(100 + seed, 0.0, n_tasks=2000)
        model = wt.WeightedMajorityVote().fit(votes)
        summary = model.summary()
        achieved = (model.labels_.to_numpy() == truth).mean()
        held += abs(summary.belief - achieved) <= 4 * np.sqrt(achieved * (1 - achieved) / truth.size)
    assert held >= 9


def test_with_gold_the_interval_covers_the_accuracy_on_the_other_tasks_at_its_nominal_rate():
    """40 crowds whose workers err together on 30% of the tasks (where the model's own belief is far off), 30% of the
    tasks gold: the 95% interval holds the accuracy on the other tasks in at least 34 of 40 (Binomial(40, 0.95) falls
    below 34 with probability 0.6%), and it is informative (narrower than 0.15 on average)."""
    covered, widths = 0, []
    for seed in range(40):
        votes, _, truth = crowd(200 + seed, 0.3, n_tasks=1000)
        gold_rows = np.random.default_rng(seed).permutation(1000)[:300]
        gold = pd.DataFrame({"task": gold_rows, "label": truth[gold_rows]})
        model = wt.WeightedMajorityVote().fit(votes, gold)
        summary = model.summary(seed=seed)
        rest = np.setdiff1d(np.arange(1000), gold_rows)
        achieved = (model.labels_.loc[rest].to_numpy() == truth[rest]).mean()
        covered += summary.belief_low <= achieved <= summary.belief_high
        widths.append(summary.belief_high - summary.belief_low)
        assert summary.belief_kind == "gold" and summary.belief_source.startswith("cross-fitted accuracy on 300 gold")
    assert covered >= 34 and np.mean(widths) < 0.15
