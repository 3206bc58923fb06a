"""What accuracy to believe for a crowd's labels: one recommended belief with its interval, and its components.

Every aggregator's ``summary()`` returns a ``CrowdSummary`` built here, with the same
parts whatever the model; a part that does not apply is ``None`` and a note says why.
The belief to use is chosen by one rule (``_recommend``):

1. with gold, the aggregator's cross-fitted accuracy on the gold tasks (it needs no
   independence), with the Beta-binomial predictive interval of the accuracy on the
   tasks without gold;
2. without gold, when the votes refute conditional independence (the hard-class model
   fits them better, at level ``DETECTION_LEVEL``), the aggregator's labels judged by that
   model (``latent.hard_class_em``, proofs/soc_label_free.md);
3. otherwise the labels judged by the Dawid-Skene posterior, exact in expectation if workers
   err independently given the truth (it sees label bias, which the symmetric weights of
   ``WeightedMajorityVote`` do not).

Without gold neither 2 nor 3 can see errors that most workers make together on a task:
such votes look like an easy task with another truth (proofs/soc_label_free.md, (e)).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Self, cast

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from .._labels.codes import Codes
from .._labels.latent import hard_class_em
from .._labels.models import ConfusionFit, believed, dawid_skene_em, most_probable, tied_with_best
from .._stats import first_below, wilson
from ..stability import soo_bounds
from ..trust import BetaTrust
from .votes import Votes

PANELS = 50  # tasks whose panels a summary simulates
CELLS_PER_PANEL = 40_000  # simulated draws x voters x cells of a voter's matrix, per panel: the Monte Carlo budget
MAX_OBSERVATIONS = 100_000  # the search for the gold needed gives up beyond this
DETECTION_LEVEL = 0.01  # p-value below which the votes refute conditional independence
LABEL_FREE_TASKS = 50_000  # beyond this, the label-free model is fitted on a random sample of tasks (to +-0.3 points)


@dataclass(frozen=True)
class EmpiricalBelief:
    """Accuracy measured on gold tasks, and what the model believed on the same tasks."""

    accuracy: float
    ci_low: float
    ci_high: float
    n_tasks: int
    model_belief: float
    confidence: float

    @classmethod
    def of(cls, correct: NDArray[np.bool_], model_belief: float, confidence: float) -> Self:
        """The Wilson interval of the accuracy ``correct.mean()``, beside ``model_belief``."""
        mean = float(correct.mean())
        return cls(mean, *wilson(mean, correct.size, confidence), correct.size, model_belief, confidence)

    @property
    def independence_refuted(self) -> bool:
        """Whether the model's belief lies outside the empirical interval."""
        return not self.ci_low <= self.model_belief <= self.ci_high


@dataclass(frozen=True)
class LabelFreeBelief:
    """Without gold: how accurate the aggregator's labels are under models fitted to the votes alone.

    Two models judge the labels, each by the mean over tasks of its posterior probability
    that the label is right: Dawid-Skene (``dawid_skene_belief``, workers independent given
    the truth) and Dawid-Skene with a share ``hard_share`` of hard tasks on which votes ignore
    the truth (``hard_class_belief``), fitted jointly with the unknown truths. ``statistic``
    and ``p_value``: the likelihood-ratio test of hard tasks against none. ``belief``,
    ``ci_low``, ``ci_high``: the hard-class belief where the test refutes independence, the
    Dawid-Skene one otherwise, with the spread of the realised accuracy under that model.
    ``model_belief``: the aggregator's own belief over the same tasks.
    """

    belief: float
    ci_low: float
    ci_high: float
    hard_share: float
    statistic: float
    p_value: float
    hard_class_belief: float
    dawid_skene_belief: float
    model_belief: float

    @property
    def independence_refuted(self) -> bool:
        """Whether the votes refute conditional independence given the truth, at ``DETECTION_LEVEL``."""
        return self.p_value < DETECTION_LEVEL


