"""Every check of user input, and the one message template they share.

Each ``check_*`` validates one argument at the public boundary and returns it in
the form the kernels expect (contiguous float64 arrays, plain Python scalars).
Messages read: ``<name> must <rule>; <what was found>. <what to do>``.
"""

import importlib
import inspect
import itertools
import numbers
import os
import tempfile
import warnings
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence, Sized
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeAlias, TypeVar

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

Number: TypeAlias = float | Fraction
"""A real number that may be exact: a float (or int), or a Fraction."""
Grid: TypeAlias = Mapping[str, Iterable[Any]] | Sequence[Mapping[str, Any]]
"""A sweep's grid: a dict of lists (its Cartesian product) or a list of dicts."""

_T = TypeVar("_T")
_S = TypeVar("_S", bound=str)
_A = TypeVar("_A", bound="np.ndarray[Any, Any]")

PROBABILITY_ROW_ATOL = 1e-6  # a row of predicted probabilities must sum to 1 within this
_Sized = TypeVar("_Sized", bound=Sized)


def fail(name: str, rule: str, found: str, hint: str = "", error: type[Exception] = ValueError) -> Exception:
    """Build the error for argument ``name``: what it must be, what it was, what to do."""
    return error(f"{name} must {rule}; {found}." + (f" {hint}" if hint else ""))


def _entry(name: str, arr: NDArray[np.float64], flat_index: int) -> str:
    index = np.unravel_index(flat_index, arr.shape)
    return f"{name}[{', '.join(str(int(i)) for i in index)}] = {float(arr.flat[flat_index])!r}"


def _first_bad(name: str, arr: NDArray[np.float64], bad: NDArray[np.bool_], rule: str, what: str) -> None:
    if bad.any():
        where = np.flatnonzero(bad)
        more = f" ({where.size - 1} more {what})" if where.size > 1 else ""
        raise fail(name, rule, _entry(name, arr, where[0]) + more)


