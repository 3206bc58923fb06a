"""Latent-class models, in which workers err together: a hidden difficulty class per task (numbers only).

Given the truth and the class ``d`` of a task, workers vote independently, worker ``i``
right with probability ``t_id``; hard tasks make everyone err at once. The shared-distractor
variant lets the workers who err lean towards one wrong label per task
(proofs/soc_latent_class.md, (a) and (f)). Without gold, ``hard_class_em`` fits the
simplest such model jointly with the unknown truths: a share of tasks on which votes ignore
the truth (proofs/soc_label_free.md).
"""

from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray
from scipy import special, stats

from .. import _kernels as kn
from .._stats import beta_mean
from .codes import Codes
from .models import ConfusionFit, chunk_buffers, confusion_pass, confusion_posterior, key_seed, softmax


@dataclass(frozen=True)
class LatentClassFit:
    """The result of ``latent_class_em`` and ``distractor_em``: trust per worker and class, the pull per class
    (0 for the symmetric model of ``latent_class_em``), the class weights, and how EM ended."""

    trust: NDArray[np.float64]  # shape (n_workers, n_classes)
    rho: NDArray[np.float64]  # shape (n_classes,)
    class_weights: NDArray[np.float64]  # shape (n_classes,), summing to one
    n_iter: int
    converged: bool  # the last step moved no parameter by more than tol


def _start_trust(worker: NDArray[np.int64], right: NDArray[np.bool_], n_workers: int, n_classes: int,
                 beta_prior: tuple[float, float], rng: np.random.Generator,
                 worker_keys: NDArray[np.uint64] | None) -> NDArray[np.float64]:
    """Each class starts from the pooled trust (a Beta posterior mean) perturbed by up to 0.1, within [0.05, 0.95]."""
    cast = np.bincount(worker, minlength=n_workers)
    pooled = beta_mean(np.bincount(worker, weights=right, minlength=n_workers), cast, beta_prior)
    keys = np.arange(n_workers, dtype=np.uint64) if worker_keys is None else worker_keys
    shift = 0.2 * kn.keyed_uniforms(keys, key_seed(rng), n_classes) - 0.1
    return np.clip(pooled[:, None] + shift, 0.05, 0.95)


def latent_class_em(task: NDArray[np.int64], worker: NDArray[np.int64], right: NDArray[np.bool_], *, n_workers: int,
                    n_classes: int, n_labels: int, beta_prior: tuple[float, float], max_iter: int, tol: float,
                    rng: np.random.Generator, worker_keys: NDArray[np.uint64] | None = None) -> LatentClassFit:
    """Trust per worker and difficulty class, and the class weights, by EM on gold votes.

    Vote ``k`` was cast by ``worker[k]`` on gold task ``task[k]`` (codes ``0..n_tasks-1``) and was
    ``right[k]``. Classes start from perturbed copies of the pooled trust: ``keyed_uniforms`` of each
    worker's key (``worker_keys``, one uint64 per worker, e.g. a hash of its name; default its code)
    and a seed drawn from ``rng``, so the start does not depend on the workers' order; the
    M-step keeps each trust a Beta posterior mean given the expected record in its class. The
    E-step is the confusion-matrix pass with the class as the hidden label and right or wrong
    as the report (a right vote has likelihood ``t_id``, a wrong one ``(1 - t_id) / (L - 1)``).
    Stops when no trust moves by more than ``tol``. Returns a ``LatentClassFit`` (``rho`` 0).
    """
    n_tasks = int(task.max()) + 1 if task.size else 0
    codes = Codes(task, worker, right.astype(np.int64), n_tasks, n_workers, 2)
    t = _start_trust(worker, right, n_workers, n_classes, beta_prior, rng, worker_keys)
    class_weights = np.full(n_classes, 1.0 / n_classes)
    resp, no_truth = np.empty((n_tasks, n_classes)), np.full(n_tasks, -1)
    buffers = chunk_buffers(task.size, (n_workers, n_classes, 2), (n_classes,))
    (_, counts), (_, class_sum) = buffers
    for n_iter in range(1, max_iter + 1):
        with np.errstate(divide="ignore"):  # a class of weight 0 keeps responsibility 0
            log_rows = np.stack([np.log((1 - t) / (n_labels - 1)), np.log(t)], axis=2)
            log_weights = np.log(class_weights)
        confusion_pass(codes, no_truth, log_rows, log_weights, resp, buffers)
        new_t = beta_mean(counts[:, :, 1], counts.sum(axis=2), beta_prior)
        class_weights = class_sum / max(n_tasks, 1)
        done = np.abs(new_t - t).max() <= tol
        t = new_t
        if done:
            break
    return LatentClassFit(t, np.zeros(n_classes), class_weights, n_iter, bool(done))


