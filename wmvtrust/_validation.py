"""Every check of user input, and the one message template they share.

Each ``check_*`` validates one argument at the public boundary and returns it in
the form the kernels expect (contiguous float64 arrays, plain Python scalars).
Messages read: ``<name> must <rule>; <what was found>. <what to do>``.
"""

import numbers

import numpy as np


def fail(name, rule, found, hint="", error=ValueError):
    """Build the error for argument ``name``: what it must be, what it was, what to do."""
    return error(f"{name} must {rule}; {found}." + (f" {hint}" if hint else ""))


def _entry(name, arr, flat_index):
    index = np.unravel_index(flat_index, arr.shape)
    return f"{name}[{', '.join(str(int(i)) for i in index)}] = {float(arr.flat[flat_index])!r}"


def _first_bad(name, arr, bad, rule, what):
    if bad.any():
        where = np.flatnonzero(bad)
        more = f" ({where.size - 1} more {what})" if where.size > 1 else ""
        raise fail(name, rule, _entry(name, arr, where[0]) + more)


def _real_array(x, name):
    arr = np.asarray(x)
    if arr.dtype.kind not in "iuf":
        raise fail(name, "be an array of real numbers", f"got dtype {arr.dtype}", error=TypeError)
    return np.ascontiguousarray(arr, dtype=np.float64)


def _one_per_source(arr, name):
    if arr.ndim != 1:
        raise fail(name, "be one-dimensional, one entry per source", f"got shape {arr.shape}")
    if arr.size == 0:
        raise fail(name, "have at least one source", "got shape (0,)")
    return arr


def check_probabilities(x, name):
    """A non-empty 1-D array of probabilities in [0, 1], as contiguous float64."""
    arr = _one_per_source(_real_array(x, name), name)
    if not ((arr >= 0.0) & (arr <= 1.0)).all():  # NaN fails both comparisons
        _first_bad(name, arr, np.isnan(arr), "not be NaN", "entries are NaN")
        _first_bad(name, arr, (arr < 0.0) | (arr > 1.0), "lie in [0, 1]", "entries are out of range")
    return arr


def check_weights(x, n_sources=None, name="weights", like="q"):
    """A 1-D array of weights (``n_sources`` of them, if given), ``±inf`` allowed, NaN not."""
    arr = _one_per_source(_real_array(x, name), name)
    if n_sources is not None and arr.shape != (n_sources,):
        raise fail(name, f"have one entry per source, like {like}",
                   f"{name} has shape {arr.shape} but {like} has shape ({n_sources},)")
    _first_bad(name, arr, np.isnan(arr), "not be NaN (±inf is allowed)", "entries are NaN")
    return arr


def check_votes(x, n_sources):
    """Votes of shape (n_sources,) or (n_profiles, n_sources), each +1 or -1, as float64."""
    arr = _real_array(x, "votes")
    if arr.ndim not in (1, 2) or arr.shape[-1] != n_sources:
        raise fail("votes", f"have shape (n_sources,) or (n_profiles, n_sources) with n_sources = {n_sources} "
                   "as in weights", f"got shape {arr.shape}")
    _first_bad("votes", arr, np.abs(arr) != 1.0, "contain only +1 and -1", "entries are invalid")
    return arr


def check_fraction(x, name):
    """A real number strictly between 0 and 1 (a prior, a confidence level)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise fail(name, "be a real number in (0, 1)", f"got {x!r}", error=TypeError)
    if not 0.0 < x < 1.0:
        raise fail(name, "lie strictly between 0 and 1", f"got {name} = {float(x)!r}")
    return float(x)


def check_positive_int(x, name):
    """A whole number >= 1 (bool is not accepted)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise fail(name, "be a whole number >= 1", f"got {x!r}", error=TypeError)
    if x < 1:
        raise fail(name, "be a whole number >= 1", f"got {name} = {int(x)}")
    return int(x)


def check_positive_real(x, name):
    """A finite real number > 0."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise fail(name, "be a real number > 0", f"got {x!r}", error=TypeError)
    if not (np.isfinite(x) and x > 0):
        raise fail(name, "be a finite real number > 0", f"got {name} = {float(x)!r}")
    return float(x)


def check_choice(x, name, choices):
    """One of ``choices`` (strings)."""
    if x not in choices:
        raise fail(name, "be one of " + ", ".join(repr(c) for c in choices), f"got {x!r}")
    return x


def check_seed(seed):
    """A seed for ``np.random.SeedSequence``: None or a whole number >= 0."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise fail("seed", "be None or a whole number >= 0", f"got {seed!r}", error=TypeError)
    if seed < 0:
        raise fail("seed", "be None or a whole number >= 0", f"got seed = {int(seed)}")
    return int(seed)


