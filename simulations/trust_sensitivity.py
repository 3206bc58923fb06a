"""Claim (d): how sensitive decision accuracy is to trust.

``A(p, w(t))`` is piecewise constant in the trust ``t``: it changes only when some
vote profile's weighted sum changes sign. For every panel (trust learned from
its track record) this records the decision margin of the rule ``w(t)``, the
trust radius (the smallest max-norm change of the trust, in logit or in
probability space, that changes a decision) and how far the trust is from the
hidden trustworthiness, with the regret ``A(p, w(p)) - A(p, w(t))``: when the
trust is within the radius of ``p`` (in logits), the rules decide alike and the
regret must be exactly 0. Accuracy-loss curves perturb the hidden
trustworthiness ``p`` itself by random changes of growing size.
"""

import numpy as np

import wmvtrust as wt

from . import _common as c

TITLE = "Sensitivity of decision accuracy to trust"
CLAIM = ("Decision accuracy is flat in trust up to a radius, then falls: the rule w(t) makes the same decisions, "
         "hence has the same accuracy, for every trust within its trust radius (the decision margin divided by n, "
         "in logits); the radius shrinks as panels grow, and beyond it the accuracy lost grows with the size of the "
         "trust error.")
LOSS_SIZES = {"logit": [0.0, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0], "probability": [0.0, 0.01, 0.02, 0.05, 0.1, 0.2]}
LOSS_DRAWS = {True: 100, False: 400}  # random perturbations per size and panel (quick, full)
ZERO = 1e-12  # accuracies computed by different exact methods agree to rounding error


def margin_panel(population, n_sources, observations, panel_seed, seed):
    """Decision margin and trust radii of the rule w(t), the trust's distance to p and the regret."""
    p, model = c.trust_model(population, n_sources, observations, panel_seed)
    t = model.mean
    w = wt.log_odds_weights(t)
    return {"decision_margin": wt.decision_margin(w),
            "radius_logit": wt.trust_radius(t, space="logit"),
            "radius_probability": wt.trust_radius(t, space="probability"),
            "error_logit": float(np.abs(w - wt.log_odds_weights(p)).max()),
            "error_probability": float(np.abs(t - p).max()),
            "regret": c.regret(p, t)}


def loss_curve_panel(population, n_sources, space, panel_seed, draws, seed):
    """The accuracy-loss curve of one panel's hidden trustworthiness, with its trust radius (lists)."""
    p = c.hidden_trustworthiness(population, n_sources, panel_seed)
    curve = wt.accuracy_loss_curve(p, LOSS_SIZES[space], space=space, draws=draws, seed=seed)
    return {"radius": wt.trust_radius(p, space=space), **{col: curve[col].tolist() for col in curve.columns}}


def run(quick=False, seed=0, *, executor=None):
    """Margins and radii per panel, and accuracy-loss curves per panel, space and perturbation size."""
    margins = c.sweep(margin_panel, c.panel_grid(quick, seed), seed, executor)
    grid = c.panel_grid(quick, seed, space=list(LOSS_SIZES), draws=[LOSS_DRAWS[bool(quick)]])
    del grid["observations"]  # the curves perturb the hidden trustworthiness: no track record
    curves = c.sweep(loss_curve_panel, grid, seed, executor)
    columns = ["size", "mean_loss", "stderr", "worst_loss"]
    curves = curves.explode(columns, ignore_index=True).astype({col: float for col in columns})
    return {"panels": margins, "loss_curves": curves}


def _within(df):
    """Panels whose trust is within the logit trust radius of its hidden trustworthiness."""
    return df["error_logit"] < df["radius_logit"]


def summary(tables):
    """Medians of margin and radii, and how often trust decides as the oracle, per panel size."""
    df = tables["panels"]
    table = df.groupby("n_sources").agg(**{
        "panels": ("regret", "size"), "median decision margin": ("decision_margin", "median"),
        "median trust radius (logit)": ("radius_logit", "median"),
        "median trust radius (probability)": ("radius_probability", "median"),
        "median max logit error of t": ("error_logit", "median"),
        "tied rules": ("decision_margin", lambda m: int((m == 0).sum())),
        "regret 0": ("regret", lambda r: c.percent(int((r.abs() <= ZERO).sum()), len(r)))})
    curves = tables["loss_curves"]
    for space, sizes in LOSS_SIZES.items():
        largest = curves[(curves["space"] == space) & (curves["size"] == sizes[-1])]
        table[f"mean loss at {space} size {sizes[-1]}"] = largest.groupby("n_sources")["mean_loss"].mean()
    return table.rename_axis("sources").reset_index()