def latent_class_posterior(codes: Codes, trust: NDArray[np.float64], class_weights: NDArray[np.float64],
                           n_labels: int) -> NDArray[np.float64]:
    """P(truth = label | votes) per task, the difficulty class marginalised out (uniform prior over labels).

    The pairs (class d, truth y) are the hidden labels of a confusion-matrix model: worker i
    reports y with probability ``t_id`` and each other label with ``(1 - t_id) / (L - 1)``, and
    the pair has prior ``pi_d / L``; one pass gives ``P(d, y | v)``, summed over d. ``trust``
    (in (0, 1)) has one column per class; ``n_labels`` is the model's L, the posterior is over
    the ``codes.n_labels`` labels.
    """
    k, n_classes = codes.n_labels, trust.shape[1]
    with np.errstate(divide="ignore"):  # a class of weight 0 keeps probability 0
        log_prior = (np.log(class_weights)[:, None] - np.log(k)).repeat(k, axis=1).ravel()
    log_rows = np.repeat(np.log((1 - trust) / (n_labels - 1))[:, :, None, None], k, axis=2).repeat(k, axis=3)
    eye = np.arange(k)
    log_rows[:, :, eye, eye] = np.log(trust)[:, :, None]
    joint = np.empty((codes.n_tasks, n_classes * k))
    confusion_pass(codes, np.full(codes.n_tasks, -1), log_rows.reshape(codes.n_workers, -1, k), log_prior, joint,
                   chunk_buffers(codes.task.size, (codes.n_workers, n_classes * k, k), (n_classes * k,)))
    return joint.reshape(codes.n_tasks, n_classes, k).sum(axis=1)


