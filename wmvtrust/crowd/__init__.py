"""Crowd labels: read a vote table, learn each worker's trust, label every task, say what accuracy to believe.

Data flow one way: ``votes`` reads and checks the table and encodes it as ``Codes`` of the
numeric layer (``wmvtrust._labels``: posteriors, decisions and EM, numbers only), on which
``aggregators`` (the pandas front end) and ``beliefs`` (the summaries) build.
Data conventions follow crowd-kit: a long DataFrame with one row per (task, worker,
label), fitted attributes ending in ``_``, Series indexed by task or worker.
"""

from .aggregators import ConfusionMatrixVote, DifficultyAwareVote, WeightedMajorityVote
from .beliefs import CrowdSummary, EmpiricalBelief, Optimality
from .._labels.codes import Codes
from .votes import Votes, read_votes

__all__ = ["Codes", "ConfusionMatrixVote", "CrowdSummary", "DifficultyAwareVote", "EmpiricalBelief", "Optimality",
           "Votes", "WeightedMajorityVote", "read_votes"]
