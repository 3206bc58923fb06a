"""The aggregators: learn trust from a vote table and label every task (the pandas front end of the models).

Each aggregator reads the votes and the optional gold table once, infers the task
posteriors with its model (``_infer``: a pure function of the encoded votes and the known
truths, which the summary also calls to cross-fit on gold), and sets the same attributes:
``labels_``, ``probas_``, ``trust_``, ``class_prior_``, ``n_iter_``, ``converged_``. A task
whose truth is given keeps it: probability 1 on its gold label.
"""

from typing import Any, Literal, Self, cast

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .._labels.latent import latent_class_em, latent_class_posterior
from .._labels.codes import Codes
from .._labels.models import (ConfusionFit, MemoryPasses, VoteSource, balanced_accuracy, believed, clamp, confusion_posterior,
                              dawid_skene_em, dawid_skene_fit, gold_confusion_fit, most_probable, one_coin_loop,
                              posterior, symmetric_weights)
from .._stats import beta_mean
from .._validation import (check_beta_prior, check_choice, check_fitted, check_fraction, check_given_trust,
                           check_gold_covers, check_gold_given, check_has_gold, check_in_memory_fit,
                           check_nonnegative_int,
                           check_positive_int, check_positive_real, check_restarts_in_memory, check_rng,
                           check_trust_source, renamed)
from ..voting import TIES
from .beliefs import CrowdSummary, PanelModel, summarise
from .distributed import believed_unknown, decided_labels, fit_partitioned, is_dask_frame
from .votes import Votes, gold_codes, name_keys, read_votes

NO_GOLD = ("prior", "error")