@dataclass(frozen=True)
class PanelModel:
    """How a summary simulates a task's panel: what each worker's behaviour may be, and the rule that votes.

    ``log_rule[i, y, v]``: ln of the probability of report v given truth y that the aggregator
    decides with; ``log_class``: ln of its class prior. The workers' true matrices are drawn
    from Dirichlet rows ``dirichlet[i, y]``, or are symmetric with accuracy drawn from
    ``Beta(alpha[i], beta[i])``; with neither, only the gold needed is computed. ``trust``
    (symmetric rules only) is what the gold needed is planned for.
    """

    log_rule: NDArray[np.float64]
    log_class: NDArray[np.float64]
    dirichlet: NDArray[np.float64] | None = None
    alpha: NDArray[np.float64] | None = None
    beta: NDArray[np.float64] | None = None
    trust: NDArray[np.float64] | None = None


@dataclass(frozen=True)
class Optimality:
    """Stability of optimality of a crowd's panels, by Monte Carlo, and the gold that a target regret needs.

    ``soo_gap``: the mean, over sampled tasks, of what knowing each voter's behaviour exactly
    would add to the accuracy of the task's decision (the expected value of perfect
    information), with its standard error; ``None`` when the trust has no distribution.
    ``sign_aware_bound`` and ``theorem3_bound``: the proven bounds, for two labels and Beta
    trust only. Gold observations per worker that bring the loss of the median panel below
    ``epsilon`` (symmetric trust only; ``None`` otherwise or beyond ``MAX_OBSERVATIONS``), two
    ways: ``observations_needed``, the expected regret with the trust taken as the workers'
    fixed trustworthiness (frequentist, trust learned afresh from the new records);
    ``observations_needed_expected_gap``, the expected gap over the trust's Beta posterior,
    the records adding to it (Bayesian; Beta trust only). ``method`` states the budget.
    """

    soo_gap: float | None
    stderr: float | None
    sign_aware_bound: float | None
    theorem3_bound: float | None
    n_panels: int
    method: str
    observations_needed: int | None
    epsilon: float
    observations_needed_expected_gap: int | None = None


@dataclass(frozen=True)
class CrowdSummary:
    """The result of every aggregator's ``summary()``."""

    model: str
    n_tasks: int
    n_workers: int
    n_labels: int
    n_gold: int
    belief: float  # the accuracy to believe for the labels returned (on the tasks without gold)
    belief_low: float
    belief_high: float
    belief_source: str  # which estimate that is, and why it was chosen
    belief_kind: str  # that estimate in a word: "gold", "hard tasks", "Dawid-Skene" or "own model" (one label)
    believed_accuracy: float  # the model's own belief
    label_free: LabelFreeBelief | None
    empirical: EmpiricalBelief | None
    optimality: Optimality | None
    confidence: float
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        over = "all tasks" if self.n_gold == 0 else f"the {self.n_tasks - self.n_gold} tasks without gold"
        lines = [f"{self.model}: {self.n_tasks} tasks ({self.n_gold} with gold), {self.n_workers} workers, "
                 f"{self.n_labels} labels.",
                 f"Belief: accuracy {self.belief:.4f} over {over}, {self.confidence:.0%} interval "
                 f"[{self.belief_low:.4f}, {self.belief_high:.4f}]: {self.belief_source}",
                 f"Model-based belief: accuracy {self.believed_accuracy:.4f} over {over}. It is exact in expectation "
                 "if the model holds: workers err independently given the truth, trust is the posterior mean given "
                 "what is known, and the workers' parameters are independent given it (stability of correctness, "
                 "Theorem 1)."]
        f, e = self.label_free, self.empirical
        if f is not None:
            lines.append(
                f"Label-free check: a share {f.hard_share:.3f} of hard tasks, on which votes ignore the truth, "
                f"{'explains' if f.independence_refuted else 'does not explain'} the votes better than independence "
                f"(likelihood ratio {f.statistic:.1f}, p = {f.p_value:.2g}); under it the accuracy is "
                f"{f.hard_class_belief:.4f}, under Dawid-Skene without hard tasks {f.dawid_skene_belief:.4f}"
                + (f", so the model-based belief is likely {100 * (f.model_belief - f.belief):+.1f} points off."
                   if f.independence_refuted else "."))
        if e is None:
            lines.append("Empirical belief: no gold tasks. Errors that most workers make together on a task look like "
                         "an easy task with another truth: without gold no belief can see them.")
        else:
            lines.append(f"Empirical belief on {e.n_tasks} gold tasks (cross-fitted): accuracy {e.accuracy:.4f}, "
                         f"{e.confidence:.0%} interval [{e.ci_low:.4f}, {e.ci_high:.4f}]; the model believed "
                         f"{e.model_belief:.4f} on the same tasks.")
            lines.append("The data refute the model's assumptions (workers err together): use the empirical belief."
                         if e.independence_refuted else
                         "The two agree: the data do not refute independence; the model-based belief stands.")
        o = self.optimality
        if o is not None and o.soo_gap is not None:
            bounds = ("" if o.theorem3_bound is None else
                      f"; proven bounds 0 <= gap <= {o.sign_aware_bound:.4f} (sign-aware) <= {o.theorem3_bound:.4f} "
                      "(Theorem 3)")
            lines.append(f"Stability of optimality: knowing each worker's behaviour exactly would add {o.soo_gap:.4f} "
                         f"(+- {o.stderr:.4f}) accuracy on a typical task{bounds} ({o.method}).")
        if o is not None and o.observations_needed is not None:
            bayes = ("" if o.observations_needed_expected_gap is None else
                     f"; {o.observations_needed_expected_gap} more on top of the gold already seen, by the expected "
                     "gap over the trust's posterior")
            lines.append(f"Gold observations per worker for an expected loss below {o.epsilon:g} (median panel): "
                         f"{o.observations_needed} learning trust afresh, the trust taken as fixed trustworthiness "
                         f"(regret){bayes}.")
        lines.extend(self.notes)
        return "\n".join(lines)


