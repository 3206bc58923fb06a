"""What the panel simulations share: panels of sources, grid sizes, verdicts, figures and markdown tables.

A *panel* is a set of sources whose hidden trustworthiness ``p`` is drawn from a
population, each with a track record ``K_i ~ Binomial(m, p_i)`` of ``m`` gold
observations; the decision maker's trust model is the Beta posterior
``wt.BetaTrust.from_track_record(K, m - K)``. A panel is named by its population,
its number of sources and a ``panel_seed``: the same name gives the same sources
in every simulation, and the track records are nested (the first 5 observations
of the 500-observation record are the 5-observation record), so comparisons
across track-record lengths and across analyses are paired.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.stats
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import wmvtrust as wt

CONFIDENCE = 0.99  # Monte Carlo intervals in the claims
Z_CI = float(scipy.stats.norm.ppf(0.5 + CONFIDENCE / 2))  # its normal quantile, 2.58
Z = float(scipy.stats.norm.ppf(0.975))  # bands of +-1.96 standard errors in the figures


@dataclass(frozen=True)
class Population:
    """Where a panel's hidden trustworthiness comes from.

    Every source's ``p_i ~ Beta(mean * concentration, (1 - mean) * concentration)``,
    except source 0, drawn around ``expert_mean`` when it is given.
    """

    name: str
    description: str
    mean: float
    concentration: float
    expert_mean: float | None = None

    def law(self, n_sources):
        """The law of the panel's trustworthiness as a ``wt.BetaTrust``: what is known before any gold."""
        means = np.full(n_sources, self.mean)
        if self.expert_mean is not None:
            means[0] = self.expert_mean
        return wt.BetaTrust(means * self.concentration, (1 - means) * self.concentration)

    def draw(self, rng, n_sources):
        p = rng.beta(self.mean * self.concentration, (1 - self.mean) * self.concentration, size=n_sources)
        if self.expert_mean is not None:
            p[0] = rng.beta(self.expert_mean * self.concentration, (1 - self.expert_mean) * self.concentration)
        return p


POPULATIONS = {pop.name: pop for pop in [
    Population("mediocre", "many mediocre sources: Beta with mean 0.6, sd 0.05", 0.6, 100.0),
    Population("good", "Beta with mean 0.75, sd 0.07", 0.75, 40.0),
    Population("strong", "Beta with mean 0.9, sd 0.05", 0.9, 40.0),
    Population("diverse", "wide spread: Beta with mean 0.75, sd 0.19 (some sources below 1/2)", 0.75, 4.0),
    Population("expert+novices", "one expert (mean 0.95, sd 0.03) among novices (mean 0.6, sd 0.08)", 0.6, 40.0,
               expert_mean=0.95),
]}


@dataclass(frozen=True)
class Size:
    """How much to simulate: the grid of panels and the Monte Carlo draws per estimate."""

    n_sources: tuple
    observations: tuple
    panels: int  # panels per (population, number of sources)
    draws: int


QUICK = Size(n_sources=(3, 9, 15), observations=(5, 50, 500), panels=2, draws=4_000)
FULL = Size(n_sources=(3, 5, 9, 15), observations=(5, 20, 100, 500), panels=6, draws=20_000)


def size(quick):
    return QUICK if quick else FULL


def _streams(seed):
    """Two independent streams from the root seed: one names the panels, the other seeds the sweeps."""
    return np.random.SeedSequence(seed).spawn(2)


def panel_seeds(seed, count):
    return [int(s.generate_state(1)[0]) for s in _streams(seed)[0].spawn(count)]


def panel_grid(quick, seed, **more):
    """The sweep grid over every population, number of sources, track-record length and panel (and ``more``)."""
    s = size(quick)
    return {"population": list(POPULATIONS), "n_sources": list(s.n_sources), "observations": list(s.observations),
            **more, "panel_seed": panel_seeds(seed, s.panels)}


def sweep(function, grid, seed, executor=None):
    """``wt.sweep`` from the sweeps' stream of ``seed``: every row records the seed that reproduces it."""
    return wt.sweep(function, grid, seed=int(_streams(seed)[1].generate_state(1)[0]), executor=executor)


def hidden_trustworthiness(population, n_sources, panel_seed):
    """The panel's hidden trustworthiness ``p``."""
    rng = np.random.default_rng(np.random.SeedSequence(panel_seed).spawn(2)[0])
    return POPULATIONS[population].draw(rng, n_sources)


def panel(population, n_sources, observations, panel_seed):
    """(hidden trustworthiness p, successes K, failures m - K) of a panel after ``observations`` gold tasks."""
    p = hidden_trustworthiness(population, n_sources, panel_seed)
    rng = np.random.default_rng(np.random.SeedSequence(panel_seed).spawn(2)[1])
    right = rng.random((observations, n_sources)) < p  # a prefix of a longer record: records are nested
    successes = right.sum(axis=0)
    return p, successes, observations - successes


