"""The encoded vote table: integer codes and sizes only, the input of every numeric model (no pandas)."""

from dataclasses import dataclass
from functools import cached_property
from typing import Self

import numpy as np
from numpy.typing import NDArray

from .. import _kernels as kn


@dataclass(frozen=True)
class Codes:
    """Votes as codes: vote ``k`` says worker ``worker[k]`` gave task ``task[k]`` label ``label[k]``.

    Codes run over ``0..n_tasks-1``, ``0..n_workers-1`` and ``0..n_labels-1``; a task, worker
    or label may have no vote (an ensemble's label that no member predicted, say).

    Examples
    --------
    >>> codes = Codes.dense(np.array([[0, 1], [1, 1]]), n_labels=2)  # two examples, two members
    >>> codes.task.tolist(), codes.worker.tolist(), codes.label.tolist()
    ([0, 0, 1, 1], [0, 1, 0, 1], [0, 1, 1, 1])
    """

    task: NDArray[np.int64]
    worker: NDArray[np.int64]
    label: NDArray[np.int64]
    n_tasks: int
    n_workers: int
    n_labels: int

    @classmethod
    def dense(cls, matrix: NDArray[np.int64], n_labels: int, worker: NDArray[np.int64] | None = None,
              n_workers: int | None = None) -> Self:
        """Every worker votes on every task: ``matrix[j, i]`` is the label code member ``i`` gave task ``j``.

        ``worker`` (same shape, optional) renames the voter of each entry, for example
        ``member * n_bins + bin`` when trust is learned per signal bin; ``n_workers``
        then counts those voters.
        """
        n, m = matrix.shape
        worker = np.tile(np.arange(m), n) if worker is None else np.asarray(worker).ravel()
        return cls(np.repeat(np.arange(n), m), worker, np.asarray(matrix).ravel(), n, m if n_workers is None else n_workers,
                   n_labels)

    @classmethod
    def grouped(cls, starts: NDArray[np.int64], worker: NDArray[np.int64], label: NDArray[np.int64], n_workers: int,
                n_labels: int, task: NDArray[np.int64] | None = None) -> Self:
        """Votes already grouped by task: task j's are ``starts[j]:starts[j + 1]`` (``by_task`` without regrouping).

        ``task`` (optional) gives the task code of each vote, ``j`` repeated ``starts[j + 1] - starts[j]`` times.

        Examples
        --------
        >>> codes = Codes.grouped(np.array([0, 2, 3]), np.array([0, 1, 0]), np.array([1, 1, 0]), 2, 2)
        >>> codes.task.tolist(), codes.by_task[0].tolist()
        ([0, 0, 1], [0, 2, 3])
        """
        if task is None:
            task = np.repeat(np.arange(starts.size - 1), np.diff(starts))
        codes = cls(task, worker, label, starts.size - 1, n_workers, n_labels)
        codes.__dict__["by_task"] = (starts, worker, label)  # the cached_property's value, known already
        return codes

    def restrict(self, tasks: NDArray[np.int64]) -> "Codes":
        """The votes of the given tasks only (sorted codes), the tasks renumbered ``0..len(tasks)-1`` in that order.

        Examples
        --------
        >>> codes = Codes.dense(np.array([[0, 1], [1, 1], [0, 0]]), n_labels=2).restrict(np.array([0, 2]))
        >>> codes.task.tolist(), codes.label.tolist(), codes.n_tasks, codes.n_workers
        ([0, 0, 1, 1], [0, 1, 0, 0], 2, 2)
        """
        number = np.full(self.n_tasks, -1)
        number[tasks] = np.arange(tasks.size)
        keep = number[self.task] >= 0
        return Codes(number[self.task[keep]], self.worker[keep], self.label[keep], tasks.size, self.n_workers,
                     self.n_labels)

    @cached_property
    def by_task(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """``(starts, worker, label)`` with the votes grouped by task: task j's are ``starts[j]:starts[j + 1]``."""
        starts, order = kn.group_by_task(self.task, self.n_tasks)
        return starts, np.ascontiguousarray(self.worker[order]), np.ascontiguousarray(self.label[order])

    @cached_property
    def plurality(self) -> NDArray[np.float64]:
        """Plurality voting as a posterior, shape (n_tasks, n_labels): a task's most voted labels share probability 1.

        A task without votes spreads it over every label. Read-only: copy before changing it.
        """
        counts = np.bincount(self.task * self.n_labels + self.label, minlength=self.n_tasks * self.n_labels)
        top = counts.reshape(self.n_tasks, self.n_labels)
        top = top == top.max(axis=1, keepdims=True)
        probas = top / top.sum(axis=1, keepdims=True)
        probas.flags.writeable = False
        return probas