def distractor_em(task: NDArray[np.int64], worker: NDArray[np.int64], label: NDArray[np.int64],
                  truth: NDArray[np.int64], *, n_workers: int, n_classes: int, n_labels: int,
                  beta_prior: tuple[float, float], max_iter: int, tol: float,
                  rng: np.random.Generator) -> LatentClassFit:
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
    trust (as in ``latent_class_em``, keyed by the worker codes), every ``rho_d`` at 1/2. With two labels the distractor is the
    other label whatever ``rho``, which is then not identifiable and stays at 1/2. Stops when
    no trust or ``rho`` moves by more than ``tol``. Returns a ``LatentClassFit``.
    """
    n_tasks = truth.size
    right = label == truth[task]
    wrong = ~right
    t = _start_trust(worker, right, n_workers, n_classes, beta_prior, rng, None)
    rho = np.full(n_classes, 0.5)
    class_weights = np.full(n_classes, 1.0 / n_classes)
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
            in_class = special.softmax(np.log(class_weights) + base + top + np.log(others), axis=1)  # P(d | task)
        # M-step: trust from the expected right votes in each class, rho from the expected wrong votes
        right_d = np.stack([np.bincount(right_worker, weights=in_class[right_task, d], minlength=n_workers)
                            for d in classes], axis=1)
        cast_d = np.stack([np.bincount(worker, weights=in_class[task, d], minlength=n_workers) for d in classes],
                          axis=1)
        new_t = beta_mean(right_d, cast_d, beta_prior)
        new_rho = rho
        if n_labels > 2:
            share = rho / (rho + (1 - rho) / (n_labels - 1))  # P(via the distractor | the vote is c, class d)
            # expected wrong votes equal to c: per pair, its votes times P(d, c = the pair's label | task)
            on_c = (pair_votes[:, None] * (in_class / others)[pair_task] * scaled).sum(axis=0)
            new_rho = beta_mean(share * on_c, wrong_per_task @ in_class, beta_prior)
        class_weights = in_class.mean(axis=0)
        done = max(np.abs(new_t - t).max(), np.abs(new_rho - rho).max()) <= tol
        t, rho = new_t, new_rho
        if done:
            break
    return LatentClassFit(t, rho, class_weights, n_iter, bool(done))


def distractor_posterior(codes: Codes, trust: NDArray[np.float64], rho: NDArray[np.float64],
                         class_weights: NDArray[np.float64], n_labels: int) -> NDArray[np.float64]:
    """P(truth = label | votes) per task under the latent class with a shared distractor, ``c`` and ``d`` marginalised.

    ``P(y | v)`` is proportional to ``sum_d pi_d exp(sum_i e_id + S_d[y]) sum_{c != y} exp(T_d[c])``
    (proofs/soc_latent_class.md, (f)); ``trust`` has one column per class, ``rho`` one entry
    per class, trust in (0, 1) and ``rho`` in [0, 1). ``rho = 0`` is ``latent_class_posterior``'s
    model, and so is ``n_labels = 2`` for any ``rho``. Labels of the model's ``n_labels`` beyond
    ``codes.n_labels`` (labels no vote used) still count as distractors; the posterior is over
    the ``codes.n_labels`` labels, like ``latent_class_posterior``'s.

    Examples
    --------
    >>> codes = Codes.dense(np.array([[0, 1, 1]]), n_labels=3)  # one task: one member for label 0, two agree on 1
    >>> trust = np.full((3, 1), 0.6)
    >>> distractor_posterior(codes, trust, np.array([0.0]), np.ones(1), 3).round(3).tolist()  # symmetric noise
    [[0.231, 0.692, 0.077]]
    >>> distractor_posterior(codes, trust, np.array([0.9]), np.ones(1), 3).round(3).tolist()  # two agreeing may be C
    [[0.371, 0.616, 0.013]]
    """
    n, k = codes.n_tasks, codes.n_labels
    base, s, t_c = _distractor_terms(codes.task, codes.worker, codes.label, n, trust, rho, n_labels)
    with np.errstate(divide="ignore"):
        log_class = np.log(class_weights)
    joint = log_class[:, None] + base[:, :, None] + s + _logsumexp_others(t_c) - np.log(n_labels - 1)
    return softmax(special.logsumexp(joint, axis=1)[:, :k])  # ln P(y, v) + ln L, summed over the classes


def _distractor_logs(trust: NDArray[np.float64], rho: NDArray[np.float64],
                     n_labels: int) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Per worker and class: ``e``, ``a - e`` and ``b - e`` of the separable log-likelihood (see ``_distractor_terms``)."""
    spread = np.log((1 - trust) * (1 - rho) / (n_labels - 1))
    return (spread, np.log(trust) - spread,
            np.log((1 - trust) * (rho + (1 - rho) / (n_labels - 1))) - spread)


