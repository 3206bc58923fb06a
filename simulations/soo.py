"""Claim (b): stability of optimality does not hold, but its gap is bounded and shrinks.

For every panel, the SoO gap ``E[A(P, w(P)) - A(P, w(t))]`` (what an oracle that knew
the trustworthiness would add) is estimated by Monte Carlo over the trust model's
``P`` with a 99% interval, next to its proven bounds: 0, the sign-aware bound and
Theorem 3's ``sum_i E|P_i - t_i|``. The panel's realised regret
``A(p, w(p)) - A(p, w(t))`` at its hidden trustworthiness ``p`` is recorded too.
"""

import numpy as np

import wmvtrust as wt

from . import _common as c

TITLE = "Stability of optimality does not hold"
CLAIM = ("Voting on trust is not as good as voting on the trustworthiness: the SoO gap "
         "E[A(P, w(P))] - E[A(P, w(t))] is positive (Theorem 2: never negative), shrinks as the track record "
         "grows, depends on how trustworthiness is distributed among the sources, and stays within the proven "
         "bounds 0 <= gap <= sign-aware bound <= sum_i E|P_i - t_i| (Theorem 3).")


def soo_panel(population, n_sources, observations, panel_seed, draws, seed):
    """The SoO gap of one panel with its interval and bounds, and the panel's realised regret."""
    p, model = c.trust_model(population, n_sources, observations, panel_seed)
    estimate = wt.soo_gap(model, draws=draws, seed=seed, confidence=c.CONFIDENCE)
    gap, stderr, low, high = c.interval(estimate)
    return {"gap": gap, "stderr": stderr, "ci_low": low, "ci_high": high,
            "sign_aware_bound": estimate.sign_aware_bound, "theorem3_bound": estimate.upper_bound,
            "regret": c.regret(p, model.mean)}


def run(quick=False, seed=0, *, executor=None):
    """One row per panel: the SoO gap, its 99% interval, its two upper bounds and the realised regret."""
    grid = c.panel_grid(quick, seed, draws=[c.size(quick).draws])
    return {"panels": c.sweep(soo_panel, grid, seed, executor)}


def _by_observations(df):
    return df.groupby("observations")["gap"].mean().sort_index()


def _by_population(df):
    """Mean gap per population over every (panel size, record length) cell alike, with its standard error.

    Stratified: the standard error comes from the spread of the panels within each
    cell, not from the (large, deliberate) differences between cells.
    """
    cells = df.groupby(["population", "n_sources", "observations"], sort=False)["gap"].agg(["mean", "var", "count"])
    cells["variance_of_mean"] = cells["var"].fillna(0.0) / cells["count"]
    out = cells.groupby("population", sort=False).agg(mean=("mean", "mean"), variance=("variance_of_mean", "sum"),
                                                      cells=("mean", "size"))
    out["stderr"] = np.sqrt(out["variance"]) / out["cells"]
    return out.reset_index().sort_values("mean")


def summary(tables):
    """Mean gap per population and track-record length, with the mean bounds at the shortest record."""
    df = tables["panels"]
    table = df.pivot_table(index="population", columns="observations", values="gap", aggfunc="mean", sort=False)
    table.columns = [f"gap, m = {m}" for m in table.columns]
    shortest = df[df["observations"] == df["observations"].min()].groupby("population", sort=False)
    table[f"sign-aware bound, m = {df['observations'].min()}"] = shortest["sign_aware_bound"].mean()
    table[f"Theorem 3 bound, m = {df['observations'].min()}"] = shortest["theorem3_bound"].mean()
    return table.reset_index()


