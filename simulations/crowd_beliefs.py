"""Claim (f): with hard tasks and label bias, the belief that ``summary()`` recommends tracks the realised accuracy.

A crowd labels binary tasks, five distinct workers per task. On a share of *hard*
tasks every worker is at chance; elsewhere worker ``i`` is right with its own
probability, uniform in [0.7, 0.95]. A share of the workers is label-biased: whatever
the truth, such a worker says 1 with probability 0.3, and otherwise votes as above.
A random subset of the tasks (a share given by the gold fraction) has gold.

Per crowd, the default ``wt.WeightedMajorityVote()`` is fitted (with the gold, if
any) and its ``summary()`` read: the recommended belief with its 95% interval and
its source, the model's own belief, the label-free belief (without gold) and the
cross-fitted accuracy on gold (with gold), each beside the accuracy realised on the
tasks without gold. A crowd is named by its ``crowd_seed``: the same seed gives the
same workers, truths, panels and random numbers for every hard share, label bias and
gold fraction (the hard tasks are nested), so the configurations are compared on paired
crowds. The gold tasks are drawn with each configuration's own seed: an unusual gold
sample must not repeat across configurations, or the coverage counts would not be
independent.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

import wmvtrust as wt

from . import _common as c

TITLE = "Crowd beliefs with hard tasks and label bias"
CLAIM = ("When some tasks are hard (every worker at chance) the votes refute independence given the truth, and the "
         "belief that summary() recommends corrects the model's own belief, which overstates the accuracy: without "
         "gold the label-free belief (Dawid-Skene with a share of hard tasks) is within 2 points of the realised "
         "accuracy where the model's own belief is more than 4 points above it; with independent workers the "
         "recommended belief is the model's own and right up to chance; with gold its interval (cross-fitted "
         "accuracy on gold, predictive for the other tasks) covers the realised accuracy at about its 95% level, "
         "with or without label-biased workers.")
BELIEFS = {"belief": "recommended", "model_belief": "model's own", "label_free": "label-free (no gold)"}
COLORS = {"belief": "black", "model_belief": "tab:red", "label_free": "tab:blue"}
KEYS = ["hard_share", "biased_share", "gold_fraction"]

PER_TASK = 5  # votes per task, from distinct workers
ACCURACY = (0.7, 0.95)  # a worker's probability of being right on a task that is not hard
BIAS = 0.3  # a label-biased worker says 1 with this probability whatever the truth
BIASED_SHARES = (0.0, 0.5)
GOLD_FRACTIONS = (0.0, 0.1, 0.3)
CHECKED_HARD_SHARE = 0.25  # the hard share of the verdict's first check
CLOSE, OVERSTATED = 2.0, 4.0  # points: the recommended belief's error at most CLOSE, the model's own above OVERSTATED
STDERRS = 4.0  # with independent workers, the recommended belief's error within this many standard errors


@dataclass(frozen=True)
class Size:
    """How much to simulate, and the coverage the verdict asks of the gold intervals."""

    n_tasks: int
    n_workers: int
    hard_shares: tuple
    repetitions: int  # crowds per configuration
    coverage: float


QUICK = Size(n_tasks=4_000, n_workers=40, hard_shares=(0.0, 0.25), repetitions=3, coverage=0.8)
FULL = Size(n_tasks=6_000, n_workers=60, hard_shares=(0.0, 0.1, 0.25, 0.4), repetitions=10, coverage=0.9)


def crowd(n_tasks, n_workers, hard_share, biased_share, crowd_seed):
    """(votes, truth): the vote table and the true labels."""
    rng = np.random.default_rng(crowd_seed)  # every draw made whatever the configuration: crowds stay paired
    accuracy = rng.uniform(*ACCURACY, n_workers)
    biased = rng.permutation(n_workers) < round(biased_share * n_workers)
    truth = rng.integers(0, 2, n_tasks)
    hard = rng.random(n_tasks) < hard_share
    worker = rng.random((n_tasks, n_workers)).argsort(axis=1)[:, :PER_TASK].ravel()
    task = np.repeat(np.arange(n_tasks), PER_TASK)
    right = rng.random(task.size) < np.where(hard[task], 0.5, accuracy[worker])
    says_one = biased[worker] & (rng.random(task.size) < BIAS)
    label = np.where(says_one, 1, np.where(right, truth[task], 1 - truth[task]))
    return pd.DataFrame({"task": task, "worker": worker, "label": label}), truth


def crowd_fit(n_tasks, n_workers, hard_share, biased_share, gold_fraction, crowd_seed, seed):
    """Fit the default aggregator to one crowd: every belief of its summary beside the realised accuracy."""
    votes, truth = crowd(n_tasks, n_workers, hard_share, biased_share, crowd_seed)
    n_gold = round(gold_fraction * n_tasks)
    order = np.random.default_rng(seed).permutation(n_tasks)  # a gold draw of its own: coverage counts stay independent
    gold, rest = order[:n_gold], order[n_gold:]
    model = wt.WeightedMajorityVote().fit(votes, pd.DataFrame({"task": gold, "label": truth[gold]}) if n_gold else None)
    s = model.summary(seed=seed)
    realised = float((model.labels_.loc[rest].to_numpy() == truth[rest]).mean())
    free, empirical = s.label_free, s.empirical
    return {"n_gold": n_gold, "realised": realised, "belief": s.belief, "belief_low": s.belief_low,
            "belief_high": s.belief_high, "source": s.belief_kind, "model_belief": s.believed_accuracy,
            "label_free": np.nan if free is None else free.belief,
            "fitted_hard_share": np.nan if free is None else free.hard_share,
            "p_value": np.nan if free is None else free.p_value,
            "empirical": np.nan if empirical is None else empirical.accuracy,
            "covered": bool(s.belief_low <= realised <= s.belief_high)}


def run(quick=False, seed=0, *, executor=None):
    """One row per crowd and gold fraction: the realised accuracy and every belief of the summary."""
    size = QUICK if quick else FULL
    grid = {"n_tasks": [size.n_tasks], "n_workers": [size.n_workers], "hard_share": list(size.hard_shares),
            "biased_share": list(BIASED_SHARES), "gold_fraction": list(GOLD_FRACTIONS),
            "crowd_seed": c.panel_seeds(seed, size.repetitions)}
    return {"crowds": c.sweep(crowd_fit, grid, seed, executor)}


def belief_errors(df):
    """Per configuration and belief: mean believed minus realised accuracy in points, its standard error, the count."""
    long = df.melt(id_vars=[*KEYS, "realised"], value_vars=list(BELIEFS), var_name="belief", value_name="believed")
    long = long.dropna(subset=["believed"]).assign(error=lambda d: 100 * (d["believed"] - d["realised"]))
    return c.mean_and_stderr(long, [*KEYS, "belief"], "error")


def _points(row):
    return f"{row['mean']:+.2f} ± {row['stderr']:.2f}"


def summary(tables):
    """Per configuration: each belief's error in points (mean ± standard error), the source and the coverage."""
    df = tables["crowds"]
    errors = belief_errors(df).set_index([*KEYS, "belief"])
    rows = []
    for (hard, biased, gold), part in df.groupby(KEYS, sort=False):
        counts = part["source"].value_counts()
        row = {"hard share": hard, "label-biased share": biased, "gold fraction": gold, "crowds": len(part),
               "belief source": ", ".join(f"{name} {k}/{len(part)}" for name, k in counts.items())}
        for belief, label in BELIEFS.items():
            key = (hard, biased, gold, belief)
            row[f"{label} - realised (points)"] = _points(errors.loc[key]) if key in errors.index else ""
        row["interval coverage"] = c.percent(int(part["covered"].sum()), len(part))
        rows.append(row)
    return pd.DataFrame(rows)