def _real_array(x: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = np.asarray(x)
    if arr.dtype.kind not in "iuf":
        raise fail(name, "be an array of real numbers", f"got dtype {arr.dtype}", error=TypeError)
    return np.ascontiguousarray(arr, dtype=np.float64)


def _one_per_source(arr: NDArray[np.float64], name: str) -> NDArray[np.float64]:
    if arr.ndim != 1:
        raise fail(name, "be one-dimensional, one entry per source", f"got shape {arr.shape}")
    if arr.size == 0:
        raise fail(name, "have at least one source", "got shape (0,)")
    return arr


def check_probabilities(x: ArrayLike, name: str) -> NDArray[np.float64]:
    """A non-empty 1-D array of probabilities in [0, 1], as contiguous float64."""
    arr = _one_per_source(_real_array(x, name), name)
    if not ((arr >= 0.0) & (arr <= 1.0)).all():  # NaN fails both comparisons
        _first_bad(name, arr, np.isnan(arr), "not be NaN", "entries are NaN")
        _first_bad(name, arr, (arr < 0.0) | (arr > 1.0), "lie in [0, 1]", "entries are out of range")
    return arr


def check_weights(x: ArrayLike, n_sources: int | None = None, name: str = "weights", like: str = "q"
                  ) -> NDArray[np.float64]:
    """A 1-D array of weights (``n_sources`` of them, if given), ``±inf`` allowed, NaN not."""
    arr = _one_per_source(_real_array(x, name), name)
    if n_sources is not None and arr.shape != (n_sources,):
        raise fail(name, f"have one entry per source, like {like}",
                   f"{name} has shape {arr.shape} but {like} has shape ({n_sources},)")
    _first_bad(name, arr, np.isnan(arr), "not be NaN (±inf is allowed)", "entries are NaN")
    return arr


def check_votes(x: ArrayLike, n_sources: int) -> NDArray[np.float64]:
    """Votes of shape (n_sources,) or (n_profiles, n_sources), each +1 or -1, as float64."""
    arr = _real_array(x, "votes")
    if arr.ndim not in (1, 2) or arr.shape[-1] != n_sources:
        raise fail("votes", f"have shape (n_sources,) or (n_profiles, n_sources) with n_sources = {n_sources} "
                   "as in weights", f"got shape {arr.shape}")
    _first_bad("votes", arr, np.abs(arr) != 1.0, "contain only +1 and -1", "entries are invalid")
    return arr


def check_fraction(x: Number, name: str) -> float:
    """A real number strictly between 0 and 1 (a prior, a confidence level)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise fail(name, "be a real number in (0, 1)", f"got {x!r}", error=TypeError)
    if not 0.0 < x < 1.0:
        raise fail(name, "lie strictly between 0 and 1", f"got {name} = {float(x)!r}")
    return float(x)


def check_positive_int(x: int, name: str) -> int:
    """A whole number >= 1 (bool is not accepted)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise fail(name, "be a whole number >= 1", f"got {x!r}", error=TypeError)
    if x < 1:
        raise fail(name, "be a whole number >= 1", f"got {name} = {int(x)}")
    return int(x)


def check_positive_real(x: float, name: str) -> float:
    """A finite real number > 0."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise fail(name, "be a real number > 0", f"got {x!r}", error=TypeError)
    if not (np.isfinite(x) and x > 0):
        raise fail(name, "be a finite real number > 0", f"got {name} = {float(x)!r}")
    return float(x)


def check_choice(x: _S, name: str, choices: Collection[str]) -> _S:
    """One of ``choices`` (strings)."""
    if x not in choices:
        raise fail(name, "be one of " + ", ".join(repr(c) for c in choices), f"got {x!r}")
    return x


def check_seed(seed: int | None) -> int | None:
    """A seed for ``np.random.SeedSequence``: None or a whole number >= 0."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise fail("seed", "be None or a whole number >= 0", f"got {seed!r}", error=TypeError)
    if seed < 0:
        raise fail("seed", "be None or a whole number >= 0", f"got seed = {int(seed)}")
    return int(seed)


def check_positive_array(x: ArrayLike, name: str) -> NDArray[np.float64]:
    """A 1-D array, one finite number > 0 per source (Beta parameters)."""
    arr = np.atleast_1d(np.asarray(x))
    if arr.dtype.kind not in "iuf":
        raise fail(name, "be an array of real numbers", f"got dtype {arr.dtype}", error=TypeError)
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise fail(name, "be one-dimensional, one entry per source", f"got shape {arr.shape}")
    _first_bad(name, arr, ~(arr > 0) | ~np.isfinite(arr), "be finite and > 0", "entries are invalid")
    return arr


def check_counts(x: ArrayLike, name: str) -> NDArray[np.float64]:
    """A 1-D array of finite counts >= 0, one per source (fractional counts allowed)."""
    arr = np.atleast_1d(np.asarray(x))
    if arr.dtype.kind not in "iuf":
        raise fail(name, "be an array of counts", f"got dtype {arr.dtype}", error=TypeError)
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if arr.ndim != 1:
        raise fail(name, "be one-dimensional, one count per source", f"got shape {arr.shape}")
    _first_bad(name, arr, ~(arr >= 0) | ~np.isfinite(arr), "be finite and >= 0", "entries are invalid")
    return arr


def check_same_length(a: NDArray[Any], b: NDArray[Any], name_a: str, name_b: str) -> None:
    """Two per-source arrays of the same shape."""
    if a.shape != b.shape:
        raise fail(f"{name_a} and {name_b}", "have one entry per source each",
                   f"{name_a} has {a.size} and {name_b} has {b.size}")


def check_beta_prior(beta_prior: tuple[float, float]) -> tuple[float, float]:
    """A Beta prior: a pair (alpha0, beta0) of numbers > 0."""
    try:
        a0, b0 = beta_prior
    except (TypeError, ValueError):
        raise fail("beta_prior", "be a pair (alpha0, beta0) of numbers > 0", f"got {beta_prior!r}",
                   error=TypeError) from None
    alpha0, beta0 = check_positive_array([a0, b0], "beta_prior")  # two entries, else it raised
    return float(alpha0), float(beta0)


def renamed(value: _T, old_value: _T | None, name: str, old_name: str) -> _T:
    """The value of the parameter ``name``, formerly ``old_name``: the old name, when passed (``old_value`` not None),
    is accepted for one release with a FutureWarning and takes precedence."""
    if old_value is None:
        return value
    warnings.warn(f"{old_name}= is renamed {name}= and will be removed in the next release; pass {name}= instead.",
                  FutureWarning, stacklevel=3)
    return old_value


def check_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A numpy Generator, given one or a seed for a new one (None: fresh entropy)."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(check_seed(seed))


def check_sequence_per_source(x: _Sized, name: str) -> _Sized:
    """A non-empty sequence with one entry (itself a sequence) per source."""
    if isinstance(x, (str, bytes)) or not hasattr(x, "__len__"):
        raise fail(name, "be a sequence with one sequence per source", f"got {type(x).__name__}", error=TypeError)
    if len(x) == 0:
        raise fail(name, "have at least one source", "got none")
    return x


def check_vote_matrix(votes: ArrayLike) -> NDArray[np.float64]:
    """Votes (n_tasks, n_sources) of +1, -1 and 0 (no vote), as float64."""
    arr = np.asarray(votes)
    if arr.dtype.kind not in "iuf":
        raise fail("votes", "be an array of +1, -1 and 0 (no vote)", f"got dtype {arr.dtype}", error=TypeError)
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if arr.ndim != 2 or arr.size == 0:
        raise fail("votes", "have shape (n_tasks, n_sources), both >= 1", f"got shape {arr.shape}")
    _first_bad("votes", arr, (arr != 1) & (arr != -1) & (arr != 0), "contain only +1, -1 and 0 (no vote)",
               "entries are invalid")
    return arr


def check_real_matrix(x: ArrayLike, name: str, n_columns: int | None = None, columns: str = "columns"
                      ) -> NDArray[np.float64]:
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
    _first_bad(name, arr, ~np.isfinite(arr), "be finite (no NaN or inf)", "entries are not finite")
    return arr


def check_probability_rows(x: ArrayLike, name: str, shape: tuple[int | None, ...], like: str = "") -> NDArray[np.float64]:
    """Predicted probabilities of the given shape (None: any positive length): finite, in [0, 1], and each
    row along the last axis summing to 1 within ``PROBABILITY_ROW_ATOL``. ``like`` says what fixes a length."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "iuf":
        raise fail(name, "be an array of real numbers", f"got dtype {arr.dtype}", error=TypeError)
    if arr.ndim != len(shape) or 0 in arr.shape:
        raise fail(name, f"be {len(shape)}-dimensional and not empty", f"got shape {arr.shape}")
    for axis, (got, want) in enumerate(zip(arr.shape, shape)):
        if want is not None and got != want:
            raise fail(name, f"have length {want} along axis {axis}" + (f", {like}" if like else ""),
                       f"got shape {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    _first_bad(name, arr, ~np.isfinite(arr), "be finite (no NaN or inf)", "entries are not finite")
    outside = (arr < 0.0) | (arr > 1.0)
    if outside.any():
        raise fail(name, "hold probabilities in [0, 1]", _entry(name, arr, int(np.flatnonzero(outside)[0])))
    sums = arr.sum(axis=-1)
    off = np.abs(sums - 1.0) > PROBABILITY_ROW_ATOL
    if off.any():
        row = np.unravel_index(int(np.flatnonzero(off)[0]), sums.shape)
        raise fail(name, f"have rows that sum to 1 (within {PROBABILITY_ROW_ATOL:g})",
                   f"row {', '.join(str(int(i)) for i in row)} sums to {float(sums[row]):.12g}")
    return arr


def check_frequencies(x: ArrayLike, name: str, n_labels: int) -> NDArray[np.float64]:
    """Label frequencies: one per label, in [0, 1], summing to 1 within ``PROBABILITY_ROW_ATOL``."""
    pi = check_probabilities(x, name)
    if pi.shape != (n_labels,) or abs(pi.sum() - 1.0) > PROBABILITY_ROW_ATOL:
        raise fail(name, f"hold {n_labels} label frequencies summing to 1", f"got {pi.tolist()}")
    return pi


def check_fraction_upto_one(x: float, name: str) -> float:
    """A real number in (0, 1]."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise fail(name, "be a real number in (0, 1]", f"got {x!r}", error=TypeError)
    if not 0.0 < x <= 1.0:
        raise fail(name, "lie in (0, 1]", f"got {name} = {float(x)!r}")
    return float(x)


def check_nonnegative_real(x: float, name: str) -> float:
    """A finite real number >= 0."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise fail(name, "be a real number >= 0", f"got {x!r}", error=TypeError)
    if not (np.isfinite(x) and x >= 0):
        raise fail(name, "be a finite real number >= 0", f"got {name} = {float(x)!r}")
    return float(x)


def plain(x: object) -> object:
    """A numpy scalar as the Python value it holds, for messages (NumPy 2 prints np.int64(7) otherwise)."""
    return x.item() if isinstance(x, np.generic) else x


def check_at_most_sources(n: int, most: int, name: str, purpose: str = "", hint: str = "") -> None:
    """At most ``most`` sources for an algorithm with a size limit (``purpose`` says which)."""
    if n > most:
        raise fail(name, f"have at most {most} sources{purpose}", f"got n = {n}", hint)


def check_open_probabilities(x: ArrayLike, name: str) -> NDArray[np.float64]:
    """Probabilities strictly between 0 and 1 (finite log-odds), as ``check_probabilities`` returns them."""
    arr = check_probabilities(x, name)
    _first_bad(name, arr, (arr <= 0.0) | (arr >= 1.0), "lie strictly between 0 and 1 here", "entries are 0 or 1")
    return arr


def check_finite_weights(x: ArrayLike, most: int) -> NDArray[np.float64]:
    """Weights, all finite (an infinite weight decides alone), at most ``most`` of them."""
    arr = check_weights(x)
    _first_bad("weights", arr, ~np.isfinite(arr), "be finite here (an infinite weight decides alone)",
               "entries are infinite")
    check_at_most_sources(arr.size, most, "weights", " here")
    return arr


def check_sizes(x: ArrayLike) -> NDArray[np.float64]:
    """A non-empty 1-D list of finite numbers >= 0 (perturbation sizes), as float64."""
    arr = np.atleast_1d(np.asarray(x))
    if arr.dtype.kind not in "iuf":
        raise fail("sizes", "be a list of numbers", f"got dtype {arr.dtype}", error=TypeError)
    arr = arr.astype(float)
    if arr.ndim != 1 or arr.size == 0 or not (np.isfinite(arr) & (arr >= 0)).all():
        raise fail("sizes", "be a non-empty list of finite numbers >= 0", f"got {arr.tolist()!r}")
    return arr


def check_bounds_options(method: str, resolution: int | None, width: float | None) -> tuple[int | None, float | None]:
    """``resolution`` and ``width`` only with ``method='bounds'``, and not both; returns them checked."""
    if method != "bounds" and (resolution is not None or width is not None):
        raise fail("resolution and width", "be given only with method='bounds'", f"got method={method!r}")
    if resolution is not None and width is not None:
        raise fail("resolution and width", "not both be given", "choose a resolution or a target width")
    return (None if resolution is None else check_positive_int(resolution, "resolution"),
            None if width is None else check_positive_real(width, "width"))


def check_instance(x: _T, name: str, kinds: type | tuple[type, ...], what: str) -> _T:
    """``x`` is one of the classes ``kinds`` (``what`` names them for the message)."""
    if not isinstance(x, kinds):
        raise fail(name, f"be {what}", f"got {type(x).__name__}", error=TypeError)
    return x


def check_same_shape(x: _A, shape: tuple[int, ...], name: str, rule: str, found: str) -> _A:
    """``x.shape == shape``, else the message ``<name> must <rule>; <found>``."""
    if x.shape != shape:
        raise fail(name, rule, found)
    return x


def check_signs(x: ArrayLike, n: int, name: str, like: str) -> NDArray[np.float64]:
    """A 1-D array of ``n`` entries, each +1 or -1 (true labels of binary tasks), as float64."""
    arr = np.asarray(x, dtype=np.float64)
    check_same_shape(arr, (n,), name, f"have one entry per task, like the rows of {like}",
                     f"{name} has shape {arr.shape} and {like} has {n} rows")
    _first_bad(name, arr, ~np.isin(arr, (-1.0, 1.0)), "contain only +1 and -1", "entries are invalid")
    return arr


def check_records(successes: ArrayLike, failures: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Track records with at least one observation each: (successes, failures) as float64 arrays."""
    s, f = check_counts(successes, "successes"), check_counts(failures, "failures")
    check_same_length(s, f, "successes", "failures")
    if ((s + f) == 0).any():
        i = int(np.flatnonzero((s + f) == 0)[0])
        raise fail("successes + failures", "be > 0 for the maximum-likelihood trust", f"source {i} has no record")
    return s, f


def check_discrete_model(support: Sequence[Iterable[Number]], probabilities: Sequence[Iterable[Number]],
                         total: Callable[[list[Number]], Number]) -> tuple[list[list[Number]], list[list[Number]]]:
    """A discrete law per source: support in [0, 1], probabilities >= 0 summing to 1 (``total`` sums exactly)."""
    support_lists = [list(s) for s in check_sequence_per_source(support, "support")]
    probability_lists = [list(p) for p in check_sequence_per_source(probabilities, "probabilities")]
    if len(support_lists) != len(probability_lists):
        raise fail("support and probabilities", "have one entry per source each",
                   f"support has {len(support_lists)} and probabilities has {len(probability_lists)}")
    for i, (s, p) in enumerate(zip(support_lists, probability_lists)):
        if len(s) != len(p) or not s:
            raise fail(f"support[{i}] and probabilities[{i}]", "be non-empty and of the same length",
                       f"got {len(s)} and {len(p)}")
        for j, x in enumerate(s):
            if not 0 <= x <= 1:
                raise fail("support", "lie in [0, 1]", f"support[{i}][{j}] = {x!r}")
        for j, x in enumerate(p):
            if not x >= 0:  # NaN fails too
                raise fail("probabilities", "be >= 0 and not NaN", f"probabilities[{i}][{j}] = {x!r}")
        sum_p = total(p)
        if (sum_p != 1) if isinstance(sum_p, Fraction) else abs(sum_p - 1.0) > 1e-12:
            raise fail("probabilities", "sum to 1 for each source", f"probabilities[{i}] sums to {sum_p!r}")
    return support_lists, probability_lists


def check_grid(grid: Grid) -> list[dict[str, Any]]:
    """A sweep's grid: a dict of lists (its Cartesian product) or a list of dicts; returns the configurations."""
    if isinstance(grid, dict):
        for name, values in grid.items():
            if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
                raise fail("grid", "map each parameter to a list of values", f"{name!r} maps to {values!r}",
                           error=TypeError)
        configs = [dict(zip(grid, combo)) for combo in itertools.product(*(list(v) for v in grid.values()))]
    elif isinstance(grid, (list, tuple)) and all(isinstance(c, dict) for c in grid):
        configs = [dict(c) for c in grid]
    else:
        raise fail("grid", "be a dict of lists or a list of dicts", f"got {type(grid).__name__}", error=TypeError)
    if not configs or configs == [{}]:
        raise fail("grid", "have at least one configuration", "it has none (no parameter, or an empty list of values)")
    return configs


def check_sweep_names(function: Callable[..., Any], configs: Iterable[Mapping[str, Any]]) -> None:
    """``function`` takes a ``seed`` keyword, and the configurations name only its parameters, never ``seed``."""
    parameters = inspect.signature(function).parameters
    any_keyword = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    if "seed" not in parameters and not any_keyword:
        raise fail("function", "accept a seed keyword argument", f"{function.__name__} has none")
    for config in configs:
        if "seed" in config:
            raise fail("grid", "not set 'seed'", "the sweep gives every configuration its own seed")
        unknown = [] if any_keyword else sorted(set(config) - set(parameters))
        if unknown:
            raise fail("grid", f"name only parameters of {function.__name__}", f"unknown: {', '.join(unknown)}",
                       f"Accepted: {', '.join(p for p in parameters if p != 'seed')}.")


def check_sweep_result(function: Callable[..., Any], config: Mapping[str, Any], result: object) -> dict[Any, Any]:
    """What a swept function returned: a dict whose keys are not the configuration's names nor ``seed``."""
    if not isinstance(result, dict):
        raise fail(f"{function.__name__}", "return a dict of results", f"got {type(result).__name__}",
                   error=TypeError)
    clash = sorted(set(result) & (set(config) | {"seed"}))
    if clash:
        raise fail(f"{function.__name__}", "not return keys named like the configuration or 'seed'",
                   f"got {', '.join(clash)}")
    return result


def check_writable_folder(folder: str | os.PathLike[str]) -> Path:
    """Create ``folder`` if needed and check that files can be written in it; returns it as a Path.

    Examples
    --------
    >>> import tempfile
    >>> check_writable_folder(tempfile.mkdtemp()).is_dir()
    True
    """
    folder = Path(folder)
    blocker = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise fail("the results folder", "be a folder that can be written", f"{str(blocker)!r} is a file",
                   "Choose another folder.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise fail("the results folder", "be a folder that can be written", f"{str(folder)!r}: {error.strerror}",
                   "Choose another folder.") from None
    return folder


def check_fitted(obj: object, attribute: str, what: str, call: str) -> None:
    """``obj`` has been fitted (it has the public ``attribute`` that fitting sets), else a RuntimeError saying to
    ``call`` first."""
    if not hasattr(obj, attribute):
        raise fail(what, "be fitted first", f"{attribute} is not set", f"Call {call} first.", error=RuntimeError)


def check_vote_frame(frame: pd.DataFrame, columns: Mapping[str, str]) -> pd.DataFrame:
    """A non-empty DataFrame with the ``columns`` (role -> name) and no missing value; returns those columns."""
    check_instance(frame, "votes", pd.DataFrame, "a pandas DataFrame")
    for role, name in columns.items():
        if name not in frame.columns:
            raise fail("votes", f"have a {role} column named {name!r}",
                       f"its columns are {', '.join(map(repr, frame.columns))}", f"Pass {role}=... to name it.")
    if frame.empty:
        raise fail("votes", "have at least one vote", "the table is empty")
    table = frame[list(columns.values())]
    for name in columns.values():
        dtype = table[name].dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "iub":  # numpy integers cannot be missing (Int64 can)
            continue
        missing = table[name].isna().to_numpy()
        if missing.any():
            count = int(missing.sum())
            raise fail("votes", f"have no missing {name!r}", f"row {plain(table.index[missing.argmax()])!r} has none",
                       f"{count} row{'s' if count > 1 else ''} in all; drop or fill them first.")
    return table


def check_one_vote_each(drop: NDArray[np.bool_], table: pd.DataFrame, task: str, worker: str) -> None:
    """No repeated (task, worker) vote: ``drop`` marks the repeats found in ``table``."""
    if drop.any():
        k, count = int(drop.argmax()), int(drop.sum())  # each column read alone: a row would upcast its ids
        raise fail("votes", "have one vote per (task, worker)",
                   f"worker {plain(table[worker].iloc[k])!r} voted more than once on task {plain(table[task].iloc[k])!r} "
                   f"({count} repeated vote{'s' if count > 1 else ''} in all)",
                   "Pass duplicates='first' or 'last' to keep one.")


def check_sortable(labels: pd.Index, name: str) -> NDArray[np.intp]:
    """The distinct ``labels`` of column ``name`` can be sorted (not, e.g., numbers mixed with strings); returns the
    order that sorts them."""
    try:
        return np.argsort(labels, kind="stable")
    except TypeError:
        kinds = sorted({type(x).__name__ for x in labels})
        raise fail("votes", f"have labels of one kind that can be sorted in column {name!r}",
                   f"got {', '.join(kinds)}", "Convert the labels to one type first.", error=TypeError) from None


def check_gold_frame(gold: pd.DataFrame, task: str, label: str, labels: Iterable[Any]) -> pd.Series:
    """A gold table: a DataFrame with the task and label columns, nothing missing, one label per task, only ``labels``.

    Returns the task -> label Series (exact repeats dropped).
    """
    check_instance(gold, "gold", pd.DataFrame, "a pandas DataFrame")
    for name in (task, label):
        if name not in gold.columns:
            raise fail("gold", f"have a column named {name!r}", f"its columns are {', '.join(map(repr, gold.columns))}")
    table = gold[[task, label]].drop_duplicates()
    for name in (task, label):
        missing = table[name].isna().to_numpy()
        if missing.any():
            where = f"row {plain(table.index[missing.argmax()])!r}" if name == task else \
                f"task {plain(table[task].iloc[missing.argmax()])!r}"
            raise fail("gold", f"have no missing {name}", f"{where} has none "
                       f"({int(missing.sum())} row{'s' if missing.sum() > 1 else ''} in all)", "Drop or fill it first.")
    twice = table[task].duplicated(keep=False).to_numpy()
    if twice.any():
        first = plain(table[task].iloc[twice.argmax()])
        both = table[label][(table[task] == first).to_numpy()]
        count = table[task][twice].nunique()
        raise fail("gold", "give each task one label",
                   f"task {first!r} has {' and '.join(repr(plain(x)) for x in both)} ({count} task{'s' if count > 1 else ''} "
                   "in all)", "Drop the conflicting rows.")
    truth = table.set_index(task)[label]
    unused = sorted(set(truth) - set(labels), key=str)
    if unused:
        raise fail("gold", "use only labels that some worker used", f"{unused!r} never appear in the votes")
    return truth


def check_gold_covers(n_gold: NDArray[np.float64], workers: pd.Index) -> None:
    """Every worker has a gold vote (``no_gold='error'``)."""
    if (n_gold == 0).any():
        raise fail("gold", "cover every worker when no_gold='error'",
                   f"worker {plain(workers[(n_gold == 0).argmax()])!r} has no gold vote",
                   "Pass no_gold='prior' to give such workers the prior.")


def check_gold_given(gold: pd.DataFrame | None, what: str) -> None:
    """A gold table was passed: ``what`` cannot do without one."""
    if gold is None:
        raise fail("gold", f"be given for {what}", "got None", "Pass a table of known truths.")


def check_has_gold(known: int, what: str) -> None:
    """Some task of the votes has a gold label (``known`` of them do); ``what`` needs it."""
    if known == 0:
        raise fail("gold", f"be given for {what}", "no task of the votes has a gold label",
                   "Pass a table of known truths.")


def check_restarts_in_memory(source: object, memory: type[_T]) -> _T:
    """``restarts`` start EM from random posteriors of every task: the votes must be in memory (a pandas table)."""
    if not isinstance(source, memory):
        raise fail("restarts", "be 0 when the votes are a dask DataFrame", "got restarts > 0",
                   "Random restarts draw a posterior for every task in memory; fit a pandas table to use them.")
    return source


def check_dask_votes(votes: Any, columns: Mapping[str, str], duplicates: str) -> Any:
    """A dask DataFrame of votes with the ``columns`` (role -> name), fitted with ``duplicates='error'``."""
    for role, name in columns.items():
        if name not in votes.columns:
            raise fail("votes", f"have a {role} column named {name!r}",
                       f"its columns are {', '.join(map(repr, votes.columns))}", f"Pass {role}=... to name it.")
    if duplicates != "error":
        raise fail("duplicates", "be 'error' when the votes are a dask DataFrame", f"got {duplicates!r}",
                   "A dask table has no row order to keep the first or last vote by; drop repeats before.")
    return votes


def check_vote_values(missing: pd.Series) -> None:
    """No missing value in the vote columns: ``missing`` counts them per column."""
    if missing.any():
        name = missing.index[int(np.argmax(missing.to_numpy() > 0))]
        count = int(missing[name])
        raise fail("votes", f"have no missing {name!r}", f"{count} row{'s' if count > 1 else ''} have none",
                   "Drop or fill them first.")


def check_in_memory_fit(in_memory: bool, what: str) -> None:
    """``what`` needs an aggregator fitted on a pandas table."""
    if not in_memory:
        raise fail(what, "be asked of an aggregator fitted on a pandas table", "this one was fitted on a dask DataFrame",
                   "Fit a pandas table (a sample of the votes, say) for the summary.")


def check_trust_source(trust: str | pd.Series) -> None:
    """``WeightedMajorityVote``'s trust: 'em', 'one-coin', 'gold' or a Series of trust by worker."""
    if not isinstance(trust, pd.Series) and trust not in ("em", "one-coin", "gold"):
        raise fail("trust", "be 'em', 'one-coin', 'gold' or a pandas Series indexed by worker", f"got {trust!r}")


def check_given_trust(trust: pd.Series, workers: pd.Index) -> NDArray[np.float64]:
    """A Series of trust in [0, 1] with an entry for every worker; returns it over ``workers`` as float64."""
    missing = workers.difference(trust.index)
    if len(missing):
        raise fail("trust", "have an entry for every worker who voted", f"none for {[plain(w) for w in missing[:5]]!r}"
                   + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""))
    t = trust.reindex(workers).to_numpy(dtype=float)
    bad = ~((t >= 0) & (t <= 1))
    if bad.any():
        raise fail("trust", "lie in [0, 1]", f"trust[{plain(workers[bad.argmax()])!r}] = {float(t[bad.argmax()])!r}")
    return t


