"""Claim (a): stability of correctness holds for unbiased trust, and only for it.

For every panel, the SoC gap ``E[A(P, w(t))] - A(t, w(t))`` (actual minus believed
accuracy) is estimated by Monte Carlo over the trust model's ``P``, with a 99%
interval, for the unbiased trust (the posterior mean) and for three biased
readings: tempered trust (over- and under-confident) and the maximum-likelihood
trust ``K/m``. The frequentist reading (``p`` fixed, the track record random,
``wt.frequentist_soc_gap``) is reported with the same sign: actual minus believed.
"""

import numpy as np
import pandas as pd
import scipy.stats

import wmvtrust as wt

from . import _common as c

TITLE = "Stability of correctness holds"
CLAIM = ("For unbiased trust the accuracy the decision maker believes, A(t, w(t)), equals the accuracy it "
         "actually achieves on average over what it does not know, E[A(P, w(t))] (Theorem 1): the Monte Carlo "
         "interval of the SoC gap contains 0 in every panel up to chance. Biased trust (tempered over- or "
         "under-confident, the maximum-likelihood K/m) and the frequentist reading (fixed trustworthiness, "
         "random track record) break it.")
READINGS = {
    "unbiased": "posterior mean (unbiased)",
    "over-confident": "tempered x2 (over-confident)",
    "under-confident": "tempered x0.5 (under-confident)",
    "mle": "maximum likelihood K/m",
    "frequentist": "frequentist (p fixed)",
}
TEMPER = {"over-confident": 2.0, "under-confident": 0.5}
BROKEN = 0.9  # a biased reading breaks SoC when its interval excludes 0 in at least this share of panels


def soc_panel(population, n_sources, observations, reading, panel_seed, draws, seed):
    """Believed and actual accuracy of one panel under one reading of its trust."""
    p, successes, failures = c.panel(population, n_sources, observations, panel_seed)
    model = wt.BetaTrust.from_track_record(successes, failures)
    if reading == "frequentist":  # believed minus actual over track records: flip to actual minus believed
        believed = wt.frequentist_soc_gap(p, observations, draws=draws, seed=seed, confidence=c.CONFIDENCE)
        gap, stderr, low, high = c.interval(believed, sign=-1.0)
        return {"believed": np.nan, "actual": np.nan, "gap": gap, "stderr": stderr, "ci_low": low, "ci_high": high,
                "method": believed.method}
    if reading == "mle":
        trust = wt.trust_mle(successes, failures)
    elif reading in TEMPER:
        trust = wt.tempered_trust(model.mean, TEMPER[reading])
    else:
        trust = model.mean
    estimate = wt.soc_gap(model, trust, method="montecarlo", draws=draws, seed=seed, confidence=c.CONFIDENCE)
    gap, stderr, low, high = c.interval(estimate)
    believed = wt.believed_accuracy(trust).value
    return {"believed": believed, "actual": believed + gap, "gap": gap, "stderr": stderr, "ci_low": low,
            "ci_high": high, "method": estimate.method}


def run(quick=False, seed=0, *, executor=None):
    """One row per panel and reading: believed and actual accuracy, the gap and its 99% interval."""
    grid = c.panel_grid(quick, seed, reading=list(READINGS), draws=[c.size(quick).draws])
    return {"panels": c.sweep(soc_panel, grid, seed, executor)}


def _covers_zero(df):
    return (df["ci_low"] <= 0) & (df["ci_high"] >= 0)


def summary(tables):
    """Per reading: panels, intervals containing 0, mean and largest gap."""
    df = tables["panels"]
    rows = []
    for reading, label in READINGS.items():
        part = df[df["reading"] == reading]
        rows.append({"reading": label, "panels": len(part),
                     "99% CIs containing 0": c.percent(int(_covers_zero(part).sum()), len(part)),
                     "mean gap": part["gap"].mean(), "largest abs gap": part["gap"].abs().max(),
                     "mean |gap| / stderr": (part["gap"] / part["stderr"].where(part["stderr"] > 0)).abs().mean()})
    return pd.DataFrame(rows)


def verdict(tables):
    df = tables["panels"]
    unbiased = df[df["reading"] == "unbiased"]
    covered = int(_covers_zero(unbiased).sum())
    allowed = int(scipy.stats.binom.ppf(0.999, len(unbiased), 1 - c.CONFIDENCE))  # misses expected by chance
    checks = [(len(unbiased) - covered <= allowed,
               f"{c.percent(covered, len(unbiased))} unbiased panels have a 99% interval containing 0 "
               f"(chance alone allows up to {allowed} misses)")]
    excluded = {label: (int((~_covers_zero(part)).sum()), len(part))
                for label, part in ((READINGS[r], df[df["reading"] == r]) for r in READINGS if r != "unbiased")}
    checks.append((all(k >= BROKEN * total for k, total in excluded.values()),
                   f"every biased reading excludes 0 in at least {BROKEN:.0%} of its panels (a zero gap would in "
                   f"1%): " + ", ".join(f"{label} in {c.percent(k, total)}" for label, (k, total) in excluded.items())))
    return c.verdict(checks)


def _error_bars(df):
    """The 99% interval of each gap as error bars below and above it."""
    return [df["gap"] - df["ci_low"], df["ci_high"] - df["gap"]]


def plot(tables):
    df = tables["panels"]
    n_values = sorted(df["n_sources"].unique())
    colors = dict(zip(n_values, ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]))
    fig1, axes = c.figure(2, 3, title="SoC gap per panel with its 99% Monte Carlo interval")
    for ax, (reading, label) in zip(axes, READINGS.items()):
        part = df[df["reading"] == reading]
        for k, n in enumerate(n_values):
            sub = part[part["n_sources"] == n]
            ax.errorbar(c.spread(sub["observations"], k, len(n_values)), sub["gap"], yerr=_error_bars(sub),
                        fmt="o", ms=3, color=colors[n], elinewidth=0.8, label=f"{n} sources")
        ax.axhline(0.0, color="black", linewidth=0.8)
        c.log_x(ax, sorted(df["observations"].unique()))
        ax.set(title=label, xlabel="gold observations per source m", ylabel="actual - believed accuracy")
    axes[-1].axis("off")
    axes[-1].legend(*axes[0].get_legend_handles_labels(), loc="center", title="panel size")

    fig2, (ax,) = c.figure(width=6.0, height=5.0)
    for reading, color in zip(READINGS, ["tab:green", "tab:red", "tab:blue", "tab:orange"]):  # no believed: frequentist
        part = df[df["reading"] == reading]
        ax.errorbar(part["believed"], part["actual"], yerr=_error_bars(part), fmt="o", ms=3, elinewidth=0.8,
                    alpha=0.8, color=color, label=READINGS[reading], zorder=3 if reading == "unbiased" else 2)
    ax.plot([0.5, 1], [0.5, 1], color="black", linewidth=0.8, label="actual = believed")
    ax.set(xlabel="believed accuracy A(t, w(t))", ylabel="actual accuracy E[A(P, w(t))] (99% CI)",
           title="Believed against actual accuracy, every panel")
    ax.legend(loc="upper left", fontsize="small")
    return [fig1, fig2]
