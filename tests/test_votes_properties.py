"""Property tests of the vote table (``wt.read_votes``) and of an aggregator's invariance to the table's row order.

The oracle is written here in plain Python on the frame's own values (after pandas has inferred the column
dtypes): tasks and workers in order of first appearance under Python equality (so 1 and 1.0 are one id, "1"
another), labels sorted, the kept vote of each (task, worker) its first or last row, and the first missing id
or repeated vote named in the error.
"""

import ast
import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wmvtrust as wt
from crowds import aggregators, crowd_with_gold
from wmvtrust._labels.models import most_probable

COLUMNS = ("task", "worker", "label")

# small pools, so that ids repeat; ints, strings (one that reads like an int) and floats (two equal to ints)
INTS, STRINGS, FLOATS = [0, 1, 2, -3, 7], ["a", "b", "1", "task 2"], [0.5, 2.25, -1.5, 1.0, 2.0]
MISSING = [None, np.nan, pd.NA]
ID_KINDS = {"int": INTS, "str": STRINGS, "float": FLOATS, "mixed": INTS + STRINGS + FLOATS}
LABEL_KINDS = {"int": [0, 1, 2, 5], "str": ["cat", "dog", "bird"], "number": [0, 1, 0.5, 2.5]}  # orderable within


def plain(x):
    """A numpy scalar as the Python value it holds (how the library's messages print values)."""
    return x.item() if isinstance(x, np.generic) else x


def is_missing(x):
    return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))


@st.composite
def column(draw, n, kinds, allow_missing):
    values = draw(st.lists(st.sampled_from(kinds[draw(st.sampled_from(sorted(kinds)))]), min_size=n, max_size=n))
    if allow_missing and draw(st.integers(0, 7)) == 0:  # about one table in three has a missing id
        for i in draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=2)):
            values[i] = draw(st.sampled_from(MISSING))
    return values


@st.composite
def vote_tables(draw, allow_missing=True):
    """A DataFrame of 1-14 votes with repeated, mixed-type and (sometimes) missing ids, and a row index of ints
    (shuffled), strings, or the default range: the messages must name the row by its label."""
    n = draw(st.integers(1, 14))
    data = {"task": draw(column(n, ID_KINDS, allow_missing)), "worker": draw(column(n, ID_KINDS, allow_missing)),
            "label": draw(column(n, LABEL_KINDS, allow_missing))}
    index = draw(st.sampled_from(["range", "ints", "strings"]))
    rows = None if index == "range" else draw(st.permutations(range(10, 10 + n))) if index == "ints" else \
        [f"r{k}" for k in draw(st.permutations(range(n)))]
    return pd.DataFrame(data, index=rows)


def first_appearance(values):
    """Distinct values in order of first appearance, under Python equality (a dict keeps the first key)."""
    return list(dict.fromkeys(values))


def kept_rows(pairs, duplicates):
    """Positions of the votes kept: for each (task, worker) its first or its last row, in the order of the table."""
    last = {pair: k for k, pair in enumerate(pairs)}
    seen, kept = set(), []
    for k, pair in enumerate(pairs):
        if (duplicates == "last" and last[pair] == k) or (duplicates != "last" and pair not in seen):
            kept.append(k)
        seen.add(pair)
    return kept


@settings(max_examples=300)
@given(vote_tables(), st.sampled_from(["error", "first", "last"]))
def test_read_votes_keeps_every_task_once_in_order_or_names_the_bad_row(frame, duplicates):
    values = {name: [plain(x) for x in frame[name].tolist()] for name in COLUMNS}
    for name in COLUMNS:  # the first column with a missing value, at its first row
        missing = [k for k, x in enumerate(values[name]) if is_missing(x)]
        if missing:
            row = plain(frame.index[missing[0]])
            message = f"votes must have no missing {name!r}; row {row!r} has none. {len(missing)} row"
            with pytest.raises(ValueError, match=re.escape(message)):
                wt.read_votes(frame, duplicates=duplicates)
            return
    pairs = list(zip(values["task"], values["worker"]))
    repeats = [k for k, pair in enumerate(pairs) if pair in pairs[:k]]
    if repeats and duplicates == "error":
        with pytest.raises(ValueError, match=r"^votes must have one vote per \(task, worker\); worker (.+) voted "
                           r"more than once on task (.+) \((\d+) repeated votes? in all\)\.") as error:
            wt.read_votes(frame, duplicates=duplicates)
        worker, task, count = re.match(r".*; worker (.+) voted more than once on task (.+) \((\d+) repeated",
                                       str(error.value)).groups()
        # the first repeated vote, by value (its printing is pinned by the test below) and the count
        assert (ast.literal_eval(task), ast.literal_eval(worker)) == pairs[repeats[0]]
        assert int(count) == len(repeats)
        return

    votes = wt.read_votes(frame, duplicates=duplicates)
    tasks, workers = first_appearance(values["task"]), first_appearance(values["worker"])
    assert list(votes.tasks) == tasks and votes.tasks.is_unique  # every task once, in order of first appearance
    assert list(votes.workers) == workers and votes.workers.is_unique
    assert list(votes.labels) == sorted(first_appearance(values["label"]))  # every label of the table, sorted
    assert (votes.tasks.name, votes.workers.name, votes.labels.name) == COLUMNS
    codes = votes.codes
    assert (codes.n_tasks, codes.n_workers, codes.n_labels) == (len(tasks), len(workers), len(votes.labels))
    kept = kept_rows(pairs, duplicates)
    assert len(codes.task) == len(codes.worker) == len(codes.label) == len(kept) == len(set(pairs))
    for j, k in enumerate(kept):  # the codes index into the names: vote j is row k of the table
        assert votes.tasks[codes.task[j]] == values["task"][k]
        assert votes.workers[codes.worker[j]] == values["worker"][k]
        assert votes.labels[codes.label[j]] == values["label"][k]
    assert (codes.task >= 0).all() and (codes.worker >= 0).all() and (codes.label >= 0).all()