def verdict(tables):
    df = tables["panels"]
    positive = int((df["ci_low"] > 0).sum())
    by_m = _by_observations(df)
    means = by_m.to_numpy()
    ends = df.pivot_table(index=["population", "n_sources"], columns="observations", values="gap", aggfunc="mean")
    shrinks = ends.iloc[:, -1] < ends.iloc[:, 0]  # mean over panels: longest record against shortest
    by_pop = _by_population(df)
    low, high = by_pop.iloc[0], by_pop.iloc[-1]
    distinct = high["mean"] - low["mean"] > 3 * np.hypot(high["stderr"], low["stderr"])
    within = (df["gap"] >= 0) & (df["ci_low"] >= 0) & (df["gap"] <= df["sign_aware_bound"]) \
        & (df["sign_aware_bound"] <= df["theorem3_bound"] * (1 + 1e-12))
    return c.verdict([
        ((df["gap"] >= 0).all() and positive > len(df) / 2,
         f"the gap is never negative and its 99% interval lies above 0 in {c.percent(positive, len(df))} panels"),
        (bool(np.all(np.diff(means) < 0)) and bool(shrinks.all()),
         f"its mean falls from {means[0]:.3g} at m = {by_m.index[0]} to {means[-1]:.2g} at "
         f"m = {by_m.index[-1]} observations per source, at every step, and is smaller at the "
         f"longest than at the shortest record for {c.percent(int(shrinks.sum()), len(shrinks))} "
         f"(population, panel size) pairs"),
        (distinct, f"it depends on the population, from {low['mean']:.2g} +- {low['stderr']:.1g} "
                   f"({low['population']}) to {high['mean']:.2g} +- {high['stderr']:.1g} ({high['population']}) "
                   f"on average over the same panel sizes and records"),
        (bool(within.all()),
         f"0 <= gap <= sign-aware bound <= Theorem 3 bound in {c.percent(int(within.sum()), len(df))} panels"),
    ])


def plot(tables):
    df = tables["panels"]
    n_values = sorted(df["n_sources"].unique())
    floor = 1e-5
    fig1, axes = c.figure(1, len(n_values), sharey=True, title="SoO gap against track-record length (dots: panels; "
                          "line: their mean, band +-1.96 Monte Carlo stderr)")
    for ax, n in zip(axes, n_values):
        for k, (population, color) in enumerate(c.COLORS.items()):
            part = df[(df["n_sources"] == n) & (df["population"] == population)]
            shown = part[part["gap"] > floor]
            ax.plot(c.spread(shown["observations"], k, len(c.COLORS), factor=1.05), shown["gap"], ".", ms=3,
                    alpha=0.5, color=color)
            curve = c.mean_over_panels(part, "observations", "gap")
            c.line_with_band(ax, curve["observations"], curve["mean"], curve["stderr"], label=population,
                             color=color, floor=floor)
        c.log_x(ax, sorted(df["observations"].unique()))
        ax.set(yscale="log", ylim=(floor, None), title=f"{n} sources", xlabel="gold observations per source m")
    axes[0].set_ylabel("SoO gap E[A*(P)] - E[A(P, w(t))]")
    axes[0].legend(fontsize="small", title="population")

    fig2, (ax,) = c.figure(width=6.0, height=5.0)
    positive = df[df["gap"] > 0]
    ax.errorbar(positive["theorem3_bound"], positive["gap"], yerr=c.Z_CI * positive["stderr"], fmt="o", ms=3,
                elinewidth=0.8, color="tab:blue", label=f"SoO gap (99% CI; {int((df['gap'] <= 0).sum())} zero gaps "
                                                          "not shown)")
    ax.plot(df["theorem3_bound"], df["sign_aware_bound"], "x", ms=4, color="tab:orange", label="sign-aware bound")
    edge = [df["theorem3_bound"].min(), df["theorem3_bound"].max()]
    ax.plot(edge, edge, color="black", linewidth=0.8, label="Theorem 3 bound (y = x)")
    ax.set(xscale="log", yscale="log", xlabel="Theorem 3 bound sum_i E|P_i - t_i|",
           ylabel="SoO gap and sign-aware bound", title="Every panel: gap <= sign-aware bound <= Theorem 3 bound")
    ax.legend(loc="upper left", fontsize="small")
    return [fig1, fig2]

