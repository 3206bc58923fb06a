"""Compile (or load from the cache) every numba kernel the library ships."""

import time

import numpy as np
import pandas as pd

from ._kernels import gap_profiles, pivotal_bound_profiles, thresholds
from ._kernels.rows import ENUMERATE_UP_TO
from .accuracy import MITM_PARALLEL_FROM, accuracy, accuracy_mc, accuracy_rows
from .crowd import WeightedMajorityVote
from .sensitivity import trust_radius
from .voting import TIE_RTOL, bias, log_odds_weights


def warm_up() -> float:
    """Compile or load every numba kernel, so that later calls start at full speed.

    ``import wmvtrust`` compiles nothing; each kernel compiles on first use and is
    cached on disk (``cache=True``), so a later process loads it in milliseconds.

    Returns
    -------
    float
        Seconds spent.

    Examples
    --------
    >>> seconds = warm_up()
    >>> seconds >= 0.0
    True
    """
    start = time.perf_counter()
    q, w = [0.7, 0.6, 0.8], [0.9, 0.4, float("inf")]
    for method in ("enumerate", "mitm", "bounds"):
        accuracy(q, w, prior=0.4, method=method)
    accuracy([0.6] * MITM_PARALLEL_FROM, [1.0 + i / 64 for i in range(MITM_PARALLEL_FROM)], method="mitm")
    accuracy(q, [1.0, 1.0, 1.0], method="lattice")
    accuracy_mc(q, w, trials=10, seed=0)
    accuracy_rows([q], [[0.9, 0.4, 0.1]], prior=0.4)
    accuracy_rows([[0.6] * (ENUMERATE_UP_TO + 1)], [[1.0] * (ENUMERATE_UP_TO + 1)])
    # the stability gaps over vote profiles, with the argument types their callers pass
    gap_profiles(np.array([q, [0.0, 1.0, 0.5]]), log_odds_weights(q)[None, :], thresholds(q), bias(0.4), 0.4,
                 TIE_RTOL, 2, np.random.SeedSequence(0).generate_state(1, np.uint64)[0])
    pivotal_bound_profiles(np.array([q, [0.0, 1.0, 0.5]]), np.array(q), bias(0.4), 0.4, TIE_RTOL, 2, np.uint64(1))
    trust_radius(q, space="probability")  # also the decision margin
    small = pd.DataFrame({"task": [1, 1, 2], "worker": ["a", "b", "a"], "label": ["x", "y", "y"]})
    large = pd.DataFrame({"task": np.arange(40_000) // 2, "worker": np.arange(40_000) % 7, "label": np.arange(40_000) % 3})
    for votes in (small, large):  # the EM passes in one thread, then over chunks in parallel
        WeightedMajorityVote(max_iter=2).fit(votes)  # duplicate check, grouping, the Dawid-Skene pass and scores
        WeightedMajorityVote("one-coin", max_iter=2).fit(votes)  # expected right votes and the symmetric pass
    return time.perf_counter() - start
