"""Probabilistic models of votes: posteriors, decisions and the EM that learns trust (numbers only, no pandas).

Under symmetric noise with ``L >= 2`` labels a worker is right with probability ``t`` and
otherwise picks each wrong label with probability ``(1 - t) / (L - 1)``; the posterior
weights are ``ln((L - 1) t / (1 - t))`` and the decision is the weighted plurality.
"""

from dataclasses import dataclass
from typing import Literal, Protocol, cast

import numpy as np
from numpy.typing import NDArray
from scipy import special

from .. import _kernels as kn
from .._stats import beta_mean
from ..voting import TIE_RTOL
from .codes import Codes


CHUNKS = 16  # at most this many chunks of tasks per EM pass, each with its own statistics: parallel, deterministic
VOTES_PER_CHUNK = 16_384  # at least this many votes a chunk: a parallel region costs more than a small chunk's work
CHUNK_BUDGET = 2**25  # doubles of per-chunk statistics at most (256 MB); fewer chunks when workers x cells are many

Buffers = list[tuple[NDArray[np.float64], NDArray[np.float64]]]  # per shape: the per-chunk statistics and their total


def chunk_buffers(n_votes: int, *shapes: tuple[int, ...]) -> Buffers:
    """Buffers for the per-chunk statistics of an EM pass over ``n_votes`` votes: a ``(chunks, total)`` pair per shape.

    Every pair has the same number of chunks, fixed by the data's size (never by the thread
    count, so the sums are the same on any machine).
    """
    cells = sum(int(np.prod(shape)) for shape in shapes)
    n_chunks = int(max(1, min(CHUNKS, n_votes // VOTES_PER_CHUNK, CHUNK_BUDGET // max(cells, 1))))
    return [(np.empty((n_chunks, *shape)), np.empty(shape)) for shape in shapes]


def confusion_pass(codes: Codes, truth: NDArray[np.int64], log_confusion: NDArray[np.float64],
                   log_prior: NDArray[np.float64], probas: NDArray[np.float64], buffers: Buffers) -> float:
    """One fused confusion-matrix pass over the votes (``_kernels.confusion_em_step``); returns ln P(votes).

    ``buffers``: ``chunk_buffers(codes.task.size, counts shape, class shape)``; the pass leaves the
    expected counts and class sums in their totals and the task posteriors in ``probas``.
    """
    starts, worker, label = codes.by_task
    (counts, _), (classes, _) = buffers
    step = kn.confusion_em_step if counts.shape[0] > 1 else kn.confusion_em_step_serial
    loglik = step(starts, worker, label, truth, log_confusion, log_prior, probas, counts, classes)
    _total(buffers)
    return float(loglik)


def symmetric_pass(codes: Codes, truth: NDArray[np.int64], weights: NDArray[np.float64], log_prior: NDArray[np.float64],
                   probas: NDArray[np.float64], buffers: Buffers) -> None:
    """One fused symmetric-noise pass (``_kernels.symmetric_em_step``): expected right votes and class sums."""
    starts, worker, label = codes.by_task
    (right, _), (classes, _) = buffers
    step = kn.symmetric_em_step if right.shape[0] > 1 else kn.symmetric_em_step_serial
    step(starts, worker, label, truth, weights, log_prior, probas, right, classes)
    _total(buffers)


def _total(buffers: Buffers) -> None:
    for chunks, total in buffers:
        if chunks.shape[0] == 1:
            total[...] = chunks[0]
        else:
            kn.sum_chunks(chunks, total)


def symmetric_weights(trust: NDArray[np.float64], n_labels: int) -> NDArray[np.float64]:
    """Weights ``ln((L - 1) t / (1 - t))`` of the symmetric-noise posterior (``±inf`` at trust 1 and 0).

    Examples
    --------
    >>> symmetric_weights(np.array([0.5, 0.25]), 3).round(12).tolist()  # chance is 1/3: for, then against
    [0.69314718056, -0.405465108108]
    """
    with np.errstate(divide="ignore"):
        return np.log((n_labels - 1) * trust / (1.0 - trust))


def _certain_scores(codes: Codes, weights: NDArray[np.float64],
                    log_prior: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per task and label: (count of trust-1 minus trust-0 votes, finite log-posterior score)."""
    n, k = codes.n_tasks, codes.n_labels
    flat = codes.task * k + codes.label
    w = weights[codes.worker]
    finite = np.isfinite(w)
    certain = np.bincount(flat[~finite], weights=np.sign(w[~finite]), minlength=n * k).reshape(n, k)
    score = np.bincount(flat[finite], weights=w[finite], minlength=n * k).reshape(n, k) + log_prior
    return cast(NDArray[np.float64], certain), score  # numpy's stubs type bincount as intp, even with float weights


def posterior(codes: Codes, weights: NDArray[np.float64], log_prior: NDArray[np.float64]) -> NDArray[np.float64]:
    """P(truth = each label | the task's votes) under symmetric noise; infinite weights decide first.

    Returns
    -------
    ndarray of shape (n_tasks, n_labels)

    Examples
    --------
    >>> from wmvtrust._labels.codes import Codes
    >>> codes = Codes.dense(np.array([[0, 1, 1]]), n_labels=2)
    >>> posterior(codes, np.log([9.0, 1.5, 1.5]), np.zeros(2)).round(12).tolist()  # ln 9 against 2 ln 1.5
    [[0.8, 0.2]]
    """
    if np.isfinite(weights).all():  # the common case, one pass over the votes
        score = kn.label_scores(codes.task, codes.worker, codes.label, weights, codes.n_tasks, codes.n_labels)
        return softmax(score + log_prior)
    certain, score = _certain_scores(codes, weights, log_prior)
    top = certain == certain.max(axis=1, keepdims=True)  # labels not ruled out by a certain vote
    return softmax(np.where(top, score, -np.inf))


def softmax(score: NDArray[np.float64]) -> NDArray[np.float64]:
    """Row-wise softmax; two labels take the logistic function of the score difference (three times faster)."""
    if score.shape[1] == 2:
        with np.errstate(invalid="ignore"):  # -inf - -inf cannot happen: a row keeps at least one finite label
            up = special.expit(score[:, 1] - score[:, 0])
        return np.column_stack([1.0 - up, up])
    e = np.exp(score - score.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def most_probable(probas: NDArray[np.float64], ties: Literal["coin", "report"], rng: np.random.Generator | None,
                  keys: NDArray[np.uint64] | None = None) -> NDArray[np.int64]:
    """The most probable label per task: the decision rule of every aggregator and of the ensemble.

    ``probas`` holds posterior probabilities (or vote counts), one row per task. A label ties with
    the best when it is within ``TIE_RTOL`` times the best (the tolerance of ``voting.decide``);
    a tie is reported as -1 (``ties="report"``) or broken by a uniform choice among the tied
    labels (``ties="coin"``): drawn from ``rng`` for the tied tasks only, or, with ``keys`` (one
    uint64 per task, e.g. a hash of its name), from ``keyed_uniforms`` of each task's key and a
    seed drawn from ``rng``, so that a task's coin does not depend on where it stands in the table.

    Examples
    --------
    >>> most_probable(np.array([[0.2, 0.8], [0.5, 0.5]]), "report", None).tolist()
    [1, -1]
    """
    decision = probas.argmax(axis=1)
    tied = tied_with_best(probas)
    several = np.flatnonzero(tied.sum(axis=1) > 1)
    if ties == "report":
        decision[several] = -1
    elif several.size:  # a uniform choice among the tied labels, drawn for the tied tasks only
        coin = cast(np.random.Generator, rng)  # None only with ties="report"
        draws = coin.random((several.size, probas.shape[1])) if keys is None else \
            kn.keyed_uniforms(keys[several], key_seed(coin), probas.shape[1])
        decision[several] = (draws * tied[several]).argmax(axis=1)
    return decision


def key_seed(rng: np.random.Generator) -> np.uint64:
    """A uint64 seed for ``keyed_uniforms``, drawn from ``rng``."""
    return np.uint64(rng.integers(2**63))


def tied_with_best(scores: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Which labels tie with the best of their row: within ``TIE_RTOL`` times the best's magnitude.

    The one tie tolerance for labels, relative like that of ``voting.decide``: for posterior
    probabilities, vote counts, or log scores whose terms share one sign (log probabilities),
    where the best's magnitude is the sum of the terms' magnitudes.

    Examples
    --------
    >>> tied_with_best(np.array([[0.5, 0.5, 0.0], [-3.0, -1.0, -1.0 - 1e-14]])).tolist()
    [[True, True, False], [False, True, True]]
    """
    best = scores.max(axis=1, keepdims=True)
    return scores >= best - TIE_RTOL * np.abs(best)


def believed(probas: NDArray[np.float64]) -> float:
    """Mean posterior probability that the decision is right (a tie among k labels: each chosen w.p. 1/k)."""
    return probas.max(axis=1).mean()


def believed_sum(probas: NDArray[np.float64]) -> float:
    """The sum behind ``believed``, for means over partitions."""
    return float(probas.max(axis=1).sum())


def clamp(probas: NDArray[np.float64], truth: NDArray[np.int64]) -> NDArray[np.float64]:
    """``probas`` with each task of known truth (``truth[j] >= 0``) set to certainty on it, in place."""
    known = np.flatnonzero(truth >= 0)
    probas[known] = 0.0
    probas[known, truth[known]] = 1.0
    return probas


def majority_posterior(codes: Codes, truth: NDArray[np.int64]) -> NDArray[np.float64]:
    """Plurality voting as a posterior: a task's most voted labels share probability 1; known truths are certain.

    Examples
    --------
    >>> from wmvtrust._labels.codes import Codes
    >>> codes = Codes.dense(np.array([[0, 1, 1], [0, 1, 2], [2, 2, 2]]), n_labels=3)
    >>> majority_posterior(codes, np.array([-1, -1, 0])).round(3).tolist()
    [[0.0, 1.0, 0.0], [0.333, 0.333, 0.333], [1.0, 0.0, 0.0]]
    """
    return clamp(codes.plurality.copy(), truth)


@dataclass(frozen=True)
class OneCoinFit:
    """The result of ``one_coin_em``: Beta posteriors of the workers' accuracies and the task posteriors."""

    alpha: NDArray[np.float64]
    beta: NDArray[np.float64]
    log_prior: NDArray[np.float64]
    probas: NDArray[np.float64]
    n_iter: int
    converged: bool


class VoteSource(Protocol):
    """What the EM loops read from the votes: sizes, and statistics that each take one pass over them."""

    n_tasks: int
    n_workers: int
    n_labels: int
    known: int  # tasks of known truth

    @property
    def probas(self) -> NDArray[np.float64]: ...
    def cast(self) -> NDArray[np.float64]: ...
    def start_right(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
    def start_counts(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
    def symmetric(self, weights: NDArray[np.float64], log_prior: NDArray[np.float64]
                  ) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
    def confusion(self, log_confusion: NDArray[np.float64], log_prior: NDArray[np.float64]
                  ) -> tuple[NDArray[np.float64], NDArray[np.float64], float]: ...
    def gold_record(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
    def gold_counts(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
    def gold_votes(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]: ...


class MemoryPasses:
    """The vote statistics that EM needs, one pass over the votes each, here over codes in memory.

    ``crowd.distributed`` gives the same methods over the partitions of a dask DataFrame, so
    that both run the one EM loop of each model (``one_coin_loop``, ``confusion_loop``). The task
    posteriors start at ``start`` (plurality voting by default) and hold the last pass's.
    """

    def __init__(self, codes: Codes, truth: NDArray[np.int64], start: NDArray[np.float64] | None = None) -> None:
        self.codes, self.truth = codes, np.ascontiguousarray(truth)
        self.n_tasks, self.n_workers, self.n_labels = codes.n_tasks, codes.n_workers, codes.n_labels
        self.known = int((self.truth >= 0).sum())  # tasks of known truth
        self._probas = None if start is None else start.copy()
        self._buffers: dict[int, Buffers] = {}

    @property
    def probas(self) -> NDArray[np.float64]:
        """The task posteriors: the start (plurality voting by default) until a pass replaces them."""
        if self._probas is None:
            self._probas = majority_posterior(self.codes, self.truth)
        return self._probas

    def cast(self) -> NDArray[np.float64]:
        """Votes per worker."""
        return np.bincount(self.codes.worker, minlength=self.n_workers).astype(float)

    def gold_record(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Right and cast votes per worker on the tasks of known truth."""
        on_gold, right = self._on_gold()
        worker = self.codes.worker[on_gold]
        hits = np.bincount(worker, weights=right, minlength=self.n_workers)
        return cast(NDArray[np.float64], hits), np.bincount(worker, minlength=self.n_workers).astype(float)

    def gold_counts(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Confusion counts and class sums of the tasks of known truth alone."""
        gold = clamp(np.zeros((self.n_tasks, self.n_labels)), self.truth)
        return confusion_counts(self.codes, gold), gold.sum(axis=0)

    def gold_votes(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
        """The votes on tasks of known truth: (task renumbered 0.. in code order, worker, whether right)."""
        on_gold, right = self._on_gold()
        c = self.codes
        return np.unique(c.task[on_gold], return_inverse=True)[1], c.worker[on_gold], right

    def _on_gold(self) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """Which votes are on tasks of known truth, and whether each of those is right."""
        y = self.truth[self.codes.task]
        on_gold = y >= 0
        return on_gold, self.codes.label[on_gold] == y[on_gold]

    def start_right(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Expected right votes per worker and class sums under the starting posteriors."""
        c = self.codes
        return kn.expected_right(c.task, c.worker, c.label, self.probas, self.n_workers), self.probas.sum(axis=0)

    def start_counts(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Expected confusion counts and class sums under the starting posteriors."""
        return confusion_counts(self.codes, self.probas), self.probas.sum(axis=0)

    def symmetric(self, weights: NDArray[np.float64], log_prior: NDArray[np.float64]
                  ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """One symmetric-noise pass: expected right votes per worker and class sums."""
        buffers = self._buffer(1, (self.n_workers,), (self.n_labels,))
        symmetric_pass(self.codes, self.truth, weights, log_prior, self._output(), buffers)
        return buffers[0][1].copy(), buffers[1][1].copy()

    def confusion(self, log_confusion: NDArray[np.float64], log_prior: NDArray[np.float64]
                  ) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
        """One confusion-matrix pass: expected counts, class sums and ln P(votes)."""
        buffers = self._buffer(2, log_confusion.shape, (log_confusion.shape[1],))
        loglik = confusion_pass(self.codes, self.truth, log_confusion, log_prior, self._output(), buffers)
        return buffers[0][1].copy(), buffers[1][1].copy(), loglik

    def _output(self) -> NDArray[np.float64]:
        """Where a pass writes the posteriors: no start is computed only to be overwritten."""
        if self._probas is None:
            self._probas = np.empty((self.n_tasks, self.n_labels))
        return self._probas

    def _buffer(self, kind: int, *shapes: tuple[int, ...]) -> Buffers:
        if kind not in self._buffers:
            self._buffers[kind] = chunk_buffers(self.codes.task.size, *shapes)
        return self._buffers[kind]


def one_coin_em(codes: Codes, *, beta_prior: tuple[float, float] | tuple[NDArray[np.float64], NDArray[np.float64]],
                n_labels: int, max_iter: int, tol: float,
                truth: NDArray[np.int64] | None = None) -> OneCoinFit:
    """EM under the one-coin model: each worker is right with one probability, whatever the truth.

    Starts from plurality voting (ties split evenly). The M-step counts each worker's
    expected right votes ``r`` out of ``c`` cast and sets its trust to the Beta posterior
    mean ``(a0 + r) / (a0 + b0 + c)`` (``a0``, ``b0`` one per worker if arrays), so it never
    reaches 0 or 1; the class prior is the mean task posterior (no prior on it: with label-biased workers it can run away to one
    label, which is why the aggregators learn trust under the confusion-matrix model by
    default). The E-step is the symmetric-noise posterior with weights
    ``ln((L - 1) t / (1 - t))``; tasks of known ``truth`` (codes, -1 where unknown) stay
    certain. Each iteration is one fused pass over the votes grouped by task. Stops when no
    trust moves by more than ``tol``.
    """
    passes = MemoryPasses(codes, np.full(codes.n_tasks, -1) if truth is None else truth)
    alpha, beta, log_prior, n_iter, converged = one_coin_loop(passes, beta_prior, n_labels, max_iter, tol)
    return OneCoinFit(alpha, beta, log_prior, passes.probas, n_iter, converged)


def one_coin_loop(passes: VoteSource, beta_prior: tuple[float, float] | tuple[NDArray[np.float64], NDArray[np.float64]],
                  n_labels: int, max_iter: int, tol: float
                  ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], int, bool]:
    """The loop of ``one_coin_em`` over any ``MemoryPasses``-like source: (alpha, beta, log_prior, n_iter, converged)."""
    a0, b0 = beta_prior
    cast = passes.cast()
    right, class_sum = passes.start_right()
    t = np.full(passes.n_workers, 1.0 / n_labels)
    converged = False
    for n_iter in range(1, max_iter + 1):
        used = right  # the record behind this iteration's trust; the pass counts the next one
        new_t = beta_mean(used, cast, beta_prior)
        with np.errstate(divide="ignore"):  # a label no task may have gets -inf: probability 0
            log_prior = np.log(class_sum / passes.n_tasks)
        right, class_sum = passes.symmetric(symmetric_weights(new_t, n_labels), log_prior)
        converged = bool(np.abs(new_t - t).max() <= tol)
        t = new_t
        if converged:
            break
    return a0 + used, b0 + cast - used, log_prior, n_iter, converged


@dataclass(frozen=True)
class ConfusionFit:
    """The result of ``dawid_skene_em``: Dirichlet posteriors of the confusion rows and the class prior.

    ``dirichlet[i, y]`` are the Dirichlet parameters of worker i's row for truth y (the row
    prior ``dirichlet_prior[y]`` plus expected counts), ``class_dirichlet`` those of the class prior;
    ``probas`` the task posteriors under their means; ``log_posterior`` the objective EM increases.
    """

    dirichlet_prior: NDArray[np.float64]
    dirichlet: NDArray[np.float64]
    class_dirichlet: NDArray[np.float64]
    probas: NDArray[np.float64]
    log_posterior: float
    n_iter: int
    converged: bool

    @property
    def confusion(self) -> NDArray[np.float64]:
        """Posterior mean confusion matrices, shape (n_workers, L, L): rows the truth, columns the report."""
        return self.dirichlet / self.dirichlet.sum(axis=2, keepdims=True)

    @property
    def counts(self) -> NDArray[np.float64]:
        """Expected reports per worker, truth and report (exact on tasks of known truth)."""
        return self.dirichlet - self.dirichlet_prior

    @property
    def class_prior(self) -> NDArray[np.float64]:
        """Posterior mean of P(truth = each label)."""
        return self.class_dirichlet / self.class_dirichlet.sum()


def confusion_counts(codes: Codes, probas: NDArray[np.float64]) -> NDArray[np.float64]:
    """``counts[i, y, v]``: the expected reports v of worker i on tasks of truth y, under the task posteriors."""
    n, k = codes.n_workers, codes.n_labels
    cell = codes.worker * k + codes.label
    return np.stack([np.bincount(cell, weights=probas[codes.task, y], minlength=n * k).reshape(n, k)
                     for y in range(k)], axis=1)


def row_prior(counts: NDArray[np.float64], dirichlet_prior: float | Literal["pooled"]) -> NDArray[np.float64]:
    """Dirichlet parameters of every confusion row, shape (L, L): ``dirichlet_prior`` per cell, or ``"pooled"``.

    ``"pooled"``: L pseudo-votes per row (as many as the uniform Dirichlet(1, ..., 1)),
    spread like the crowd's pooled row ``sum_i counts[i, y] + 1``: a worker with few
    votes is read as a typical member of the crowd, not as one who answers at random.
    """
    k = counts.shape[1]
    if dirichlet_prior != "pooled":
        return np.full((k, k), float(dirichlet_prior))
    pooled = counts.sum(axis=0) + 1.0
    return k * pooled / pooled.sum(axis=1, keepdims=True)


def dawid_skene_em(codes: Codes, *, truth: NDArray[np.int64], dirichlet_prior: float | Literal["pooled"] = "pooled",
                   max_iter: int = 500, tol: float = 1e-6, restarts: int = 0,
                   rng: np.random.Generator | None = None) -> ConfusionFit:
    """EM for the Bayesian Dawid-Skene model: a confusion matrix per worker, Dirichlet priors on rows and classes.

    Worker i reports v on a task of truth y with probability ``Pi_i[y, v]``; each row has the
    Dirichlet prior of ``row_prior``, fixed at the start, and the class prior a Dirichlet(1, ...,
    1). The M-step sets each row (and the class prior) to the mean of its Dirichlet posterior
    given the expected counts, which is the MAP step for the prior with one more pseudo-count
    per cell, so every iteration raises ``log P(votes | Pi, rho) + sum prior ln Pi + sum ln rho``
    (``ConfusionFit.log_posterior``). The E-step is the posterior under those means, in one fused
    pass over the votes; tasks of known ``truth`` (codes, -1 where unknown) stay certain.
    EM starts from plurality voting (ties split); with ``restarts`` it also starts from that
    posterior mixed half and half with random ones (drawn from ``rng``) and keeps the fit of
    highest objective. Stops when no confusion entry or class probability moves by more
    than ``tol``, or after ``max_iter`` iterations.

    Examples
    --------
    >>> from wmvtrust._labels.codes import Codes
    >>> votes = np.array([[0, 0, 1], [1, 1, 1], [0, 0, 0], [1, 1, 0]])  # worker 2 answers against the others
    >>> fit = dawid_skene_em(Codes.dense(votes, n_labels=2), truth=np.full(4, -1))
    >>> fit.probas.argmax(axis=1).tolist(), fit.converged
    ([0, 1, 0, 1], True)
    """
    passes = MemoryPasses(codes, truth)
    fits = [dawid_skene_fit(passes, dirichlet_prior=dirichlet_prior, max_iter=max_iter, tol=tol)]
    if restarts:  # rng is None only without restarts
        start = majority_posterior(codes, passes.truth)  # the first fit's start (its passes overwrote it), once
        for _ in range(restarts):
            noise = cast(np.random.Generator, rng).dirichlet(np.ones(codes.n_labels), size=codes.n_tasks)
            again = MemoryPasses(codes, truth, clamp(0.5 * start + 0.5 * noise, passes.truth))
            fits.append(_confusion_fit(again, *again.start_counts(), fits[0].dirichlet_prior, max_iter, tol))
    return max(fits, key=lambda fit: fit.log_posterior)  # the first of equals: the plurality start


def dawid_skene_fit(passes: VoteSource, *, dirichlet_prior: float | Literal["pooled"], max_iter: int,
                    tol: float) -> ConfusionFit:
    """``dawid_skene_em`` without restarts over any ``MemoryPasses``-like source (its ``probas`` in the fit)."""
    counts, class_sum = passes.start_counts()
    return _confusion_fit(passes, counts, class_sum, row_prior(counts, dirichlet_prior), max_iter, tol)


def _confusion_fit(passes: VoteSource, counts: NDArray[np.float64], class_sum: NDArray[np.float64],
                   prior_rows: NDArray[np.float64], max_iter: int, tol: float) -> ConfusionFit:
    dirichlet, class_dirichlet, objective, n_iter, converged = confusion_loop(passes, counts, class_sum, prior_rows,
                                                                              max_iter, tol)
    return ConfusionFit(prior_rows, dirichlet, class_dirichlet, passes.probas, objective, n_iter, converged)


def confusion_loop(passes: VoteSource, counts: NDArray[np.float64], class_sum: NDArray[np.float64],
                   prior_rows: NDArray[np.float64], max_iter: int, tol: float
                   ) -> tuple[NDArray[np.float64], NDArray[np.float64], float, int, bool]:
    """The loop of ``dawid_skene_em`` from the starting statistics, over any ``MemoryPasses``-like source:
    (dirichlet, class_dirichlet, objective, n_iter, converged), the posteriors' parameters of the last pass."""
    confusion = class_prior = None
    converged = False
    for n_iter in range(1, max_iter + 1):
        dirichlet = prior_rows + counts
        class_dirichlet = 1.0 + class_sum
        new_confusion = dirichlet / dirichlet.sum(axis=2, keepdims=True)
        new_prior = class_dirichlet / class_dirichlet.sum()
        counts, class_sum, loglik = passes.confusion(np.log(new_confusion), np.log(new_prior))
        converged = confusion is not None and bool(max(np.abs(new_confusion - confusion).max(),
                                                        np.abs(new_prior - class_prior).max()) <= tol)
        confusion, class_prior = new_confusion, new_prior
        if converged:
            break
    objective = loglik + (prior_rows * np.log(new_confusion)).sum() + np.log(new_prior).sum()  # the last step's means
    return dirichlet, class_dirichlet, float(objective), n_iter, converged


def confusion_from_gold(codes: Codes, *, truth: NDArray[np.int64],
                        dirichlet_prior: float | Literal["pooled"] = "pooled") -> ConfusionFit:
    """The Dawid-Skene model learned from the tasks of known ``truth`` alone, and the posterior of every task.

    Each row's Dirichlet posterior is ``row_prior`` plus the worker's gold reports; the class
    prior's is Dirichlet(1, ..., 1) plus the gold truths. No EM: the other tasks do not
    inform the matrices. Returns a ``ConfusionFit`` with ``n_iter = 0``.
    """
    return gold_confusion_fit(MemoryPasses(codes, truth), dirichlet_prior=dirichlet_prior)


def gold_confusion_fit(passes: VoteSource, *, dirichlet_prior: float | Literal["pooled"]) -> ConfusionFit:
    """``confusion_from_gold`` over any ``MemoryPasses``-like source: the gold statistics, then one pass for the
    posteriors (``passes.probas``) and the log-likelihood."""
    counts, class_sum = passes.gold_counts()
    prior_rows = row_prior(counts, dirichlet_prior)
    dirichlet = prior_rows + counts
    class_dirichlet = 1.0 + class_sum
    _, _, loglik = passes.confusion(np.log(dirichlet / dirichlet.sum(axis=2, keepdims=True)),
                                    np.log(class_dirichlet / class_dirichlet.sum()))
    return ConfusionFit(prior_rows, dirichlet, class_dirichlet, passes.probas, loglik, 0, True)


def confusion_posterior(codes: Codes, truth: NDArray[np.int64], dirichlet: NDArray[np.float64],
                        class_dirichlet: NDArray[np.float64]) -> tuple[NDArray[np.float64], float]:
    """Task posteriors under the mean matrices and class prior of the given Dirichlets, and the log-likelihood."""
    probas = np.empty((codes.n_tasks, codes.n_labels))
    loglik = confusion_pass(codes, np.ascontiguousarray(truth), np.log(dirichlet / dirichlet.sum(axis=2, keepdims=True)),
                            np.log(class_dirichlet / class_dirichlet.sum()), probas,
                            chunk_buffers(codes.task.size, dirichlet.shape, (codes.n_labels,)))
    return probas, loglik


def balanced_accuracy(confusion: NDArray[np.float64]) -> NDArray[np.float64]:
    """Mean of each worker's confusion diagonal: its accuracy with every truth equally likely.

    A worker whose report does not depend on the truth (equal rows) has ``1 / L``, the trust
    of chance, whatever it reports and however the truths are distributed.

    Examples
    --------
    >>> balanced_accuracy(np.array([[[0.9, 0.1], [0.3, 0.7]], [[0.8, 0.2], [0.8, 0.2]]])).round(12).tolist()
    [0.8, 0.5]
    """
    return np.einsum("iyy->i", confusion) / confusion.shape[1]