def check_positive_array(x, name):
    """A 1-D array, one finite number > 0 per source (Beta parameters)."""
    arr = np.atleast_1d(np.asarray(x))
    if arr.dtype.kind not in "iuf":
        raise fail(name, "be an array of real numbers", f"got dtype {arr.dtype}", error=TypeError)
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise fail(name, "be one-dimensional, one entry per source", f"got shape {arr.shape}")
    bad = ~(arr > 0) | ~np.isfinite(arr)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise fail(name, "be finite and > 0", f"{name}[{i}] = {float(arr[i])!r}")
    return arr


def check_counts(x, name):
    """A 1-D array of finite counts >= 0, one per source (fractional counts allowed)."""
    arr = np.atleast_1d(np.asarray(x))
    if arr.dtype.kind not in "iuf":
        raise fail(name, "be an array of counts", f"got dtype {arr.dtype}", error=TypeError)
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if arr.ndim != 1:
        raise fail(name, "be one-dimensional, one count per source", f"got shape {arr.shape}")
    bad = ~(arr >= 0) | ~np.isfinite(arr)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise fail(name, "be finite and >= 0", f"{name}[{i}] = {float(arr[i])!r}")
    return arr


def check_same_length(a, b, name_a, name_b):
    """Two per-source arrays of the same shape."""
    if a.shape != b.shape:
        raise fail(f"{name_a} and {name_b}", "have one entry per source each",
                   f"{name_a} has {a.size} and {name_b} has {b.size}")


def check_beta_prior(prior):
    """A Beta prior: a pair (alpha0, beta0) of numbers > 0."""
    try:
        a0, b0 = prior
    except (TypeError, ValueError):
        raise fail("prior", "be a pair (alpha0, beta0) of numbers > 0", f"got {prior!r}", error=TypeError) from None
    return tuple(float(x) for x in check_positive_array([a0, b0], "prior"))


def check_rng(seed):
    """A numpy Generator, given one or a seed for a new one (None: fresh entropy)."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(check_seed(seed))


def check_sequence_per_source(x, name):
    """A non-empty sequence with one entry (itself a sequence) per source."""
    if isinstance(x, (str, bytes)) or not hasattr(x, "__len__"):
        raise fail(name, "be a sequence with one sequence per source", f"got {type(x).__name__}", error=TypeError)
    if len(x) == 0:
        raise fail(name, "have at least one source", "got none")
    return x


def check_vote_matrix(votes):
    """Votes (n_tasks, n_sources) of +1, -1 and 0 (no vote), as float64."""
    arr = np.asarray(votes)
    if arr.dtype.kind not in "iuf":
        raise fail("votes", "be an array of +1, -1 and 0 (no vote)", f"got dtype {arr.dtype}", error=TypeError)
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if arr.ndim != 2 or arr.size == 0:
        raise fail("votes", "have shape (n_tasks, n_sources), both >= 1", f"got shape {arr.shape}")
    bad = (arr != 1) & (arr != -1) & (arr != 0)
    if bad.any():
        j, i = np.argwhere(bad)[0]
        raise fail("votes", "contain only +1, -1 and 0 (no vote)", f"votes[{j}, {i}] = {float(arr[j, i])!r}")
    return arr


def check_real_matrix(x, name, n_columns=None, columns="columns"):
    """A non-empty 2-D array of finite real numbers (with ``n_columns`` columns, if given), as float64."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "iuf":
        raise fail(name, "be an array of real numbers", f"got dtype {arr.dtype}", error=TypeError)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise fail(name, "be two-dimensional with at least one row", f"got shape {arr.shape}",
                   "Give one row per example; reshape a single example with x.reshape(1, -1).")
    if n_columns is not None and arr.shape[1] != n_columns:
        raise fail(name, f"have {n_columns} {columns}", f"got shape {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        more = f" ({int(bad.sum()) - 1} more)" if bad.sum() > 1 else ""
        raise fail(name, "be finite (no NaN or inf)", f"{name}[{i}, {j}] = {float(arr[i, j])!r}{more}")
    return arr


def check_fraction_upto_one(x, name):
    """A real number in (0, 1]."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise fail(name, "be a real number in (0, 1]", f"got {x!r}", error=TypeError)
    if not 0.0 < x <= 1.0:
        raise fail(name, "lie in (0, 1]", f"got {name} = {float(x)!r}")
    return float(x)


def check_nonnegative_real(x, name):
    """A finite real number >= 0."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise fail(name, "be a real number >= 0", f"got {x!r}", error=TypeError)
    if not (np.isfinite(x) and x >= 0):
        raise fail(name, "be a finite real number >= 0", f"got {name} = {float(x)!r}")
    return float(x)


def plain(x):
    """A numpy scalar as the Python value it holds, for messages (NumPy 2 prints np.int64(7) otherwise)."""
    return x.item() if isinstance(x, np.generic) else x
