"""numba kernels: contiguous float64 in, numbers out; no validation, no hidden random state.

The kernels assume valid input: the public wrappers check it once.
"""

from .enumerate import accuracy_enumerate
from .gaps import gap_profiles
from .lattice import lattice_accuracy, lattice_interval, lattice_pmf, lattice_pmf_ranges, lattice_step
from .mitm import accuracy_mitm, accuracy_mitm_serial
from .pivotal import pivotal_bound_profiles
from .montecarlo import accuracy_mc, thresholds
from .rows import accuracy_rows
from .sensitivity import any_decision_moves, min_abs_sum
from .votes import (confusion_em_step, confusion_em_step_serial, expected_right, factorize_ints, group_by_task, keyed_uniforms, label_scores, repeated_votes,
                    sum_chunks, symmetric_em_step, symmetric_em_step_serial)

__all__ = ["confusion_em_step", "confusion_em_step_serial", "expected_right", "factorize_ints", "group_by_task", "keyed_uniforms", "label_scores", "repeated_votes",
           "sum_chunks", "symmetric_em_step", "symmetric_em_step_serial", "any_decision_moves", "min_abs_sum", "accuracy_enumerate", "accuracy_mc", "accuracy_mitm", "accuracy_mitm_serial", "accuracy_rows", "gap_profiles", "pivotal_bound_profiles", "lattice_accuracy",
           "lattice_interval", "lattice_pmf", "lattice_pmf_ranges", "lattice_step", "thresholds"]
