"""Immediate feedback for exercises: a pass line, or what is wrong plus a hint (never the solution).

Each notebook's checks live in `mialab.checks.nbNN`. A check calls the student's function on small
known cases first, then (optionally) on the notebook's real data. It prints one line on success and
raises `NotDoneError` / `CheckError` (both AssertionError, so nbgrader counts them as a failed test)
otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

NOT_DONE = "is not done yet"


class NotDoneError(AssertionError):
    """The exercise still holds the blank `raise NotImplementedError()`."""


class CheckError(AssertionError):
    """The student's answer is wrong; the message says how and gives a hint."""


@dataclass
class Case:
    """One known input, the expected output, and the hint shown when the answer differs."""

    description: str
    args: tuple
    expected: Any
    hint: str
    kwargs: dict = field(default_factory=dict)
    tol: float = 1e-6


def _fail(exercise: str, message: str, hint: str | None = None):
    __tracebackhide__ = True
    text = f"❌ {exercise}: {message}"
    if hint:
        text += f"\n   Hint: {hint}"
    print(text)
    raise CheckError(text) from None


def _compare(got, expected, tol: float) -> str | None:
    """None when `got` matches `expected`, else a short description of the difference."""
    if isinstance(expected, (bool, np.bool_)):
        if not isinstance(got, (bool, np.bool_)):
            return f"returned {type(got).__name__}, expected True or False"
        return None if bool(got) == bool(expected) else f"returned {got}, expected {expected}"
    if np.isscalar(expected):
        try:
            value = float(got)
        except (TypeError, ValueError):
            shape = getattr(got, "shape", None)
            return f"returned {type(got).__name__}{'' if shape is None else f' of shape {shape}'}, expected a single number"
        if np.ndim(got) != 0:
            return f"returned an array of shape {np.shape(got)}, expected a single number"
        if not np.isfinite(value):
            return f"returned {value}, expected a finite number"
        return None if abs(value - float(expected)) <= tol else f"returned {value:.4g}, expected a different value"
    expected = np.asarray(expected)
    try:
        got_array = np.asarray(got, dtype=expected.dtype if expected.dtype != object else None)
    except (TypeError, ValueError):
        return f"returned {type(got).__name__}, expected an array of shape {expected.shape}"
    if got_array.shape != expected.shape:
        return f"returned shape {got_array.shape}, expected shape {expected.shape}"
    if expected.dtype == bool:
        wrong = int((got_array != expected).sum())
        return None if wrong == 0 else f"{wrong} of {expected.size} entries are wrong"
    if not np.allclose(got_array.astype(float), expected.astype(float), atol=tol, rtol=0):
        wrong = int((~np.isclose(got_array.astype(float), expected.astype(float), atol=tol, rtol=0)).sum())
        return f"{wrong} of {expected.size} values differ from the expected ones"
    return None


def call_student(exercise: str, func: Callable, *args, **kwargs):
    """Call the student's function; turn a blank exercise or a crash into a clear message."""
    __tracebackhide__ = True
    if not callable(func):
        _fail(exercise, f"expected a function, got {type(func).__name__}.",
              "pass the function itself, without calling it: check(my_function), not check(my_function()).")
    try:
        return func(*args, **kwargs)
    except NotImplementedError:
        text = (f"⏳ {exercise} {NOT_DONE}: replace `raise NotImplementedError()` in the exercise cell "
                "with your code, run that cell, then run this check again.")
        print(text)
        raise NotDoneError(text) from None
    except Exception as error:  # the student's code crashed: say where, briefly
        _fail(exercise, f"your function raised {type(error).__name__}: {error}",
              "run your function on a tiny input in a new cell to see where it goes wrong.")


def run_cases(exercise: str, func: Callable, cases: list[Case]) -> int:
    """Run the small known cases; stop at the first wrong one with its hint. Returns the number passed."""
    __tracebackhide__ = True
    for case in cases:
        got = call_student(exercise, func, *case.args, **case.kwargs)
        problem = _compare(got, case.expected, case.tol)
        if problem:
            _fail(exercise, f"on {case.description}, your function {problem}.", case.hint)
    return len(cases)


def passed(exercise: str, detail: str = "") -> None:
    """Print the pass line (checked by nbval). Returns None, so a notebook cell shows only that line."""
    print(f"✅ {exercise}: correct{'' if not detail else ' — ' + detail}.")


def require(condition: bool, exercise: str, message: str, hint: str) -> None:
    """Fail with `message` and `hint` unless `condition` holds."""
    __tracebackhide__ = True
    if not condition:
        _fail(exercise, message, hint)