def trust_model(population, n_sources, observations, panel_seed):
    """(hidden trustworthiness p, the decision maker's Beta posterior model) of a panel."""
    p, successes, failures = panel(population, n_sources, observations, panel_seed)
    return p, wt.BetaTrust.from_track_record(successes, failures)


def regret(p, trust):
    """``A(p, w(p)) - A(p, w(t))``: the accuracy lost at trustworthiness ``p`` by voting on ``trust``."""
    return wt.accuracy(p, wt.log_odds_weights(p)).value - wt.accuracy(p, wt.log_odds_weights(trust)).value


def interval(estimate, sign=1.0):
    """(value, stderr, ci_low, ci_high) of a ``wt.Estimate``, times ``sign``; an exact value has stderr 0."""
    value = sign * float(estimate.value)
    if estimate.stderr is None:
        return value, 0.0, value, value
    low, high = sorted((sign * estimate.ci_low, sign * estimate.ci_high))
    return value, float(estimate.stderr), float(low), float(high)


def mean_and_stderr(df, by, value):
    """Mean of ``value`` per group with its standard error across the group's rows."""
    grouped = df.groupby(by, sort=False)[value]
    out = grouped.agg(["mean", "std", "count"]).reset_index()
    out["stderr"] = (out["std"] / np.sqrt(out["count"])).fillna(0.0)
    return out.drop(columns="std")


def mean_over_panels(df, by, value, stderr="stderr"):
    """Mean of ``value`` per group, with the Monte Carlo standard error of that mean (from each row's ``stderr``)."""
    grouped = df.assign(_variance=df[stderr] ** 2).groupby(by, sort=True)
    out = grouped.agg(mean=(value, "mean"), _variance=("_variance", "sum"), count=(value, "size")).reset_index()
    out["stderr"] = np.sqrt(out.pop("_variance")) / out["count"]
    return out


def verdict(checks):
    """One sentence from ``[(passed, clause), ...]``: "Supported: ..." or "Not supported: <failed clauses>"."""
    failed = [clause for passed, clause in checks if not passed]
    clauses = failed or [clause for _, clause in checks]
    head = "Not supported: " if failed else "Supported: "
    body = clauses[0] if len(clauses) == 1 else "; ".join(clauses[:-1]) + "; and " + clauses[-1]
    return not failed, head + body + "."


def percent(part, whole):
    return f"{part}/{whole} ({100 * part / whole:.0f}%)" if whole else "0/0"


# ---------------------------------------------------------------- figures

COLORS = dict(zip(POPULATIONS, ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]))


def figure(nrows=1, ncols=1, *, width=4.2, height=3.4, title=None, **kwargs):
    """A matplotlib Figure (Agg canvas, no pyplot state) and its axes as a flat array."""
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kwargs).ravel()
    if title:
        fig.suptitle(title)
    return fig, axes


def line_with_band(ax, x, mean, stderr, *, label, color, floor=None):
    """A line of means with a band of +-1.96 standard errors (clipped below at ``floor`` on a log axis)."""
    x, mean, stderr = (np.asarray(v, dtype=float) for v in (x, mean, stderr))
    low, high = mean - Z * stderr, mean + Z * stderr
    if floor is not None:
        keep = mean > 0
        x, mean, low, high = x[keep], mean[keep], np.maximum(low[keep], floor), high[keep]
    ax.plot(x, mean, marker="o", ms=4, color=color, label=label)
    ax.fill_between(x, low, high, color=color, alpha=0.2, linewidth=0)


def log_x(ax, values):
    """A log x axis with one labelled tick at each of ``values`` (e.g. the track-record lengths)."""
    ax.set_xscale("log")
    ax.set_xticks(list(values), labels=[str(v) for v in values])
    ax.minorticks_off()


def spread(x, group, n_groups, factor=1.15):
    """Positions on a log axis that set apart the points sharing an x: by group, then by order within it."""
    x = pd.Series(np.asarray(x, dtype=float))
    within = x.groupby(x).cumcount() / x.groupby(x).transform("size")  # in [0, 1)
    return (x * factor ** (group - (n_groups - 1) / 2 + 0.9 * (within - 0.45))).to_numpy()


# ---------------------------------------------------------------- markdown

def _cell(x, digits):
    if isinstance(x, (float, np.floating)):
        return "" if np.isnan(x) else f"{float(x):.{digits}g}"
    return str(x).replace("|", "\\|")


def markdown_table(df, digits=3):
    """A GitHub markdown table of ``df`` (numbers to ``digits`` significant digits, right-aligned).

    Examples
    --------
    >>> print(markdown_table(pd.DataFrame({"n": [3, 15], "gap": [0.012345, 0.0]})))
    | n | gap |
    |---:|---:|
    | 3 | 0.0123 |
    | 15 | 0 |
    """
    numeric = [pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]
    lines = ["| " + " | ".join(_cell(c, digits) for c in df.columns) + " |",
             "|" + "|".join("---:" if num else "---" for num in numeric) + "|"]
    lines += ["| " + " | ".join(_cell(x, digits) for x in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)
