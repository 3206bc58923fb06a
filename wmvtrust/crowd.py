"""Vote tables: learn trust from crowd labels and aggregate them by weighted majority voting.

Data conventions follow the crowdsourcing ecosystem (crowd-kit): a long
DataFrame with one row per (task, worker, label), fitted attributes ending in
``_``, Series indexed by task or worker. Labels may have ``L >= 2`` classes;
under symmetric noise (a worker is right with probability ``t`` and otherwise
picks each wrong class with probability ``(1 - t) / (L - 1)``) the posterior
weights are ``ln((L - 1) t / (1 - t))`` and the decision is the weighted plurality.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from . import _kernels as kn
from ._validation import (check_beta_prior, check_choice, check_fraction, check_positive_int, check_positive_real,
                          check_rng, fail)
from .stability import observations_needed, soo_gap
from .trust import BetaTrust

DUPLICATES = ("error", "first", "last")
NO_GOLD = ("prior", "error")


@dataclass(frozen=True)
class Votes:
    """A validated vote table, encoded: row k says worker ``worker[k]`` gave task ``task[k]`` label ``label[k]``.

    ``tasks``, ``workers`` and ``labels`` hold the names (tasks and workers in order of
    first appearance, labels sorted); the integer arrays index into them.
    """

    tasks: pd.Index
    workers: pd.Index
    labels: pd.Index
    task: np.ndarray
    worker: np.ndarray
    label: np.ndarray


def read_votes(frame, *, task="task", worker="worker", label="label", duplicates="error"):
    """Validate and encode a long vote table.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per vote.
    task, worker, label : str
        Column names.
    duplicates : {"error", "first", "last"}, default="error"
        What to do when a worker labels a task twice: refuse, or keep the first or the last vote.

    Returns
    -------
    Votes

    Examples
    --------
    >>> votes = read_votes(pd.DataFrame({"task": ["t1", "t1", "t2"], "worker": ["a", "b", "a"],
    ...                                  "label": ["cat", "dog", "cat"]}))
    >>> list(votes.tasks), list(votes.workers), list(votes.labels), votes.label.tolist()
    (['t1', 't2'], ['a', 'b'], ['cat', 'dog'], [0, 1, 0])
    """
    check_choice(duplicates, "duplicates", DUPLICATES)
    if not isinstance(frame, pd.DataFrame):
        raise fail("votes", "be a pandas DataFrame", f"got {type(frame).__name__}", error=TypeError)
    columns = {"task": task, "worker": worker, "label": label}
    for role, name in columns.items():
        if name not in frame.columns:
            raise fail("votes", f"have a {role} column named {name!r}",
                       f"its columns are {', '.join(map(repr, frame.columns))}", f"Pass {role}=... to name it.")
    if frame.empty:
        raise fail("votes", "have at least one vote", "the table is empty")
    table = frame[[task, worker, label]]
    for name in (task, worker, label):
        if table[name].dtype.kind in "iub":  # integers cannot be missing
            continue
        missing = table[name].isna().to_numpy()
        if missing.any():
            count = int(missing.sum())
            raise fail("votes", f"have no missing {name!r}", f"row {_plain(table.index[missing.argmax()])!r} has none",
                       f"{count} row{'s' if count > 1 else ''} in all; drop or fill them first.")
    # numbered on the whole table, before any duplicate is dropped: the order of first appearance stays
    task_codes, tasks = _factorize(table[task])
    worker_codes, workers = _factorize(table[worker])
    label_codes, labels = _factorize(table[label])
    order = np.argsort(labels, kind="stable")  # labels sorted, codes renumbered to match
    label_codes, labels = np.argsort(order)[label_codes], labels[order]
    drop = kn.repeated_votes(task_codes, worker_codes, tasks.size, workers.size, duplicates == "last")
    if drop.any() and duplicates == "error":
        first, count = table.iloc[int(drop.argmax())], int(drop.sum())
        raise fail("votes", "have one vote per (task, worker)",
                   f"worker {_plain(first[worker])!r} voted more than once on task {_plain(first[task])!r} "
                   f"({count} repeated vote{'s' if count > 1 else ''} in all)",
                   "Pass duplicates='first' or 'last' to keep one.")
    if drop.any():
        task_codes, worker_codes, label_codes = task_codes[~drop], worker_codes[~drop], label_codes[~drop]
    return Votes(pd.Index(tasks, name=task), pd.Index(workers, name=worker), pd.Index(labels, name=label),
                 task_codes, worker_codes, label_codes)


def _factorize(column):
    """(codes, distinct values) in order of first appearance; integers in a compact range by a lookup table."""
    values = column.to_numpy()
    if values.dtype.kind in "iu" and values.size:
        lowest, highest = int(values.min()), int(values.max())
        if highest - lowest < 4 * values.size + 1024:
            codes, uniques = kn.factorize_ints(values, lowest, highest - lowest + 1)
            return codes, pd.Index(uniques)
    codes, uniques = pd.factorize(column)
    return codes, pd.Index(uniques)


def _plain(x):
    """A numpy scalar as the Python value it holds, for messages (NumPy 2 prints np.int64(7) otherwise)."""
    return x.item() if isinstance(x, np.generic) else x


def symmetric_weights(trust, n_labels):
    """Weights ``ln((L - 1) t / (1 - t))`` of the symmetric-noise posterior (``±inf`` at trust 1 and 0).

    Examples
    --------
    >>> symmetric_weights(np.array([0.5, 0.25]), 3).round(12).tolist()  # chance is 1/3: for, then against
    [0.69314718056, -0.405465108108]
    """
    with np.errstate(divide="ignore"):
        return np.log((n_labels - 1) * trust / (1.0 - trust))


def _scores(votes, weights, log_prior):
    """Per task and label: (count of trust-1 minus trust-0 votes, finite log-posterior score)."""
    n, k = votes.tasks.size, votes.labels.size
    flat = votes.task * k + votes.label
    w = weights[votes.worker]
    finite = np.isfinite(w)
    certain = np.bincount(flat[~finite], weights=np.sign(w[~finite]), minlength=n * k).reshape(n, k)
    score = np.bincount(flat[finite], weights=w[finite], minlength=n * k).reshape(n, k) + log_prior
    return certain, score


def posterior(votes, weights, log_prior):
    """P(truth = each label | the task's votes) under symmetric noise; infinite weights decide first.

    Returns
    -------
    ndarray of shape (n_tasks, n_labels)
    """
    if np.isfinite(weights).all():  # the common case, one pass over the votes
        score = kn.label_scores(votes.task, votes.worker, votes.label, weights, votes.tasks.size, votes.labels.size)
        return _softmax(score + log_prior)
    certain, score = _scores(votes, weights, log_prior)
    top = certain == certain.max(axis=1, keepdims=True)  # labels not ruled out by a certain vote
    return _softmax(np.where(top, score, -np.inf))


def _softmax(score):
    """Row-wise softmax; two labels take the logistic function of the score difference (three times faster)."""
    if score.shape[1] == 2:
        with np.errstate(invalid="ignore"):  # -inf - -inf cannot happen: a row keeps at least one finite label
            up = special.expit(score[:, 1] - score[:, 0])
        return np.column_stack([1.0 - up, up])
    e = np.exp(score - score.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _decide(probas, ties, rng, tol=1e-12):
    """The most probable label per task; a tie (within ``tol``) is reported as -1 or broken by ``rng``."""
    decision = probas.argmax(axis=1)
    tied = probas >= probas[np.arange(probas.shape[0]), decision][:, None] - tol
    several = np.flatnonzero(tied.sum(axis=1) > 1)
    if ties == "report":
        decision[several] = -1
    else:  # a uniform choice among the tied labels, drawn for the tied tasks only
        decision[several] = (rng.random((several.size, probas.shape[1])) * tied[several]).argmax(axis=1)
    return decision


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
        decision = _decide(probas, self.ties, check_rng(self.seed))
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
        return t, table, log_prior, posterior(data, symmetric_weights(t, n_labels), log_prior)

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
        believed = float(_believed(probas))
        empirical = None if gold is None else self._cross_fit(data, gold, check_positive_int(folds, "folds"),
                                                                check_fraction(confidence, "confidence"), seed)
        optimality = None
        if data.labels.size == 2 and not isinstance(self.trust, pd.Series):
            optimality = _optimality(data, self.trust_, check_positive_real(epsilon, "epsilon"), seed)
        return CrowdSummary(data.tasks.size, data.workers.size, data.labels.size, believed, empirical, optimality)

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
        return EmpiricalBelief.of(correct, float(_believed(probas)), confidence)


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
            raise fail("trust", "have an entry for every worker who voted", f"none for {[_plain(w) for w in missing[:5]]!r}"
                       + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""))
        t = trust.reindex(data.workers).to_numpy(dtype=float)
        bad = ~((t >= 0) & (t <= 1))
        if bad.any():
            raise fail("trust", "lie in [0, 1]", f"trust[{_plain(data.workers[bad.argmax()])!r}] = {float(t[bad.argmax()])!r}")
        return t

    def _em(self, data, prior, n_labels):
        fit = one_coin_em(data, prior, n_labels, check_positive_int(self.max_iter, "max_iter"),
                          check_positive_real(self.tol, "tol"))
        self.n_iter_ = fit.n_iter
        return fit.alpha, fit.beta, fit.log_prior


def gold_codes(data, gold, task, label):
    """The code of each task's known truth (-1 where none), after checking the gold table."""
    if gold is None:
        raise fail("gold", "be given for trust='gold'", "got None", "Pass a table of known truths.")
    if not isinstance(gold, pd.DataFrame):
        raise fail("gold", "be a pandas DataFrame", f"got {type(gold).__name__}", error=TypeError)
    for name in (task, label):
        if name not in gold.columns:
            raise fail("gold", f"have a column named {name!r}", f"its columns are {', '.join(map(repr, gold.columns))}")
    truth = gold.drop_duplicates(task).set_index(task)[label]
    unused = sorted(set(truth.dropna()) - set(data.labels), key=str)
    if unused:
        raise fail("gold", "use only labels that some worker used", f"{unused!r} never appear in the votes")
    known = truth.reindex(data.tasks).to_numpy(dtype=object)
    codes = np.full(data.tasks.size, -1)
    has = pd.notna(known)
    codes[has] = data.labels.get_indexer(pd.Index(known[has]))
    return codes


def gold_record(data, codes, no_gold="prior"):
    """Right and cast gold votes per worker (arrays over ``data.workers``), given ``gold_codes``."""
    y = codes[data.task]
    on_gold = y >= 0
    right = np.bincount(data.worker[on_gold], weights=y[on_gold] == data.label[on_gold], minlength=data.workers.size)
    n_gold = np.bincount(data.worker[on_gold], minlength=data.workers.size).astype(float)
    if no_gold == "error" and (n_gold == 0).any():
        raise fail("gold", "cover every worker when no_gold='error'",
                   f"worker {_plain(data.workers[(n_gold == 0).argmax()])!r} has no gold vote",
                   "Pass no_gold='prior' to give such workers the prior.")
    return right, n_gold


def _believed(probas):
    """Mean posterior probability that the decision is right (a tie among k labels: each chosen w.p. 1/k)."""
    return probas.max(axis=1).mean()


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
    def of(cls, correct, model_belief, confidence):
        n = correct.size
        mean = float(correct.mean())
        z = float(stats.norm.ppf(0.5 + confidence / 2))
        centre = (mean + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * np.sqrt(mean * (1 - mean) / n + z * z / (4 * n * n))
        return cls(mean, max(0.0, centre - half), min(1.0, centre + half), n, model_belief, confidence)

    @property
    def independence_refuted(self):
        """Whether the model's belief lies outside the empirical interval."""
        return not self.ci_low <= self.model_belief <= self.ci_high


@dataclass(frozen=True)
class Optimality:
    """Stability of optimality for the panels of a crowd (two labels, Beta trust)."""

    soo_gap: float  # mean over sampled tasks of their panel's SoO gap
    stderr: float  # over the sampled tasks
    sign_aware_bound: float
    theorem3_bound: float
    n_panels: int
    observations_needed: int  # gold observations per worker for a regret below epsilon, on the median panel
    epsilon: float


def _optimality(data, trust, epsilon, seed, n_panels=100, draws=500):
    """SoO gap of up to ``n_panels`` sampled tasks' panels, and the observations needed on the median panel."""
    rng = check_rng(seed)
    sample = rng.choice(data.tasks.size, size=min(n_panels, data.tasks.size), replace=False)
    order = np.argsort(data.task, kind="stable")
    starts = np.searchsorted(data.task[order], np.arange(data.tasks.size + 1))
    alpha, beta = trust["alpha"].to_numpy(), trust["beta"].to_numpy()
    gaps, bounds, sizes = [], [], []
    for j in sample:
        voters = data.worker[order[starts[j]:starts[j + 1]]]
        gap = soo_gap(BetaTrust(alpha[voters], beta[voters]), draws=draws, seed=int(rng.integers(2**32)))
        gaps.append(gap.value)
        bounds.append((gap.sign_aware_bound, gap.upper_bound))
        sizes.append(voters.size)
    median = sample[np.argsort(sizes)[len(sizes) // 2]]
    voters = data.worker[order[starts[median]:starts[median + 1]]]
    needed = observations_needed(alpha[voters] / (alpha[voters] + beta[voters]), epsilon).observations
    gaps, bounds = np.array(gaps), np.array(bounds)
    stderr = float(gaps.std(ddof=1) / np.sqrt(gaps.size)) if gaps.size > 1 else float("nan")
    return Optimality(float(gaps.mean()), stderr, float(bounds[:, 0].mean()), float(bounds[:, 1].mean()),
                      int(gaps.size), int(needed), epsilon)


@dataclass(frozen=True)
class CrowdSummary:
    """The result of ``WeightedMajorityVote.summary``."""

    n_tasks: int
    n_workers: int
    n_labels: int
    believed_accuracy: float
    empirical: EmpiricalBelief | None
    optimality: Optimality | None

    def __str__(self):
        lines = [f"{self.n_tasks} tasks, {self.n_workers} workers, {self.n_labels} labels.",
                 f"Model-based belief: accuracy {self.believed_accuracy:.4f} over all tasks. It is exact in "
                 "expectation if workers err independently given the truth, with symmetric noise, and trust is "
                 "the posterior mean of what is known (stability of correctness, Theorem 1)."]
        e = self.empirical
        if e is None:
            lines.append("Empirical belief: no gold tasks, so the independence assumption cannot be checked.")
        else:
            lines.append(f"Empirical belief on {e.n_tasks} gold tasks (cross-fitted): accuracy {e.accuracy:.4f}, "
                         f"{e.confidence:.0%} interval [{e.ci_low:.4f}, {e.ci_high:.4f}]; the model believed "
                         f"{e.model_belief:.4f} on the same tasks.")
            lines.append("The data refute the model's assumptions (workers err together): use the empirical belief."
                         if e.independence_refuted else
                         "The two agree: the data do not refute independence; the model-based belief stands.")
        o = self.optimality
        if o is not None:
            lines.append(f"Stability of optimality: knowing each worker's accuracy exactly would add {o.soo_gap:.4f} "
                         f"(+- {o.stderr:.4f}) accuracy on a typical task ({o.n_panels} panels sampled); proven "
                         f"bounds 0 <= gap <= {o.sign_aware_bound:.4f} (sign-aware) <= {o.theorem3_bound:.4f} "
                         f"(Theorem 3). Gold observations per worker for an expected regret below {o.epsilon:g}: "
                         f"{o.observations_needed}.")
        return "\n".join(lines)


@dataclass(frozen=True)
class OneCoinFit:
    """The result of ``one_coin_em``: Beta posteriors of the workers' accuracies and the task posteriors."""

    alpha: np.ndarray
    beta: np.ndarray
    log_prior: np.ndarray
    probas: np.ndarray
    n_iter: int
    converged: bool


def one_coin_em(data, prior, n_labels, max_iter, tol):
    """EM under the one-coin model: each worker is right with one probability, whatever the truth.

    Starts from plurality voting (ties split evenly). The M-step counts each worker's
    expected right votes ``r`` out of ``c`` cast and sets its trust to the Beta posterior
    mean ``(a0 + r) / (a0 + b0 + c)``, so it never reaches 0 or 1; the class prior is the
    mean task posterior. The E-step is the symmetric-noise posterior with weights
    ``ln((L - 1) t / (1 - t))``. Stops when no trust moves by more than ``tol``.
    """
    a0, b0 = prior
    cast = np.bincount(data.worker, minlength=data.workers.size).astype(float)
    # plurality voting, ties split evenly: with every weight infinite, only the vote counts decide
    probas = posterior(data, np.full(data.workers.size, np.inf), np.zeros(data.labels.size))
    t = np.full(data.workers.size, 1.0 / n_labels)
    log_prior = np.full(data.labels.size, -np.log(n_labels))
    converged = False
    for n_iter in range(1, max_iter + 1):
        right = kn.expected_right(data.task, data.worker, data.label, probas, data.workers.size)
        new_t = (a0 + right) / (a0 + b0 + cast)
        with np.errstate(divide="ignore"):  # a label no task may have gets -inf: probability 0
            log_prior = np.log(probas.mean(axis=0))
        probas = posterior(data, symmetric_weights(new_t, n_labels), log_prior)
        converged = bool(np.abs(new_t - t).max() <= tol)
        t = new_t
        if converged:
            break
    return OneCoinFit(a0 + right, b0 + cast - right, log_prior, probas, n_iter, converged)


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
        on_gold = y[data.task] >= 0
        n_labels = max(data.labels.size, 2)
        gold_task = np.unique(data.task[on_gold], return_inverse=True)[1]
        t, weights, self.n_iter_ = latent_class_em(gold_task, data.worker[on_gold],
                                                   (data.label == y[data.task])[on_gold], data.workers.size,
                                                   n_classes, n_labels, prior, max_iter, tol, check_rng(self.seed))
        probas = latent_class_posterior(data, t, weights, n_labels)
        self.probas_ = pd.DataFrame(probas, index=data.tasks, columns=data.labels)
        self.labels_ = pd.Series(data.labels[probas.argmax(axis=1)], index=data.tasks, name=self.label)
        self.trust_ = pd.DataFrame(t, index=data.workers, columns=[f"class {d}" for d in range(n_classes)])
        self.class_weights_ = weights
        self.believed_accuracy_ = float(_believed(probas))
        return self


def latent_class_em(task, worker, right, n_workers, n_classes, n_labels, prior, max_iter, tol, rng):
    """Trust per worker and difficulty class, and the class weights, by EM on gold votes.

    Vote ``k`` was cast by ``worker[k]`` on gold task ``task[k]`` (codes ``0..n_tasks-1``) and was
    ``right[k]``. Classes start from perturbed copies of the pooled trust (drawn from ``rng``); the
    M-step keeps each trust a Beta posterior mean given the expected record in its class. Returns
    ``(trust of shape (n_workers, n_classes), class weights, iterations)``.
    """
    a0, b0 = prior
    n_tasks = int(task.max()) + 1 if task.size else 0
    cast_pooled = np.bincount(worker, minlength=n_workers)
    pooled = (a0 + np.bincount(worker, weights=right, minlength=n_workers)) / (a0 + b0 + cast_pooled)
    t = np.clip(pooled[:, None] + rng.uniform(-0.1, 0.1, (n_workers, n_classes)), 0.05, 0.95)
    weights = np.full(n_classes, 1.0 / n_classes)
    for n_iter in range(1, max_iter + 1):
        # E-step: responsibility of each class for each gold task, the truth being known
        contribution = np.where(right[:, None], np.log(t[worker]), np.log((1 - t[worker]) / (n_labels - 1)))
        loglik = np.stack([np.bincount(task, weights=contribution[:, d], minlength=n_tasks)
                           for d in range(n_classes)], axis=1)
        resp = special.softmax(loglik + np.log(weights), axis=1)
        # M-step: trust per worker and class, from its expected right votes in that class
        r_vote = resp[task]
        right_d = np.stack([np.bincount(worker, weights=r_vote[:, d] * right, minlength=n_workers)
                            for d in range(n_classes)], axis=1)
        cast_d = np.stack([np.bincount(worker, weights=r_vote[:, d], minlength=n_workers)
                           for d in range(n_classes)], axis=1)
        new_t = (a0 + right_d) / (a0 + b0 + cast_d)
        weights = resp.mean(axis=0)
        done = np.abs(new_t - t).max() <= tol
        t = new_t
        if done:
            break
    return t, weights, n_iter


def latent_class_posterior(data, trust, class_weights, n_labels):
    """P(truth = label | votes) per task, the difficulty class marginalised out (uniform prior over labels).

    ``P(y | v) = sum_d P(d | v) P(y | v, d)``, with ``P(d | v)`` from the evidence
    ``P(v | d) pi_d`` in logs; ``trust`` has one column per class.
    """
    no_prior = np.zeros(data.labels.size)
    given_class = np.stack([posterior(data, symmetric_weights(trust[:, d], n_labels), no_prior)
                            for d in range(trust.shape[1])], axis=1)
    with np.errstate(divide="ignore"):
        log_class = np.log(class_weights)
    class_given_votes = special.softmax(
        np.stack([_log_evidence(data, trust[:, d], n_labels) for d in range(trust.shape[1])], axis=1) + log_class,
        axis=1)
    return np.einsum("jd,jdk->jk", class_given_votes, given_class)


def _log_evidence(data, trust, n_labels):
    """log sum_y P(y) prod_i lik(v_i | y) per task, up to a constant shared by every difficulty class (uniform P(y))."""
    base = np.bincount(data.task, weights=np.log((1 - trust[data.worker]) / (n_labels - 1)),
                       minlength=data.tasks.size)
    _, score = _scores(data, symmetric_weights(trust, n_labels), np.zeros(data.labels.size))
    return base + special.logsumexp(score, axis=1) - np.log(data.labels.size)


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
        on_gold = known[data.task]
        cell = (data.worker[on_gold] * k + y[data.task[on_gold]]) * k + data.label[on_gold]
        counts = np.bincount(cell, minlength=data.workers.size * k * k).reshape(data.workers.size, k, k)
        confusion = (alpha0 + counts) / (k * alpha0 + counts.sum(axis=2, keepdims=True))
        log_report = np.log(confusion[data.worker, :, data.label])  # (votes, truth): log P(v_i | y)
        score = np.stack([np.bincount(data.task, weights=log_report[:, c], minlength=data.tasks.size)
                          for c in range(k)], axis=1)
        probas = _softmax(score)
        self.probas_ = pd.DataFrame(probas, index=data.tasks, columns=data.labels)
        self.labels_ = pd.Series(data.labels[probas.argmax(axis=1)], index=data.tasks, name=self.label)
        self.confusion_, self.counts_ = confusion, counts
        return self


def distractor_em(task, worker, label, truth, n_workers, n_classes, n_labels, prior, max_iter, tol, rng):
    """Trust and distractor pull per worker and difficulty class, and the class weights, by EM on gold votes.

    The model (proofs/soc_latent_class.md, (f)): each task has a hidden class ``d`` and a
    distractor ``c``, uniform on the labels other than the truth; given them, worker ``i``
    votes the truth with probability ``t_id``, and otherwise the distractor with probability
    ``rho_d + (1 - rho_d) / (L - 1)`` and each other wrong label with ``(1 - rho_d) / (L - 1)``.
    Vote ``k`` was cast by ``worker[k]`` on gold task ``task[k]`` (codes ``0..n_tasks-1``) with
    label ``label[k]``; ``truth[j]`` is task ``j``'s true label. The E-step gives each gold task
    its responsibilities over ``(d, c)``; the M-step keeps each trust a Beta posterior mean
    given the expected record in its class, and each ``rho_d`` the Beta mean given the expected
    wrong votes of class ``d`` and those of them that went via the distractor (a wrong vote
    equal to ``c`` did with probability ``rho_d / (rho_d + (1 - rho_d) / (L - 1))``, any other
    with probability 0), so ``rho_d < 1``. Classes start from perturbed copies of the pooled
    trust (drawn from ``rng``), every ``rho_d`` at 1/2. With two labels the distractor is the
    other label whatever ``rho``, which is then not identifiable and stays at 1/2. Stops when
    no trust or ``rho`` moves by more than ``tol``. Returns ``(trust of shape (n_workers,
    n_classes), rho of shape (n_classes,), class weights, iterations)``.
    """
    a0, b0 = prior
    n_tasks = truth.size
    right = label == truth[task]
    wrong = ~right
    cast_pooled = np.bincount(worker, minlength=n_workers)
    pooled = (a0 + np.bincount(worker, weights=right, minlength=n_workers)) / (a0 + b0 + cast_pooled)
    t = np.clip(pooled[:, None] + rng.uniform(-0.1, 0.1, (n_workers, n_classes)), 0.05, 0.95)
    rho = np.full(n_classes, 0.5)
    weights = np.full(n_classes, 1.0 / n_classes)
    classes = range(n_classes)
    right_task, right_worker = task[right], worker[right]
    # T_d[c] is 0 for every label without a wrong vote: sum over the (task, label) pairs that have some, sorted by task
    pairs, pair_of_vote = np.unique((task * n_labels + label)[wrong], return_inverse=True)
    pair_task, pair_votes, wrong_worker = pairs // n_labels, np.bincount(pair_of_vote), worker[wrong]
    free = (n_labels - 1) - np.bincount(pair_task, minlength=n_tasks)  # labels != y_j nobody voted: exp(T) = 1
    starts = np.flatnonzero(np.diff(pair_task, prepend=-1))
    wrong_per_task = np.bincount(pair_task, weights=pair_votes, minlength=n_tasks)
    for n_iter in range(1, max_iter + 1):
        # E-step: ln pi_d P(v_j | y_j, c, d) = ln pi_d + sum_i e_id + S_d[y_j] + T_d[c] for c != y_j, where
        # S_d[y_j] sums a_id - e_id over the right votes and T_d[c] sums b_id - e_id over the wrong votes for c
        spread, to_truth, to_distractor = _distractor_logs(t, rho, n_labels)
        base = np.stack([np.bincount(task, weights=spread[worker, d], minlength=n_tasks)
                         + np.bincount(right_task, weights=to_truth[right_worker, d], minlength=n_tasks)
                         for d in classes], axis=1)
        t_pair = np.stack([np.bincount(pair_of_vote, weights=to_distractor[wrong_worker, d], minlength=pairs.size)
                           for d in classes], axis=1)
        top = np.zeros((n_tasks, n_classes))  # T_d >= 0: the largest T_d[c], c != y_j, is 0 or on a pair
        if pairs.size:
            top[pair_task[starts]] = np.maximum.reduceat(t_pair, starts, axis=0)
        scaled = np.exp(t_pair - top[pair_task])
        # sum_{c != y_j} exp(T_d[c] - top) >= 1, the largest term being 1
        others = free[:, None] * np.exp(-top) + np.stack(
            [np.bincount(pair_task, weights=scaled[:, d], minlength=n_tasks) for d in classes], axis=1)
        with np.errstate(divide="ignore"):  # a class of weight 0 keeps responsibility 0
            in_class = special.softmax(np.log(weights) + base + top + np.log(others), axis=1)  # P(d | task)
        # M-step: trust from the expected right votes in each class, rho from the expected wrong votes
        right_d = np.stack([np.bincount(right_worker, weights=in_class[right_task, d], minlength=n_workers)
                            for d in classes], axis=1)
        cast_d = np.stack([np.bincount(worker, weights=in_class[task, d], minlength=n_workers) for d in classes],
                          axis=1)
        new_t = (a0 + right_d) / (a0 + b0 + cast_d)
        new_rho = rho
        if n_labels > 2:
            share = rho / (rho + (1 - rho) / (n_labels - 1))  # P(via the distractor | the vote is c, class d)
            # expected wrong votes equal to c: per pair, its votes times P(d, c = the pair's label | task)
            on_c = (pair_votes[:, None] * (in_class / others)[pair_task] * scaled).sum(axis=0)
            new_rho = (a0 + share * on_c) / (a0 + b0 + wrong_per_task @ in_class)
        weights = in_class.mean(axis=0)
        done = max(np.abs(new_t - t).max(), np.abs(new_rho - rho).max()) <= tol
        t, rho = new_t, new_rho
        if done:
            break
    return t, rho, weights, n_iter


def distractor_posterior(data, trust, rho, class_weights, n_labels):
    """P(truth = label | votes) per task under the latent class with a shared distractor, ``c`` and ``d`` marginalised.

    ``P(y | v)`` is proportional to ``sum_d pi_d exp(sum_i e_id + S_d[y]) sum_{c != y} exp(T_d[c])``
    (proofs/soc_latent_class.md, (f)); ``trust`` has one column per class, ``rho`` one entry
    per class, trust in (0, 1) and ``rho`` in [0, 1). ``rho = 0`` is ``latent_class_posterior``'s
    model, and so is ``n_labels = 2`` for any ``rho``. Labels of the ``n_labels`` that no task
    has (``data.labels`` shorter) still count as distractors; the posterior is over
    ``data.labels``, like ``latent_class_posterior``'s.

    Examples
    --------
    >>> data = Votes(pd.RangeIndex(1), pd.RangeIndex(3), pd.RangeIndex(3), np.zeros(3, int), np.arange(3),
    ...              np.array([0, 1, 1]))  # one task: one member for label 0, two agree on label 1
    >>> trust = np.full((3, 1), 0.6)
    >>> distractor_posterior(data, trust, np.array([0.0]), np.ones(1), 3).round(3).tolist()  # symmetric noise
    [[0.231, 0.692, 0.077]]
    >>> distractor_posterior(data, trust, np.array([0.9]), np.ones(1), 3).round(3).tolist()  # two agreeing may be C
    [[0.371, 0.616, 0.013]]
    """
    n, k = data.tasks.size, data.labels.size
    base, s, t_c = _distractor_terms(data.task, data.worker, data.label, n, trust, rho, n_labels)
    with np.errstate(divide="ignore"):
        log_class = np.log(class_weights)
    joint = log_class[:, None] + base[:, :, None] + s + _logsumexp_others(t_c) - np.log(n_labels - 1)
    return _softmax(special.logsumexp(joint, axis=1)[:, :k])  # ln P(y, v) + ln L, summed over the classes


def _distractor_logs(trust, rho, n_labels):
    """Per worker and class: ``e``, ``a - e`` and ``b - e`` of the separable log-likelihood (see ``_distractor_terms``)."""
    spread = np.log((1 - trust) * (1 - rho) / (n_labels - 1))
    return (spread, np.log(trust) - spread,
            np.log((1 - trust) * (rho + (1 - rho) / (n_labels - 1))) - spread)


def _distractor_terms(task, worker, label, n_tasks, trust, rho, n_labels):
    """The separable log-likelihood: per task and class ``sum_i e_id``, per task, class and label ``S_d``, ``T_d``.

    ``a = ln t``, ``b = ln((1 - t)(rho + (1 - rho) / (L - 1)))``, ``e = ln((1 - t)(1 - rho) / (L - 1))``;
    ``S_d[l]`` sums ``a - e`` and ``T_d[l]`` sums ``b - e`` over the votes for ``l``. Shapes
    ``(n_tasks, K)``, ``(n_tasks, K, n_labels)`` twice.
    """
    spread, right, via = _distractor_logs(trust, rho, n_labels)
    flat, size = task * n_labels + label, n_tasks * n_labels

    def per_label(x):
        return np.stack([np.bincount(flat, weights=x[worker, d], minlength=size).reshape(n_tasks, n_labels)
                         for d in range(trust.shape[1])], axis=1)

    base = np.stack([np.bincount(task, weights=spread[worker, d], minlength=n_tasks)
                     for d in range(trust.shape[1])], axis=1)
    return base, per_label(right), per_label(via)


def _logsumexp_others(x):
    """``ln sum_{c != l} exp(x[..., c])`` for every ``l`` on the last axis (finite, length >= 2), without cancellation.

    Away from the largest entry the others keep it, so their sum is at least 1 and subtracting
    ``exp(x_l)`` loses nothing; at the largest entry the sum is taken from the second largest.
    """
    top = x.argmax(axis=-1)[..., None]
    first = np.take_along_axis(x, top, axis=-1)
    scaled = np.exp(x - first)
    others = scaled.sum(axis=-1, keepdims=True) - scaled
    np.put_along_axis(others, top, 1.0, axis=-1)  # replaced below
    others = first + np.log(others)
    rest = x.copy()
    np.put_along_axis(rest, top, -np.inf, axis=-1)
    second = rest.max(axis=-1, keepdims=True)
    np.put_along_axis(others, top, second + np.log(np.exp(rest - second).sum(axis=-1, keepdims=True)), axis=-1)
    return others