class _Aggregator:
    """Column names, reading the tables, the fitted labels and the summary: what every aggregator shares."""

    name = ""
    # the constructor's parameters that every aggregator has
    ties: Literal["coin", "report"]
    seed: int | np.random.Generator | None
    task: str
    worker: str
    label: str
    duplicates: Literal["error", "first", "last"]
    # set by fit
    labels_: pd.Series
    probas_: pd.DataFrame
    trust_: pd.DataFrame
    class_prior_: pd.Series
    n_iter_: int
    converged_: bool
    _confusion_fit: ConfusionFit | None
    _fitted: tuple[Votes, NDArray[np.int64]]
    _partitions: tuple[list[str], dict[str, Any], int, pd.Index] | None  # a dask fit's files, state and sizes
    _tie_seed: int  # a dask fit's seed of every partition's tie-breaking coin

    def fit(self, votes: pd.DataFrame, gold: pd.DataFrame | None = None, *, scratch: str | None = None) -> Self:
        """Learn trust and label every task.

        Parameters
        ----------
        votes : pandas.DataFrame or dask.dataframe.DataFrame
            Long vote table (task, worker, label columns). A dask DataFrame is fitted
            partition by partition (``distributed``): the same trust and labels as in memory
            (with an integer seed), ``labels_`` and ``probas_`` then dask objects, one
            partition per partition of the votes shuffled on the task column.
        gold : pandas.DataFrame, optional
            Known truths (task, label columns) of some tasks.
        scratch : str, optional
            Folder for the encoded partitions of a dask fit, reachable by every worker (the
            system's temporary folder by default); removed with the aggregator.

        Returns
        -------
        self
        """
        check_choice(self.ties, "ties", TIES)
        self._check_params()
        if is_dask_frame(votes):
            fit_partitioned(self, votes, gold, scratch)
            return self
        data = read_votes(votes, task=self.task, worker=self.worker, label=self.label, duplicates=self.duplicates)
        truth = np.full(data.tasks.size, -1) if gold is None else gold_codes(data, gold, self.task, self.label)
        probas, state = self._infer(data, truth)
        decision = most_probable(probas, self.ties, check_rng(self.seed), name_keys(data.tasks))
        self.labels_ = pd.Series(decided_labels(decision, data.labels), index=data.tasks, name=self.label)
        self.probas_ = pd.DataFrame(probas, index=data.tasks, columns=data.labels)
        self.class_prior_ = pd.Series(state.pop("class_prior"), index=data.labels, name="prior")
        for name, value in state.items():
            setattr(self, name, value)
        self._fitted = data, truth
        self._partitions = None
        return self

    def fit_predict(self, votes: pd.DataFrame, gold: pd.DataFrame | None = None) -> pd.Series:
        """Fit and return ``labels_``.

        Parameters
        ----------
        votes, gold : see ``fit``

        Returns
        -------
        pandas.Series
        """
        return self.fit(votes, gold).labels_

    def fit_predict_proba(self, votes: pd.DataFrame, gold: pd.DataFrame | None = None) -> pd.DataFrame:
        """Fit and return ``probas_``.

        Parameters
        ----------
        votes, gold : see ``fit``

        Returns
        -------
        pandas.DataFrame
        """
        return self.fit(votes, gold).probas_

    def summary(self, *, folds: int = 5, confidence: float = 0.95, epsilon: float = 0.01,
                seed: int | np.random.Generator | None = 0) -> CrowdSummary:
        """What accuracy to believe: the model's belief, an empirical one on gold, and stability of optimality.

        - model-based belief: the mean, over the tasks without gold, of the posterior
          probability of the decided label. Exact in expectation when the model holds
          (workers err independently given the truth), trust is the posterior mean given
          what is known, and the workers' parameters are independent given it (stability
          of correctness: proofs/theorem1_soc.md, Theorem 1'; proofs/soc_confusion_matrix.md).
        - empirical belief (needs gold given to ``fit``): the accuracy on gold tasks,
          cross-fitted (each fold of gold tasks labelled by a fit that did not see their
          truths), with a Wilson interval; needs no independence. Beside it, the model's
          belief on the same tasks: when that lies outside the interval, the data refute
          the model's assumptions and the empirical belief is the one to use.
        - stability of optimality: what knowing each worker's behaviour exactly would add,
          by Monte Carlo over sampled tasks' panels within a fixed budget (so the cost does
          not grow with the panel size), with the proven bounds for two labels and Beta
          trust; and, for symmetric trust, the gold observations per worker that bring the
          expected regret below ``epsilon``.

        Parameters
        ----------
        folds : int, default=5
            Folds of the gold tasks for cross-fitting.
        confidence : float, default=0.95
            Level of the empirical interval.
        epsilon : float, default=0.01
            Target regret for the gold observations needed.
        seed : int, default=0
            Seed of the fold assignment and of the Monte Carlo.

        Returns
        -------
        CrowdSummary
        """
        check_fitted(self, "probas_", "the aggregator", "fit(votes, gold)")
        check_in_memory_fit(self._partitions is None, "summary()")
        folds = check_positive_int(folds, "folds")
        confidence, epsilon = check_fraction(confidence, "confidence"), check_positive_real(epsilon, "epsilon")
        data, truth = self._fitted
        return summarise(self.name, data, truth, self.probas_.to_numpy(), lambda known: self._infer(data, known)[0],
                         self._panel(data), fit=self._confusion_fit, folds=folds, confidence=confidence,
                         epsilon=epsilon, seed=seed)

    def _check_params(self) -> None:
        """Check the constructor's parameters, when ``fit`` starts."""

    def _infer(self, data: Votes, truth: NDArray[np.int64]) -> tuple[NDArray[np.float64], dict[str, Any]]:
        """(task posteriors, fitted attributes with ``class_prior``) from the votes and the known truths."""
        state = self._learn(MemoryPasses(data.codes, truth), data.workers, data.labels)
        return self._posterior(data.codes, truth, state), state

    def _learn(self, source: VoteSource, workers: pd.Index, labels: pd.Index) -> dict[str, Any]:
        """The fitted attributes (with ``class_prior``) from the statistics of a source of votes: ``MemoryPasses``,
        or the partitions of a dask DataFrame (``distributed``)."""
        raise NotImplementedError

    def _posterior(self, codes: Codes, truth: NDArray[np.int64], state: dict[str, Any]) -> NDArray[np.float64]:
        """The task posteriors of some votes (all, or one partition's) given what ``_learn`` fitted."""
        raise NotImplementedError

    def _panel(self, data: Votes) -> PanelModel | str:
        """The ``PanelModel`` of the fit, or why there is none."""
        raise NotImplementedError


