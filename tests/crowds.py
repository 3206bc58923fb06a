"""Simulated crowds with the worker types behind what real data showed (see test_crowd_defaults.py).

Each generator takes a numpy Generator and the number of labels and returns ``(votes, truth)``:
a long DataFrame (task, worker, label; integer codes) and the true label of each task.
Workers are drawn as confusion matrices ``conf[i, y, v] = P(worker i reports v | truth y)``.
"""

import numpy as np
import pandas as pd


def sample(rng, confusion, class_prior, panels):
    """Votes of the workers in ``panels[j]`` on task j, each drawn from its confusion row of the task's truth."""
    n_labels = confusion.shape[1]
    truth = rng.choice(n_labels, size=len(panels), p=class_prior)
    task = np.repeat(np.arange(len(panels)), [len(p) for p in panels])
    worker = np.concatenate(panels)
    rows = confusion[worker, truth[task]].cumsum(axis=1)
    label = np.minimum((rng.random((task.size, 1)) > rows).sum(axis=1), n_labels - 1)
    return pd.DataFrame({"task": task, "worker": worker, "label": label}), truth


def symmetric(accuracy, n_labels):
    """Symmetric-noise matrices: right with ``accuracy``, else each wrong label alike."""
    conf = np.repeat(((1 - accuracy) / (n_labels - 1))[:, None, None], n_labels, axis=1).repeat(n_labels, axis=2)
    conf[:, np.arange(n_labels), np.arange(n_labels)] = accuracy[:, None]
    return conf


def panels_of(rng, n_tasks, n_workers, per_task, activity=None):
    """``per_task`` distinct workers per task, drawn with probabilities proportional to ``activity``."""
    p = None if activity is None else activity / activity.sum()
    return [rng.choice(n_workers, per_task, replace=False, p=p) for _ in range(n_tasks)]


def uniform(n_labels):
    return np.full(n_labels, 1.0 / n_labels)


def label_biased(rng, n_labels, n_tasks=120, n_workers=40):
    """Every worker labels every task (as on a small image task); 80% favour one label.

    A biased worker reports its favourite label on 90-100% of the tasks where it is true, and is
    right on only 5-50% of the others, where it gives its favourite most of the time (80% of its
    errors); the rest are symmetric workers, right 55-75% of the time.
    """
    conf = symmetric(rng.uniform(0.55, 0.75, n_workers), n_labels)
    for i in np.flatnonzero(rng.random(n_workers) < 0.8):
        favourite = rng.integers(n_labels)
        for y in range(n_labels):
            hit = rng.uniform(0.9, 1.0) if y == favourite else rng.uniform(0.05, 0.5)
            others = [c for c in range(n_labels) if c not in (y, favourite)]
            conf[i, y] = 0.0
            conf[i, y, y] = hit
            if y == favourite:
                conf[i, y, others] = (1 - hit) / len(others) if others else 0.0
            else:
                conf[i, y, favourite] = (1 - hit) * (0.8 if others else 1.0)
                conf[i, y, others] = (1 - hit) * 0.2 / max(len(others), 1)
    return sample(rng, conf, uniform(n_labels), [np.arange(n_workers)] * n_tasks)


def spammers(rng, n_labels, n_tasks=500, n_workers=30, per_task=7):
    """40% of the workers answer uniformly at random; the others are right 65-90% of the time."""
    accuracy = rng.uniform(0.65, 0.9, n_workers)
    accuracy[rng.random(n_workers) < 0.4] = 1.0 / n_labels
    return sample(rng, symmetric(accuracy, n_labels), uniform(n_labels), panels_of(rng, n_tasks, n_workers, per_task))


def skewed(rng, n_labels, n_tasks=500, n_workers=30, per_task=5):
    """One label is the truth of 80% (two labels) or 70% (more) of the tasks; workers right 60-85% of the time."""
    prior = np.array([0.8, 0.2]) if n_labels == 2 else np.r_[0.7, np.full(n_labels - 1, 0.3 / (n_labels - 1))]
    return sample(rng, symmetric(rng.uniform(0.6, 0.85, n_workers), n_labels), prior,
                  panels_of(rng, n_tasks, n_workers, per_task))


