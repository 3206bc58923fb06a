"""What accuracy to believe for a crowd's labels: the model's belief, an empirical one on gold, stability of optimality."""

from dataclasses import dataclass

import numpy as np
from scipy import stats

from .._validation import check_rng
from ..stability import observations_needed, soo_gap
from ..trust import BetaTrust


@dataclass(frozen=True)
class EmpiricalBelief:
    """Accuracy measured on gold tasks, and what the model believed on the same tasks."""

    accuracy: float
    ci_low: float
    ci_high: float
    n_tasks: int
    model_belief: float
    confidence: float

    @classmethod
    def of(cls, correct, model_belief, confidence):
        n = correct.size
        mean = float(correct.mean())
        z = float(stats.norm.ppf(0.5 + confidence / 2))
        centre = (mean + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * np.sqrt(mean * (1 - mean) / n + z * z / (4 * n * n))
        return cls(mean, max(0.0, centre - half), min(1.0, centre + half), n, model_belief, confidence)

    @property
    def independence_refuted(self):
        """Whether the model's belief lies outside the empirical interval."""
        return not self.ci_low <= self.model_belief <= self.ci_high


@dataclass(frozen=True)
class Optimality:
    """Stability of optimality for the panels of a crowd (two labels, Beta trust)."""

    soo_gap: float  # mean over sampled tasks of their panel's SoO gap
    stderr: float  # over the sampled tasks
    sign_aware_bound: float
    theorem3_bound: float
    n_panels: int
    observations_needed: int  # gold observations per worker for a regret below epsilon, on the median panel
    epsilon: float


def optimality(data, trust, epsilon, seed, n_panels=100, draws=500):
    """SoO gap of up to ``n_panels`` sampled tasks' panels, and the observations needed on the median panel."""
    rng = check_rng(seed)
    sample = rng.choice(data.tasks.size, size=min(n_panels, data.tasks.size), replace=False)
    order = np.argsort(data.codes.task, kind="stable")
    starts = np.searchsorted(data.codes.task[order], np.arange(data.tasks.size + 1))
    alpha, beta = trust["alpha"].to_numpy(), trust["beta"].to_numpy()
    gaps, bounds, sizes = [], [], []
    for j in sample:
        voters = data.codes.worker[order[starts[j]:starts[j + 1]]]
        gap = soo_gap(BetaTrust(alpha[voters], beta[voters]), draws=draws, seed=int(rng.integers(2**32)))
        gaps.append(gap.value)
        bounds.append((gap.sign_aware_bound, gap.upper_bound))
        sizes.append(voters.size)
    median = sample[np.argsort(sizes)[len(sizes) // 2]]
    voters = data.codes.worker[order[starts[median]:starts[median + 1]]]
    needed = observations_needed(alpha[voters] / (alpha[voters] + beta[voters]), epsilon).observations
    gaps, bounds = np.array(gaps), np.array(bounds)
    stderr = float(gaps.std(ddof=1) / np.sqrt(gaps.size)) if gaps.size > 1 else float("nan")
    return Optimality(float(gaps.mean()), stderr, float(bounds[:, 0].mean()), float(bounds[:, 1].mean()),
                      int(gaps.size), int(needed), epsilon)


@dataclass(frozen=True)
class CrowdSummary:
    """The result of ``WeightedMajorityVote.summary``."""

    n_tasks: int
    n_workers: int
    n_labels: int
    believed_accuracy: float
    empirical: EmpiricalBelief | None
    optimality: Optimality | None

    def __str__(self):
        lines = [f"{self.n_tasks} tasks, {self.n_workers} workers, {self.n_labels} labels.",
                 f"Model-based belief: accuracy {self.believed_accuracy:.4f} over all tasks. It is exact in "
                 "expectation if workers err independently given the truth, with symmetric noise, and trust is "
                 "the posterior mean of what is known (stability of correctness, Theorem 1)."]
        e = self.empirical
        if e is None:
            lines.append("Empirical belief: no gold tasks, so the independence assumption cannot be checked.")
        else:
            lines.append(f"Empirical belief on {e.n_tasks} gold tasks (cross-fitted): accuracy {e.accuracy:.4f}, "
                         f"{e.confidence:.0%} interval [{e.ci_low:.4f}, {e.ci_high:.4f}]; the model believed "
                         f"{e.model_belief:.4f} on the same tasks.")
            lines.append("The data refute the model's assumptions (workers err together): use the empirical belief."
                         if e.independence_refuted else
                         "The two agree: the data do not refute independence; the model-based belief stands.")
        o = self.optimality
        if o is not None:
            lines.append(f"Stability of optimality: knowing each worker's accuracy exactly would add {o.soo_gap:.4f} "
                         f"(+- {o.stderr:.4f}) accuracy on a typical task ({o.n_panels} panels sampled); proven "
                         f"bounds 0 <= gap <= {o.sign_aware_bound:.4f} (sign-aware) <= {o.theorem3_bound:.4f} "
                         f"(Theorem 3). Gold observations per worker for an expected regret below {o.epsilon:g}: "
                         f"{o.observations_needed}.")
        return "\n".join(lines)
