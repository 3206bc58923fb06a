"""Claim (e): an ensemble of deep equilibrium models errs together, so its independence belief overstates its accuracy.

Each repetition draws a fresh stratified split of the digits data (60% train, 20%
validation, 20% test) and trains fresh DEQ members that differ in seed, width,
training budget and Jacobian regularisation. The members vote on the clean test
set and on three shifted copies (pixel noise, rotation, occlusion), for the
ten-class task and for its binary version (digit >= 5; each member's prediction
and probabilities summed over the two groups of digits). Trust is learned on the
clean validation set, globally or per quantile bin of a per-example signal: path
independence (the asymptotic-alignment score after 10 plain fixed-point steps), softmax
confidence or the final solver residual.

Measured per repetition: the accuracy of every voting rule (paired, same members
and examples), each signal's AUROC for a member's correctness, the accuracy the
global-trust ensemble believes under each belief model beside the realised one,
and the accuracy against the test-time solver budget, split by path independence.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import ndimage, stats
from tqdm.auto import tqdm

import wmvtrust as wt
from wmvtrust import deq

from . import _common as c

TITLE = "DEQ ensembles err together"
CLAIM = ("Members of a deep-equilibrium ensemble trained on the same data make correlated errors, so the accuracy "
         "the trust-weighted ensemble believes under the independence assumption of Theorem 1 lies above the "
         "accuracy it realises on held-out data of the validation distribution. Dependence-aware beliefs do "
         "better: the rule's cross-fitted validation record is closer, and a latent difficulty class fitted on "
         "the joint validation record (proofs/soc_latent_class.md) is measured to bracket the realised accuracy "
         "between its errors-agreeing reading (with positive weights a proved lower bound on the model's accuracy) "
         "and its symmetric-noise reading (no proved upper bound: an observation, not a theorem); "
         "with ten labels, the latent class whose members lean towards one shared wrong label per example is "
         "closer than independence too.")
RULES = {"best": "best member", "plurality": "plurality", "soft": "soft vote (mean probabilities)",
         "global": "WMV, global trust", "aa": "WMV | path independence", "confidence": "WMV | confidence",
         "residual": "WMV | residual", "matched": "WMV, trust from validation shifted alike"}
SIGNALS = {"aa": "path independence", "confidence": "softmax confidence", "residual": "-log residual"}
BELIEFS = {"independent": "independence (Theorem 1)", "theorem1": "A(t, w(t)) exact",
           "latent": "latent class, symmetric noise", "latent_agree": "latent class, errors agreeing",
           "latent_distractor": "latent class, shared distractor", "record": "cross-fitted record"}
TEST_SETS = ("clean", "noise", "rotate", "occlude")
TASKS = ("digits", "binary")
BUDGETS = (1, 2, 4, 8, 16, 32, 64)
AA_BUDGET = 10  # plain fixed-point steps of the path-independence score: at 30 it is 1 almost everywhere


@dataclass(frozen=True)
class Size:
    repetitions: int
    members: int
    widths: tuple
    epochs: int


QUICK = Size(repetitions=5, members=5, widths=(16, 24, 32), epochs=6)
FULL = Size(repetitions=20, members=9, widths=(32, 48, 64), epochs=12)
TRAIN_BUDGETS = (8, 15, 30)
JAC_WEIGHTS = (0.0, 0.3, 1.0)


def member_settings(k, size):
    """Width, training budget and Jacobian weight of member ``k``: every combination is visited in turn."""
    return dict(width=size.widths[k % 3], max_iter=TRAIN_BUDGETS[(k // 3) % 3], jac_weight=JAC_WEIGHTS[(k + k // 3) % 3])


def split(seed):
    """(train, validation, test) as (X, y) pairs of the digits data: a stratified 60/20/20 split from ``seed``."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_rest, y_train, y_rest = train_test_split(X, y, train_size=0.6, stratify=y, random_state=seed)
    X_val, X_test, y_val, y_test = train_test_split(X_rest, y_rest, train_size=0.5, stratify=y_rest,
                                                    random_state=seed)
    return (X_train, y_train), (X_val, y_val), (X_test, y_test)


