"""The aggregators: learn trust from a vote table and label every task (the pandas front end of the models)."""

import numpy as np
import pandas as pd

from .._validation import (check_beta_prior, check_choice, check_fraction, check_positive_int, check_positive_real,
                           check_rng, fail, plain)
from .beliefs import CrowdSummary, EmpiricalBelief, optimality
from .latent import latent_class_em, latent_class_posterior
from .models import believed, most_probable, one_coin_em, posterior, softmax, symmetric_weights
from .votes import gold_codes, gold_record, read_votes

NO_GOLD = ("prior", "error")


class WeightedMajorityVote:
    """Aggregate crowd labels by weighted majority (plurality) voting with learned trust.

    Parameters
    ----------
    trust : {"em", "gold"} or pandas.Series, default="em"
        Where trust comes from: EM under the one-coin model on the votes themselves,
        the Beta posterior of each worker's record on gold tasks, or a Series of trust
        indexed by worker.
    prior : (float, float), default=(1, 1)
        Beta prior of every worker's accuracy.
    ties : {"coin", "report"}, default="coin"
        A tie is broken by a seeded fair choice among the tied labels, or reported as NA.
    seed : int or numpy.random.Generator, default=0
        Seed of the tie-breaking coin.
    no_gold : {"prior", "error"}, default="prior"
        With gold trust, a worker without a gold vote keeps the prior, or is an error.
    max_iter : int, default=1000
        Most EM iterations.
    tol : float, default=1e-9
        EM stops when no worker's trust changes by more.
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
        Per worker: ``mean`` (the trust), ``alpha``, ``beta`` (its Beta posterior; NaN for
        user-given trust) and ``n_gold`` (gold votes; NaN unless gold trust).
    class_prior_ : pandas.Series
        P(truth = label): fitted by EM, uniform otherwise.
    n_iter_ : int
        EM iterations (0 for gold or given trust).

    Examples
    --------
    >>> votes = pd.DataFrame({"task": [1, 1, 1, 2, 2, 2], "worker": ["a", "b", "c"] * 2,
    ...                       "label": ["x", "y", "y", "x", "x", "y"]})
    >>> trust = pd.Series({"a": 0.9, "b": 0.6, "c": 0.6})
    >>> WeightedMajorityVote(trust=trust).fit_predict(votes).tolist()  # ln 9 > 2 ln 1.5: a decides
    ['x', 'x']
    """

    def __init__(self, trust="em", *, prior=(1, 1), ties="coin", seed=0, no_gold="prior", max_iter=1000, tol=1e-9,
                 task="task", worker="worker", label="label", duplicates="error"):
        self.trust, self.prior, self.ties, self.seed, self.no_gold = trust, prior, ties, seed, no_gold
        self.max_iter, self.tol, self.duplicates = max_iter, tol, duplicates
        self.task, self.worker, self.label = task, worker, label

    def fit(self, votes, gold=None):
        """Learn trust and aggregate.

        Parameters
        ----------
        votes : pandas.DataFrame
            Long vote table (task, worker, label columns).
        gold : pandas.DataFrame, optional
            Known truths (task, label columns); required for ``trust="gold"``.

        Returns
        -------
        self
        """
        check_choice(self.ties, "ties", ("coin", "report"))
        check_choice(self.no_gold, "no_gold", NO_GOLD)
        data = read_votes(votes, task=self.task, worker=self.worker, label=self.label, duplicates=self.duplicates)
        t, table, log_prior, probas = self._learn(data, gold)
        decision = most_probable(probas, self.ties, check_rng(self.seed))
        chosen = data.labels[np.maximum(decision, 0)]
        if (decision < 0).any():  # reported ties
            chosen = pd.Index(np.where(decision >= 0, chosen.to_numpy(dtype=object), pd.NA), dtype=object)
        self.labels_ = pd.Series(chosen, index=data.tasks, name=self.label)
        self.probas_ = pd.DataFrame(probas, index=data.tasks, columns=data.labels)
        self.trust_ = pd.DataFrame(table, index=data.workers)
        self.class_prior_ = pd.Series(np.exp(log_prior), index=data.labels, name="prior")
        self._fitted = data, gold
        return self

    def _learn(self, data, gold):
        """Trust, the trust table, the log class prior and the task posteriors for encoded votes."""
        prior = check_beta_prior(self.prior)
        n_labels = max(data.labels.size, 2)
        log_prior = np.full(data.labels.size, -np.log(n_labels))
        self.n_iter_ = 0
        if isinstance(self.trust, pd.Series):
            t = self._given_trust(data)
            table = {"mean": t, "alpha": np.nan, "beta": np.nan, "n_gold": np.nan}
        elif self.trust == "gold":
            right, n_gold = gold_record(data, gold_codes(data, gold, self.task, self.label), self.no_gold)
            alpha, beta = prior[0] + right, prior[1] + n_gold - right
            t = alpha / (alpha + beta)
            table = {"mean": t, "alpha": alpha, "beta": beta, "n_gold": n_gold}
        elif self.trust == "em":
            alpha, beta, log_prior = self._em(data, prior, n_labels)
            t = alpha / (alpha + beta)
            table = {"mean": t, "alpha": alpha, "beta": beta, "n_gold": np.nan}
        else:
            raise fail("trust", "be 'em', 'gold' or a pandas Series indexed by worker", f"got {self.trust!r}")
        return t, table, log_prior, posterior(data.codes, symmetric_weights(t, n_labels), log_prior)

    def summary(self, *, folds=5, confidence=0.95, epsilon=0.01, seed=0):
        """What accuracy to believe: the model's belief beside an empirical one measured on gold.

        - model-based belief: the mean over tasks of the posterior probability of the
          decided label. Exact in expectation when workers err independently given the
          truth, with symmetric noise, and trust is the posterior mean of what is known
          (Theorem 1, proofs/theorem1_soc.md).
        - empirical belief (needs the gold table given to ``fit``): the aggregate's
          accuracy on gold tasks, cross-fitted for gold trust (trust learned on the other
          ``folds - 1`` folds of gold tasks, accuracy measured on the held-out fold), with a
          Wilson interval; needs no independence. Beside it, the model's belief on the
          same held-out tasks: when that lies outside the interval, the data refute the
          model's assumptions (typically independence) and the empirical belief is the one
          to use.
        - for two labels and Beta trust: the stability-of-optimality gap of a typical
          task's panel (what knowing each worker's accuracy exactly would add, with its
          bounds) and the gold observations per worker that bring the expected regret
          below ``epsilon``.

        Parameters
        ----------
        folds : int, default=5
            Folds of the gold tasks for cross-fitting gold trust.
        confidence : float, default=0.95
            Level of the empirical interval.
        epsilon : float, default=0.01
            Target regret for the gold observations needed.
        seed : int, default=0
            Seed of the fold assignment and of the sampled panels.

        Returns
        -------
        CrowdSummary
        """
        if not hasattr(self, "_fitted"):
            raise fail("the aggregator", "be fitted before its summary", "call fit(votes, gold) first",
                       error=RuntimeError)
        data, gold = self._fitted
        probas = self.probas_.to_numpy()
        belief = float(believed(probas))
        empirical = None if gold is None else self._cross_fit(data, gold, check_positive_int(folds, "folds"),
                                                                check_fraction(confidence, "confidence"), seed)
        soo = None
        if data.labels.size == 2 and not isinstance(self.trust, pd.Series):
            soo = optimality(data, self.trust_, check_positive_real(epsilon, "epsilon"), seed)
        return CrowdSummary(data.tasks.size, data.workers.size, data.labels.size, belief, empirical, soo)

    def _cross_fit(self, data, gold, folds, confidence, seed):
        truth = gold_codes(data, gold, self.task, self.label)
        rows = np.flatnonzero(truth >= 0)
        if rows.size == 0:
            return None
        codes = truth[rows]
        if isinstance(self.trust, str) and self.trust == "gold":  # gold trust (n_iter_ stays 0 on refits)
            fold = check_rng(seed).permutation(rows.size) % folds
            probas = np.empty((rows.size, data.labels.size))
            for k in range(folds):
                held = fold == k
                if held.any():
                    train = gold[~gold[self.task].isin(data.tasks[rows[held]])]
                    probas[held] = self._learn(data, train)[3][rows[held]]
        else:  # EM or given trust never saw the gold labels
            probas = self.probas_.to_numpy()[rows]
        correct = probas.argmax(axis=1) == codes  # the decision, ties aside (probability 0 for continuous trust)
        return EmpiricalBelief.of(correct, float(believed(probas)), confidence)


    def fit_predict(self, votes, gold=None):
        """Fit and return ``labels_``."""
        return self.fit(votes, gold).labels_

    def fit_predict_proba(self, votes, gold=None):
        """Fit and return ``probas_``."""
        return self.fit(votes, gold).probas_

    def _given_trust(self, data):
        trust = self.trust
        missing = data.workers.difference(trust.index)
        if len(missing):
            raise fail("trust", "have an entry for every worker who voted", f"none for {[plain(w) for w in missing[:5]]!r}"
                       + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""))
        t = trust.reindex(data.workers).to_numpy(dtype=float)
        bad = ~((t >= 0) & (t <= 1))
        if bad.any():
            raise fail("trust", "lie in [0, 1]", f"trust[{plain(data.workers[bad.argmax()])!r}] = {float(t[bad.argmax()])!r}")
        return t

    def _em(self, data, prior, n_labels):
        fit = one_coin_em(data.codes, prior, n_labels, check_positive_int(self.max_iter, "max_iter"),
                          check_positive_real(self.tol, "tol"))
        self.n_iter_ = fit.n_iter
        return fit.alpha, fit.beta, fit.log_prior