def summarise(model: str, data: Votes, truth: NDArray[np.int64], probas: NDArray[np.float64],
              refit: Callable[[NDArray[np.int64]], NDArray[np.float64]], panel: PanelModel | str, *,
              fit: ConfusionFit | None = None, folds: int, confidence: float, epsilon: float,
              seed: int | np.random.Generator | None) -> CrowdSummary:
    """A ``CrowdSummary`` of a fitted aggregator.

    ``truth``: gold codes (-1 where none); ``probas``: the task posteriors of the fit;
    ``refit(truth)`` the task posteriors of the same aggregator fitted with only the gold
    ``truth`` it is given (for cross-fitting); ``panel``: a ``PanelModel`` or a string saying
    why there is none; ``fit``: the aggregator's Dawid-Skene fit without gold, if it has one
    (the label-free check starts from it; otherwise it fits one).
    """
    rng = np.random.default_rng(seed)
    codes, gold = data.codes, truth >= 0
    rest = ~gold if (~gold).any() else np.ones_like(gold)
    decision = most_probable(probas, "coin", rng)  # the aggregators' rule
    notes: list[str] = []
    empirical = _cross_fit(truth, refit, folds, confidence, rng) if gold.any() else None
    label_free = None
    if empirical is None and codes.n_labels > 1:
        label_free = _label_free(codes, probas, decision, fit, confidence, rng)
    if isinstance(panel, str):
        optimality = None
        notes.append(panel)
    else:
        optimality = _optimality(codes, panel, epsilon, rng)
    model_belief = float(believed(probas[rest]))
    recommended = _recommend(probas[rest].max(axis=1), label_free, empirical, int(rest.sum()) if gold.any() else 0,
                             confidence)
    return CrowdSummary(model, codes.n_tasks, codes.n_workers, codes.n_labels, int(gold.sum()), *recommended,
                        model_belief, label_free, empirical, optimality, confidence, tuple(notes))


