"""The numeric layer for labels, below every pandas front end (numbers only, no pandas).

``codes`` (the encoded vote table) -> ``models`` (posteriors, the decision rule, one-coin and
Dawid-Skene EM) -> ``latent`` (latent-class and shared-distractor EM). ``crowd``,
``ensemble`` and ``estimators`` build on these modules; nothing here imports them.
"""
