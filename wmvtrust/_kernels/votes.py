"""Kernels over vote tables: duplicate detection, grouping by task and the fused EM passes."""

import numba as nb
import numpy as np
from numba import prange

from .common import GOLDEN, mix, uniform_bits


@nb.njit(cache=True)
def keyed_uniforms(keys, seed, n):
    """``n`` uniforms in [0, 1) per key (uint64), from SplitMix64 keyed by the key and ``seed`` (uint64) alone.

    A row depends on its key, not on its position: the draws of a task or a worker are the
    same however the table is ordered or partitioned.
    """
    out = np.empty((keys.shape[0], n))
    for j in range(keys.shape[0]):
        state = mix(keys[j] ^ mix(seed))
        for k in range(n):
            state += GOLDEN
            out[j, k] = uniform_bits(state) * 2.0**-53
    return out


@nb.njit(cache=True)
def _task_starts(task, n_tasks):
    start = np.zeros(n_tasks + 1, np.int64)
    for i in range(task.shape[0]):
        start[task[i] + 1] += 1
    for t in range(n_tasks):
        start[t + 1] += start[t]
    return start


@nb.njit(cache=True)
def repeated_votes(task, worker, n_tasks, n_workers, keep_last):
    """Mask of the votes to drop so that each (task, worker) keeps one: its first (or last) vote.

    Votes are grouped by task with a stable counting sort, and a stamp per worker marks
    the last task it was seen on: O(votes + tasks + workers). The common case, no
    repeated vote, needs only the workers grouped by task.
    """
    n = task.shape[0]
    start = _task_starts(task, n_tasks)
    grouped = np.empty(n, np.int64)
    fill = start[:-1].copy()
    for i in range(n):
        grouped[fill[task[i]]] = worker[i]
        fill[task[i]] += 1
    stamp = np.full(n_workers, -1, np.int64)
    drop = np.zeros(n, np.bool_)
    repeated = False
    for t in range(n_tasks):
        for j in range(start[t], start[t + 1]):
            if stamp[grouped[j]] == t:
                repeated = True
            stamp[grouped[j]] = t
    if not repeated:
        return drop
    order = np.empty(n, np.int64)  # now the votes themselves, to mark which one to drop
    fill = start[:-1].copy()
    for i in range(n):
        order[fill[task[i]]] = i
        fill[task[i]] += 1
    stamp[:] = -1
    for t in range(n_tasks):
        count = start[t + 1] - start[t]
        for j in range(count):
            i = order[start[t + 1] - 1 - j] if keep_last else order[start[t] + j]
            if stamp[worker[i]] == t:
                drop[i] = True
            else:
                stamp[worker[i]] = t
    return drop


@nb.njit(cache=True)
def label_scores(task, worker, label, weights, n_tasks, n_labels):
    """scores[j, c] = sum of the weights of the workers who gave task j label c (finite weights)."""
    scores = np.zeros((n_tasks, n_labels))
    for i in range(task.shape[0]):
        scores[task[i], label[i]] += weights[worker[i]]
    return scores


@nb.njit(cache=True)
def expected_right(task, worker, label, probas, n_workers):
    """Per worker, the sum over its votes of the posterior probability that the vote is right."""
    right = np.zeros(n_workers)
    for i in range(task.shape[0]):
        right[worker[i]] += probas[task[i], label[i]]
    return right


@nb.njit(cache=True)
def factorize_ints(values, lowest, span):
    """Codes in order of first appearance, and the distinct values, for integers in [lowest, lowest + span)."""
    lookup = np.full(span, -1, np.int64)
    codes = np.empty(values.shape[0], np.int64)
    uniques = np.empty(values.shape[0], values.dtype)
    n = 0
    for i in range(values.shape[0]):
        slot = values[i] - lowest
        if lookup[slot] < 0:
            lookup[slot] = n
            uniques[n] = values[i]
            n += 1
        codes[i] = lookup[slot]
    return codes, uniques[:n]