def _recommend(believed_right: NDArray[np.float64], label_free: LabelFreeBelief | None,
               empirical: EmpiricalBelief | None, n_rest: int,
               confidence: float) -> tuple[float, float, float, str, str]:
    """(belief, low, high, source, kind): the one rule that picks the belief to report (see the module docstring)."""
    if empirical is not None and n_rest:
        k, g = round(empirical.accuracy * empirical.n_tasks), empirical.n_tasks
        low, high = stats.betabinom.ppf([(1 - confidence) / 2, (1 + confidence) / 2], n_rest, 1 + k, 1 + g - k) / n_rest
        return ((1 + k) / (2 + g), float(low), float(high),
                f"cross-fitted accuracy on {g} gold tasks (a Beta(1, 1) posterior mean; the interval predicts the "
                f"accuracy on the {n_rest} other tasks). It needs no independence, only gold tasks drawn like the rest.",
                "gold")
    if empirical is not None:
        return (empirical.accuracy, empirical.ci_low, empirical.ci_high,
                "accuracy on the gold tasks, every task being gold (Wilson interval).", "gold")
    blind = "It cannot see errors most workers make together on a task; gold can."
    if label_free is not None and label_free.independence_refuted:
        return (label_free.belief, label_free.ci_low, label_free.ci_high,
                "label-free: Dawid-Skene with a share of hard tasks on which votes ignore the truth, fitted with the "
                f"unknown truths; the votes refute independence given the truth. {blind}", "hard tasks")
    if label_free is not None:
        return (label_free.belief, label_free.ci_low, label_free.ci_high, "label-free: the Dawid-Skene posterior; "
                f"the votes do not refute independence given the truth. {blind}", "Dawid-Skene")
    low, high = _spread(believed_right, confidence)  # one label only
    return float(believed_right.mean()), low, high, f"the model's own posterior. {blind}", "own model"


def _spread(right: NDArray[np.float64], confidence: float) -> tuple[float, float]:
    """The normal interval of the mean of independent Bernoulli(right[j]): the spread of the realised accuracy."""
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    half = z * np.sqrt((right * (1 - right)).sum()) / right.size
    return float(max(0.0, right.mean() - half)), float(min(1.0, right.mean() + half))


def _label_free(codes: Codes, probas: NDArray[np.float64], decision: NDArray[np.int64], fit: ConfusionFit | None,
                confidence: float, rng: np.random.Generator) -> LabelFreeBelief:
    """The aggregator's labels judged by Dawid-Skene with and without hard tasks, and the test between them.

    On more than ``LABEL_FREE_TASKS`` tasks, both models are fitted on a random sample of them.
    """
    if codes.n_tasks > LABEL_FREE_TASKS:
        sample = np.sort(rng.choice(codes.n_tasks, LABEL_FREE_TASKS, replace=False))
        codes, probas, decision, fit = codes.restrict(sample), probas[sample], decision[sample], None
    fit = dawid_skene_em(codes, truth=np.full(codes.n_tasks, -1)) if fit is None else fit
    hard = hard_class_em(codes, fit)
    tasks = np.arange(codes.n_tasks)
    right = {"hard": hard.probas[tasks, decision], "independent": fit.probas[tasks, decision]}
    chosen = right["hard" if hard.p_value < DETECTION_LEVEL else "independent"]
    return LabelFreeBelief(float(chosen.mean()), *_spread(chosen, confidence), hard.share, hard.statistic,
                           hard.p_value, float(right["hard"].mean()), float(right["independent"].mean()),
                           float(believed(probas)))


def _cross_fit(truth: NDArray[np.int64], refit: Callable[[NDArray[np.int64]], NDArray[np.float64]], folds: int,
               confidence: float, rng: np.random.Generator) -> EmpiricalBelief:
    """The aggregator's accuracy on gold tasks, each fold's truths withheld from the fit that labels them."""
    rows = np.flatnonzero(truth >= 0)
    fold = rng.permutation(rows.size) % folds
    probas: NDArray[np.float64] | None = None
    for k in range(min(folds, rows.size)):
        held = rows[fold == k]
        train = truth.copy()
        train[held] = -1
        fitted = refit(train)
        if probas is None:
            probas = np.empty((rows.size, fitted.shape[1]))
        probas[fold == k] = fitted[held]
    probas = cast(NDArray[np.float64], probas)  # set by the first fold: there are gold tasks
    correct = most_probable(probas, "coin", rng) == truth[rows]  # the aggregators' rule
    return EmpiricalBelief.of(correct, float(believed(probas)), confidence)