class WeightedMajorityVote(_Aggregator):
    """Aggregate crowd labels by weighted majority (plurality) voting with learned trust.

    Each worker has one number, its trust ``t``; under symmetric noise a vote counts
    ``ln((L - 1) t / (1 - t))`` for its label, and the class prior's log is added.

    Parameters
    ----------
    trust : {"em", "one-coin", "gold"} or pandas.Series, default="em"
        Where trust comes from:

        - ``"em"``: each worker's balanced accuracy (the mean of its confusion matrix's
          diagonal) in the Dawid-Skene model fitted by ``ConfusionMatrixVote()``, with the
          class prior of that fit. A worker whose answers do not depend on the truth gets
          the trust of chance, ``1 / L``, and weight 0, whatever label it favours and however
          the truths are distributed: label-biased workers cannot pull the labels their way,
          and the class prior cannot run away with them.
        - ``"one-coin"``: EM under the one-coin model (one accuracy per worker, class prior
          learned without a prior); it collapses onto one label when many workers are
          label-biased. Kept as the classical baseline.
        - ``"gold"``: the Beta posterior of each worker's record on gold tasks.
        - a Series of trust in [0, 1] indexed by worker.

        With gold given to ``fit``, "em" and "one-coin" keep the gold tasks' truths fixed
        and infer the others.
    beta_prior : (float, float), default=(1, 1)
        Beta prior of every worker's accuracy ("one-coin" and "gold").
    prior : (float, float), optional
        The former name of ``beta_prior``, accepted until the next release (FutureWarning).
    ties : {"coin", "report"}, default="coin"
        A tie is broken by a seeded fair choice among the tied labels, or reported as NA.
    seed : int or numpy.random.Generator, default=0
        Seed of the tie-breaking coin.
    no_gold : {"prior", "error"}, default="prior"
        With gold trust, a worker without a gold vote keeps the prior, or is an error.
    max_iter : int, default=500
        Most EM iterations.
    tol : float, default=1e-6
        EM stops when no parameter moves by more (trust for "one-coin"; confusion entries
        and class probabilities for "em").
    task, worker, label : str
        Column names of the vote and gold tables.
    duplicates : {"error", "first", "last"}, default="error"
        See ``read_votes``.

    Attributes
    ----------
    labels_ : pandas.Series
        The decision per task (every task of the input, in order of first appearance).
    probas_ : pandas.DataFrame
        Posterior probability of each label per task under the trust model.
    trust_ : pandas.DataFrame
        Per worker: ``mean`` (the trust), ``alpha``, ``beta`` (its Beta posterior, for
        "one-coin" and "gold"; NaN otherwise) and ``n_gold`` (gold votes; NaN without gold).
    class_prior_ : pandas.Series
        P(truth = label): fitted by EM, uniform otherwise.
    n_iter_ : int
        EM iterations (0 for gold or given trust).
    converged_ : bool
        Whether EM met ``tol`` (True without EM).

    Examples
    --------
    >>> votes = pd.DataFrame({"task": [1, 1, 1, 2, 2, 2], "worker": ["a", "b", "c"] * 2,
    ...                       "label": ["x", "y", "y", "x", "x", "y"]})
    >>> trust = pd.Series({"a": 0.9, "b": 0.6, "c": 0.6})
    >>> WeightedMajorityVote(trust=trust).fit_predict(votes).tolist()  # ln 9 > 2 ln 1.5: a decides
    ['x', 'x']
    """

    name = "WeightedMajorityVote"
    trust: Literal["em", "one-coin", "gold"] | pd.Series
    beta_prior: tuple[float, float]
    no_gold: Literal["prior", "error"]
    max_iter: int
    tol: float

    def __init__(self, trust: Literal["em", "one-coin", "gold"] | pd.Series = "em", *,
                 beta_prior: tuple[float, float] = (1, 1), ties: Literal["coin", "report"] = "coin",
                 seed: int | np.random.Generator | None = 0, no_gold: Literal["prior", "error"] = "prior",
                 max_iter: int = 500, tol: float = 1e-6, task: str = "task", worker: str = "worker",
                 label: str = "label", duplicates: Literal["error", "first", "last"] = "error",
                 prior: tuple[float, float] | None = None) -> None:
        self.trust, self.ties, self.seed, self.no_gold = trust, ties, seed, no_gold
        self.beta_prior = renamed(beta_prior, prior, "beta_prior", "prior")
        self.max_iter, self.tol, self.duplicates = max_iter, tol, duplicates
        self.task, self.worker, self.label = task, worker, label

    def _check_params(self) -> None:
        check_choice(self.no_gold, "no_gold", NO_GOLD)
        check_trust_source(self.trust)
        check_beta_prior(self.beta_prior)
        check_positive_int(self.max_iter, "max_iter")
        check_positive_real(self.tol, "tol")

    def _learn(self, source: VoteSource, workers: pd.Index, labels: pd.Index) -> dict[str, Any]:
        n_labels = max(labels.size, 2)
        class_prior = np.full(labels.size, 1.0 / n_labels)
        alpha = beta = np.full(workers.size, np.nan)
        n_iter, converged, fit = 0, True, None
        gold = None if source.known == 0 else source.gold_record()  # one pass: trust="gold" and the n_gold column
        if isinstance(self.trust, pd.Series):
            t = check_given_trust(self.trust, workers)
        elif self.trust == "gold":
            check_has_gold(source.known, "trust='gold'")
            right, n_gold = cast(tuple[NDArray[np.float64], NDArray[np.float64]], gold)
            if self.no_gold == "error":
                check_gold_covers(n_gold, workers)
            alpha, beta = self.beta_prior[0] + right, self.beta_prior[1] + n_gold - right
            t = beta_mean(right, n_gold, self.beta_prior)
        elif self.trust == "one-coin":
            alpha, beta, log_prior, n_iter, converged = one_coin_loop(source, self.beta_prior, n_labels, self.max_iter,
                                                                      self.tol)
            t, class_prior = alpha / (alpha + beta), np.exp(log_prior)
        else:
            fit = dawid_skene_fit(source, dirichlet_prior="pooled", max_iter=self.max_iter, tol=self.tol)
            t, class_prior, n_iter, converged = balanced_accuracy(fit.confusion), fit.class_prior, fit.n_iter, \
                fit.converged
        n_gold_votes = np.nan if gold is None else gold[1]
        table = pd.DataFrame({"mean": t, "alpha": alpha, "beta": beta, "n_gold": n_gold_votes}, index=workers)
        return {"trust_": table, "class_prior": class_prior, "n_iter_": n_iter, "converged_": converged,
                "_confusion_fit": fit}

    def _posterior(self, codes: Codes, truth: NDArray[np.int64], state: dict[str, Any]) -> NDArray[np.float64]:
        with np.errstate(divide="ignore"):  # a label of prior 0 stays impossible
            log_class = np.log(state["class_prior"])
        weights = symmetric_weights(state["trust_"]["mean"].to_numpy(), max(codes.n_labels, 2))
        return clamp(posterior(codes, weights, log_class), truth)

    def _panel(self, data: Votes) -> PanelModel | str:
        if data.labels.size < 2:
            return "Stability of optimality: not defined with one label."
        t, n_labels = self.trust_["mean"].to_numpy(), data.labels.size
        log_rule = _symmetric_rows(t, n_labels)
        with np.errstate(divide="ignore"):  # a label of prior 0 (one-coin EM can run away) stays impossible
            log_class = np.log(self.class_prior_.to_numpy())
        if isinstance(self.trust, pd.Series):
            return PanelModel(log_rule, log_class, trust=t)
        if self.trust == "em":
            fit = cast(ConfusionFit, self._confusion_fit)  # trust "em" keeps its Dawid-Skene fit
            return PanelModel(log_rule, log_class, dirichlet=fit.dirichlet, trust=t)
        return PanelModel(log_rule, log_class, alpha=self.trust_["alpha"].to_numpy(),
                          beta=self.trust_["beta"].to_numpy(), trust=t)


