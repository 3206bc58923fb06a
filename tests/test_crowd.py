"""Crowd vote tables and WeightedMajorityVote, each checked against an independent computation.

Toy tables worked out by hand; the multi-class posterior against a brute-force Bayes product;
gold trust against hand counts; EM against one-coin data with known accuracies; bad tables
against pinned messages (one table, as in test_validation.py).
"""

import itertools
import math
import re
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import wmvtrust as wt
from wmvtrust import WeightedMajorityVote as WMV


def table(rows, columns=("task", "worker", "label")):
    return pd.DataFrame(rows, columns=list(columns))


# ---------------------------------------------------------------- hand-computed toys


def test_binary_toy_matches_hand_computation():
    # L = 2: weight ln(t / (1 - t)): a (0.9) -> ln 9, b and c (0.6) -> ln 1.5; uniform prior cancels.
    # t1: x <- a, y <- b, c: odds x:y = 9 : 1.5^2 = 9 : 2.25       -> P(x) = 0.8
    # t2: x <- a, b, y <- c: odds 9 * 1.5 : 1.5 = 13.5 : 1.5        -> P(x) = 0.9
    # t3: x <- b, y <- c: odds 1.5 : 1.5                           -> exact tie, 0.5 each
    votes = table([("t1", "a", "x"), ("t1", "b", "y"), ("t1", "c", "y"),
                   ("t2", "a", "x"), ("t2", "b", "x"), ("t2", "c", "y"),
                   ("t3", "b", "x"), ("t3", "c", "y")])
    model = WMV(trust=pd.Series({"a": 0.9, "b": 0.6, "c": 0.6}), ties="report").fit(votes)
    expected = pd.DataFrame({"x": [0.8, 0.9, 0.5], "y": [0.2, 0.1, 0.5]}, index=["t1", "t2", "t3"])
    np.testing.assert_allclose(model.probas_.to_numpy(), expected.to_numpy(), atol=1e-12)
    assert list(model.probas_.index) == ["t1", "t2", "t3"] and list(model.probas_.columns) == ["x", "y"]
    assert model.labels_.iloc[:2].tolist() == ["x", "x"]
    assert pd.isna(model.labels_["t3"])  # the exact tie is reported, not broken
    assert model.n_iter_ == 0
    np.testing.assert_allclose(model.class_prior_.to_numpy(), [0.5, 0.5])
    np.testing.assert_array_equal(model.trust_["mean"].to_numpy(), [0.9, 0.6, 0.6])
    assert model.trust_[["alpha", "beta", "n_gold"]].isna().all().all()


def test_three_class_toy_matches_hand_computation():
    # L = 3: weight ln(2t / (1 - t)): a, b (0.5) -> ln 2; c (0.8) -> ln 8; d (2/3) -> ln 4.
    # t1: x <- a, y <- b, z <- c: odds 2 : 2 : 8        -> (1/6, 1/6, 2/3)
    # t2: x <- a, b, y <- c:      odds 4 : 8 : 1        -> (4, 8, 1) / 13
    # t3: x <- a, b, y <- d:      odds 4 : 4 : 1        -> (4, 4, 1) / 9, x and y tied
    votes = table([("t1", "a", "x"), ("t1", "b", "y"), ("t1", "c", "z"),
                   ("t2", "a", "x"), ("t2", "b", "x"), ("t2", "c", "y"),
                   ("t3", "a", "x"), ("t3", "b", "x"), ("t3", "d", "y")])
    trust = pd.Series({"a": 0.5, "b": 0.5, "c": 0.8, "d": 2 / 3})
    model = WMV(trust=trust, ties="report").fit(votes)
    expected = np.array([[2, 2, 8], [4, 8, 1], [4, 4, 1]]) / np.array([[12], [13], [9]])
    np.testing.assert_allclose(model.probas_.to_numpy(), expected, atol=1e-12)
    assert list(model.probas_.columns) == ["x", "y", "z"]
    assert model.labels_.iloc[:2].tolist() == ["z", "y"]
    assert pd.isna(model.labels_["t3"])
    np.testing.assert_allclose(model.class_prior_.to_numpy(), [1 / 3] * 3)