def shifted(X, kind, rng):
    """A shifted copy of 8x8 images with pixels in [0, 1]: Gaussian noise, a rotation or a 4x4 occlusion."""
    if kind == "clean":
        return X
    images = X.reshape(-1, 8, 8)
    if kind == "noise":
        return np.clip(X + rng.normal(0.0, 0.35, X.shape), 0.0, 1.0)
    if kind == "rotate":
        angles = rng.uniform(20.0, 35.0, len(X)) * rng.choice([-1.0, 1.0], len(X))
        return np.stack([ndimage.rotate(img, a, reshape=False, order=1, mode="constant", cval=0.0)
                         for img, a in zip(images, angles)]).reshape(len(X), -1).clip(0.0, 1.0)
    if kind == "occlude":
        out = images.copy()
        corners = rng.integers(0, 5, (len(X), 2))
        for img, (r, col) in zip(out, corners):
            img[r:r + 4, col:col + 4] = 0.0
        return out.reshape(len(X), -1)
    raise ValueError(f"unknown shift {kind!r}")


def auroc(score, positive):
    """Area under the ROC curve of ``score`` for ``positive`` (ties count half); NaN with one class only."""
    positive = np.asarray(positive, dtype=bool)
    n_pos, n_neg = positive.sum(), (~positive).sum()
    if n_pos == 0 or n_neg == 0:
        return np.nan
    ranks = stats.rankdata(score)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def observe(member, X, budget, seed):
    """Predictions, class probabilities and the three signals of one member on ``X`` at its own budget."""
    probas = member.predict_proba(X, max_iter=budget)
    result = member.solve(X, max_iter=budget, fallback=False)
    return {"label": member.classes_[probas.argmax(axis=1)], "probas": probas,
            "aa": member.path_independence(X, budget=AA_BUDGET, start="swap", seed=seed),
            "residual": -np.log10(np.maximum(result.rel_lowest, 1e-300))}


def binary_view(view):
    """The same observation for the binary task: digit >= 5, probabilities summed per group."""
    high = view["probas"][:, 5:].sum(axis=1)
    probas = np.column_stack([1.0 - high, high])
    return {**view, "label": (view["label"] >= 5).astype(int), "probas": probas}


def repetition(repetition, seed, size):
    """Everything measured in one repetition: {table name: list of rows}."""
    streams = np.random.SeedSequence(seed).spawn(3)
    split_seed = int(streams[0].generate_state(1)[0] % 2**31)
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = split(split_seed)
    member_seeds = [int(s.generate_state(1)[0]) for s in streams[1].spawn(size.members)]
    members = [deq.DEQClassifier(**member_settings(k, size), epochs=size.epochs, seed=s).fit(X_train, y_train)
               for k, s in enumerate(member_seeds)]
    shift_rng = np.random.default_rng(streams[2])
    sets = {kind: shifted(X_test, kind, shift_rng) for kind in TEST_SETS}
    validation_sets = {kind: shifted(X_val, kind, shift_rng) for kind in TEST_SETS}  # for the matched calibration
    views = {(part, kind): [observe(m, X, m.max_iter, seed) for m in members]
             for part, group in (("test", sets), ("validation", validation_sets)) for kind, X in group.items()}
    rows = {"accuracy": [], "auroc": [], "belief": [], "budget": []}
    base = {"repetition": repetition, "seed": seed}
    for task in TASKS:
        truth = {"validation": y_val, "test": y_test}
        if task == "binary":
            truth = {k: (y >= 5).astype(int) for k, y in truth.items()}
        task_views = {k: [binary_view(v) for v in vs] if task == "binary" else vs for k, vs in views.items()}
        ensembles = _fit_ensembles(task_views[("validation", "clean")], truth["validation"], seed)
        for kind in TEST_SETS:
            here = dict(base, task=task, test_set=kind)
            observed, y = task_views[("test", kind)], truth["test"]
            matched = wt.TrustEnsemble(seed=seed).fit(_votes(task_views[("validation", kind)]), truth["validation"])
            accuracies = _rule_accuracies(ensembles, observed, y, seed)
            accuracies["matched"] = float((matched.predict(_votes(observed)) == y).mean())
            for rule, accuracy in accuracies.items():
                rows["accuracy"].append(dict(here, rule=rule, accuracy=accuracy))
            for k, view in enumerate(observed):
                right = view["label"] == y
                for signal in SIGNALS:
                    score = view["probas"].max(axis=1) if signal == "confidence" else view[signal]
                    rows["auroc"].append(dict(here, member=k, signal=signal, auroc=auroc(score, right),
                                              member_accuracy=float(right.mean())))
            for calibration, ensemble in (("clean", ensembles["global"]), ("matched", matched)):
                belief = ensemble.belief(_votes(observed), y)
                for model in belief.errors():  # the models defined for this task
                    rows["belief"].append(dict(here, calibration=calibration, model=model,
                                               believed=getattr(belief, model), realised=belief.realised,
                                               ci_low=belief.ci_low, ci_high=belief.ci_high))
    for kind, X in sets.items():
        rows["budget"] += _budget_rows(members, views[("test", kind)], X, y_test, dict(base, test_set=kind))
    return rows