def _symmetric_rows(t: NDArray[np.float64], n_labels: int) -> NDArray[np.float64]:
    """ln of the symmetric-noise confusion matrices of trust ``t``, shape (n_workers, L, L)."""
    with np.errstate(divide="ignore"):
        rows = np.repeat(np.log((1 - t) / (n_labels - 1))[:, None, None], n_labels, axis=1).repeat(n_labels, axis=2)
        rows[:, np.arange(n_labels), np.arange(n_labels)] = np.log(t)[:, None]
    return rows


class ConfusionMatrixVote(_Aggregator):
    """Bayesian Dawid-Skene: a confusion matrix per worker, learned from the votes, from gold, or from both.

    Worker ``i`` reports label ``v`` for truth ``y`` with probability ``Pi_i[y, v]``; for two
    labels this is the two-coin model (sensitivity and specificity), which explains label
    bias. Each row of ``Pi_i`` has a Dirichlet prior, and so has the class prior ``rho``
    (Dirichlet(1, ..., 1)). The aggregator reports posterior means: each row's mean given its
    (expected) counts, and the posterior of each task under those means,
    ``P(y | v) ~ rho_y prod_i E[Pi_i][y, v_i]``. Each term of the accuracy holds one entry
    of each worker's matrix, so the accuracy is affine in each worker's matrix and
    stability of correctness carries over (proofs/soc_confusion_matrix.md); for the matrices
    learned by EM the means are those of the Dirichlet posterior given the expected
    counts, an approximation the proof names.

    Parameters
    ----------
    trust : {"em", "gold"}, default="em"
        ``"em"``: EM over the unknown truths (``models.dawid_skene_em``); gold tasks, when
        given, keep their truth and the others are inferred. It starts from plurality
        voting; each iteration raises the posterior density, and it stops when no confusion
        entry or class probability moves by more than ``tol``. ``"gold"``: the matrices
        from the gold tasks alone.
    dirichlet_prior : "pooled" or float, default="pooled"
        The Dirichlet prior of every row: ``L`` pseudo-votes spread like the crowd's pooled
        confusion row at the plurality-vote start (a worker with few votes is read as a
        typical member of the crowd), or this many pseudo-votes in every cell (1.0: uniform).
    prior : "pooled" or float, optional
        The former name of ``dirichlet_prior``, accepted until the next release (FutureWarning).
    ties : {"coin", "report"}, default="coin"
        A tie is broken by a seeded fair choice among the tied labels, or reported as NA.
    seed : int or numpy.random.Generator, default=0
        Seed of the tie-breaking coin and of the restarts.
    max_iter : int, default=500
        Most EM iterations per start.
    tol : float, default=1e-6
        EM stops when no parameter moves by more.
    restarts : int, default=0
        Further EM starts, from the plurality posterior mixed half and half with random
        ones; the fit of highest posterior density is kept.
    task, worker, label : str
        Column names.
    duplicates : {"error", "first", "last"}, default="error"
        See ``read_votes``.

    Attributes
    ----------
    labels_ : pandas.Series
    probas_ : pandas.DataFrame
    confusion_ : ndarray of shape (n_workers, n_labels, n_labels)
        Posterior mean confusion matrices, rows = truth, columns = report.
    counts_ : ndarray of shape (n_workers, n_labels, n_labels)
        Expected reports per worker, truth and report (exact counts on gold tasks).
    trust_ : pandas.DataFrame
        The Dirichlet parameters (prior plus counts) of every row, indexed by (worker, truth),
        one column per reported label: the trust table.
    class_prior_ : pandas.Series
        Posterior mean of the class prior.
    n_iter_ : int
        EM iterations (0 for ``trust="gold"``).
    converged_ : bool
    log_posterior_ : float
        The objective EM raises, at the fit.

    Examples
    --------
    >>> votes = pd.DataFrame({"task": [1, 1, 2, 2], "worker": ["a", "b", "a", "b"], "label": ["x", "y", "y", "y"]})
    >>> gold = pd.DataFrame({"task": [2], "label": ["y"]})
    >>> model = ConfusionMatrixVote(trust="gold", dirichlet_prior=1.0).fit(votes, gold)
    >>> model.confusion_[0].tolist()  # worker a: truth y reported y once, on top of the uniform prior
    [[0.5, 0.5], [0.3333333333333333, 0.6666666666666666]]
    """

    name = "ConfusionMatrixVote"
    trust: Literal["em", "gold"]
    dirichlet_prior: float | Literal["pooled"]
    max_iter: int
    tol: float
    restarts: int
    # set by fit, besides those of every aggregator
    confusion_: NDArray[np.float64]
    counts_: NDArray[np.float64]
    log_posterior_: float

    def __init__(self, trust: Literal["em", "gold"] = "em", *, dirichlet_prior: float | Literal["pooled"] = "pooled",
                 ties: Literal["coin", "report"] = "coin", seed: int | np.random.Generator | None = 0,
                 max_iter: int = 500, tol: float = 1e-6, restarts: int = 0, task: str = "task", worker: str = "worker",
                 label: str = "label", duplicates: Literal["error", "first", "last"] = "error",
                 prior: float | Literal["pooled"] | None = None) -> None:
        self.trust, self.ties, self.seed = trust, ties, seed
        self.dirichlet_prior = renamed(dirichlet_prior, prior, "dirichlet_prior", "prior")
        self.max_iter, self.tol, self.restarts = max_iter, tol, restarts
        self.task, self.worker, self.label, self.duplicates = task, worker, label, duplicates

    def _check_params(self) -> None:
        check_choice(self.trust, "trust", ("em", "gold"))
        if self.dirichlet_prior != "pooled":
            check_positive_real(self.dirichlet_prior, "dirichlet_prior")
        check_positive_int(self.max_iter, "max_iter")
        check_positive_real(self.tol, "tol")
        check_nonnegative_int(self.restarts, "restarts")

    def _infer(self, data: Votes, truth: NDArray[np.int64]) -> tuple[NDArray[np.float64], dict[str, Any]]:
        source = MemoryPasses(data.codes, truth)
        state = self._learn(source, data.workers, data.labels)
        return state["_confusion_fit"].probas, state  # the posteriors of the last pass: no pass more

    def _learn(self, source: VoteSource, workers: pd.Index, labels: pd.Index) -> dict[str, Any]:
        if self.trust == "gold":
            check_has_gold(source.known, "trust='gold'")
            fit = gold_confusion_fit(source, dirichlet_prior=self.dirichlet_prior)
        elif self.restarts:
            memory = check_restarts_in_memory(source, MemoryPasses)
            fit = dawid_skene_em(memory.codes, truth=memory.truth, dirichlet_prior=self.dirichlet_prior,
                                 max_iter=self.max_iter, tol=self.tol, restarts=self.restarts,
                                 rng=check_rng(self.seed))
        else:
            fit = dawid_skene_fit(source, dirichlet_prior=self.dirichlet_prior, max_iter=self.max_iter, tol=self.tol)
        index = pd.MultiIndex.from_product([workers, labels], names=[workers.name, "truth"])
        trust = pd.DataFrame(fit.dirichlet.reshape(-1, labels.size), index=index, columns=labels)
        return {"confusion_": fit.confusion, "counts_": fit.counts, "trust_": trust, "class_prior": fit.class_prior,
                "n_iter_": fit.n_iter, "converged_": fit.converged, "log_posterior_": fit.log_posterior,
                "_confusion_fit": fit}

    def _posterior(self, codes: Codes, truth: NDArray[np.int64], state: dict[str, Any]) -> NDArray[np.float64]:
        fit = state["_confusion_fit"]
        return confusion_posterior(codes, truth, fit.dirichlet, fit.class_dirichlet)[0]

    def _panel(self, data: Votes) -> PanelModel | str:
        if data.labels.size < 2:
            return "Stability of optimality: not defined with one label."
        return PanelModel(np.log(self.confusion_), np.log(self.class_prior_.to_numpy()),
                          dirichlet=self.trust_.to_numpy().reshape(self.confusion_.shape))