class DifficultyAwareVote:
    """Aggregation that lets workers err together: conditional independence given a latent task difficulty.

    Each task has a hidden difficulty class ``d`` (probability ``pi_d``); given the truth
    and ``d``, workers vote independently, worker ``i`` being right with probability
    ``t_id`` (symmetric noise otherwise). Hard tasks make everyone err at once, which
    plain weighted voting reads as independent evidence. The trust ``t_id`` is learned
    on gold tasks by EM over the latent classes (Beta prior on each), so the belief
    stays a posterior mean within each class, where stability of correctness holds
    (the likelihood is still multi-affine in each class's trust).

    Parameters
    ----------
    n_classes : int, default=2
        Difficulty classes.
    prior : (float, float), default=(1, 1)
        Beta prior of every worker's accuracy in every class.
    max_iter : int, default=500
        Most EM iterations.
    tol : float, default=1e-8
        EM stops when no trust moves by more.
    seed : int, default=0
        Seed of the EM start (classes start from perturbed copies of the pooled trust).
    task, worker, label : str
        Column names.
    duplicates : {"error", "first", "last"}, default="error"

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
        Mean over tasks of the probability that the decided label is right, under this model.
    """

    def __init__(self, n_classes=2, *, prior=(1, 1), max_iter=500, tol=1e-8, seed=0, task="task", worker="worker",
                 label="label", duplicates="error"):
        self.n_classes, self.prior, self.max_iter, self.tol, self.seed = n_classes, prior, max_iter, tol, seed
        self.task, self.worker, self.label, self.duplicates = task, worker, label, duplicates

    def fit(self, votes, gold):
        """Learn per-class trust from the gold tasks and aggregate every task.

        Parameters
        ----------
        votes : pandas.DataFrame
            Long vote table.
        gold : pandas.DataFrame
            Known truths (task, label).

        Returns
        -------
        self
        """
        n_classes = check_positive_int(self.n_classes, "n_classes")
        prior = check_beta_prior(self.prior)
        max_iter, tol = check_positive_int(self.max_iter, "max_iter"), check_positive_real(self.tol, "tol")
        data = read_votes(votes, task=self.task, worker=self.worker, label=self.label, duplicates=self.duplicates)
        y = gold_codes(data, gold, self.task, self.label)
        on_gold = y[data.codes.task] >= 0
        n_labels = max(data.labels.size, 2)
        gold_task = np.unique(data.codes.task[on_gold], return_inverse=True)[1]
        t, weights, self.n_iter_ = latent_class_em(gold_task, data.codes.worker[on_gold],
                                                   (data.codes.label == y[data.codes.task])[on_gold], data.workers.size,
                                                   n_classes, n_labels, prior, max_iter, tol, check_rng(self.seed))
        probas = latent_class_posterior(data.codes, t, weights, n_labels)
        self.probas_ = pd.DataFrame(probas, index=data.tasks, columns=data.labels)
        self.labels_ = pd.Series(data.labels[probas.argmax(axis=1)], index=data.tasks, name=self.label)
        self.trust_ = pd.DataFrame(t, index=data.workers, columns=[f"class {d}" for d in range(n_classes)])
        self.class_weights_ = weights
        self.believed_accuracy_ = float(believed(probas))
        return self