def test_trust_one_and_trust_zero_decide_before_finite_weights():
    # t1 (binary part): a has trust 1 and says x; b, c (0.99 each, weight ln 99) say y -> x for sure.
    # t2: z has trust 0 and says x, so the truth is not x; e (0.99) also says x -> y for sure.
    votes = table([("t1", "a", "x"), ("t1", "b", "y"), ("t1", "c", "y"),
                   ("t2", "z", "x"), ("t2", "e", "x")])
    trust = pd.Series({"a": 1.0, "b": 0.99, "c": 0.99, "z": 0.0, "e": 0.99})
    model = WMV(trust=trust).fit(votes)
    np.testing.assert_array_equal(model.probas_.to_numpy(), [[1.0, 0.0], [0.0, 1.0]])
    assert model.labels_.tolist() == ["x", "y"]


def test_trust_zero_rules_out_one_of_three_labels_and_finite_weights_split_the_rest():
    # L = 3. z (trust 0) says x: x is ruled out. a (0.9, weight ln 18) also says x but cannot revive it.
    # b (0.6, weight ln 3) says y; the third label u (used only on t2) gets no vote on t1, weight 0:
    # remaining odds u : y = 1 : 3 -> (u, x, y) = (1/4, 0, 3/4).
    votes = table([("t1", "z", "x"), ("t1", "a", "x"), ("t1", "b", "y"), ("t2", "b", "u")])
    model = WMV(trust=pd.Series({"z": 0.0, "a": 0.9, "b": 0.6})).fit(votes)
    assert list(model.probas_.columns) == ["u", "x", "y"]  # labels sorted
    np.testing.assert_allclose(model.probas_.loc["t1"].to_numpy(), [1 / 4, 0.0, 3 / 4], atol=1e-12)
    assert model.labels_["t1"] == "y"


def _tied_table(n_tasks):
    """n_tasks binary tasks where a and b (equal trust) disagree, plus one clear task."""
    rows = [(i, w, lab) for i in range(n_tasks) for w, lab in (("a", "x"), ("b", "y"))]
    return table(rows + [(n_tasks, "a", "x"), (n_tasks, "b", "x")]), pd.Series({"a": 0.7, "b": 0.7})


def test_coin_ties_are_reproducible_from_the_seed_and_fair():
    votes, trust = _tied_table(4000)
    first = WMV(trust=trust, ties="coin", seed=5).fit_predict(votes)
    again = WMV(trust=trust, ties="coin", seed=5).fit_predict(votes)
    other = WMV(trust=trust, ties="coin", seed=6).fit_predict(votes)
    pd.testing.assert_series_equal(first, again)
    assert not first.equals(other)  # 4000 fair coins agree with probability 2**-4000
    assert first.iloc[-1] == "x"  # the clear task is never left to the coin
    share = (first.iloc[:-1] == "x").mean()
    assert abs(share - 0.5) < 5 * np.sqrt(0.25 / 4000)  # 5 standard errors of a fair coin


def test_report_ties_give_na_only_for_tied_tasks():
    votes, trust = _tied_table(10)
    labels = WMV(trust=trust, ties="report").fit_predict(votes)
    assert labels.iloc[:-1].isna().all() and labels.iloc[-1] == "x"


# ---------------------------------------------------------------- brute-force Bayes


def brute_posterior(votes, trust):
    """P(truth = l | votes) by multiplying per-worker likelihoods over every label, uniform prior."""
    labels = sorted(votes["label"].unique())
    L = len(labels)
    out = {}
    for task, group in votes.groupby("task", sort=False):
        like = np.array([np.prod([trust[w] if v == lab else (1 - trust[w]) / (L - 1)
                                  for w, v in zip(group["worker"], group["label"])]) for lab in labels])
        out[task] = like / like.sum()
    return pd.DataFrame(out, index=labels).T


@pytest.mark.parametrize("n_workers", [2, 3, 4])
def test_three_class_posterior_equals_brute_force_bayes(n_workers):
    rng = np.random.default_rng(100 + n_workers)
    checked = 0
    while checked < 20:
        workers = [f"w{i}" for i in range(n_workers)]
        trust = pd.Series(rng.uniform(0.05, 0.95, n_workers), index=workers)
        rows = [(t, w, rng.choice(["p", "q", "r"])) for t in range(6) for w in workers if rng.random() < 0.8]
        votes = table(rows)
        if votes.empty or votes["label"].nunique() < 3:
            continue  # L is the number of labels seen: keep the cases where it is 3
        got = WMV(trust=trust).fit(votes).probas_
        expected = brute_posterior(votes, trust)
        np.testing.assert_allclose(got.to_numpy(), expected.loc[got.index, got.columns].to_numpy(), atol=1e-12)
        checked += 1