def check_nonnegative_int(x: int, name: str) -> int:
    """A whole number >= 0 (bool is not accepted)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Integral) or x < 0:
        raise fail(name, "be a whole number >= 0", f"got {x!r}")
    return int(x)


def check_folds(folds: int) -> int:
    """Folds for cross-fitting: a whole number >= 2."""
    if check_positive_int(folds, "folds") < 2:
        raise fail("folds", "be a whole number >= 2 (cross-fitting needs a fold to learn from)", f"got {folds!r}")
    return int(folds)


def check_no_missing(arr: _A, name: str) -> _A:
    """No missing entry (None, NaN) in an array of labels."""
    missing = pd.isna(arr)
    if missing.any():
        where = np.unravel_index(missing.argmax(), arr.shape)
        raise fail(name, "have no missing labels", f"{name}[{', '.join(map(str, where))}] is missing")
    return arr


def check_label_matrix(x: ArrayLike, name: str = "votes") -> NDArray[Any]:
    """A non-empty 2-D matrix of labels (n_examples, n_members) without missing entries."""
    arr = np.asarray(x)
    if arr.ndim != 2 or 0 in arr.shape:
        raise fail(name, "be a 2-D matrix of predictions (n_examples, n_members) with at least one entry",
                   f"got shape {arr.shape}")
    return check_no_missing(arr, name)


def check_labels(y: ArrayLike, n: int, known: ArrayLike | None = None) -> NDArray[Any]:
    """True labels ``y``: one per example (``n``), none missing, and (with ``known``) only labels seen at fit."""
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n:
        raise fail("y", "hold one label per example", f"y has shape {y.shape} for {n} examples")
    check_no_missing(y, "y")
    if known is not None:
        unknown = ~np.isin(y, known)
        if unknown.any():
            raise fail("y", "use the labels seen at fit", f"y[{int(unknown.argmax())}] = {plain(y[unknown.argmax()])!r}")
    return y


def check_predictions(votes: NDArray[Any], n_members: int, known: ArrayLike) -> None:
    """Member predictions at prediction time: the members seen at fit, and only labels seen at fit."""
    if votes.shape[1] != n_members:
        raise fail("X", f"hold the predictions of the {n_members} members seen at fit", f"got {votes.shape[1]} columns")
    unknown = ~np.isin(votes, known)
    if unknown.any():
        i, j = np.unravel_index(unknown.argmax(), votes.shape)
        raise fail("X", "use the labels seen at fit", f"prediction [{i}, {j}] = {plain(votes[i, j])!r}")


def check_signal_matrix(x: ArrayLike, shape: tuple[int, ...]) -> NDArray[np.float64]:
    """Signal values, one finite real number per example and member (``shape``), as float64."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "iuf":
        raise fail("signal", "be real numbers", f"got dtype {arr.dtype}", error=TypeError)
    if arr.shape != shape:
        raise fail("signal", "have one value per example and member, like the votes",
                   f"signal has shape {arr.shape}, the votes {shape}")
    arr = np.ascontiguousarray(arr, dtype=float)
    _first_bad("signal", arr, ~np.isfinite(arr), "be finite", "entries are not finite")
    return arr


