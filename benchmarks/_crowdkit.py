"""crowd-kit, run in an interpreter of its own: what the crowd benchmarks time it with and read back.

crowd-kit is no dependency of wmvtrust. The benchmarks name an interpreter that imports it
(``--crowdkit-python``); ``run`` writes the votes as integer codes to an ``.npz`` file in a
temporary folder, starts that interpreter on ``CHILD``, and reads back the times, the labels
and, when asked, the task posteriors, mapped to the caller's task and label values. crowd-kit's
import time is excluded; each model is warmed up by one call on the first ``warmup_rows`` votes,
then timed around ``fit_predict`` (``time.perf_counter``), ``repeat`` times.
"""

import importlib.util
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

# Run by the crowd-kit interpreter: argv = votes.npz, out.npz, the jobs as JSON
CHILD = r"""
import json, statistics, sys, time
from importlib.metadata import version
import numpy as np, pandas as pd
import crowdkit.aggregation as ck

src, out, spec = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
with np.load(src) as d:
    votes = pd.DataFrame({k: d[k] for k in ("task", "worker", "label")})
    gold = pd.Series(d["gold_label"], index=d["gold_task"])
warmup = votes.iloc[:spec["warmup_rows"]]
report = {"versions": {"crowd-kit": version("crowd-kit"), "pandas": pd.__version__, "numpy": np.__version__,
                       "python": sys.version.split()[0]}, "runs": {}}
arrays = {}
for key, job in enumerate(spec["jobs"]):
    make = lambda: getattr(ck, job["model"])(**job["kwargs"])
    with_gold = lambda data: {"true_labels": gold[gold.index.isin(data["task"])]} if job["gold"] else {}
    make().fit_predict(warmup, **with_gold(warmup))
    times = []
    for _ in range(job["repeat"]):
        model = make()
        start = time.perf_counter()
        labels = model.fit_predict(votes, **with_gold(votes))
        times.append(time.perf_counter() - start)
    report["runs"][job["name"]] = {"times": times, "median": statistics.median(times),
                                   "n_iter": len(getattr(model, "loss_history_", []))}
    arrays[f"task{key}"], arrays[f"label{key}"] = labels.index.to_numpy(), labels.to_numpy()
    if job["probas"]:
        arrays[f"probas_task{key}"] = model.probas_.index.to_numpy()
        arrays[f"probas_label{key}"] = model.probas_.columns.to_numpy()
        arrays[f"probas{key}"] = model.probas_.to_numpy()
np.savez(out, **arrays)
print(json.dumps(report))
"""


@dataclass
class Job:
    """One crowd-kit model to time: ``getattr(crowdkit.aggregation, model)(**kwargs)``."""

    name: str
    model: str
    kwargs: dict
    repeat: int = 1
    probas: bool = False  # also read back probas_
    gold: bool = False  # fit with the known truths given to ``run`` (``true_labels=``)


@dataclass
class Run:
    """What came back for one job: times of ``fit_predict``, iterations (0 if none), labels and posteriors."""

    times: list
    median: float
    n_iter: int
    labels: pd.Series  # indexed by task
    probas: pd.DataFrame | None  # tasks x labels, when asked


def find_python(requested):
    """(interpreter, note): the one asked for, else this one if it imports crowdkit, else (None, why)."""
    if requested:
        return requested, f"crowd-kit interpreter: {requested} (--crowdkit-python)"
    if importlib.util.find_spec("crowdkit") is not None:
        return sys.executable, f"crowd-kit interpreter: {sys.executable} (this one; it imports crowdkit)"
    return None, ("crowd-kit rows SKIPPED: this interpreter cannot import crowdkit. Install crowd-kit in a venv of "
                  "its own and pass its interpreter as --crowdkit-python (see the module docstring).")


def run(python, votes, jobs, warmup_rows=10_000, gold=None):
    """(versions, {job name: Run}) from one subprocess of ``python`` that times every job on ``votes``.

    ``votes`` has columns task, worker, label of any type, ``gold`` (optional) too: the child
    sees integer codes, and the labels and posteriors come back in the caller's values.
    """
    codes, values = {}, {}
    for column in ("task", "worker", "label"):
        codes[column], values[column] = pd.factorize(votes[column])
    gold = pd.DataFrame({"task": [], "label": []}) if gold is None else gold
    codes["gold_task"] = values["task"].get_indexer(gold["task"])
    codes["gold_label"] = values["label"].get_indexer(gold["label"])
    if (codes["gold_task"] < 0).any() or (codes["gold_label"] < 0).any():
        raise ValueError("crowd-kit is given gold only for voted tasks and for labels that were voted")
    spec = {"warmup_rows": warmup_rows, "jobs": [vars(job) for job in jobs]}
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "votes.npz", Path(tmp) / "labels.npz"
        np.savez(src, **codes)
        done = subprocess.run([python, "-c", CHILD, str(src), str(out), json.dumps(spec)], capture_output=True,
                              text=True)
        if done.returncode != 0:
            raise RuntimeError(f"crowd-kit subprocess failed ({done.returncode}):\n{done.stderr[-3000:]}")
        report = json.loads(done.stdout.strip().splitlines()[-1])
        runs = {}
        with np.load(out, allow_pickle=False) as arrays:
            for key, job in enumerate(jobs):
                got = report["runs"][job.name]
                labels = pd.Series(values["label"][arrays[f"label{key}"]], index=values["task"][arrays[f"task{key}"]])
                probas = None
                if job.probas:
                    probas = pd.DataFrame(arrays[f"probas{key}"], index=values["task"][arrays[f"probas_task{key}"]],
                                          columns=values["label"][arrays[f"probas_label{key}"]])
                runs[job.name] = Run(got["times"], got["median"], got["n_iter"], labels, probas)
    return report["versions"], runs
