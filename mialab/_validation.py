"""Checks at the public boundary: each names the argument, what was expected, what came, and what to do."""

from __future__ import annotations

import numbers
import os
import warnings

import numpy as np


def _describe(value) -> str:
    if isinstance(value, type):
        return f"the class {value.__name__} itself (pass an instance, for example {value.__name__}(...))"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__}"


def as_array(value, name: str, *, ndim: int | None = None, dtype=float, allow_empty: bool = False,
             allow_strings: bool = False) -> np.ndarray:
    """Turn `value` into a finite NumPy array of `ndim` dimensions, or raise a clear error. Views (reversed ones
    too) come back with non-negative strides and read-only arrays as writable copies, so torch.from_numpy takes
    them without a word; complex numbers are refused."""
    if value is None:
        raise TypeError(f"`{name}` is None; pass a NumPy array (or a list) of numbers.")
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu().numpy()
    if isinstance(value, (type, str, bytes)) or callable(value) and not hasattr(value, "__array__"):
        raise TypeError(f"`{name}` must be an array of numbers; got {_describe(value)}.")
    try:
        if np.iscomplexobj(value):
            raise TypeError(f"`{name}` holds complex numbers; pass real numbers (the imaginary part would be lost).")
        with warnings.catch_warnings():
            warnings.simplefilter("error", np.exceptions.ComplexWarning)
            array = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError, np.exceptions.ComplexWarning) as error:
        if "complex" in str(error):
            raise TypeError(str(error) if str(error).startswith("`") else
                            f"`{name}` holds complex numbers; pass real numbers.") from None
        raise TypeError(
            f"`{name}` must be an array of numbers; got {_describe(value)} that NumPy cannot read as numbers ({error})."
        ) from None
    if np.iscomplexobj(array) or array.dtype.kind in "OUSV" and dtype is None and not allow_strings:
        what = "complex numbers" if np.iscomplexobj(array) else f"values of dtype {array.dtype}"
        raise TypeError(f"`{name}` must hold real numbers; got {what}.")
    if any(stride < 0 for stride in array.strides):   # a reversed view (X[::-1]): torch.from_numpy cannot take it
        array = np.ascontiguousarray(array)
    if not array.flags.writeable:   # torch.from_numpy warns on a read-only array (in a notebook cell): copy it
        array = array.copy()
    if ndim is not None and array.ndim != ndim:
        want = {1: "one value per record, shape (n,)", 2: "a 2-D array, shape (n, k)"}.get(ndim, f"{ndim} dimensions")
        raise ValueError(f"`{name}` must have {want}; got shape {array.shape}.")
    if not allow_empty and array.size == 0:
        raise ValueError(f"`{name}` is empty; pass at least one record.")
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.isfinite(array).sum())
        raise ValueError(f"`{name}` contains {bad} NaN or infinite value(s); remove or fix those records first.")
    return array


def as_scores(scores, name: str = "scores") -> np.ndarray:
    """Membership scores: a finite float array of shape (n,)."""
    return as_array(scores, name, ndim=1, dtype=float)


def as_membership(is_member, name: str = "is_member", *, n: int | None = None, both_classes: bool = True) -> np.ndarray:
    """A boolean membership mask of shape (n,), with members and non-members both present."""
    array = as_array(is_member, name, ndim=1, dtype=None)
    if array.dtype != bool:
        if not np.isin(array, [0, 1]).all():
            raise ValueError(f"`{name}` must be booleans (True = member) or 0/1; got values {np.unique(array)[:5]}.")
        array = array.astype(bool)
    if n is not None and array.shape[0] != n:
        raise ValueError(f"`{name}` has {array.shape[0]} entries but there are {n} scores; pass one entry per record.")
    if both_classes and (array.all() or not array.any()):
        which = "members" if array.all() else "non-members"
        raise ValueError(
            f"`{name}` holds only {which}; membership metrics need both members and non-members. "
            "Evaluate on a set that mixes target-train records with held-out records."
        )
    return array


def as_labels(y, name: str = "y", *, n: int | None = None, n_classes: int | None = None) -> np.ndarray:
    """Integer class labels of shape (n,), in range(n_classes) when that is given."""
    array = as_array(y, name, ndim=1, dtype=None)
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            raise ValueError(f"`{name}` must hold whole-number class labels; got non-integer values.")
    elif not np.issubdtype(array.dtype, np.integer) and array.dtype != bool:
        raise TypeError(f"`{name}` must hold integer class labels; got dtype {array.dtype}.")
    array = array.astype(np.int64)
    if n is not None and array.shape[0] != n:
        raise ValueError(f"`{name}` has {array.shape[0]} labels but there are {n} records; pass one label per record.")
    if array.min() < 0 or (n_classes is not None and array.max() >= n_classes):
        want = "labels >= 0" if n_classes is None else f"labels from 0 to {n_classes - 1} ({n_classes} classes)"
        raise ValueError(f"`{name}` has labels out of range (min {array.min()}, max {array.max()}); expected {want}.")
    return array