@nb.njit(cache=True)
def group_by_task(task, n_tasks):
    """(starts, order): the votes of task j are ``order[starts[j]:starts[j + 1]]``, in their input order."""
    start = _task_starts(task, n_tasks)
    order = np.empty(task.shape[0], np.int64)
    fill = start[:-1].copy()
    for i in range(task.shape[0]):
        order[fill[task[i]]] = i
        fill[task[i]] += 1
    return start, order


@nb.njit(cache=True, inline="always")
def _posterior_row(score, truth, probas, j):
    """Softmax of task j's log scores into ``probas[j]`` (one-hot on a known truth); returns ln P(votes[, truth]).

    One ``exp`` per label other than the top one.
    """
    n_labels = score.shape[0]
    arg = 0
    for y in range(1, n_labels):
        if score[y] > score[arg]:
            arg = y
    top = score[arg]
    total = 0.0
    for y in range(n_labels):
        score[y] = 1.0 if y == arg else np.exp(score[y] - top)
        total += score[y]
    if truth >= 0:
        for y in range(n_labels):
            probas[j, y] = 0.0
        probas[j, truth] = 1.0
        return top + np.log(score[truth])
    for y in range(n_labels):
        probas[j, y] = score[y] / total
    return top + np.log(total)


@nb.njit(cache=True, inline="always")
def _binary_row(s0, s1, truth, probas, j):
    """Two labels: P(truth = 1) = the logistic function of ``s1 - s0`` into ``probas[j]``; returns (it, ln P).

    No array and no data-dependent branch on the scores, for the common binary case.
    """
    d = s1 - s0
    up = 1.0 / (1.0 + np.exp(-d))
    loglik = s0 + max(d, 0.0) + np.log1p(np.exp(-abs(d)))
    if truth >= 0:
        up, loglik = float(truth), (s1 if truth == 1 else s0)
    probas[j, 0] = 1.0 - up
    probas[j, 1] = up
    return up, loglik


