"""Crowd labels: read a vote table, learn each worker's trust, label every task, say what accuracy to believe.

Data flow one way through the modules: ``votes`` (the table and its checks) and
``codes`` (its integer encoding) -> ``models`` and ``latent`` (posteriors and EM, numbers
only) -> ``aggregators`` (the pandas front end) -> ``beliefs`` (summaries).
Data conventions follow crowd-kit: a long DataFrame with one row per (task, worker,
label), fitted attributes ending in ``_``, Series indexed by task or worker.
"""

from .aggregators import ConfusionMatrixVote, DifficultyAwareVote, WeightedMajorityVote
from .beliefs import CrowdSummary, EmpiricalBelief, Optimality
from .codes import Codes
from .votes import Votes, read_votes

__all__ = ["Codes", "ConfusionMatrixVote", "CrowdSummary", "DifficultyAwareVote", "EmpiricalBelief", "Optimality",
           "Votes", "WeightedMajorityVote", "read_votes"]