def verdict(tables):
    df, curves = tables["panels"], tables["loss_curves"]
    within = _within(df)
    flat = (df.loc[within, "regret"].abs() <= ZERO).all()
    inside = curves[curves["size"] < curves["radius"]]
    flat_curves = bool((inside["worst_loss"].abs() <= ZERO).all())
    by_n = df.groupby("n_sources")["radius_logit"].median().sort_index()
    grows = [curves[curves["space"] == space].groupby("size")["mean_loss"].mean().sort_index().to_numpy()
             for space in LOSS_SIZES]
    return c.verdict([
        (bool(flat), f"every one of the {int(within.sum())} panels whose trust lies within the trust radius of the "
                     f"hidden trustworthiness (in logits) decides as the oracle, with regret exactly 0"),
        (flat_curves, f"no perturbation below a panel's radius lost any accuracy ({len(inside)} curve points)"),
        (bool(np.all(np.diff(by_n.to_numpy()) < 0)),
         f"the median logit radius shrinks from {by_n.iloc[0]:.2g} with {by_n.index[0]} sources to "
         f"{by_n.iloc[-1]:.2g} with {by_n.index[-1]}"),
        (all(np.all(np.diff(g) >= 0) and g[-1] > 0 for g in grows),
         "the mean accuracy loss grows with the size of the perturbation, to "
         + " and ".join(f"{g[-1]:.2g} at {space} size {LOSS_SIZES[space][-1]}" for g, space in zip(grows, LOSS_SIZES))),
    ])


def plot(tables):
    df, curves = tables["panels"], tables["loss_curves"]
    n_values = sorted(curves["n_sources"].unique())
    fig1, axes = c.figure(2, len(n_values), title="Accuracy lost by voting on perturbed trust t' instead of p (mean "
                          "over panels, band +-1.96 Monte Carlo stderr; dashed: worst seen)")
    for row, space in enumerate(LOSS_SIZES):
        for col, n in enumerate(n_values):
            ax = axes[row * len(n_values) + col]
            for population, color in c.COLORS.items():
                part = curves[(curves["space"] == space) & (curves["n_sources"] == n)
                              & (curves["population"] == population)]
                curve = c.mean_over_panels(part, "size", "mean_loss")
                c.line_with_band(ax, curve["size"], curve["mean"], curve["stderr"], label=population, color=color)
                worst = part.groupby("size")["worst_loss"].max()
                ax.plot(worst.index, worst, linestyle="--", linewidth=0.8, alpha=0.7, color=color)
            ax.set(title=f"{n} sources, {space} space", xlabel=f"perturbation size ({space}, max norm)",
                   ylabel="A(p, w(p)) - A(p, w(t'))")
    axes[0].legend(fontsize="small", title="population")

    fig2, (left, right) = c.figure(1, 2, width=5.5, height=4.5)
    n_all = sorted(df["n_sources"].unique())
    for k, (population, color) in enumerate(c.COLORS.items()):
        part = df[(df["population"] == population) & (df["radius_logit"] > 0)]
        left.plot(c.spread(part["n_sources"], k, len(c.COLORS), factor=1.03), part["radius_logit"], "o", ms=3,
                  alpha=0.7, color=color, label=population)
    medians = df.groupby("n_sources")["radius_logit"].median()
    left.plot(medians.index, medians, color="black", label="median")
    left.set(yscale="log", xticks=n_all, xlabel="number of sources n", ylabel="trust radius of w(t), logit space",
             title=f"Trust radius of each rule ({int((df['radius_logit'] == 0).sum())} tied, radius 0, not shown)")
    left.legend(fontsize="small")
    shown = df[(df["radius_logit"] > 0)]
    for flag, color, label in ((True, "tab:red", "regret > 0"), (False, "tab:blue", "regret = 0: same decisions")):
        part = shown[(shown["regret"] > ZERO) == flag]
        right.plot(part["radius_logit"], part["error_logit"], "o", ms=3, alpha=0.7, color=color, label=label)
    edge = [shown[["radius_logit", "error_logit"]].min().min(), shown[["radius_logit", "error_logit"]].max().max()]
    right.plot(edge, edge, color="black", linewidth=0.8, label="error = radius")
    right.set(xscale="log", yscale="log", xlabel="trust radius of w(t), logit space",
              ylabel="max_i |logit t_i - logit p_i|", title="Below the diagonal the trust decides as the oracle")
    right.legend(fontsize="small")
    return [fig1, fig2]