def _votes(views):
    return np.column_stack([v["label"] for v in views])


def _signal(views, name):
    return np.column_stack([v["probas"].max(axis=1) if name == "confidence" else v[name] for v in views])


def _fit_ensembles(views, y, seed):
    """The trust-weighted ensembles of one task: global trust and trust binned by each signal."""
    votes = _votes(views)
    ensembles = {"global": wt.TrustEnsemble(seed=seed).fit(votes, y)}
    for name in SIGNALS:
        ensembles[name] = wt.TrustEnsemble(seed=seed).fit(votes, y, signal=_signal(views, name))
    return ensembles


def _rule_accuracies(ensembles, views, y, seed):
    votes = _votes(views)
    soft = np.mean([v["probas"] for v in views], axis=0)  # columns are the labels 0..L-1 in both tasks
    decisions = {"best": votes[:, ensembles["global"].best_member_], "plurality": wt.plurality_vote(votes, seed=seed),
                 "soft": np.arange(soft.shape[1])[soft.argmax(axis=1)], "global": ensembles["global"].predict(votes)}
    for name in SIGNALS:
        decisions[name] = ensembles[name].predict(votes, signal=_signal(views, name))
    return {rule: float((decision == y).mean()) for rule, decision in decisions.items()}


def _budget_rows(members, views, X, y, base):
    """Accuracy against the test-time budget of plain fixed-point steps per member, over all examples and per half
    of path independence (the member's own budget marked ``own``)."""
    rows = []
    for k, (member, view) in enumerate(zip(members, views)):
        high = view["aa"] >= np.median(view["aa"])
        for budget in sorted(set(BUDGETS) | {member.max_iter}):  # plain fixed-point steps from zero, no fallback
            right = member.predict(X, max_iter=budget, solver="fixed_point", fallback=False) == y
            for group, keep in (("all", slice(None)), ("high AA", high), ("low AA", ~high)):
                rows.append(dict(base, member=k, budget=budget, own=budget == member.max_iter, group=group,
                                 accuracy=float(right[keep].mean())))
    return rows


def run(quick=False, seed=0):
    """The four tables over all repetitions; one independent seed per repetition."""
    size = QUICK if quick else FULL
    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(size.repetitions)]
    tables = {"accuracy": [], "auroc": [], "belief": [], "budget": []}
    for r, s in enumerate(tqdm(seeds, desc="DEQ ensembles", unit="repetition", leave=False)):
        for name, rows in repetition(r, s, size).items():
            tables[name] += rows
    return {name: pd.DataFrame(rows) for name, rows in tables.items()}


# ---------------------------------------------------------------- analysis

def paired(accuracy, rule, baseline):
    """Per (task, test set): mean and standard error over repetitions of ``rule`` minus ``baseline`` accuracy."""
    wide = accuracy.pivot_table(index=["task", "test_set", "repetition"], columns="rule", values="accuracy")
    diff = (wide[rule] - wide[baseline]).rename("diff").reset_index()
    diff["test_set"] = pd.Categorical(diff["test_set"], categories=TEST_SETS)  # in the order of TEST_SETS
    diff = diff.sort_values(["task", "test_set"], key=lambda col: col.map(TASKS.index) if col.name == "task" else col)
    return _tested(c.mean_and_stderr(diff, ["task", "test_set"], "diff"))