def check_signal_option(signal: str | Callable[..., Any] | None, members: Sequence[Any] | None,
                        given: ArrayLike | None, known: Collection[str]) -> None:
    """Where the ensemble's signal comes from: the members (``signal`` None, 'confidence' or a callable) or the
    caller (values ``given`` without members); ``known`` names the built-in signals."""
    if members is None:
        if signal is not None:
            raise fail("signal", "be None without members", f"got {signal!r}",
                       "Pass the signal values to fit, predict and belief as signal=.")
        return
    if given is not None:
        raise fail("signal", "be computed from the members when they are given", "got signal values",
                   "Set TrustEnsemble(members, signal=...) instead.")
    if signal is not None and not callable(signal) and signal not in known:
        raise fail("signal", "be None, 'confidence' or a callable signal(member, X)", f"got {signal!r}")


def check_signal_given_alike(values: NDArray[np.float64] | None, fitted: NDArray[np.float64] | None) -> None:
    """Signal values at prediction exactly when they were given at fit."""
    if (values is None) != (fitted is None):
        raise fail("signal", "be given at prediction exactly when it was given at fit",
                   "got " + ("none" if values is None else "signal values"))


def check_exact_method(method: str, n: int, costs: Mapping[str, float], max_sources: Mapping[str, int],
                       lattice_max_support: int) -> None:
    """An exact ``method`` that applies to these ``n`` sources (``costs`` holds the ones that do), else an error
    naming the ones that do, cheapest first."""
    if method in costs:
        return
    works = [f"method={m!r}" for m in sorted(costs, key=costs.__getitem__)]  # as costs.get, typed as a sort key
    hint = "Use " + ", ".join(works + ["method='bounds' (a certified interval)", "or accuracy_mc (an estimate)"]) + "."
    if method == "lattice":
        raise fail("weights", f"be integer multiples of one step for method='lattice', with under "
                   f"{lattice_max_support} lattice points", "these are not", hint)
    if method == "auto":
        raise fail("q", f"have at most {max_sources['mitm']} sources with finite weight, or weights on a lattice, "
                   "for an exact method", f"got n = {n} and weights on no lattice", hint)
    raise fail("q", f"have at most {max_sources[method]} sources with finite weight for method={method!r}",
               f"got n = {n}", hint)