def adversarial(rng, n_labels, n_tasks=500, n_workers=30, per_task=7):
    """A quarter of the workers are below chance (right 10-35% of the time with two labels, 0-15% with more)."""
    accuracy = rng.uniform(0.65, 0.9, n_workers)
    bad = rng.random(n_workers) < 0.25
    accuracy[bad] = rng.uniform(0.1, 0.35, bad.sum()) if n_labels == 2 else rng.uniform(0.0, 0.15, bad.sum())
    return sample(rng, symmetric(accuracy, n_labels), uniform(n_labels), panels_of(rng, n_tasks, n_workers, per_task))


def sparse(rng, n_labels, n_tasks=500, n_workers=1000, per_task=5, class_prior=None):
    """Most of 1,000 workers cast one vote or two, a few cast many (Pareto activity); accuracy ~ Beta(4, 2)."""
    activity = rng.pareto(1.5, n_workers) + 0.05
    return sample(rng, symmetric(rng.beta(4, 2, n_workers), n_labels),
                  uniform(n_labels) if class_prior is None else class_prior,
                  panels_of(rng, n_tasks, n_workers, per_task, activity))


def sparse_skewed(rng, n_labels):
    """``sparse`` with one label the truth of 75% (two labels) or 70% (more) of the tasks."""
    prior = np.array([0.75, 0.25]) if n_labels == 2 else np.r_[0.7, np.full(n_labels - 1, 0.3 / (n_labels - 1))]
    return sparse(rng, n_labels, class_prior=prior)


GENERATORS = {"label_biased": label_biased, "spammers": spammers, "skewed": skewed, "adversarial": adversarial,
              "sparse": sparse, "sparse_skewed": sparse_skewed}


def majority(votes, n_tasks, n_labels, rng):
    """Plain plurality voting, ties broken by a fair coin: the baseline."""
    counts = np.zeros((n_tasks, n_labels))
    np.add.at(counts, (votes["task"].to_numpy(), votes["label"].to_numpy()), 1)
    return (rng.random(counts.shape) * (counts == counts.max(axis=1, keepdims=True))).argmax(axis=1)


def aggregators():
    """Every aggregator in every mode, by name: (factory, whether it needs gold)."""
    import wmvtrust as wt

    return {"wmv em": (lambda: wt.WeightedMajorityVote(), False),
            "wmv one-coin": (lambda: wt.WeightedMajorityVote(trust="one-coin"), False),
            "wmv gold": (lambda: wt.WeightedMajorityVote(trust="gold"), True),
            "confusion em": (lambda: wt.ConfusionMatrixVote(), False),
            "confusion gold": (lambda: wt.ConfusionMatrixVote(trust="gold"), True),
            "difficulty": (lambda: wt.DifficultyAwareVote(), True)}


def crowd_with_gold(seed, n_tasks=300, n_labels=3, per_task=4, gold_share=0.3, n_ties=40):
    """A crowd with named tasks and workers and a gold table, and ``n_ties`` tasks that every symmetric model ties:
    worker "w0b" repeats every vote of "w0", and on the extra tasks the two disagree, half one way, half the other."""
    rng = np.random.default_rng(seed)
    votes, truth = sample(rng, symmetric(rng.uniform(0.55, 0.9, 25), n_labels), uniform(n_labels),
                          panels_of(rng, n_tasks, 25, per_task))
    votes = votes.assign(task="t" + votes["task"].astype(str), worker="w" + votes["worker"].astype(str))
    clone = votes[votes["worker"] == "w0"].assign(worker="w0b")
    tied = [f"x{j}" for j in range(n_ties)]
    split = pd.DataFrame({"task": tied * 2, "worker": ["w0"] * n_ties + ["w0b"] * n_ties,
                          "label": [0, 1] * (n_ties // 2) + [1, 0] * (n_ties // 2)})
    gold_tasks = rng.choice(n_tasks, int(gold_share * n_tasks), replace=False)
    gold = pd.DataFrame({"task": [f"t{j}" for j in gold_tasks], "label": truth[gold_tasks]})
    return pd.concat([votes, clone, split], ignore_index=True), gold