def verdict(tables):
    df = tables["crowds"]
    size = QUICK if df["n_tasks"].iloc[0] == QUICK.n_tasks else FULL  # the mode sets the coverage asked
    errors = belief_errors(df).set_index([*KEYS, "belief"])

    def no_gold(hard, belief):
        """{label-biased share: that belief's error row} with ``hard`` share of hard tasks and no gold."""
        return {b: errors.loc[(hard, b, 0.0, belief)] for b in BIASED_SHARES}

    hard, own, independent = no_gold(CHECKED_HARD_SHARE, "belief"), no_gold(CHECKED_HARD_SHARE, "model_belief"), \
        no_gold(0.0, "belief")
    gold = df[df["gold_fraction"] > 0]
    covered = int(gold["covered"].sum())
    return c.verdict([
        (all(abs(hard[b]["mean"]) <= CLOSE and own[b]["mean"] > OVERSTATED for b in BIASED_SHARES),
         f"with {CHECKED_HARD_SHARE:.0%} hard tasks and no gold the recommended belief minus the realised accuracy is "
         + ", ".join(f"{_points(hard[b])} points with {b:.0%} label-biased workers (model's own: {_points(own[b])})"
                     for b in BIASED_SHARES)
         + f", asked: within {CLOSE:g} points while the model's own overstates by more than {OVERSTATED:g}"),
        (all(abs(e["mean"]) <= STDERRS * e["stderr"] for e in independent.values()),
         "with independent workers (no hard tasks) and no gold the recommended belief minus the realised accuracy is "
         + ", ".join(f"{_points(e)} points with {b:.0%} label-biased workers" for b, e in independent.items())
         + f", asked: within {STDERRS:g} standard errors of 0"),
        (covered >= size.coverage * len(gold),
         f"with gold ({', '.join(f'{g:.0%}' for g in GOLD_FRACTIONS if g > 0)}) its 95% interval covers the realised "
         f"accuracy in {c.percent(covered, len(gold))} of the crowds over all configurations, asked: at least "
         f"{size.coverage:.0%}"),
    ])


