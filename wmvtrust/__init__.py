"""wmvtrust: trust-aware weighted majority voting.

Importing the package compiles nothing: each numba kernel compiles (or loads
from its on-disk cache) on first use; ``warm_up()`` does that for all of them.
"""

from importlib.metadata import version as _version

from .accuracy import Accuracy, MonteCarloAccuracy, accuracy, accuracy_fraction, accuracy_mc
from .crowd import ConfusionMatrixVote, DifficultyAwareVote, WeightedMajorityVote, read_votes
from .ensemble import EnsembleBelief, TrustEnsemble, plurality_vote
from .estimators import EMTrust, tempered_trust, trust_em, trust_from_gold, trust_mle
from .stability import (Estimate, ObservationsNeeded, believed_accuracy, expected_actual_accuracy, expected_regret,
                        frequentist_soc_gap, observations_needed, planned_soo_gap, soc_gap, soo_bounds, soo_gap,
                        soo_pivotal_bound)
from .sensitivity import accuracy_loss_curve, decision_margin, derivatives, trust_radius
from .shift import atc_accuracy, calibrated_accuracy, doc_accuracy, prior_match, prior_matched_accuracy
from .sweep import sweep
from .trust import BetaTrust, DiscreteTrust
from . import io
from .voting import TIE_RTOL, decide, log_odds_weights
from ._warmup import warm_up

__version__ = _version("wmvtrust")  # defined once, in pyproject.toml

__all__ = ["TIE_RTOL", "Accuracy", "BetaTrust", "ConfusionMatrixVote", "DifficultyAwareVote", "DiscreteTrust", "EMTrust", "EnsembleBelief", "Estimate", "MonteCarloAccuracy",
           "ObservationsNeeded", "TrustEnsemble", "WeightedMajorityVote", "accuracy", "accuracy_fraction", "accuracy_loss_curve", "accuracy_mc",
           "atc_accuracy", "believed_accuracy", "calibrated_accuracy", "decide", "decision_margin", "derivatives", "doc_accuracy", "expected_actual_accuracy",
           "expected_regret", "frequentist_soc_gap", "io", "log_odds_weights", "observations_needed", "planned_soo_gap", "plurality_vote", "prior_match", "prior_matched_accuracy", "read_votes", "soc_gap",
           "soo_bounds", "soo_gap", "soo_pivotal_bound", "sweep", "tempered_trust", "trust_em", "trust_from_gold", "trust_mle",
           "trust_radius", "warm_up"]