def _tested(out):
    """Add the paired t statistic and its two-sided p-value (NaN when every difference is the same)."""
    out["t"] = out["mean"] / out["stderr"].where(out["stderr"] > 0)
    out["p"] = 2 * stats.t.sf(out["t"].abs(), out["count"] - 1)
    return out


def _points(x):
    return f"{100 * x:+.2f}"


def _cells(out):
    """'clean +0.12 ± 0.10, noise ...' for one task's rows of ``paired``, in points."""
    return ", ".join(f"{r.test_set} {_points(r.mean)} ± {100 * r.stderr:.2f}" for r in out.itertuples())


def _significant(out, sign=1):
    """Cells whose difference has the given sign with p < 0.05."""
    return int(((sign * out["mean"] > 0) & (out["p"] < 0.05)).sum())


def _answer(wins, losses, cells):
    """The short answer to "does A beat B?" from the cells where A is significantly better or worse.

    With ``cells`` tests at p < 0.05, chance alone makes up to the 95% quantile of
    Binomial(cells, 0.025) of them significant in each direction.
    """
    chance = int(stats.binom.ppf(0.95, cells, 0.025))
    if wins > chance and losses > chance:
        return "Mixed"
    if losses > chance:
        return "No, it is worse"
    if wins >= (cells + 1) // 2:
        return "Yes"
    return "Only in places" if wins > chance else "No measurable difference"


def belief_errors(belief, calibration="clean"):
    """Per (task, test set, model), trust learned on the ``calibration`` validation set: mean believed - realised,
    its standard error, the mean absolute error and the share of repetitions whose interval holds the belief."""
    df = belief[belief["calibration"] == calibration]
    df = df.assign(error=df["believed"] - df["realised"], abs_error=(df["believed"] - df["realised"]).abs(),
                   inside=(df["believed"] >= df["ci_low"]) & (df["believed"] <= df["ci_high"]))
    keys = ["task", "test_set", "model"]
    out = c.mean_and_stderr(df, keys, "error")
    more = df.groupby(keys, sort=False)[["inside", "abs_error"]].mean().reset_index()
    return _tested(out.merge(more, on=keys))


def budget_gain(budget):
    """Per test set: the accuracy gained from the member's own budget to the largest one, over all examples and in
    each half of path independence, and the high-minus-low difference of the gains (paired by member); averaged
    over the members of a repetition, with standard errors over repetitions (members share a test set)."""
    index = ["repetition", "test_set", "member", "group"]
    own = budget[budget["own"]].set_index(index)["accuracy"]
    most = budget[budget["budget"] == max(BUDGETS)].set_index(index)["accuracy"]
    gain = (most - own).unstack("group")
    gain["high - low"] = gain["high AA"] - gain["low AA"]
    per_repetition = gain.groupby(["repetition", "test_set"]).mean()
    long = per_repetition.stack().rename("gain").reset_index()
    return _tested(c.mean_and_stderr(long, ["test_set", "group"], "gain"))


def summary(tables):
    """Mean accuracy of every rule per task and test set (paired standard errors in the figures)."""
    acc = tables["accuracy"].groupby(["task", "test_set", "rule"], sort=False)["accuracy"].mean().unstack("rule")
    acc = acc[list(RULES)].rename(columns=RULES).reset_index()
    return acc.rename(columns={"task": "task", "test_set": "test set"})


