"""Immediate feedback for exercises: a pass line, or what is wrong plus a hint (never the solution).

Each notebook's checks live in `mialab.checks.nbNN`. A check calls the student's function on small
known cases first, then (optionally) on the notebook's real data. It prints one line on success and
raises `NotDoneError` / `CheckError` (both AssertionError, so nbgrader counts them as a failed test)
otherwise.

`call_student` (and so `run_cases`) runs the student's function the way the hidden tests do: in a separate
Python process (mialab.checks._process), one per function, reused across the cases of a check, with the
references blocked that the check blocks (`with mialab._reference.blocked(...)` around the calls). So a ✅ and
the graded result agree, a function that calls the blocked reference is told so at once, and the function's
warnings are shown as part of the feedback instead of reaching stderr (which nbgrader would count as a failure).
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .._reference import ReferenceBlocked

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
            of_shape = "" if shape is None else f" of shape {shape}"
            return f"returned {type(got).__name__}{of_shape}, expected a single number"
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


def _show(exercise: str, session) -> None:
    """Print what the student's function printed and the warnings it gave (once each), as part of the feedback."""
    for text in session.output:
        print(text, end="" if text.endswith("\n") else "\n")
    session.output.clear()
    shown = getattr(session, "shown", set())
    for text in session.warnings:
        if text not in shown:
            print(f"⚠️ {exercise}: your function warned: {text} (shown here, not as an error: decide whether "
                  "it matters)")
            shown.add(text)
    session.shown = shown


def _not_done(exercise: str):
    """The exercise still holds `raise NotImplementedError()`: say so (⏳) and raise NotDoneError."""
    __tracebackhide__ = True
    text = (f"⏳ {exercise} {NOT_DONE}: replace `raise NotImplementedError()` in the exercise cell "
            "with your code, run that cell, then run this check again.")
    print(text)
    raise NotDoneError(text) from None


def call_student(exercise: str, func: Callable, *args, **kwargs):
    """Call the student's function in its own process (as grading does); turn a blank exercise, a crash, a blocked
    reference, a time or memory limit into a clear message."""
    __tracebackhide__ = True
    from ._process import ChildStopped, check_session  # a light module, imported here to keep the import order

    if not callable(func):
        _fail(exercise, f"expected a function, got {type(func).__name__}.",
              "pass the function itself, without calling it: check(my_function), not check(my_function()).")
    session, item = check_session(func)
    try:
        try:
            handle = session.handle(item, exercise)
            return session.call(handle.id, args, kwargs, exercise)
        finally:
            _show(exercise, session)
    except NotImplementedError:
        _not_done(exercise)
    except ReferenceBlocked as error:
        _fail(exercise, f"your function calls mialab's own implementation of this exercise, which grading blocks "
                        f"(graded, this exercise would score 0): {error}",
              "write the computation yourself, with NumPy.")
    except ChildStopped as stop:
        if stop.kind == "start":  # this machine cannot start the process: check here, in the notebook
            print(f"(note: {stop.what}; checking in the notebook instead)", file=sys.stdout)
            return _call_here(exercise, func, *args, **kwargs)
        _fail(exercise, stop.what + ".", "run your function on a tiny input in a new cell to see what it does.")
    except Exception as error:  # the student's code crashed: say where, briefly
        _fail(exercise, f"your function raised {type(error).__name__}: {error}",
              "run your function on a tiny input in a new cell to see where it goes wrong.")


def call_counting(exercise: str, func: Callable, position: int, *args, **kwargs):
    """call_student, and count the rows the student's function asks of args[position] (a function it is given)
    -> (result, rows). The counting runs where the student's function runs."""
    __tracebackhide__ = True
    from ._counting import counted_call
    return call_student(exercise, counted_call, func, position, *args, **kwargs)


def _call_here(exercise: str, func: Callable, *args, **kwargs):
    __tracebackhide__ = True
    with warnings.catch_warnings(record=True) as caught:
        try:
            return func(*args, **kwargs)
        except NotImplementedError:
            _not_done(exercise)
        except Exception as error:
            _fail(exercise, f"your function raised {type(error).__name__}: {error}",
                  "run your function on a tiny input in a new cell to see where it goes wrong.")
        finally:
            for text in dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught):
                print(f"⚠️ {exercise}: your function warned: {text}")


def run_cases(exercise: str, func: Callable, cases: list[Case]) -> int:
    """Run the small known cases; stop at the first wrong one with its hint. Returns the number passed."""
    __tracebackhide__ = True
    for case in cases:
        got = call_student(exercise, func, *case.args, **case.kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # comparing a NaN or an odd shape: the message says what is wrong
            problem = _compare(got, case.expected, case.tol)
        if problem:
            _fail(exercise, f"on {case.description}, your function {problem}.", case.hint)
    return len(cases)


def explicit_hints(hints: dict[str, str]) -> Callable[[str], None]:
    """A notebook's hint(exercise) function: it prints the explicit hint for an exercise on request, e.g. hint("0.1")
    (learntools' pattern: the check's own hint teaches the idea, this one comes close to the line)."""
    def hint(exercise: str) -> None:
        """Print a second, more explicit hint for an exercise of this notebook, e.g. hint("4.1")."""
        key = str(exercise).strip()
        if key not in hints:
            print(f"No hint for {key!r}: the exercises of this notebook are {', '.join(hints)}.")
            return
        print(f"💡 Exercise {key}: {hints[key]}")
    return hint


def passed(exercise: str, detail: str = "") -> None:
    """Print the pass line (checked by nbval). Returns None, so a notebook cell shows only that line."""
    print(f"✅ {exercise}: correct{'' if not detail else ' — ' + detail}.")


def require(condition: bool, exercise: str, message: str, hint: str) -> None:
    """Fail with `message` and `hint` unless `condition` holds."""
    __tracebackhide__ = True
    if not condition:
        _fail(exercise, message, hint)


# the grading module, from this package's own file, before any notebook code can plant another under its name
# (this runs once, when the notebook first imports its checks); in a kernel it watches the check cells
sys.modules.pop(__name__ + ".grading", None)
from . import grading as _grading  # noqa: E402,F401
