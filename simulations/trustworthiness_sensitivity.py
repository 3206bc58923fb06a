"""Claim (c): how sensitive decision accuracy is to the sources' trustworthiness.

For every panel, the rule votes on the trust learned from the track record,
``w(t)``, and the exact derivatives ``dA(p, w(t)) / dq_i`` at the hidden
trustworthiness ``p`` are computed with ``wt.derivatives``. Each is checked
against an independent symmetric difference quotient of ``wt.accuracy`` with the
widest step that stays in [0, 1]: as ``A`` is affine in each ``q_i``, the two
must agree to rounding error, and then ``|dA/dq_i| <= 1`` bounds what any change
of one source's trustworthiness can do to the accuracy.
"""

import numpy as np

import wmvtrust as wt

from . import _common as c

TITLE = "Sensitivity of decision accuracy to trustworthiness"
CLAIM = ("The accuracy A(q, w) of a fixed rule is affine in each source's trustworthiness q_i, with slope "
         "dA/dq_i = the probability that source i is decisive (a tie counting 1/2): in [0, 1] for a source "
         "voting with positive weight and in [-1, 0] for a negative weight. So a change d of one source's "
         "trustworthiness moves the accuracy by exactly d * dA/dq_i and never by more than |d|; the slope is "
         "large for a source that dominates its panel and small in large panels of similar sources.")
AFFINE_TOLERANCE = 1e-9


def derivative_panel(population, n_sources, observations, panel_seed, seed):
    """Per source: trustworthiness, trust, weight, exact derivative and a difference quotient (lists)."""
    p, model = c.trust_model(population, n_sources, observations, panel_seed)
    w = wt.log_odds_weights(model.mean)
    exact = wt.derivatives(p, w)
    quotient = np.empty(n_sources)
    for i in range(n_sources):
        step = min(p[i], 1 - p[i])
        up, down = p.copy(), p.copy()
        up[i], down[i] = p[i] + step, p[i] - step
        quotient[i] = (wt.accuracy(up, w).value - wt.accuracy(down, w).value) / (2 * step)
    return {"accuracy": wt.accuracy(p, w).value, "source": list(range(n_sources)), "trustworthiness": p.tolist(),
            "trust": model.mean.tolist(), "weight": w.tolist(), "derivative": exact.tolist(),
            "difference_quotient": quotient.tolist()}


def run(quick=False, seed=0, *, executor=None):
    """One row per source of every panel (the sweep's per-panel lists, exploded)."""
    panels = c.sweep(derivative_panel, c.panel_grid(quick, seed), seed, executor)
    per_source = ["source", "trustworthiness", "trust", "weight", "derivative", "difference_quotient"]
    sources = panels.explode(per_source, ignore_index=True)
    return {"sources": sources.astype({"source": int, **{col: float for col in per_source[1:]}})}


def _expert(df):
    return (df["population"] == "expert+novices") & (df["source"] == 0)


def summary(tables):
    """Mean derivative per population and panel size (the expert of expert+novices apart)."""
    df = tables["sources"].copy()
    df.loc[_expert(df), "population"] = "the expert (of expert+novices)"
    df.loc[df["population"] == "expert+novices", "population"] = "the novices (of expert+novices)"
    table = df.pivot_table(index="population", columns="n_sources", values="derivative", aggfunc="mean", sort=False)
    table.columns = [f"mean dA/dq_i, n = {n}" for n in table.columns]
    table["largest"] = df.groupby("population", sort=False)["derivative"].max()
    return table.reset_index()


def verdict(tables):
    df = tables["sources"]
    error = (df["derivative"] - df["difference_quotient"]).abs().max()
    signed = np.where(df["weight"] >= 0, df["derivative"].between(0, 1), df["derivative"].between(-1, 0))
    by_n = df.groupby("n_sources")["derivative"].mean().sort_index()
    expert, others = df.loc[_expert(df), "derivative"], df.loc[~_expert(df), "derivative"]
    return c.verdict([
        (bool(error <= AFFINE_TOLERANCE),
         f"the exact derivatives of {len(df)} sources match an independent difference quotient to {error:.1g} "
         f"(A is affine in each q_i)"),
        (bool(signed.all()), f"{c.percent(int(signed.sum()), len(df))} lie in [0, 1] or [-1, 0] with the sign of "
                             f"their weight"),
        (True, f"the mean derivative falls from {by_n.iloc[0]:.2f} with {by_n.index[0]} sources to "
               f"{by_n.iloc[-1]:.2f} with {by_n.index[-1]}, and an expert among novices has {expert.mean():.2f} "
               f"on average against {others.mean():.2f} for all other sources"),
    ])


def plot(tables):
    df = tables["sources"]
    n_values = sorted(df["n_sources"].unique())
    colors = dict(zip(n_values, ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]))
    fig1, axes = c.figure(2, 3, sharey=True, title="Exact derivative dA/dq_i of every source, at its hidden "
                                                    "trustworthiness (rule w(t) from the track record)")
    for ax, population in zip(axes, c.POPULATIONS):
        part = df[df["population"] == population]
        for n in n_values:
            sub = part[part["n_sources"] == n]
            ax.plot(sub["trustworthiness"], sub["derivative"], "o", ms=3, alpha=0.7, color=colors[n],
                    label=f"{n} sources")
        ax.set(title=population, xlabel="trustworthiness p_i", ylim=(-0.05, 1.05))
        ax.axhline(0.0, color="black", linewidth=0.6)
    for ax in axes[::3]:
        ax.set_ylabel("dA/dq_i")
    axes[-1].axis("off")
    axes[-1].legend(*axes[0].get_legend_handles_labels(), loc="center", title="panel size")

    fig2, (ax,) = c.figure(width=6.0, height=4.5)
    for population, color in c.COLORS.items():
        part = df[(df["population"] == population) & ~_expert(df)]
        curve = c.mean_and_stderr(part, "n_sources", "derivative").sort_values("n_sources")
        ax.errorbar(curve["n_sources"], curve["mean"], yerr=c.Z * curve["stderr"], marker="o", ms=4, capsize=3,
                    color=color, label=population if population != "expert+novices" else "novices (of expert+novices)")
    curve = c.mean_and_stderr(df[_expert(df)], "n_sources", "derivative").sort_values("n_sources")
    ax.errorbar(curve["n_sources"], curve["mean"], yerr=c.Z * curve["stderr"], marker="*", ms=9, capsize=3,
                linestyle="--", color=c.COLORS["expert+novices"], label="the expert (of expert+novices)")
    ax.set(xticks=n_values, xlabel="number of sources n", ylabel="mean dA/dq_i (+-1.96 stderr over sources)",
           title="How much one source's trustworthiness matters")
    ax.legend(fontsize="small")
    return [fig1, fig2]