def verdict(tables):
    errors = belief_errors(tables["belief"])
    clean = errors[errors["test_set"] == "clean"].set_index(["task", "model"])
    checks = []
    for task in TASKS:
        ind = clean.loc[(task, "independent")]
        checks.append((ind["mean"] > 0 and ind["p"] < 0.05,
                       f"on the clean {task} test set the independence belief exceeds the realised accuracy by "
                       f"{_points(ind['mean'])} ± {100 * ind['stderr']:.2f} points"))
        record = clean.loc[(task, "record")]
        checks.append((record["abs_error"] < ind["abs_error"],
                       f"the cross-fitted record is off by {100 * record['abs_error']:.2f} points on average against "
                       f"{100 * ind['abs_error']:.2f}"))
        low, high = clean.loc[(task, "latent_agree")], clean.loc[(task, "latent")]
        checks.append((low["mean"] - 2 * low["stderr"] <= 0 <= high["mean"] + 2 * high["stderr"],
                       f"the latent-class beliefs bracket it, errors agreeing {_points(low['mean'])} ± "
                       f"{100 * low['stderr']:.2f} and symmetric noise {_points(high['mean'])} ± "
                       f"{100 * high['stderr']:.2f} points (each within 2 standard errors)"))
        if (task, "latent_distractor") in clean.index:  # more than two labels
            shared = clean.loc[(task, "latent_distractor")]
            checks.append((shared["abs_error"] < ind["abs_error"],
                           f"the shared-distractor belief is off by {100 * shared['abs_error']:.2f} points on average "
                           f"({_points(shared['mean'])} ± {100 * shared['stderr']:.2f})"))
    return c.verdict(checks)


def answers(tables):
    """One sentence per question of the experiment, from the numbers (p-values: paired t-tests over repetitions)."""
    acc, auc = tables["accuracy"], tables["auroc"]
    out = []
    diff = paired(acc, "global", "plurality")
    wins, losses = _significant(diff), _significant(diff, -1)
    out.append(("Does trust-weighted voting beat plurality?",
                f"{_answer(wins, losses, len(diff))}: global-trust WMV minus plurality, in accuracy points (mean ± "
                f"standard error over repetitions), "
                + "; ".join(f"{task}: {_cells(diff[diff['task'] == task])}" for task in TASKS)
                + f"; better with p < 0.05 in {wins} of {len(diff)} (task, test set) cells, worse in {losses} (chance "
                f"alone: up to {int(stats.binom.ppf(0.95, len(diff), 0.025))} each way)."))
    parts, wins, losses, cells = [], 0, 0, 0
    for signal in SIGNALS:
        diff = paired(acc, signal, "global")
        w, l = _significant(diff), _significant(diff, -1)
        wins, losses, cells = wins + w, losses + l, cells + len(diff)
        parts.append(f"by {SIGNALS[signal]} {_points(diff['mean'].mean())} on average (better in {w}, worse in {l} "
                     f"of {len(diff)} cells)")
    out.append(("Does per-example trust beat global trust?",
                f"{_answer(wins, losses, cells)}: WMV with trust binned by a signal minus global-trust WMV, in "
                f"accuracy points over tasks and test sets, {'; '.join(parts)}; p < 0.05 for a difference (chance "
                f"alone: up to {int(stats.binom.ppf(0.95, cells, 0.025))} of {cells} cells each way)."))
    means = auc.groupby(["signal", "test_set"])["auroc"].mean().unstack("test_set")[list(TEST_SETS)]
    best = means.mean(axis=1).idxmax()
    out.append(("Which signal predicts a member's correctness best?",
                f"{SIGNALS[best][0].upper() + SIGNALS[best][1:]}, on every test set: mean AUROC over members and "
                f"repetitions, "
                + "; ".join(f"{SIGNALS[s]} " + ", ".join(f"{k} {means.loc[s, k]:.2f}" for k in TEST_SETS)
                            for s in SIGNALS) + "."
                if (means.idxmax() == best).all() else
                f"{SIGNALS[best][0].upper() + SIGNALS[best][1:]} on average, though not on every test set: mean "
                f"AUROC over members and repetitions, "
                + "; ".join(f"{SIGNALS[s]} " + ", ".join(f"{k} {means.loc[s, k]:.2f}" for k in TEST_SETS)
                            for s in SIGNALS) + "."))
    errors = belief_errors(tables["belief"])
    clean = errors[errors["test_set"] == "clean"]
    under_shift = errors[errors["test_set"] != "clean"]
    shifted_err = under_shift.groupby(["task", "model"], sort=False)["mean"].mean()
    every = "every belief" if (under_shift["mean"] > 0).all() else "the beliefs"

    def per_task(means, against=None):
        """'digits: model +x (+y), ...; binary: ...' in points, mean over the shifts."""
        return "; ".join(f"{task}: " + ", ".join(
            f"{BELIEFS[m]} {_points(v)}" + (f" ({_points(against[(task, m)])})" if against is not None else "")
            for (t, m), v in means.items() if t == task) for task in TASKS)

    out.append(("How far is each belief from the realised accuracy?",
                "In distribution (clean test set), believed minus realised accuracy in points (mean over "
                "repetitions; share of repetitions whose 95% interval of the realised accuracy contains the belief): "
                + "; ".join(f"{task}: " + ", ".join(f"{BELIEFS[r.model]} {_points(r.mean)} ({r.inside:.0%})"
                                                    for r in clean[clean["task"] == task].itertuples())
                            for task in TASKS)
                + f"; under shift {every} learned on clean validation overstate{'s' if every == 'every belief' else ''}"
                f" the accuracy (mean over the three shifts, {per_task(shifted_err)} points)."))
    matched = belief_errors(tables["belief"], "matched")
    matched = matched[matched["test_set"] != "clean"]
    diff = paired(acc, "matched", "global")
    diff = diff[diff["test_set"] != "clean"]
    wins, losses = _significant(diff), _significant(diff, -1)
    out.append(("Does a validation set shifted like the test set repair the beliefs?",
                "With trust learned on validation images shifted the same way, believed minus realised accuracy "
                "under shift, mean over the three shifts (in brackets: with clean validation), "
                + per_task(matched.groupby(["task", "model"], sort=False)["mean"].mean(), shifted_err)
                + f" points; the votes it weighs gain {_points(diff['mean'].mean())} points on average (better with "
                f"p < 0.05 in {wins}, worse in {losses} of {len(diff)} (task, shift) cells)."))
    gain = budget_gain(tables["budget"]).set_index(["test_set", "group"])
    shifted = [k for k in TEST_SETS if k != "clean"]
    up = [k for k in shifted if gain.loc[(k, "all"), "mean"] > 0 and gain.loc[(k, "all"), "p"] < 0.05]
    down = [k for k in shifted if gain.loc[(k, "all"), "mean"] < 0 and gain.loc[(k, "all"), "p"] < 0.05]
    separated = [k for k in TEST_SETS if gain.loc[(k, "high - low"), "p"] < 0.05]
    first = ("Yes on " + ", ".join(up) if up else "No") + (f"; they lower the accuracy on {', '.join(down)}" if down else "")
    out.append(("Do more solver iterations help on shifted data, and does path independence predict when?",
                f"{first}; path independence "
                + (f"separates the effect on {', '.join(separated)}" if separated else "does not separate the effect")
                + f": accuracy gained by a member from its own budget to {max(BUDGETS)} plain fixed-point steps, in "
                "points, "
                + "; ".join(f"{k} {_points(gain.loc[(k, 'all'), 'mean'])} ± {100 * gain.loc[(k, 'all'), 'stderr']:.2f}"
                            f" (high-AA half {_points(gain.loc[(k, 'high AA'), 'mean'])}, low-AA half "
                            f"{_points(gain.loc[(k, 'low AA'), 'mean'])}, paired difference "
                            f"{_points(gain.loc[(k, 'high - low'), 'mean'])} ± "
                            f"{100 * gain.loc[(k, 'high - low'), 'stderr']:.2f})" for k in TEST_SETS) + "."))
    return out


