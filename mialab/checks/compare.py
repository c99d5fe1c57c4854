"""The one comparison of a student's answer with the expected one, for notebook checks and hidden tests alike.

Strict where a wrong answer could slip through (a scalar for an array, an empty or transposed array, a NaN, a float
where a whole number is asked, an object array), tolerant where a right answer differs only in representation
(a list, a pandas object, a 0-d array, float32 arithmetic: the tolerance is `atol + rtol * |expected|`).
"""

from __future__ import annotations

import numbers

import numpy as np

RTOL = 1e-5  # float32 sums of a few thousand terms stay well inside this; a wrong formula does not
FLOAT32_SCALE = 1e-5  # a float32 answer's absolute tolerance, relative to the largest expected value


def _as_array(got):
    """The student's answer as a NumPy array, or None when it is not numbers (strings, objects, ragged lists)."""
    if isinstance(got, (str, bytes, dict, set)) or got is None:
        return None
    try:
        array = np.asarray(got)
    except Exception:  # noqa: BLE001 (a ragged list, an object that refuses)
        return None
    if array.dtype.kind not in "biuf":
        return None
    return array


def _kind(expected: np.ndarray) -> str:
    return {"b": "bool", "i": "int", "u": "int"}.get(expected.dtype.kind, "float")


def _what(got) -> str:
    shape = getattr(got, "shape", None)
    return type(got).__name__ + ("" if shape is None else f" of shape {tuple(shape)}")


def compare(got, expected, atol: float = 1e-6, rtol: float = RTOL) -> str | None:
    """None when `got` matches `expected`, else what is wrong, in words for the student (never the expected value).

    `expected` is a bool, a number or an array; `got` must have its shape (a scalar for a scalar), a compatible kind
    (True/False for bool; a whole number for int; any real number for float), finite values where `expected` is
    finite, and values within `atol + rtol * |expected|`."""
    if isinstance(expected, (bool, np.bool_)):
        if not isinstance(got, (bool, np.bool_)) and not (isinstance(got, np.ndarray) and got.shape == ()
                                                           and got.dtype == bool):
            return f"returned {_what(got)}, expected True or False"
        return None if bool(got) == bool(expected) else f"returned {bool(got)}, expected {not bool(got)}"
    want = np.asarray(expected)
    if want.dtype.kind not in "biuf":
        raise TypeError(f"compare: expected must be a bool, a number or an array of numbers, got {want.dtype}.")
    array = _as_array(got)
    scalar = want.ndim == 0
    if array is None:
        wanted = "a single number" if scalar else f"an array of numbers of shape {want.shape}"
        return f"returned {_what(got)}, expected {wanted}"
    if scalar and array.ndim != 0:
        return f"returned an array of shape {array.shape}, expected a single number"
    if not scalar and array.shape != want.shape:
        return f"returned shape {array.shape}, expected shape {want.shape}"
    kind = _kind(want)
    if kind == "bool" and array.dtype.kind != "b":
        return f"returned {array.dtype} values, expected True/False (bool) values"
    if kind == "int":
        if array.dtype.kind not in "iu" and not (scalar and isinstance(got, numbers.Integral)
                                                 and not isinstance(got, bool)):
            return (f"returned {'a ' + array.dtype.name if scalar else array.dtype.name + ' values'}, expected "
                    f"{'a whole number (int)' if scalar else 'whole numbers (an int array)'}")
    if kind == "bool":
        wrong = int((array != want).sum())
        return None if wrong == 0 else f"gives {wrong} of {want.size} entries wrong"
    got_f, want_f = array.astype(float), want.astype(float)
    if array.dtype.kind == "f" and array.dtype.itemsize < 8:  # float32 arithmetic: cancellation at the array's scale
        atol = max(atol, FLOAT32_SCALE * float(np.nanmax(np.abs(want_f), initial=0.0)))
    bad = np.isfinite(want_f) & ~np.isfinite(got_f)
    if bad.any():
        return (f"returned {got_f.item() if scalar else 'non-finite values'} (NaN or infinity)"
                f"{'' if scalar else f' in {int(bad.sum())} of {want.size} places'}, expected a finite number")
    off = ~np.isclose(got_f, want_f, atol=atol, rtol=rtol, equal_nan=True)
    if not off.any():
        return None
    if scalar:
        return f"returned {got_f.item():.4g}, which is not the expected value"
    return f"gives {int(off.sum())} of {want.size} values that differ from the expected ones"


__all__ = ["RTOL", "compare"]