def as_proba(probs, name: str = "probs", *, n: int | None = None, atol: float = 1e-3) -> np.ndarray:
    """Class probabilities of shape (n, k): each row non-negative and summing to 1."""
    array = as_array(probs, name, ndim=2, dtype=float)
    if n is not None and array.shape[0] != n:
        raise ValueError(f"`{name}` has {array.shape[0]} rows but there are {n} records; pass one row per record.")
    if (array < 0).any() or (array > 1 + atol).any():
        raise ValueError(f"`{name}` must hold probabilities in [0, 1]; got min {array.min():.3g}, max "
                         f"{array.max():.3g}. If these are logits, apply a softmax first.")
    sums = array.sum(axis=1)
    if not np.allclose(sums, 1.0, atol=atol):
        worst = int(np.argmax(np.abs(sums - 1)))
        raise ValueError(f"each row of `{name}` must sum to 1; row {worst} sums to {sums[worst]:.4g}. "
                         "If these are logits, apply a softmax first.")
    return array


def as_features(X, name: str = "X", *, n: int | None = None) -> np.ndarray:
    """A finite 2-D (or image-shaped) float array of records."""
    array = as_array(X, name, dtype=np.float32)
    if array.ndim < 2:
        raise ValueError(f"`{name}` must have one row per record, shape (n, n_features); got shape {array.shape}. "
                         "For a single record use X[None, :].")
    if n is not None and array.shape[0] != n:
        raise ValueError(f"`{name}` has {array.shape[0]} records but {n} were expected; check that X and y match.")
    return array


def as_path(value, name: str):
    """A filesystem path from a string or os.PathLike; a number, None or anything else is refused by name."""
    from pathlib import Path
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"`{name}` must be a path (a string or pathlib.Path); got {_describe(value)} {value!r}.")
    return Path(value).expanduser()


def check_width(X: np.ndarray, n_features: int, name: str = "X", what: str = "the model") -> np.ndarray:
    """X (n, d) with d == n_features, or a ValueError naming both widths."""
    if X.ndim != 2 or X.shape[1] != n_features:
        got = X.shape[1] if X.ndim == 2 else X.shape[1:]
        raise ValueError(f"`{name}` has {got} features per record but {what} takes {n_features}; pass the same "
                         "columns it was fitted on.")
    return X


def check_bool(value, name: str) -> bool:
    """True or False (NumPy booleans too); anything else, 1 and "yes" included, is refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False; got {value!r}.")
    return bool(value)


def check_positive_int(value, name: str, *, minimum: int = 1) -> int:
    """An integer >= minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}; got {value!r}.")
    return int(value)


# The most of each count a course session can run, and what one of it is: a larger count is refused at once,
# not left to run for days (the notebooks use far fewer).
COUNT_LIMITS = {"epochs": (10**4, "passes over the training data"), "local_epochs": (10**4, "passes over each "
                "client's data"), "rounds": (10**4, "federated rounds, each training every client"),
                "steps": (10**6, "optimisation steps"), "max_iter": (10**6, "descent steps, each a gradient"),
                "n_boot": (10**6, "bootstrap resamples of the data"), "n_models": (10**4, "trained models"),
                "n_shadows": (10**4, "trained shadow models"), "n_sentences": (10**7, "generated sentences")}


def check_count(value, name: str, *, minimum: int = 1) -> int:
    """A count of work (epochs, steps, rounds, ...): an integer >= minimum and at most COUNT_LIMITS[name]."""
    value = check_scalar(value, name, numbers.Integral, low=minimum)
    high, unit = COUNT_LIMITS[name]
    if value > high:
        raise ValueError(f"`{name}` = {value:,} would run {value:,} {unit}: days or more at this course's pace, "
                         f"not a session. Pass at most {high:,} (the notebooks use far fewer).")
    return value


def check_fraction(value, name: str, *, low: float = 0.0, high: float = 1.0, inclusive: bool = False) -> float:
    """A float strictly between low and high (or within them when inclusive)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"`{name}` must be a number between {low} and {high}; got {value!r}.")
    ok = low <= value <= high if inclusive else low < value < high
    if not ok:
        raise ValueError(f"`{name}` must be between {low} and {high}; got {value!r}.")
    return float(value)


def check_choice(value, name: str, choices) -> str:
    """One of a fixed set of strings (a list, an array or a number is refused, not compared)."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"`{name}` must be one of {sorted(choices)}; got {value!r}.")
    return value


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type: a TypeError, and a ValueError too, as the package's older checks raised."""


