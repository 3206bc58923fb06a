"""Kernels over vote tables: duplicate detection and the one-coin posterior passes."""

import numba as nb
import numpy as np


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