def check_lattice_size(n_points: int, resolution: int, max_points: int) -> None:
    """The bounds' lattice at this ``resolution`` has fewer than ``max_points`` points."""
    if n_points >= max_points:
        raise fail("resolution", f"keep the lattice under {max_points} points",
                   f"resolution = {resolution} gives {n_points} for these weights", "Use a smaller resolution.")


def check_model_method(method: str, model: object, kind: type[_T], others: str) -> _T:
    """``method`` applies to a trust model of class ``kind`` only; ``others`` names the alternatives. Returns it."""
    if not isinstance(model, kind):
        raise fail("method", f"be {method!r} only for a {kind.__name__}", f"got a {type(model).__name__}",
                   f"Use {others}.")
    return model


def check_grid_size(method: str, n_points: int, max_points: int, rule: str, found: str, hint: str) -> None:
    """A deterministic grid of ``n_points`` for ``method`` within ``max_points``."""
    if n_points > max_points:
        raise fail(f"method={method!r}", rule, found, hint)


def check_reachable(m: int | None, max_observations: int, loss: Callable[[int], float], criterion: str) -> int:
    """The search for the observations needed found ``m`` (None: not within ``max_observations``, where the
    ``loss`` is still too large)."""
    if m is None:
        raise fail("epsilon", f"be reachable within max_observations = {max_observations}",
                   f"the {criterion} is still {loss(max_observations):.3g} there", "Raise max_observations or epsilon.")
    return m