def _optimality(codes: Codes, panel: PanelModel, epsilon: float, rng: np.random.Generator) -> Optimality:
    """The stability-of-optimality gap of sampled panels, its bounds, and the gold needed on the median panel."""
    starts, worker, _ = codes.by_task
    tasks = rng.choice(codes.n_tasks, size=min(PANELS, codes.n_tasks), replace=False)
    voters = [worker[starts[j]:starts[j + 1]] for j in tasks]
    n_labels = codes.n_labels
    gaps, bounds, sizes = [], [], []
    for v in voters:
        draws = _draws(v.size, n_labels)
        sizes.append(v.size)
        if panel.dirichlet is None and panel.alpha is None:
            continue
        truth_rows = _true_rows(panel, v, draws, rng)
        gaps.append(_gap(truth_rows, panel.log_rule[v], panel.log_class, rng))
        if panel.alpha is not None and n_labels == 2:
            beta = cast(NDArray[np.float64], panel.beta)  # given with alpha
            bounds.append(soo_bounds(BetaTrust(panel.alpha[v], beta[v])))
    method = (f"Monte Carlo over {len(voters)} sampled tasks, about {CELLS_PER_PANEL:,} draws x voters x matrix cells "
              "each")
    needed = needed_bayes = None
    median = voters[int(np.argsort(sizes)[len(sizes) // 2])]
    if panel.trust is not None and ((panel.trust[median] > 0) & (panel.trust[median] < 1)).all():
        draws = _draws(median.size, n_labels)
        ones = np.ones(median.size)
        needed = _observations_needed(np.broadcast_to(panel.trust[median], (draws, median.size)), (ones, ones),
                                      n_labels, panel.log_class, epsilon, rng)
        if panel.alpha is not None:
            a, b = panel.alpha[median], cast(NDArray[np.float64], panel.beta)[median]  # given with alpha
            needed_bayes = _observations_needed(BetaTrust(a, b).sample(draws, rng), (a, b), n_labels,
                                                panel.log_class, epsilon, rng)
    gap = stderr = theorem3 = sign_aware = None
    if gaps:
        sampled = np.array(gaps)
        gap = float(sampled.mean())
        stderr = float(sampled.std(ddof=1) / np.sqrt(sampled.size)) if sampled.size > 1 else float("nan")
    if bounds:
        theorem3, sign_aware = (float(x) for x in np.mean(bounds, axis=0))
    return Optimality(gap, stderr, sign_aware, theorem3, len(voters), method, needed, epsilon, needed_bayes)


def _draws(n_voters: int, n_labels: int) -> int:
    """Draws per panel within the budget: at least 100, at most 4,000."""
    return int(np.clip(CELLS_PER_PANEL // (n_voters * n_labels * n_labels), 100, 4_000))


def _true_rows(panel: PanelModel, voters: NDArray[np.int64], draws: int,
               rng: np.random.Generator) -> NDArray[np.float64]:
    """ln of each voter's true confusion matrix in each draw, shape (draws, n, L, L)."""
    n_labels = panel.log_class.size
    if panel.dirichlet is not None:  # ln Gamma(a) = ln Gamma(a + 1) + ln(U) / a: no underflow for small a
        a = np.broadcast_to(panel.dirichlet[voters], (draws, *panel.dirichlet[voters].shape))
        log_g = np.log(rng.standard_gamma(a + 1.0)) + np.log(rng.random(a.shape)) / a
        top = log_g.max(axis=3, keepdims=True)
        return log_g - top - np.log(np.exp(log_g - top).sum(axis=3, keepdims=True))
    # no Dirichlet rows: Beta trust (_optimality skips a panel with neither), alpha given with beta
    alpha, beta = cast(NDArray[np.float64], panel.alpha), cast(NDArray[np.float64], panel.beta)
    p = rng.beta(alpha[voters], beta[voters], size=(draws, voters.size))
    return _symmetric_log_rows(p, n_labels)


def _symmetric_log_rows(p: NDArray[np.float64], n_labels: int) -> NDArray[np.float64]:
    """ln of the symmetric-noise matrices of accuracies ``p`` (any shape), shape ``p.shape + (L, L)``."""
    with np.errstate(divide="ignore"):
        rows = np.broadcast_to(np.log((1 - p) / max(n_labels - 1, 1))[..., None, None], (*p.shape, n_labels, n_labels))
        rows = rows.copy()
        eye = np.arange(n_labels)
        rows[..., eye, eye] = np.log(p)[..., None]
    return rows


def _gap(log_true: NDArray[np.float64], log_rule: NDArray[np.float64], log_class: NDArray[np.float64],
         rng: np.random.Generator) -> float:
    """Mean over draws of (the oracle's credit - the rule's credit) on votes drawn from the true matrices."""
    draws: int  # the shape's entries are Any to numpy's stubs; an int size makes rng.choice's result an array
    draws, n, n_labels, _ = log_true.shape
    y = rng.choice(n_labels, size=draws, p=np.exp(log_class) / np.exp(log_class).sum())
    votes = _sample_votes(log_true, y, rng)
    d, i = np.arange(draws)[:, None], np.arange(n)[None, :]
    oracle = log_class + log_true[d, i, :, votes].sum(axis=1)
    rule = log_class + log_rule[i, :, votes].sum(axis=1)
    return float((_credit(oracle, y) - _credit(rule, y)).mean())


def _sample_votes(log_true: NDArray[np.float64], y: NDArray[np.int64], rng: np.random.Generator) -> NDArray[np.int64]:
    """One report per voter and draw from row ``y[d]`` of its matrix, shape (draws, n)."""
    draws, n, n_labels, _ = log_true.shape
    rows = np.exp(log_true[np.arange(draws), :, y])  # (draws, n, L)
    return np.minimum((rng.random((draws, n, 1)) > rows.cumsum(axis=2)).sum(axis=2), n_labels - 1)


def _credit(score: NDArray[np.float64], y: NDArray[np.int64]) -> NDArray[np.float64]:
    """1 for a right decision, 1/k for a tie among k labels that holds the truth, 0 otherwise."""
    tied = tied_with_best(score)  # log probabilities: every term <= 0
    return tied[np.arange(y.size), y] / tied.sum(axis=1)


def _observations_needed(p: NDArray[np.float64], start: tuple[NDArray[np.float64], NDArray[np.float64]],
                         n_labels: int, log_class: NDArray[np.float64], epsilon: float,
                         rng: np.random.Generator) -> int | None:
    """The fewest gold observations per voter for an expected loss of voting on trust below ``epsilon``.

    ``p``: the voters' trustworthiness, one row per draw (a fixed row repeated: the regret;
    rows drawn from the trust's posterior: the expected gap). After m observations the trust
    is ``T_m = (a + K) / (a + b + m)`` with ``(a, b) = start``; the loss is
    ``E[credit(w(p)) - credit(w(T_m))]`` by Monte Carlo with the same votes and the same
    uniform numbers for every m (so the comparison across m is paired). ``None`` beyond
    ``MAX_OBSERVATIONS``.
    """
    draws: int = p.shape[0]  # an int, not Any: numpy's stubs then type the choice below as an array
    y = rng.choice(n_labels, size=draws, p=np.exp(log_class) / np.exp(log_class).sum())
    log_true = _symmetric_log_rows(p, n_labels)
    votes = _sample_votes(log_true, y, rng)
    u = 1.0 - rng.random(p.shape)  # in (0, 1]: the quantile 0 of a binomial would be -1
    d, i = np.arange(draws)[:, None], np.arange(p.shape[1])[None, :]
    oracle = _credit(log_class + log_true[d, i, :, votes].sum(axis=1), y)
    a, b = start

    def loss(m: int) -> float:
        k = stats.binom.ppf(u, m, p)  # the same quantile of each voter's record for every m
        rule = _symmetric_log_rows((a + k) / (a + b + m), n_labels)
        return float((oracle - _credit(log_class + rule[d, i, :, votes].sum(axis=1), y)).mean())

    return first_below(loss, epsilon, MAX_OBSERVATIONS)