MAX_SEED = 2**63 - 1  # torch.manual_seed and NumPy both take any seed in [0, 2**63)


def check_seed(random_state, name: str = "random_state") -> int:
    """An integer seed in [0, 2**63): what torch and NumPy both accept, and what a cache key can name."""
    if isinstance(random_state, np.random.Generator):
        raise ArgumentTypeError(f"`{name}` must be an integer seed here (for example 0): a Generator cannot be used "
                                "here, because the seed also names cached results. Draw one with "
                                "int(rng.integers(2**31)) if you hold a Generator.")
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral) \
            or not 0 <= random_state <= MAX_SEED:
        raise ValueError(f"`{name}` must be an integer seed between 0 and 2**63 - 1 (for example 0); got "
                         f"{random_state!r}. The course seeds everything so results repeat.")
    return int(random_state)


def check_random_state(random_state) -> np.random.Generator:
    """A NumPy Generator from an int seed in [0, 2**63) (or a Generator, used as it is)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(check_seed(random_state))


class NotFittedError(ValueError, AttributeError):
    """A method that needs fit() was called before it (like scikit-learn's NotFittedError)."""


def check_is_fitted(estimator, attributes) -> None:
    """Raise NotFittedError unless `estimator` has every attribute in `attributes` (names ending in "_")."""
    names = (attributes,) if isinstance(attributes, str) else tuple(attributes)
    missing = [a for a in names if getattr(estimator, a, None) is None]
    if missing:
        kind = type(estimator).__name__
        raise NotFittedError(f"this {kind} is not fitted yet (no `{missing[0]}`); call {kind}.fit(...) first.")


def check_scalar(value, name: str, kind=numbers.Real, *, low=None, high=None, closed: str = "both",
                 allow_none: bool = False):
    """A finite number of `kind` (numbers.Real or numbers.Integral) within [low, high]; like scikit-learn's
    check_scalar. `closed` says which bounds are allowed: "both", "left", "right" or "neither"."""
    if value is None and allow_none:
        return None
    integral = kind is numbers.Integral or kind is int
    what = "a whole number" if integral else "a number"
    bad_type = isinstance(value, bool) or not isinstance(value, numbers.Integral if integral else numbers.Real)
    if bad_type or (not integral and not np.isfinite(value)):
        raise ArgumentTypeError(f"`{name}` must be {what}{_bounds(low, high, closed)}; got {value!r}.") if bad_type \
            else ValueError(f"`{name}` must be a finite number{_bounds(low, high, closed)}; got {value!r}.")
    too_low = low is not None and (value < low if closed in ("both", "left") else value <= low)
    too_high = high is not None and (value > high if closed in ("both", "right") else value >= high)
    if too_low or too_high:
        raise ValueError(f"`{name}` must be {what}{_bounds(low, high, closed)}; got {value!r}.")
    return int(value) if integral else float(value)


def _bounds(low, high, closed: str) -> str:
    left = "[" if closed in ("both", "left") else "("
    right = "]" if closed in ("both", "right") else ")"
    if low is not None and high is not None:
        return f" in {left}{low}, {high}{right}"
    if low is not None:
        return f" {'>=' if left == '[' else '>'} {low}"
    if high is not None:
        return f" {'<=' if right == ']' else '<'} {high}"
    return ""


def as_bool_mask(mask, name: str, shape=None) -> np.ndarray:
    """A boolean array (0/1 accepted) of the given `shape` (e.g. records x models)."""
    array = as_array(mask, name, dtype=None, allow_empty=True)
    if array.dtype != bool:
        if not np.isin(array, [0, 1]).all():
            raise ValueError(f"`{name}` must hold booleans (True = in / member) or 0/1; got values "
                             f"{np.unique(array)[:5]}.")
        array = array.astype(bool)
    if shape is not None and array.shape != tuple(shape):
        raise ValueError(f"`{name}` must have shape {tuple(shape)}; got {array.shape}.")
    if array.size == 0:
        raise ValueError(f"`{name}` has shape {array.shape}, with nothing in it; pass at least one record and "
                         "one model.")
    return array


def total_memory() -> int:
    """This machine's physical memory in bytes (8 GiB where it cannot be read)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):
        return 8 * 2**30


def check_memory(n_bytes: float, what: str, lower: str) -> None:
    """Refuse, before allocating, a computation that needs more than half of this machine's memory."""
    limit = total_memory() / 2
    if n_bytes > limit:
        raise MemoryError(f"{what} need about {n_bytes / 2**30:,.1f} GiB, more than half of this machine's memory "
                          f"({limit * 2 / 2**30:,.0f} GiB); {lower}.")