def check_callable(f: _T, name: str, rule: str) -> _T:
    """A callable ``f``, else a TypeError saying it must ``rule``."""
    if not callable(f):
        raise fail(name, rule, f"got {type(f).__name__}", error=TypeError)
    return f


def check_two_classes(classes: _A) -> _A:
    """At least two distinct labels in ``y`` (``classes``: its distinct values) to learn from."""
    if len(classes) < 2:
        raise fail("y", "contain at least two classes", f"got only {classes.tolist()!r}")
    return classes


def check_enough_rows(X: _Sized, least: int, purpose: str, hint: str) -> _Sized:
    """``X`` has at least ``least`` rows for ``purpose``."""
    if len(X) < least:
        raise fail("X", f"have at least {least} rows for {purpose}", f"got {len(X)}", hint)
    return X


# ---------------------------------------------------------------- Parquet input (pyarrow is optional: imported here)


def check_pyarrow(name: str, path: str | os.PathLike[str], action: str = "read") -> None:
    """pyarrow can be imported to read (or write: ``action``) the Parquet ``path`` given as ``name``; else an
    ImportError saying how to install it."""
    try:
        for module in ("pyarrow", "pyarrow.dataset", "pyarrow.parquet"):
            importlib.import_module(module)
    except ImportError as error:
        raise fail(name, f"be {action} with pyarrow, as {os.fspath(path)!r} is Parquet",
                   f"pyarrow cannot be imported ({error})",
                   'Install it: pip install "wmvtrust[dask]" (or pip install pyarrow).', error=ImportError) from None