def _distractor_terms(task: NDArray[np.int64], worker: NDArray[np.int64], label: NDArray[np.int64], n_tasks: int,
                      trust: NDArray[np.float64], rho: NDArray[np.float64],
                      n_labels: int) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """The separable log-likelihood: per task and class ``sum_i e_id``, per task, class and label ``S_d``, ``T_d``.

    ``a = ln t``, ``b = ln((1 - t)(rho + (1 - rho) / (L - 1)))``, ``e = ln((1 - t)(1 - rho) / (L - 1))``;
    ``S_d[l]`` sums ``a - e`` and ``T_d[l]`` sums ``b - e`` over the votes for ``l``. Shapes
    ``(n_tasks, K)``, ``(n_tasks, K, n_labels)`` twice.
    """
    spread, right, via = _distractor_logs(trust, rho, n_labels)
    flat, size = task * n_labels + label, n_tasks * n_labels

    def per_label(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.stack([np.bincount(flat, weights=x[worker, d], minlength=size).reshape(n_tasks, n_labels)
                         for d in range(trust.shape[1])], axis=1)

    base = np.stack([np.bincount(task, weights=spread[worker, d], minlength=n_tasks)
                     for d in range(trust.shape[1])], axis=1)
    # numpy's stubs type bincount as intp, even with float weights (it returns float64 then)
    return cast(NDArray[np.float64], base), per_label(right), per_label(via)


def _logsumexp_others(x: NDArray[np.float64]) -> NDArray[np.float64]:
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


@dataclass(frozen=True)
class HardClassFit:
    """The result of ``hard_class_em``: the task posteriors and how strongly the votes ask for hard tasks."""

    probas: NDArray[np.float64]  # P(truth | votes) per task, the class marginalised out
    hard: NDArray[np.float64]  # P(the task is hard | votes)
    share: float  # the fitted share of hard tasks
    loglik: float  # ln P(votes) at the fit
    loglik_independent: float  # ln P(votes) under the Dawid-Skene fit it started from (no hard task)
    n_iter: int
    converged: bool

    @property
    def statistic(self) -> float:
        """The likelihood ratio statistic ``2 (loglik - loglik_independent)``, at least 0."""
        return max(0.0, 2.0 * (self.loglik - self.loglik_independent))

    @property
    def p_value(self) -> float:
        """P(statistic this large | no hard task): half a chi-square(1) tail, the share's null value lying on a bound."""
        return 1.0 if self.statistic == 0 else float(0.5 * stats.chi2.sf(self.statistic, 1))


def answer_rates(codes: Codes) -> NDArray[np.float64]:
    """Each worker's label frequencies, smoothed by L pseudo-votes spread like the crowd's: shape (n_workers, L)."""
    k = codes.n_labels
    freq = np.bincount(codes.worker * k + codes.label, minlength=codes.n_workers * k).reshape(codes.n_workers, k)
    pooled = freq.sum(axis=0) + 1.0
    return (k * pooled / pooled.sum() + freq) / (k + freq.sum(axis=1, keepdims=True))


def hard_class_posterior(codes: Codes, confusion: NDArray[np.float64], rates: NDArray[np.float64], share: float,
                         class_prior: NDArray[np.float64]) -> tuple[NDArray[np.float64], float]:
    """P(class, truth | votes) under the hard-class model, and ln P(votes).

    A task is hard with probability ``share``; its truth has ``class_prior`` in either class.
    On an easy task worker i reports v with probability ``confusion[i, y, v]``; on a hard one
    with ``rates[i, v]``, whatever the truth. The pairs (class, truth) are the hidden labels of
    one confusion-matrix pass. Returns the joint posterior, shape (n_tasks, 2, L) (easy first),
    and the log-likelihood.

    Examples
    --------
    >>> codes = Codes.dense(np.array([[0, 0, 1]]), n_labels=2)
    >>> confusion = np.tile(np.array([[0.8, 0.2], [0.2, 0.8]]), (3, 1, 1))
    >>> joint, _ = hard_class_posterior(codes, confusion, np.full((3, 2), 0.5), 0.5, np.array([0.5, 0.5]))
    >>> joint.sum(axis=2).round(4).tolist()  # easy: (0.8 * 0.8 * 0.2 + 0.2 * 0.2 * 0.8) / 2 = 0.08; hard: 1/8
    [[0.3902, 0.6098]]
    """
    joint, loglik, _, _ = _hard_class_pass(codes, confusion, rates, share, class_prior)
    return joint, loglik


def _hard_class_pass(codes: Codes, confusion: NDArray[np.float64], rates: NDArray[np.float64], share: float,
                     class_prior: NDArray[np.float64]
                     ) -> tuple[NDArray[np.float64], float, NDArray[np.float64], NDArray[np.float64]]:
    """The pass behind ``hard_class_posterior``; also the expected counts (n_workers, 2L, L) and class sums (2L,)."""
    k, m = codes.n_labels, codes.n_workers
    with np.errstate(divide="ignore"):  # a share of 0 or 1 leaves one class impossible
        log_prior = np.concatenate([np.log1p(-share) + np.log(class_prior), np.log(share) + np.log(class_prior)])
    log_rows = np.concatenate([np.log(confusion), np.broadcast_to(np.log(rates)[:, None, :], (m, k, k))], axis=1)
    joint = np.empty((codes.n_tasks, 2 * k))
    buffers = chunk_buffers(codes.task.size, (m, 2 * k, k), (2 * k,))
    loglik = confusion_pass(codes, np.full(codes.n_tasks, -1), log_rows, log_prior, joint, buffers)
    (_, counts), (_, class_sum) = buffers
    return joint.reshape(codes.n_tasks, 2, k), loglik, counts, class_sum


def hard_class_em(codes: Codes, fit: ConfusionFit, *, share: float = 0.25, max_iter: int = 300,
                  tol: float = 1e-6) -> HardClassFit:
    """Dawid-Skene with a share of hard tasks on which votes ignore the truth, fitted without gold by EM.

    Starts from a Dawid-Skene fit ``fit`` (a ``ConfusionFit`` without gold) and the given
    ``share``; each worker answers a hard task as it answers overall (``answer_rates``). The
    M-step keeps every confusion row the mean of its Dirichlet posterior (``fit.dirichlet_prior`` plus
    the expected counts of the easy tasks), the share and the class prior the means of theirs
    (Beta(1, 1), Dirichlet(1, ..., 1)). Stops when an iteration raises the log-likelihood by
    less than ``tol`` nats per task: where the votes do not ask for hard tasks the share drifts
    towards 0 for hundreds of iterations while the likelihood stands still.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> truth, hard = rng.integers(0, 2, 3000), rng.random(3000) < 0.3  # workers guess on 30% of the tasks
    >>> right = np.where(hard[:, None], rng.random((3000, 5)) < 0.5, rng.random((3000, 5)) < 0.85)
    >>> codes = Codes.dense(np.where(right, truth[:, None], 1 - truth[:, None]), n_labels=2)
    >>> from wmvtrust._labels.models import dawid_skene_em
    >>> found = hard_class_em(codes, dawid_skene_em(codes, truth=np.full(3000, -1)))
    >>> bool(0.15 < found.share < 0.35), found.p_value < 1e-3  # independence refuted; the share near 0.3
    (True, True)
    """
    k, n = codes.n_labels, codes.n_tasks
    rates = answer_rates(codes)
    loglik_independent = confusion_posterior(codes, np.full(n, -1), fit.dirichlet, fit.class_dirichlet)[1]
    confusion, class_prior = fit.confusion, fit.class_prior
    converged, previous = False, -np.inf
    for n_iter in range(1, max_iter + 1):
        joint, loglik, counts, class_sum = _hard_class_pass(codes, confusion, rates, share, class_prior)
        converged = loglik - previous < tol * n
        if converged:
            break
        dirichlet = fit.dirichlet_prior + counts[:, :k, :]  # the easy tasks' expected reports
        confusion = dirichlet / dirichlet.sum(axis=2, keepdims=True)
        share = (1.0 + class_sum[k:].sum()) / (2.0 + n)
        class_prior = (1.0 + class_sum[:k] + class_sum[k:]) / (k + n)
        previous = loglik
    return HardClassFit(joint.sum(axis=1), joint[:, 1, :].sum(axis=1), float(share), loglik, loglik_independent,
                        n_iter, bool(converged))
