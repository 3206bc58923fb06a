"""Simulations that let anyone see the claims of wmvtrust, built only on its public API.

``python -m simulations [--quick] [--seed N] [--out results]`` runs them all and
writes ``results/report.md`` with figures and tables. One module per claim, each
with ``run(quick, seed) -> {name: DataFrame}`` (pure; one row per configuration, with
its seed: the configurations of a ``wt.sweep``, except in ``deq_ensemble``, whose
repetitions train networks in a loop of their own), ``plot(tables) -> [Figure]``, ``summary(tables)``
(the report's compact table) and ``verdict(tables) -> (bool, sentence)``:

- ``soc``: (a) stability of correctness holds for unbiased trust, and biased trust breaks it;
- ``soo``: (b) stability of optimality does not hold; its gap is bounded and shrinks;
- ``trustworthiness_sensitivity``: (c) derivatives of the accuracy in the trustworthiness;
- ``trust_sensitivity``: (d) decision margin, trust radius and accuracy-loss curves;
- ``deq_ensemble``: (e) DEQ ensembles with learned trust: voting rules, signals, and beliefs under dependence;
- ``crowd_beliefs``: (f) crowds with hard tasks and label bias: each belief of ``summary()`` against the realised
  accuracy, by share of hard tasks and gold fraction.
"""