def check_parquet_path(path: str | os.PathLike[str], name: str) -> Path:
    """An existing Parquet file or folder ``path`` (given as ``name``), as a Path; else a FileNotFoundError."""
    path = Path(path)
    if not path.exists():
        raise fail(name, "name an existing Parquet file or folder", f"{str(path)!r} does not exist", "Check the path.",
                   error=FileNotFoundError)
    return path


def check_parquet_files(files: list[Path], folder: Path, name: str) -> list[Path]:
    """The data ``files`` found in ``folder`` are not none."""
    if not files:
        raise fail(name, "name a Parquet file or a folder holding one",
                   f"the folder {str(folder)!r} holds no data file (names starting with '.' or '_' are skipped)",
                   "Check the path.")
    return files


def check_parquet_columns(found: Iterable[str], columns: Mapping[str, str], name: str, where: str | os.PathLike[str],
                          hint: str) -> None:
    """The Parquet file or folder ``where`` has the ``columns`` (role -> name); ``found`` are its columns.

    ``hint`` may hold ``{role}``, the role of the missing column.
    """
    found = list(found)
    for role, column in columns.items():
        if column not in found:
            raise fail(name, f"have a {role} column named {column!r}",
                       f"the columns of {os.fspath(where)!r} are {', '.join(map(repr, found))}",
                       hint.format(role=role))


def check_parquet_readable(read: Callable[[], _T], file: str | os.PathLike[str], name: str, hint: str) -> _T:
    """``read()``, which reads the Parquet ``file``; an error of pyarrow's becomes a ValueError naming the file."""
    arrow_error = importlib.import_module("pyarrow").ArrowException
    try:
        return read()
    except (OSError, arrow_error) as error:
        reason = str(error).replace(f"Could not open Parquet input source '{os.fspath(file)}': ", "")
        raise fail(name, "be readable Parquet",
                   f"{os.fspath(file)!r} cannot be read: {' '.join(reason.split()).rstrip('.')}", hint) from None