# ---------------------------------------------------------------- gold trust

GOLD_VOTES = table([("t1", "a", "x"), ("t1", "b", "y"),
                    ("t2", "a", "x"), ("t2", "b", "x"), ("t2", "c", "y"),
                    ("t3", "a", "y"), ("t3", "c", "y"),
                    ("t4", "b", "x"), ("t4", "d", "y")])
GOLD = table([("t1", "x"), ("t2", "y"), ("t3", "y"), ("t9", "x")], columns=("task", "label"))  # t9: no votes


def test_gold_trust_counts_right_and_wrong_gold_votes():
    # a: t1 right, t2 wrong, t3 right -> 2 of 3; b: t1, t2 wrong -> 0 of 2; c: t2, t3 right -> 2 of 2;
    # d votes only on t4, which has no gold -> 0 of 0 and keeps the prior (2, 3).
    right, n = np.array([2, 0, 2, 0]), np.array([3, 2, 2, 0])
    model = WMV(trust="gold", beta_prior=(2, 3)).fit(GOLD_VOTES, GOLD)
    trust = model.trust_
    assert list(trust.index) == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(trust["alpha"].to_numpy(), 2 + right)
    np.testing.assert_array_equal(trust["beta"].to_numpy(), 3 + n - right)
    np.testing.assert_array_equal(trust["n_gold"].to_numpy(), n)
    np.testing.assert_allclose(trust["mean"].to_numpy(), (2 + right) / (5 + n), rtol=1e-15)
    assert trust.loc["d", "mean"] == pytest.approx(2 / 5)
    assert model.n_iter_ == 0
    np.testing.assert_allclose(model.class_prior_.to_numpy(), [0.5, 0.5])
    # the posterior uses those means: on t4, b (2/7, odds 2/5) says x and d (2/5, odds 2/3) says y
    px = (2 / 5) / (2 / 5 + 2 / 3)  # = 3/8
    assert model.probas_.loc["t4", "x"] == pytest.approx(px, abs=1e-12)


def test_gold_trust_refuses_a_worker_without_gold_when_asked():
    with pytest.raises(ValueError, match=re.escape(
            "gold must cover every worker when no_gold='error'; worker 'd' has no gold vote. "
            "Pass no_gold='prior' to give such workers the prior.")):
        WMV(trust="gold", no_gold="error").fit(GOLD_VOTES, GOLD)
    WMV(trust="gold", no_gold="error").fit(GOLD_VOTES.iloc[:7], GOLD)  # without d, every worker has gold


def test_gold_labels_no_worker_used_are_refused():
    gold = pd.concat([GOLD, table([("t4", "w"), ("t5", "v")], columns=("task", "label"))])
    with pytest.raises(ValueError, match=re.escape(
            "gold must use only labels that some worker used; ['v', 'w'] never appear in the votes.")):
        WMV(trust="gold").fit(GOLD_VOTES, gold)


# ---------------------------------------------------------------- EM on one-coin data


def one_coin(n_labels, n_workers, n_tasks, per_task, class_prior, seed):
    """Votes from the symmetric one-coin model; returns (votes, truth, accuracies)."""
    rng = np.random.default_rng(seed)
    acc = rng.beta(5, 2, n_workers)
    truth = rng.choice(n_labels, n_tasks, p=class_prior)
    who = np.argsort(rng.random((n_tasks, n_workers)), axis=1)[:, :per_task]  # distinct workers per task
    right = rng.random(who.shape) < acc[who]
    wrong = (truth[:, None] + rng.integers(1, n_labels, who.shape)) % n_labels  # uniform among the others
    label = np.where(right, truth[:, None], wrong)
    votes = pd.DataFrame({"task": np.repeat(np.arange(n_tasks), per_task),
                          "worker": who.ravel(), "label": label.ravel()})
    return votes, truth, acc, rng