@nb.njit(cache=True, inline="always")
def _confusion_pass(starts, worker, label, truth, log_confusion, log_prior, probas, counts, class_counts):
    """One E-step of the confusion-matrix model and the sufficient statistics of the next M-step, in one pass.

    The votes are grouped by task (``worker[starts[j]:starts[j + 1]]`` voted on task j).
    ``log_confusion[i, y, v]`` is ln P(worker i reports v | truth y) (y over the hidden
    labels, v over the reports, which may be fewer); ``truth[j]`` a known label or -1.
    Writes ``probas`` (n_tasks, L); each of the ``K = counts.shape[0]`` fixed chunks of
    consecutive tasks writes its own ``counts[c, i, y, v]`` (expected reports v by worker i
    on its tasks of truth y) and ``class_counts[c, y]``, so that summing them over c in
    order gives the same numbers whatever the thread count. Returns the log-likelihood
    ``sum_j ln P(votes of j, and its truth where known)``.
    """
    n_tasks, n_labels, n_chunks = starts.shape[0] - 1, log_prior.shape[0], counts.shape[0]
    loglik = np.zeros(n_chunks)
    for c in prange(n_chunks):
        mine, classes = counts[c], class_counts[c]
        mine[:] = 0.0
        classes[:] = 0.0
        score = np.empty(n_labels)
        for j in range(c * n_tasks // n_chunks, (c + 1) * n_tasks // n_chunks):
            if n_labels == 2:
                s0, s1 = log_prior[0], log_prior[1]
                for k in range(starts[j], starts[j + 1]):
                    s0 += log_confusion[worker[k], 0, label[k]]
                    s1 += log_confusion[worker[k], 1, label[k]]
                up, task_loglik = _binary_row(s0, s1, truth[j], probas, j)
                loglik[c] += task_loglik
                classes[1] += up
                classes[0] += 1.0 - up
                for k in range(starts[j], starts[j + 1]):
                    mine[worker[k], 0, label[k]] += 1.0 - up
                    mine[worker[k], 1, label[k]] += up
                continue
            for y in range(n_labels):
                score[y] = log_prior[y]
            for k in range(starts[j], starts[j + 1]):
                for y in range(n_labels):
                    score[y] += log_confusion[worker[k], y, label[k]]
            loglik[c] += _posterior_row(score, truth[j], probas, j)
            for y in range(n_labels):
                classes[y] += probas[j, y]
            for k in range(starts[j], starts[j + 1]):
                for y in range(n_labels):
                    mine[worker[k], y, label[k]] += probas[j, y]
    return loglik.sum()


@nb.njit(cache=True, inline="always")
def _symmetric_pass(starts, worker, label, truth, weights, log_prior, probas, right, class_counts):
    """One E-step under symmetric noise (finite ``weights``) and each worker's expected right votes, in one pass.

    As ``_confusion_pass``, with the posterior's log score of label y the log prior plus
    the weights of the workers who voted y; ``right[c, i]`` sums, over worker i's votes in
    chunk c, the posterior probability that the vote is right.
    """
    n_tasks, n_labels, n_chunks = starts.shape[0] - 1, log_prior.shape[0], right.shape[0]
    for c in prange(n_chunks):
        mine, classes = right[c], class_counts[c]
        mine[:] = 0.0
        classes[:] = 0.0
        score = np.empty(n_labels)
        for j in range(c * n_tasks // n_chunks, (c + 1) * n_tasks // n_chunks):
            if n_labels == 2:
                s = log_prior[1]
                for k in range(starts[j], starts[j + 1]):
                    s += (2 * label[k] - 1) * weights[worker[k]]
                up = _binary_row(log_prior[0], s, truth[j], probas, j)[0]
                classes[1] += up
                classes[0] += 1.0 - up
                for k in range(starts[j], starts[j + 1]):
                    mine[worker[k]] += up if label[k] == 1 else 1.0 - up
                continue
            for y in range(n_labels):
                score[y] = log_prior[y]
            for k in range(starts[j], starts[j + 1]):
                score[label[k]] += weights[worker[k]]
            _posterior_row(score, truth[j], probas, j)
            for y in range(n_labels):
                classes[y] += probas[j, y]
            for k in range(starts[j], starts[j + 1]):
                mine[worker[k]] += probas[j, label[k]]


# Each pass is compiled twice: over its chunks in parallel, and in one thread. A parallel region costs
# far more than the work of a small table, and on a busy machine it waits for every thread.


@nb.njit(cache=True, parallel=True)
def confusion_em_step(starts, worker, label, truth, log_confusion, log_prior, probas, counts, class_counts):
    """``_confusion_pass`` over the chunks in parallel."""
    return _confusion_pass(starts, worker, label, truth, log_confusion, log_prior, probas, counts, class_counts)


@nb.njit(cache=True)
def confusion_em_step_serial(starts, worker, label, truth, log_confusion, log_prior, probas, counts, class_counts):
    """``_confusion_pass`` in one thread."""
    return _confusion_pass(starts, worker, label, truth, log_confusion, log_prior, probas, counts, class_counts)


@nb.njit(cache=True, parallel=True)
def symmetric_em_step(starts, worker, label, truth, weights, log_prior, probas, right, class_counts):
    """``_symmetric_pass`` over the chunks in parallel."""
    _symmetric_pass(starts, worker, label, truth, weights, log_prior, probas, right, class_counts)


@nb.njit(cache=True)
def symmetric_em_step_serial(starts, worker, label, truth, weights, log_prior, probas, right, class_counts):
    """``_symmetric_pass`` in one thread."""
    _symmetric_pass(starts, worker, label, truth, weights, log_prior, probas, right, class_counts)


@nb.njit(cache=True, parallel=True)
def sum_chunks(chunks, out):
    """``out = chunks.sum(axis=0)`` in chunk order (any shape, flattened), in parallel over blocks of entries."""
    flat, total = chunks.reshape(chunks.shape[0], -1), out.reshape(-1)
    n, block = total.shape[0], 4096
    for b in prange((n + block - 1) // block):
        lo, hi = b * block, min(n, (b + 1) * block)
        total[lo:hi] = flat[0, lo:hi]
        for c in range(1, flat.shape[0]):
            for e in range(lo, hi):
                total[e] += flat[c, e]