class ConfusionMatrixVote:
    """Aggregation with a confusion matrix per worker, learned from gold (a Dirichlet posterior per row).

    Worker ``i`` reports label ``v`` for truth ``y`` with probability ``Pi_i[y, v]``. Each
    row of ``Pi_i`` gets a Dirichlet(``alpha0``, ..., ``alpha0``) prior and the worker's gold
    votes for that truth; the aggregator decides by the posterior under the mean
    matrices, ``argmax_y rho_y prod_i E[Pi_i][y, v_i]`` (``rho`` uniform). Each term of the
    accuracy holds one entry of each worker's matrix, so the accuracy is affine in each
    worker's matrix and stability of correctness carries over from symmetric noise
    (proofs/soc_confusion_matrix.md). Rows a worker has no gold for keep the prior: uniform.

    Parameters
    ----------
    alpha0 : float, default=1.0
        Dirichlet prior count of every cell.
    task, worker, label : str
        Column names.
    duplicates : {"error", "first", "last"}, default="error"

    Attributes
    ----------
    labels_ : pandas.Series
    probas_ : pandas.DataFrame
    confusion_ : ndarray of shape (n_workers, n_labels, n_labels)
        Posterior mean confusion matrices, rows = truth, columns = report.
    counts_ : ndarray of shape (n_workers, n_labels, n_labels)
        Gold votes per worker, truth and report.

    Examples
    --------
    >>> votes = pd.DataFrame({"task": [1, 1, 2, 2], "worker": ["a", "b", "a", "b"], "label": ["x", "y", "y", "y"]})
    >>> gold = pd.DataFrame({"task": [2], "label": ["y"]})
    >>> model = ConfusionMatrixVote().fit(votes, gold)
    >>> model.confusion_[0].tolist()  # worker a: truth y reported y once, on top of the uniform prior
    [[0.5, 0.5], [0.3333333333333333, 0.6666666666666666]]
    """

    def __init__(self, alpha0=1.0, *, task="task", worker="worker", label="label", duplicates="error"):
        self.alpha0, self.task, self.worker, self.label, self.duplicates = alpha0, task, worker, label, duplicates

    def fit(self, votes, gold):
        """Learn the confusion matrices from the gold tasks and aggregate every task.

        Parameters
        ----------
        votes : pandas.DataFrame
            Long vote table.
        gold : pandas.DataFrame
            Known truths (task, label).

        Returns
        -------
        self
        """
        alpha0 = check_positive_real(self.alpha0, "alpha0")
        data = read_votes(votes, task=self.task, worker=self.worker, label=self.label, duplicates=self.duplicates)
        k = data.labels.size
        y = gold_codes(data, gold, self.task, self.label)
        known = y >= 0
        on_gold = known[data.codes.task]
        cell = (data.codes.worker[on_gold] * k + y[data.codes.task[on_gold]]) * k + data.codes.label[on_gold]
        counts = np.bincount(cell, minlength=data.workers.size * k * k).reshape(data.workers.size, k, k)
        confusion = (alpha0 + counts) / (k * alpha0 + counts.sum(axis=2, keepdims=True))
        log_report = np.log(confusion[data.codes.worker, :, data.codes.label])  # (votes, truth): log P(v_i | y)
        score = np.stack([np.bincount(data.codes.task, weights=log_report[:, c], minlength=data.tasks.size)
                          for c in range(k)], axis=1)
        probas = softmax(score)
        self.probas_ = pd.DataFrame(probas, index=data.tasks, columns=data.labels)
        self.labels_ = pd.Series(data.labels[probas.argmax(axis=1)], index=data.tasks, name=self.label)
        self.confusion_, self.counts_ = confusion, counts
        return self