@pytest.mark.parametrize(("n_labels", "class_prior"), [(2, [0.6, 0.4]), (3, [0.5, 0.3, 0.2])])
def test_one_coin_em_recovers_one_coin_accuracies_and_beats_majority_voting(n_labels, class_prior):
    votes, truth, acc, rng = one_coin(n_labels, 50, 10_000, 5, class_prior, seed=7 + n_labels)
    model = WMV(trust="one-coin").fit(votes)
    assert model.n_iter_ >= 1
    assert model.class_prior_.sum() == pytest.approx(1, abs=1e-12)
    np.testing.assert_allclose(model.class_prior_.to_numpy(), class_prior, atol=0.03)

    # Each worker casts ~1000 votes, so the Beta posterior is narrow (sd ~0.015). If it is calibrated,
    # the number of workers whose true accuracy falls outside the central 99% interval is
    # Binomial(50, 0.01): mean 0.5, P(> 3) ~ 0.002. Allowing 3 tolerates chance, not a bias.
    trust = model.trust_.loc[np.arange(50)]
    lo = stats.beta.ppf(0.005, trust["alpha"], trust["beta"])
    hi = stats.beta.ppf(0.995, trust["alpha"], trust["beta"])
    assert ((acc < lo) | (acc > hi)).sum() <= 3
    np.testing.assert_allclose(trust["mean"], trust["alpha"] / (trust["alpha"] + trust["beta"]))

    # plain plurality voting, ties broken by a fair coin
    counts = np.zeros((truth.size, n_labels))
    np.add.at(counts, (votes["task"].to_numpy(), votes["label"].to_numpy()), 1)
    tied = counts == counts.max(axis=1, keepdims=True)
    mv = (rng.random(counts.shape) * tied).argmax(axis=1)
    labels = model.labels_.loc[np.arange(truth.size)].to_numpy()
    assert (labels == truth).mean() >= (mv == truth).mean()


@pytest.mark.parametrize(("n_labels", "class_prior"), [(2, [0.7, 0.3]), (3, [0.5, 0.3, 0.2])])
def test_default_em_trust_is_the_balanced_accuracy_and_recovers_one_coin_accuracies(n_labels, class_prior):
    """Under the one-coin model the balanced accuracy is the accuracy: each worker's trust lands near it.

    About 1000 votes per worker: the sampling sd of an accuracy near 0.7 is ~0.015, so 0.06 is 4 sd.
    """
    votes, truth, acc, rng = one_coin(n_labels, 50, 10_000, 5, class_prior, seed=7 + n_labels)
    model = WMV().fit(votes)
    assert model.n_iter_ >= 1 and model.converged_
    np.testing.assert_allclose(model.class_prior_.to_numpy(), class_prior, atol=0.03)
    trust = model.trust_.loc[np.arange(50), "mean"].to_numpy()
    assert np.abs(trust - acc).max() < 0.06
    assert model.trust_[["alpha", "beta", "n_gold"]].isna().all().all()
    counts = np.zeros((truth.size, n_labels))
    np.add.at(counts, (votes["task"].to_numpy(), votes["label"].to_numpy()), 1)
    mv = (rng.random(counts.shape) * (counts == counts.max(axis=1, keepdims=True))).argmax(axis=1)
    assert (model.labels_.loc[np.arange(truth.size)].to_numpy() == truth).mean() >= (mv == truth).mean()


# ---------------------------------------------------------------- every task gets a row


def test_every_task_gets_a_row_in_order_of_first_appearance():
    votes = table([(30, "a", "x"), (10, "b", "y"), (30, "b", "x"), (20, "a", "y"), (10, "a", "x")])
    model = WMV(trust=pd.Series({"a": 0.8, "b": 0.6})).fit(votes)
    assert list(model.labels_.index) == [30, 10, 20]
    assert list(model.probas_.index) == [30, 10, 20]
    assert list(model.trust_.index) == ["a", "b"]


DUPLICATED = table([("t1", "a", "x"), ("t2", "a", "y"), ("t1", "a", "z"), ("t3", "b", "x"), ("t1", "b", "z")])


@pytest.mark.parametrize(("keep", "t1_vote"), [("first", "x"), ("last", "z")])
def test_duplicates_keep_the_chosen_vote(keep, t1_vote):
    # a (0.9, weight ln 18 with L = 3) outvotes b (0.6, weight ln 3) on t1: the kept vote of a decides
    model = WMV(trust=pd.Series({"a": 0.9, "b": 0.6}), duplicates=keep).fit(DUPLICATED)
    assert model.labels_["t1"] == t1_vote
    assert set(model.labels_.index) == {"t1", "t2", "t3"}
    votes = wt.read_votes(DUPLICATED, duplicates=keep)
    assert votes.codes.task.size == 4  # one of the two (t1, a) votes is gone