class DifficultyAwareVote(_Aggregator):
    """Aggregation that lets workers err together: conditional independence given a latent task difficulty.

    Each task has a hidden difficulty class ``d`` (probability ``pi_d``); given the truth
    and ``d``, workers vote independently, worker ``i`` being right with probability
    ``t_id`` (symmetric noise otherwise). Hard tasks make everyone err at once, which
    plain weighted voting reads as independent evidence. The trust ``t_id`` and the
    class weights ``pi_d`` are learned on gold tasks by EM over the latent classes: at
    the fixed point each ``t_id`` is the mean of a Beta(``beta_prior``) posterior given the
    responsibility-weighted record of worker ``i`` in class ``d``, and each ``pi_d`` is
    the mean responsibility of class ``d`` (no prior). That is a point estimate, neither
    the posterior mean nor the posterior mode of the parameters: the class of a gold
    task is not observed, so the posterior does not factor over classes, and under a
    prior exchangeable in the classes the exact posterior means would be equal across
    classes (the independence model). ``believed_accuracy_`` is therefore the model's
    belief at the fitted parameters, over the tasks without gold: exact in expectation
    if they are the true ones (proofs/soc_latent_class.md, Proposition B), otherwise off
    by their estimation error, which shrinks with the gold record when EM finds a
    consistent estimate; stability of correctness (Theorem C there) does not apply to
    it (case 3 of (c)).

    Parameters
    ----------
    n_classes : int, default=2
        Difficulty classes.
    beta_prior : (float, float), default=(1, 1)
        Beta prior of every worker's accuracy in every class.
    prior : (float, float), optional
        The former name of ``beta_prior``, accepted until the next release (FutureWarning).
    ties : {"coin", "report"}, default="coin"
        A tie is broken by a seeded fair choice among the tied labels, or reported as NA.
    max_iter : int, default=100
        Most EM iterations. Where the tasks have a latent structure EM meets ``tol`` well
        within this; where they have little, the likelihood is flat along the split between
        classes and EM drifts along it for thousands of iterations without settling.
    tol : float, default=1e-6
        EM stops when no trust moves by more.
    seed : int, default=0
        Seed of the EM start (classes start from perturbed copies of the pooled trust) and of
        the tie-breaking coin.
    task, worker, label : str
        Column names.
    duplicates : {"error", "first", "last"}, default="error"
        See ``read_votes``.

    Attributes
    ----------
    labels_ : pandas.Series
        The most probable label of each task.
    probas_ : pandas.DataFrame
        P(truth = label | votes), the difficulty marginalised out.
    trust_ : pandas.DataFrame
        Trust of each worker (rows) in each difficulty class (columns).
    class_weights_ : ndarray
        ``pi_d``.
    believed_accuracy_ : float
        Mean over the tasks without gold of the probability that the decided label is right,
        under this model.
    """

    name = "DifficultyAwareVote"
    n_classes: int
    beta_prior: tuple[float, float]
    max_iter: int
    tol: float
    # set by fit, besides those of every aggregator
    class_weights_: NDArray[np.float64]
    believed_accuracy_: float

    def __init__(self, n_classes: int = 2, *, beta_prior: tuple[float, float] = (1, 1),
                 ties: Literal["coin", "report"] = "coin", max_iter: int = 100, tol: float = 1e-6,
                 seed: int | np.random.Generator | None = 0, task: str = "task", worker: str = "worker",
                 label: str = "label", duplicates: Literal["error", "first", "last"] = "error",
                 prior: tuple[float, float] | None = None) -> None:
        self.n_classes, self.ties, self.max_iter, self.tol, self.seed = n_classes, ties, max_iter, tol, seed
        self.beta_prior = renamed(beta_prior, prior, "beta_prior", "prior")
        self.task, self.worker, self.label, self.duplicates = task, worker, label, duplicates

    def fit(self, votes: pd.DataFrame, gold: pd.DataFrame,  # type: ignore[override]  # gold is required
            *, scratch: str | None = None) -> Self:
        """Learn per-class trust from the gold tasks and aggregate every task.

        Parameters
        ----------
        votes : pandas.DataFrame or dask.dataframe.DataFrame
            Long vote table (see ``WeightedMajorityVote.fit``).
        gold : pandas.DataFrame
            Known truths (task, label).
        scratch : str, optional
            Folder for the encoded partitions of a dask fit.

        Returns
        -------
        self
        """
        check_gold_given(gold, "DifficultyAwareVote")
        super().fit(votes, gold, scratch=scratch)
        if self._partitions is not None:
            self.believed_accuracy_ = believed_unknown(self)
            return self
        rest = self._fitted[1] < 0
        self.believed_accuracy_ = float(believed(self.probas_.to_numpy()[rest])) if rest.any() else float("nan")
        return self

    def _check_params(self) -> None:
        check_positive_int(self.n_classes, "n_classes")
        check_beta_prior(self.beta_prior)
        check_positive_int(self.max_iter, "max_iter")
        check_positive_real(self.tol, "tol")

    def _learn(self, source: VoteSource, workers: pd.Index, labels: pd.Index) -> dict[str, Any]:
        check_has_gold(source.known, "DifficultyAwareVote")
        n_labels = max(labels.size, 2)
        gold_task, gold_worker, right = source.gold_votes()
        fit = latent_class_em(gold_task, gold_worker, right, n_workers=workers.size, n_classes=self.n_classes,
                              n_labels=n_labels, beta_prior=self.beta_prior, max_iter=self.max_iter, tol=self.tol,
                              rng=check_rng(self.seed), worker_keys=name_keys(workers))
        table = pd.DataFrame(fit.trust, index=workers, columns=[f"class {d}" for d in range(self.n_classes)])
        return {"trust_": table, "class_weights_": fit.class_weights, "class_prior": np.full(labels.size, 1 / n_labels),
                "n_iter_": fit.n_iter, "converged_": fit.converged, "_confusion_fit": None}

    def _posterior(self, codes: Codes, truth: NDArray[np.int64], state: dict[str, Any]) -> NDArray[np.float64]:
        trust = state["trust_"].to_numpy()
        return clamp(latent_class_posterior(codes, trust, state["class_weights_"], max(codes.n_labels, 2)), truth)

    def _panel(self, data: Votes) -> PanelModel | str:
        return ("Stability of optimality: not computed for the latent-class model (its trust is an EM fit, not a "
                "posterior distribution to draw from).")