# ---------------------------------------------------------------- figures

RULE_COLORS = dict(zip(RULES, ["tab:gray", "black", "tab:brown", "tab:blue", "tab:green", "tab:orange", "tab:red",
                               "tab:cyan"]))
MODEL_COLORS = {"independent": "tab:red", "theorem1": "tab:purple", "latent": "tab:green",
                "latent_agree": "tab:olive", "latent_distractor": "tab:cyan", "record": "tab:blue"}


def _grouped(ax, table, keys, colors, labels, value="mean", stderr="stderr"):
    """Bars per test set, one per key, with +-1.96 standard-error whiskers."""
    width = 0.8 / len(keys)
    x = np.arange(len(TEST_SETS))
    for j, key in enumerate(keys):
        part = table[table["key"] == key].set_index("test_set").reindex(list(TEST_SETS))
        ax.bar(x + (j - (len(keys) - 1) / 2) * width, part[value], width, yerr=c.Z * part[stderr],
               color=colors[key], label=labels.get(key, key), error_kw={"elinewidth": 0.8})
    ax.set_xticks(x, labels=list(TEST_SETS))
    ax.axhline(0.0, color="black", linewidth=0.8)


def plot(tables):
    acc, auc, belief, budget = (tables[k] for k in ("accuracy", "auroc", "belief", "budget"))
    fig1, axes = c.figure(1, 2, width=6.0, title="Accuracy of each rule minus plurality (paired; +-1.96 s.e.)")
    for ax, task in zip(axes, TASKS):
        rules = [r for r in RULES if r != "plurality"]
        table = pd.concat([paired(acc, r, "plurality").assign(key=r) for r in rules])
        _grouped(ax, table[table["task"] == task], rules, RULE_COLORS, RULES)
        ax.set(title=f"{task} task", ylabel="accuracy difference")
    axes[0].legend(fontsize="small")

    fig2, axes = c.figure(1, 2, width=6.0, title="How well each signal predicts a member's correctness")
    for ax, task in zip(axes, TASKS):
        table = c.mean_and_stderr(auc[auc["task"] == task].dropna(subset=["auroc"]), ["test_set", "signal"], "auroc")
        _grouped(ax, table.rename(columns={"signal": "key"}), list(SIGNALS),
                 dict(zip(SIGNALS, ["tab:green", "tab:orange", "tab:red"])), SIGNALS)
        ax.axhline(0.5, color="gray", linewidth=0.8, linestyle="--")
        ax.set(title=f"{task} task", ylabel="AUROC (mean over members and repetitions)", ylim=(0.4, 1.0))
    axes[0].legend(fontsize="small")

    fig3, axes = c.figure(2, 2, width=6.0, title="Believed minus realised accuracy of the global-trust ensemble")
    for row, (calibration, where) in enumerate((("clean", "clean validation"),
                                                ("matched", "validation shifted like the test set"))):
        errors = belief_errors(belief, calibration).rename(columns={"model": "key"})
        for ax, task in zip(axes[2 * row:2 * row + 2], TASKS):
            part = errors[errors["task"] == task]
            _grouped(ax, part, [m for m in MODEL_COLORS if m in set(part["key"])], MODEL_COLORS, BELIEFS)
            ax.set(title=f"{task} task, trust from {where}", ylabel="believed - realised accuracy")
    axes[0].legend(fontsize="small")
    axes[1].legend(fontsize="small")

    fig4, axes = c.figure(1, len(TEST_SETS), width=3.6, title="Member accuracy against the test-time solver budget")
    for ax, kind in zip(axes, TEST_SETS):
        part = budget[(budget["test_set"] == kind) & budget["budget"].isin(BUDGETS)]
        for group, color in zip(("all", "high AA", "low AA"), ("black", "tab:green", "tab:red")):
            line = c.mean_and_stderr(part[part["group"] == group], ["budget"], "accuracy")
            c.line_with_band(ax, line["budget"], line["mean"], line["stderr"], label=group, color=color)
        c.log_x(ax, BUDGETS)
        ax.set(title=kind, xlabel="test-time budget (layer evaluations)", ylabel="member accuracy (digits)")
    axes[0].legend(fontsize="small", title="examples")
    return [fig1, fig2, fig3, fig4]


def setup(quick):
    """The experiment's setup, for the report."""
    size = QUICK if quick else FULL
    members = "; ".join("width {width}, training budget {max_iter}, Jacobian weight {jac_weight}".format(
        **member_settings(k, size)) for k in range(size.members))
    return (f"{size.repetitions} repetitions, each a fresh stratified 60/20/20 split of the 1,797 digits and "
            f"{size.members} fresh DEQ members trained for {size.epochs} epochs ({members}). "
            "Trust: Beta(1, 1) posterior of each member's clean validation record, globally or per quartile of a "
            "signal, and, for each shift, globally from the validation images shifted the same way. Shifted test sets: Gaussian pixel noise (sd 0.35), rotation by 20-35 degrees either way, a 4x4 "
            "occlusion. The binary task (digit >= 5) uses the same members. Differences between rules are paired "
            "(same members and examples) and reported as mean +- standard error over repetitions.")