@pytest.mark.parametrize("keep", ["first", "last"])
def test_duplicates_keep_tasks_in_order_of_first_appearance(keep):
    labels = WMV(trust=pd.Series({"a": 0.9, "b": 0.6}), duplicates=keep).fit_predict(DUPLICATED)
    assert list(labels.index) == ["t1", "t2", "t3"]


# ---------------------------------------------------------------- bad input (one table)

OK = table([("t1", "a", "x"), ("t1", "b", "y"), ("t2", "a", "x")])
TRUST = pd.Series({"a": 0.8, "b": 0.6})


def fit(votes=OK, gold=None, **kwargs):
    return lambda: WMV(**kwargs).fit(votes, gold)


CASES = [  # (call, error type, message)
    (fit(OK.drop(columns="worker")), ValueError,
     "votes must have a worker column named 'worker'; its columns are 'task', 'label'. Pass worker=... to name it."),
    (fit(OK, task="item"), ValueError,
     "votes must have a task column named 'item'; its columns are 'task', 'worker', 'label'. "
     "Pass task=... to name it."),
    (fit(OK.rename(columns={"task": "item", "worker": "who"}), task="item", worker="who", label="answer"),
     ValueError, "votes must have a label column named 'answer'; its columns are 'item', 'who', 'label'. "
     "Pass label=... to name it."),
    (fit(OK.assign(task=["t1", None, "t2"])), ValueError,
     "votes must have no missing 'task'; row 1 has none. 1 row in all; drop or fill them first."),
    (fit(OK.assign(worker=["a", "b", np.nan])), ValueError,
     "votes must have no missing 'worker'; row 2 has none. 1 row in all; drop or fill them first."),
    (fit(OK.assign(label=[np.nan, "y", np.nan]).set_axis(["r0", "r1", "r2"])), ValueError,
     "votes must have no missing 'label'; row 'r0' has none. 2 rows in all; drop or fill them first."),
    (fit(pd.concat([OK, table([("t2", "a", "y")])], ignore_index=True)), ValueError,
     "votes must have one vote per (task, worker); worker 'a' voted more than once on task 't2' "
     "(1 repeated vote in all). Pass duplicates='first' or 'last' to keep one."),
    (fit(OK.iloc[:0]), ValueError, "votes must have at least one vote; the table is empty."),
    (fit(OK.to_dict("list")), TypeError, "votes must be a pandas DataFrame; got dict."),
    (fit(trust="mle"), ValueError,
     "trust must be 'em', 'one-coin', 'gold' or a pandas Series indexed by worker; got 'mle'."),
    (fit(trust=TRUST.drop("b")), ValueError, "trust must have an entry for every worker who voted; none for ['b']."),
    (fit(trust=TRUST.replace(0.6, 1.5)), ValueError, "trust must lie in [0, 1]; trust['b'] = 1.5."),
    (fit(trust=TRUST.replace(0.8, -0.1)), ValueError, "trust must lie in [0, 1]; trust['a'] = -0.1."),
    (fit(trust=TRUST.replace(0.8, np.nan)), ValueError, "trust must lie in [0, 1]; trust['a'] = nan."),
    (fit(trust="gold"), ValueError,
     "gold must be given for trust='gold'; no task of the votes has a gold label. Pass a table of known truths."),
    (fit(OK, pd.DataFrame({"task": ["t9"], "label": ["x"]}), trust="gold"), ValueError,
     "gold must be given for trust='gold'; no task of the votes has a gold label. Pass a table of known truths."),
    (fit(OK, pd.DataFrame({"task": ["t1", "t2", "t1"], "label": ["x", "y", "y"]})), ValueError,
     "gold must give each task one label; task 't1' has 'x' and 'y' (1 task in all). Drop the conflicting rows."),
    (fit(OK, pd.DataFrame({"task": ["t1", "t2"], "label": ["x", None]})), ValueError,
     "gold must have no missing label; task 't2' has none (1 row in all). Drop or fill it first."),
    (fit(OK, pd.DataFrame({"task": ["t1", None], "label": ["x", "y"]})), ValueError,
     "gold must have no missing task; row 1 has none (1 row in all). Drop or fill it first."),
    (fit(OK, pd.DataFrame({"task": ["t1"], "truth": ["x"]}), trust="gold"), ValueError,
     "gold must have a column named 'label'; its columns are 'task', 'truth'."),
    (fit(duplicates="keep"), ValueError, "duplicates must be one of 'error', 'first', 'last'; got 'keep'."),
    (fit(ties="random"), ValueError, "ties must be one of 'coin', 'report'; got 'random'."),
    (fit(trust="gold", gold=[1]), TypeError, "gold must be a pandas DataFrame; got list."),
    (fit(trust="gold", no_gold="skip"), ValueError, "no_gold must be one of 'prior', 'error'; got 'skip'."),
]