@settings(max_examples=50)
@given(vote_tables(allow_missing=False).filter(lambda f: f[["task", "worker"]].duplicated().any()))
def test_first_and_last_keep_the_first_and_the_last_vote(frame):
    """With a repeated (task, worker): the kept label is that of the pair's first (last) row."""
    values = {name: [plain(x) for x in frame[name].tolist()] for name in COLUMNS}
    pairs = list(zip(values["task"], values["worker"]))
    for duplicates, pick in (("first", 0), ("last", -1)):
        votes = wt.read_votes(frame, duplicates=duplicates)
        got = {(votes.tasks[t], votes.workers[w]): votes.labels[c]
               for t, w, c in zip(votes.codes.task, votes.codes.worker, votes.codes.label)}
        for pair in set(pairs):
            rows = [k for k, p in enumerate(pairs) if p == pair]
            assert got[pair] == values["label"][rows[pick]], (duplicates, pair)


def test_nullable_integer_ids_with_na_are_refused():
    frame = pd.DataFrame({"task": pd.array([1, pd.NA, 2], dtype="Int64"), "worker": ["x", "y", "x"],
                          "label": [0, 1, 1]})
    with pytest.raises(ValueError, match=re.escape("votes must have no missing 'task'; row 1 has none.")):
        wt.read_votes(frame)


def test_labels_that_cannot_be_sorted_raise_a_named_error():
    frame = pd.DataFrame({"task": [1, 2], "worker": ["x", "y"], "label": [0, "b"]})
    with pytest.raises(TypeError, match=re.escape("votes must have labels of one kind that can be sorted in column 'label'; got int, str.")):
        wt.read_votes(frame)


def test_repeated_vote_message_prints_the_ids_as_they_are():
    frame = pd.DataFrame({"task": [0.5, 0.5], "worker": [0, 0], "label": [0, 1]})
    with pytest.raises(ValueError, match=re.escape("worker 0 voted more than once on task 0.5 (1 repeated vote")):
        wt.read_votes(frame)


# ---------------------------------------------------------------- an aggregator


@st.composite
def panels(draw):
    """Votes with one vote per (task, worker) on 1-8 tasks by 1-5 workers, three labels, and a trust Series
    (some at 0, 1/2 and 1: infinite, zero and infinite-against weights)."""
    n_workers = draw(st.integers(1, 5))
    workers = [f"w{i}" for i in range(n_workers)]
    cells = draw(st.lists(st.tuples(st.integers(0, 7), st.sampled_from(workers)), min_size=1, max_size=30,
                          unique=True))
    labels = draw(st.lists(st.sampled_from(["x", "y", "z"]), min_size=len(cells), max_size=len(cells)))
    votes = pd.DataFrame({"task": [t for t, _ in cells], "worker": [w for _, w in cells], "label": labels})
    trust = draw(st.lists(st.floats(0.05, 0.95) | st.sampled_from([0.0, 0.5, 1.0]), min_size=n_workers,
                          max_size=n_workers))
    return votes, pd.Series(trust, index=workers)


@settings(max_examples=60)
@given(panels(), st.randoms(use_true_random=False))
def test_weighted_majority_labels_ignore_the_row_order(panel, random):
    """WeightedMajorityVote(trust=Series): every task gets exactly one label, and shuffling the rows of the vote
    table changes none (ties reported as NA, so no coin depends on the order)."""
    votes, trust = panel
    order = list(range(len(votes)))
    random.shuffle(order)
    labels = wt.WeightedMajorityVote(trust=trust, ties="report").fit_predict(votes)
    shuffled = wt.WeightedMajorityVote(trust=trust, ties="report").fit_predict(votes.iloc[order])
    assert labels.index.is_unique and list(labels.index) == first_appearance(votes["task"].tolist())
    assert sorted(shuffled.index) == sorted(labels.index) and shuffled.index.is_unique
    assert labels.dropna().isin(["x", "y", "z"]).all()
    pd.testing.assert_series_equal(shuffled.reindex(labels.index), labels)


@pytest.mark.parametrize("name", list(aggregators()))
def test_every_aggregator_ignores_the_row_order_ties_included(name):
    """Shuffled rows give the same trust (within float rounding of sums taken in another order) and the same labels,
    tied tasks included: each tie's coin is keyed by the task's name, each latent start by the worker's."""
    make, needs_gold = aggregators()[name]
    votes, gold = crowd_with_gold(3)
    shuffled = votes.sample(frac=1.0, random_state=1)
    first = make().fit(votes, gold if needs_gold else None)
    second = make().fit(shuffled, gold if needs_gold else None)
    ties = (most_probable(first.probas_.to_numpy(), "report", None) < 0).sum()
    assert ties == (40 if name in ("wmv gold", "difficulty") else 0)  # a learned class prior tells the clones apart
    pd.testing.assert_series_equal(second.labels_.reindex(first.labels_.index), first.labels_)
    trust = second.trust_.reindex(first.trust_.index)
    np.testing.assert_allclose(trust.to_numpy(dtype=float), first.trust_.to_numpy(dtype=float), rtol=0, atol=1e-9)
