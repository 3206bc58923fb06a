"""wmvtrust: trust-aware weighted majority voting.

Importing the package compiles nothing: each numba kernel compiles (or loads
from its on-disk cache) on first use; ``warm_up()`` does that for all of them.
"""

from .accuracy import Accuracy, MonteCarloAccuracy, accuracy, accuracy_mc
from .voting import TIE_RTOL, decide, log_odds_weights
from ._warmup import warm_up

__all__ = ["TIE_RTOL", "Accuracy", "MonteCarloAccuracy", "accuracy", "accuracy_mc", "decide",
           "log_odds_weights", "warm_up"]