def plot(tables):
    df = tables["crowds"]
    errors = belief_errors(df)
    covers = df.groupby(KEYS, sort=False)["covered"].mean().reset_index()  # the share of crowds covered
    hard_shares = sorted(df["hard_share"].unique())
    fig1, axes = c.figure(len(BIASED_SHARES), len(GOLD_FRACTIONS), sharey=True,
                          title="Believed minus realised accuracy (mean ± 1.96 s.e. over crowds)")
    for ax, (biased, gold) in zip(axes, [(b, g) for b in BIASED_SHARES for g in GOLD_FRACTIONS]):
        part = errors[(errors["biased_share"] == biased) & (errors["gold_fraction"] == gold)]
        for belief, label in BELIEFS.items():
            line = part[part["belief"] == belief].sort_values("hard_share")
            if len(line):
                c.line_with_band(ax, line["hard_share"], line["mean"], line["stderr"], label=label,
                                 color=COLORS[belief])
        ax.axhline(0.0, color="gray", linewidth=0.8)
        ax.set(title=f"gold {gold:.0%}, label-biased workers {biased:.0%}", xlabel="share of hard tasks",
               ylabel="believed - realised (points)", xticks=hard_shares)
    axes[0].legend(fontsize="small")

    fig2, axes = c.figure(1, len(BIASED_SHARES), sharey=True, title="Coverage of the recommended 95% interval")
    for ax, biased in zip(axes, BIASED_SHARES):
        part = covers[covers["biased_share"] == biased]
        for k, (gold, color) in enumerate(zip(GOLD_FRACTIONS, ["tab:gray", "tab:orange", "tab:green"])):
            line = part[part["gold_fraction"] == gold].sort_values("hard_share")
            ax.plot(line["hard_share"] + 0.004 * (k - 1), line["covered"], marker="o", ms=4, color=color,
                    label=f"gold {gold:.0%}")  # set apart a little: equal shares would hide each other
        ax.axhline(0.95, color="black", linewidth=0.8, linestyle="--", label="nominal 95%")
        ax.set(title=f"label-biased workers {biased:.0%}", xlabel="share of hard tasks",
               ylabel="share of crowds: realised inside", ylim=(-0.05, 1.05), xticks=hard_shares)
    axes[0].legend(fontsize="small")
    return [fig1, fig2]


def setup(quick):
    """The crowds, for the report."""
    size = QUICK if quick else FULL
    return (f"{size.repetitions} crowds per configuration, each of {size.n_tasks:,} binary tasks with {PER_TASK} votes "
            f"from distinct workers of a pool of {size.n_workers}. On a share of hard tasks "
            f"({', '.join(f'{h:g}' for h in size.hard_shares)}) every worker is right with probability 0.5; elsewhere "
            f"worker i is right with its own probability, uniform in [{ACCURACY[0]}, {ACCURACY[1]}]. A share "
            f"({', '.join(f'{b:g}' for b in BIASED_SHARES)}) of the workers is label-biased: with probability {BIAS} "
            "such a worker says 1 whatever the truth, otherwise it votes as above. Gold on a random share "
            f"({', '.join(f'{g:g}' for g in GOLD_FRACTIONS)}) of the tasks; accuracies are realised on the other "
            "tasks. Aggregator: the default wt.WeightedMajorityVote(), fitted with the gold, and its summary(). The "
            "same crowd seed gives the same crowd in every configuration (hard and gold tasks nested).")