@pytest.mark.parametrize(("call", "error", "message"), CASES)
def test_bad_input_raises_the_documented_error(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


def test_messages_print_integer_ids_plainly():
    votes = table([(1, 7, 0), (1, 8, 1), (2, 7, 0), (2, 7, 1)])
    with pytest.raises(ValueError, match=re.escape("worker 7 voted more than once on task 2 (1 repeated vote in all")):
        WMV().fit(votes)


def test_inputs_are_never_modified():
    votes, gold = GOLD_VOTES.copy(), GOLD.copy()
    WMV(trust="gold").fit(votes, gold)
    WMV(duplicates="last").fit(DUPLICATED)
    pd.testing.assert_frame_equal(votes, GOLD_VOTES)
    pd.testing.assert_frame_equal(gold, GOLD)


# ---------------------------------------------------------------- confusion-matrix trust


def _random_confusion(rng, k):
    """A k x k confusion matrix with rational rows summing to 1."""
    rows = []
    for _ in range(k):
        cuts = sorted(int(c) for c in rng.integers(0, 13, k - 1))
        parts = np.diff([0, *cuts, 12])
        rows.append([Fraction(int(p), 12) for p in parts])
    return rows


def _map_rule(mean, prior):
    """delta_M: for reports v, uniform over argmax_y prior[y] prod_i mean[i][y][v_i] (exact, in Fractions)."""
    k = len(prior)

    def rule(reports):
        score = [prior[y] * math.prod((mean[i][y][v] for i, v in enumerate(reports)), start=Fraction(1))
                 for y in range(k)]
        best = [y for y in range(k) if score[y] == max(score)]
        return {y: Fraction(1, len(best)) for y in best}
    return rule


def _accuracy(matrices, prior, rule):
    """A(Q, delta) = sum_y prior[y] sum_v prod_i Q_i[y, v_i] delta(y | v), every worker voting
    (proofs/soc_confusion_matrix.md)."""
    k = len(prior)
    return sum((prior[y] * math.prod((m[y][v] for m, v in zip(matrices, reports)), start=Fraction(1))
                * rule(reports).get(y, 0)
                for y in range(k) for reports in itertools.product(range(k), repeat=len(matrices))), Fraction(0))


def _gold_counts(rng, k, n):
    """Gold counts n[i][y][v]: worker i reported v on 2 to 5 gold tasks of each truth y."""
    return [[np.bincount(rng.integers(0, k, int(rng.integers(2, 6))), minlength=k).tolist() for _ in range(k)]
            for _ in range(n)]


def test_confusion_matrix_soc_exact():
    """proofs/soc_confusion_matrix.md: E[A(Pi, delta)] = A(E[Pi], delta) for independent workers' matrices, exactly,
    for the rule ConfusionMatrixVote takes; and the proof's counterexample when the matrices are correlated.

    The mean matrices and class prior are those ConfusionMatrixVote(trust="gold", dirichlet_prior=1.0) learns from
    gold counts n (uniform Dirichlets: M_i[y, v] = (1 + n_iyv) / (k + N_iy), rho_y = (1 + T_y) / (k + T), T_y the gold tasks of
    truth y). Each worker's matrix is one of two stochastic matrices a_i, b_i with probability 1/3, 2/3 and mean
    M_i: a_i = (1 - e) M_i + e E_i, b_i = (1 + e/2) M_i - (e/2) E_i, E_i random, e = 1/(k + 5) so that b_i >= 0.
    The library labels one task per report profile: its decisions are the MAP rule under (M, rho) computed here
    (ties, reported as NA, where the rational scores tie), its probas_ averaged over the profiles under M give
    A(M, delta_M), and SoC holds for its rule, exactly.
    """
    rng = np.random.default_rng(7)
    symmetric = [[[3, 1], [1, 3]]] * 2  # two alike workers, uniform prior: the profiles (1, 2) and (2, 1) tie
    ties = 0
    for counts in [symmetric] + [_gold_counts(rng, k, n) for k, n in ((2, 2), (3, 2), (3, 3), (2, 4))]:
        k, n = len(counts[0]), len(counts)
        mean = [[[Fraction(1 + c, k + sum(row)) for c in row] for row in worker] for worker in counts]
        truths = [sum(sum(worker[y]) for worker in counts) for y in range(k)]
        prior = [Fraction(1 + t, k + sum(truths)) for t in truths]
        e = Fraction(1, k + 5)
        options = []
        for m in mean:
            noise = _random_confusion(rng, k)
            options.append([[[(1 - e) * x + e * z for x, z in zip(mr, er)] for mr, er in zip(m, noise)],
                            [[(1 + e / 2) * x - e / 2 * z for x, z in zip(mr, er)] for mr, er in zip(m, noise)]])
        chance = [Fraction(1, 3), Fraction(2, 3)]
        for (a, b), m in zip(options, mean):
            assert all(x >= 0 for row in a + b for x in row) and all(sum(row) == 1 for row in a + b)
            assert [[chance[0] * x + chance[1] * y for x, y in zip(ra, rb)] for ra, rb in zip(a, b)] == m
        rule = _map_rule(mean, prior)

        # the library, from the gold counts: one gold task per gold report, one task per report profile
        workers = [f"w{i}" for i in range(n)]
        rows, gold = [], []
        for i, worker in enumerate(counts):
            for y, row in enumerate(worker):
                for v, c in enumerate(row):
                    for _ in range(c):
                        gold.append((f"g{len(gold)}", y))
                        rows.append((gold[-1][0], workers[i], v))
        profiles = list(itertools.product(range(k), repeat=n))
        rows += [(f"p{j}", workers[i], v) for j, reports in enumerate(profiles) for i, v in enumerate(reports)]
        model = wt.ConfusionMatrixVote(trust="gold", dirichlet_prior=1.0, ties="report").fit(
            pd.DataFrame(rows, columns=["task", "worker", "label"]), pd.DataFrame(gold, columns=["task", "label"]))
        np.testing.assert_allclose(model.confusion_, np.array(mean, dtype=float), rtol=1e-14)
        np.testing.assert_allclose(model.class_prior_.to_numpy(), np.array(prior, dtype=float), rtol=1e-14)
        decided = {}
        for j, reports in enumerate(profiles):
            label, expected = model.labels_[f"p{j}"], rule(reports)
            assert (pd.isna(label) if len(expected) > 1 else label == next(iter(expected))), (reports, label, expected)
            decided[reports] = expected if pd.isna(label) else {int(label): Fraction(1)}
            ties += len(expected) > 1
        library_rule = decided.__getitem__

        believed = _accuracy(mean, prior, library_rule)
        assert believed == _accuracy(mean, prior, rule)
        probability = {v: sum(prior[y] * math.prod(m[y][x] for m, x in zip(mean, v)) for y in range(k))
                       for v in profiles}
        belief = sum(float(probability[v]) * model.probas_.loc[f"p{j}"].max() for j, v in enumerate(profiles))
        assert belief == pytest.approx(float(believed), abs=1e-12)  # mean posterior of the decision = A(M, delta_M)
        expected = sum((math.prod(chance[c] for c in choice) * _accuracy([options[i][c] for i, c in enumerate(choice)],
                                                                          prior, library_rule)
                        for choice in itertools.product(range(2), repeat=n)), Fraction(0))
        assert expected == believed  # SoC, exact
    assert ties > 0  # some profiles tie exactly, and the library reports them

    _correlated_matrices_break_soc()


def _correlated_matrices_break_soc():
    """The counterexample of proofs/soc_confusion_matrix.md: L = 2, uniform prior, R = identity, Z = always report
    class 1, Pi_1 = Pi_2 = Pi uniform on {R, Z}: M = [[1, 0], [1/2, 1/2]], delta_M decides class 1 iff both report 1;
    A(M, delta_M) = 7/8 but E[A(Pi, delta_M)] = 3/4 (gap -1/8 = -Cov(X_1, X_2)/2, X_i = Pi_i[2, 1]); independent
    matrices with the same marginals give 7/8, as the theorem says."""
    half = Fraction(1, 2)
    reliable, spammer = [[Fraction(1), Fraction(0)], [Fraction(0), Fraction(1)]], [[Fraction(1), Fraction(0)]] * 2
    mean = [[(x + y) / 2 for x, y in zip(r, z)] for r, z in zip(reliable, spammer)]
    assert mean == [[1, 0], [half, half]]
    prior = [half, half]
    rule = _map_rule([mean, mean], prior)
    assert {v: rule(v) for v in itertools.product(range(2), repeat=2)} == {
        (0, 0): {0: 1}, (0, 1): {1: 1}, (1, 0): {1: 1}, (1, 1): {1: 1}}  # class 1 (code 0) iff both report it
    believed = _accuracy([mean, mean], prior, rule)
    assert believed == Fraction(7, 8)
    for x1, x2 in itertools.product((0, 1), repeat=2):  # A = 1 - X_1 X_2 / 2 on the four joint draws
        pair = [reliable if x == 0 else spammer for x in (x1, x2)]
        assert _accuracy(pair, prior, rule) == 1 - Fraction(x1 * x2, 2)
    correlated = half * _accuracy([reliable, reliable], prior, rule) + half * _accuracy([spammer, spammer], prior, rule)
    assert correlated == Fraction(3, 4) and correlated - believed == Fraction(-1, 8)
    independent = sum((_accuracy([a, b], prior, rule) for a in (reliable, spammer) for b in (reliable, spammer)),
                      Fraction(0)) / 4
    assert independent == believed == Fraction(7, 8)


def test_confusion_matrix_vote_is_the_posterior_under_the_mean_matrices():
    """From gold alone: confusion_ is the Dirichlet posterior mean of the gold counts, class_prior_ that of the gold
    truths under Dirichlet(1, 1, 1); probas_ the Bayes posterior under both, and certainty on the gold tasks."""
    rng = np.random.default_rng(3)
    k, n_tasks, workers = 3, 60, ["a", "b", "c"]
    truth = rng.integers(0, k, n_tasks)
    rows = [(j, w, int(truth[j]) if rng.random() < 0.6 else int(rng.integers(0, k))) for j in range(n_tasks)
            for w in workers]
    votes = pd.DataFrame(rows, columns=["task", "worker", "label"])
    gold = pd.DataFrame({"task": range(0, n_tasks, 2), "label": truth[::2]})
    model = wt.ConfusionMatrixVote(trust="gold", dirichlet_prior=0.5).fit(votes, gold)
    for i, w in enumerate(workers):
        mine = votes[(votes.worker == w) & (votes.task % 2 == 0)]
        counts = np.zeros((k, k))
        for task, label in zip(mine.task, mine.label):
            counts[truth[task], label] += 1
        np.testing.assert_allclose(model.confusion_[i], (0.5 + counts) / (k * 0.5 + counts.sum(1, keepdims=True)),
                                   rtol=1e-13)
        np.testing.assert_allclose(model.trust_.loc[w].to_numpy(), 0.5 + counts, rtol=1e-13)  # the Dirichlet table
    class_prior = (1 + np.bincount(truth[::2], minlength=k)) / (k + n_tasks // 2)
    np.testing.assert_allclose(model.class_prior_.to_numpy(), class_prior, rtol=1e-13)
    assert model.n_iter_ == 0
    for task in (1, 3, 5):
        reports = votes[votes.task == task].set_index("worker").label
        joint = np.array([class_prior[y] * np.prod([model.confusion_[workers.index(w)][y, v] for w, v in reports.items()])
                          for y in range(k)])
        np.testing.assert_allclose(model.probas_.loc[task].to_numpy(), joint / joint.sum(), rtol=1e-12)
    for task in (0, 2):
        assert model.probas_.loc[task].tolist() == [float(y == truth[task]) for y in range(k)]
        assert model.labels_[task] == truth[task]


def test_difficulty_aware_vote_needs_gold_that_has_votes():
    with pytest.raises(ValueError, match=re.escape("gold must be given for DifficultyAwareVote; got None.")):
        wt.DifficultyAwareVote().fit(OK, None)
    with pytest.raises(ValueError, match=re.escape(
            "gold must be given for DifficultyAwareVote; no task of the votes has a gold label.")):
        wt.DifficultyAwareVote().fit(OK, pd.DataFrame({"task": ["t9"], "label": ["x"]}))
