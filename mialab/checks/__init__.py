"""Immediate feedback for exercises: a pass line, or what is wrong plus a hint (never the solution).

Each notebook's checks live in `mialab.checks.nbNN`. A check calls the student's function on small
known cases first, then (optionally) on the notebook's real data. It prints one line on success and
raises `NotDoneError` / `CheckError` (both AssertionError, so nbgrader counts them as a failed test)
otherwise; IPython shows either as its message alone, without a traceback.

A student stuck on an exercise of notebooks 00-13 may put `func = use_reference("2.3")` in the exercise cell:
the check then says ⏭ (skipped) without raising, so Run All goes on, and grading gives the exercise 0
(see mialab.answers).

`call_student` (and so `run_cases`) runs the student's function the way the hidden tests do: in a separate
Python process (mialab.checks._process), one per function, reused across the cases of a check, with the
references blocked that the check blocks (`with mialab._reference.blocked(...)` around the calls). So a ✅ and
the graded result agree, a function that calls the blocked reference is told so at once, and the function's
warnings are shown as part of the feedback instead of reaching stderr (which nbgrader would count as a failure).
"""

from __future__ import annotations

import functools
import re
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable


from .._reference import ReferenceBlocked, blocked
from .compare import compare
from .registry import _METRICS, _MLLEAKS, _NB05, _SHADOW, EXERCISES  # noqa: F401 (hidden.py imports the tuples)

NOT_DONE = "is not done yet"

# the package's references an exercise's function may not call: its row of the registry (mialab.checks.registry),
# blocked while it runs in the notebook check and in the hidden test alike (so a ✅ never grades 0), and absent
# from the sandbox's copy of mialab when it is graded
BLOCKS = {row.id: row.blocks for row in EXERCISES if row.blocks}
_NUMBER = re.compile(r"Exercise (\d+\.\d+)")
SKIPPED = ("skipped with the reference: the rest of the notebook runs, and this exercise scores 0 when it is "
           "graded")


def exercise_number(exercise: str) -> str | None:
    """ "Exercise 2.3 (a threshold ...)" -> "2.3" (None for a label without a number)."""
    found = _NUMBER.match(str(exercise))
    return found.group(1) if found else None


def answer_key(number: str) -> str:
    """The blocking key of an exercise's reference answer in mialab.answers: "2.3" -> "answers.ex_2_3"."""
    return "answers.ex_" + str(number).replace(".", "_")


def blocks_for(exercise: str) -> tuple[str, ...]:
    """The references blocked while the student's function of `exercise` (a label or "2.3") runs."""
    number = exercise_number(exercise) or str(exercise)
    if not re.fullmatch(r"\d+\.\d+", number):
        return ()
    return (*BLOCKS.get(number, ()), answer_key(number))


class _Feedback(AssertionError):
    """A check's ❌ or ⏳: an AssertionError (nbgrader counts it as a failed test) that IPython shows as its message
    alone, without a traceback into mialab.checks (IPython calls `_render_traceback_` for the lines to show)."""

    def _render_traceback_(self) -> list[str]:
        return str(self).splitlines()


class NotDoneError(_Feedback):
    """The exercise still holds the blank `raise NotImplementedError()`."""


class CheckError(_Feedback):
    """The student's answer is wrong; the message says how and gives a hint."""


def _in_ipython() -> bool:
    """True in an IPython kernel or shell, which shows a raised _Feedback as its message."""
    ipython = sys.modules.get("IPython")
    return getattr(ipython, "get_ipython", lambda: None)() is not None if ipython else False


def _say(text: str) -> None:
    """Print feedback that is about to be raised, unless IPython will show it (once) as the error's own text."""
    if not _in_ipython():
        print(text)


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
    _say(text)
    raise CheckError(text) from None


def _compare(got, expected, tol: float) -> str | None:
    """None when `got` matches `expected`, else a short description of the difference (mialab.checks.compare)."""
    return compare(got, expected, atol=tol)


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
    _say(text)
    raise NotDoneError(text) from None


def call_student(exercise: str, func: Callable, *args, **kwargs):
    """Call the student's function in its own process (as grading does); turn a blank exercise, a crash, a blocked
    reference, a time or memory limit into a clear message."""
    __tracebackhide__ = True
    if not callable(func):
        _fail(exercise, f"expected a function, got {type(func).__name__}.",
              "pass the function itself, without calling it: check(my_function), not check(my_function()).")
    with blocked(*blocks_for(exercise)):  # as the hidden test blocks them
        return _call_blocked(exercise, func, *args, **kwargs)


def _call_blocked(exercise: str, func: Callable, *args, **kwargs):
    __tracebackhide__ = True
    from ._process import ChildStopped, check_session  # a light module, imported here to keep the import order

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
        if "`answers." in str(error):
            _fail(exercise, "your function calls the reference answer of this exercise (use_reference), which "
                            "grading blocks: graded, this exercise would score 0.",
                  f"to skip the exercise, pass use_reference(\"{exercise_number(exercise)}\") itself to the check; "
                  "to score, write the computation yourself.")
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
    -> (result, rows). The function asked and its counter stay in this process; the student's function, in its own
    process, gets a stub that forwards each query here."""
    __tracebackhide__ = True
    from ._process import Counted
    args = list(args)
    counter = args[position] = Counted(args[position])
    return call_student(exercise, func, *args, **kwargs), counter.rows


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


def use_reference(exercise: str) -> Callable:
    """The package's reference answer to an exercise of notebooks 00-13 ("2.3"), to put in place of your function
    when you are stuck: the notebook check then says the exercise was skipped and the notebook runs on, but the
    exercise scores 0 when it is graded."""
    from .. import answers  # deferred: the answers are loaded only for a student who asks for one

    number = str(exercise).strip()
    func = getattr(answers, "ex_" + number.replace(".", "_"), None) if re.fullmatch(r"\d+\.\d+", number) else None
    if func is None:
        known = ", ".join(name[3:].replace("_", ".") for name in vars(answers) if name.startswith("ex_"))
        raise ValueError(f"use_reference: there is no reference answer for exercise {exercise!r}; pass the "
                         f"exercise's number as a string, one of {known}.")
    return func


def skippable(exercise: str) -> Callable:
    """Decorate a notebook check: given the reference from use_reference, it says ⏭ (skipped, 0 points when
    graded) instead of checking, and returns without raising so that Run All goes on."""
    number = exercise_number(exercise)

    def decorate(check: Callable) -> Callable:
        @functools.wraps(check)
        def wrapper(func, *args, **kwargs):
            __tracebackhide__ = True
            key = getattr(func, "__mialab_reference__", None)
            if isinstance(key, str) and key.startswith("answers."):
                if key != answer_key(number):
                    _fail(exercise, f"this is the reference answer of exercise {key[11:].replace('_', '.')}, "
                                    "not of this one.", f'write use_reference("{number}") for this exercise.')
                print(f"⏭ {exercise}: {SKIPPED}.")
                return None
            return check(func, *args, **kwargs)
        return wrapper
    return decorate


def require(condition: bool, exercise: str, message: str, hint: str) -> None:
    """Fail with `message` and `hint` unless `condition` holds."""
    __tracebackhide__ = True
    if not condition:
        _fail(exercise, message, hint)


# the grading module, from this package's own file, before any notebook code can plant another under its name
# (this runs once, when the notebook first imports its checks); in a kernel it watches the check cells
sys.modules.pop(__name__ + ".grading", None)
from . import grading as _grading  # noqa: E402,F401
