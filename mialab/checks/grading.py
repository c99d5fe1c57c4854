"""Run a hidden test in fresh Python processes: the student's function in one, the test and its expected values
in another; nothing of the notebook's kernel but the function's bytes takes part.

A graded check cell ends with its hidden tests, which nbgrader removes from the student notebook and puts back
when it autogrades:

    ### BEGIN HIDDEN TESTS
    from mialab.checks.grading import hidden_test
    hidden_test("nb00", "membership_advantage", membership_advantage)
    ### END HIDDEN TESTS

`hidden_test` packs the student's function with cloudpickle (by value, with the notebook names it uses) and
starts a grading process (`python -I`, mialab loaded from its files), which runs `test_<exercise>` of
`mialab.checks.hidden` (or `mialab.checks.hidden_nbNN`). There the student's function is a proxy: each call runs in
a child process where the references the test blocks are absent before the student's code is unpickled, and
which returns data only; the expected values are computed and compared in the grading process, which the
student's code never runs in (see mialab.checks._process). So a notebook that patched NumPy, mialab or the checks,
lifted a block, or looks for the expected value in the caller's frame, changes nothing.

In an IPython kernel (nbgrader's), a cell whose source calls `hidden_test(...)` must also have run this module's
`hidden_test` for each of those calls: when it completed without doing so (the notebook replaced this module or
the function), the cell ends with an error and scores 0. What this does not stop is said in
docs/instructor_guide.md.
"""

from __future__ import annotations

import os
import re
import sys
import types
from pathlib import Path

from . import _Feedback, _say
from ._process import run_grader

_NOTEBOOK = re.compile(r"nb\d\d")
_EXERCISE = re.compile(r"[A-Za-z_]\w*")
_CALLS = re.compile(r'^\s*hidden_test\(\s*"(nb\d\d)"\s*,\s*"(\w+)"', re.MULTILINE)
_CHECKS = Path(__file__).resolve().parent


class HiddenTestFailed(_Feedback):
    """A hidden test failed; the message names the exercise, never the inputs or the expected values (shown alone,
    without a traceback, like a check's ❌)."""


class TamperedWithGrading(AssertionError):
    """A check cell completed without running its hidden tests (the notebook replaced the grading code)."""


_ran: list[tuple[str, str]] = []  # (notebook, exercise) of each hidden test run in the current cell


def _hidden_file(notebook: str) -> Path:
    own = _CHECKS / f"hidden_{notebook}.py"
    return own if own.is_file() else _CHECKS / "hidden.py"


def hidden_test(notebook: str, exercise: str, *args, **kwargs) -> None:
    """Run the hidden test `test_<exercise>(*args, **kwargs)` of notebook `notebook` ("nb00") in fresh processes.

    Returns None when it passes (and prints nothing, so the solution notebook's stored output does not change).
    Raises HiddenTestFailed, an AssertionError that nbgrader counts as a failed test, when it fails, also when the
    student's function ran too long, used too much memory, or could not be run in a separate process."""
    __tracebackhide__ = True
    if not (isinstance(notebook, str) and _NOTEBOOK.fullmatch(notebook)):
        raise ValueError(f"hidden_test: notebook must be like 'nb00', got {notebook!r}.")
    if not (isinstance(exercise, str) and _EXERCISE.fullmatch(exercise)):
        raise ValueError(f"hidden_test: exercise must be a name like 'membership_advantage', got {exercise!r}.")
    module = _hidden_file(notebook)
    if f"def test_{exercise}(" not in module.read_text(encoding="utf-8"):
        raise LookupError(f"hidden_test: there is no hidden test `test_{exercise}` for {notebook} in "
                          f"mialab/checks/{module.name}.")
    reply = run_grader(notebook, exercise, args, kwargs)
    _ran.append((notebook, exercise))
    if reply.get("ok"):
        return None
    message = str(reply.get("message", "")).strip().removeprefix("❌").strip()
    exercise_name, sep, what = message.partition(": ")
    text = f"❌ {exercise_name} failed a hidden test: {what}" if sep else f"❌ Hidden test: {message}"
    _say(text)
    raise HiddenTestFailed(text) from None


def graded_outside(exercise: str) -> None:
    """The hidden part of a check cell: the exercise is graded outside this kernel, after the notebook has run, by
    mialab.course.verdict (installed by the course's nbgrader_config.py). Does nothing, except under an autograde
    that lacks that step, where it fails the cell (0 points, and says how to set the course up)."""
    __tracebackhide__ = True
    if os.environ.get("NBGRADER_EXECUTION") == "autograde" and os.environ.get("MIALAB_VERDICT") != "outside":
        text = (f"❌ Exercise {exercise} is graded outside the notebook by mialab's autograde step, which this "
                "nbgrader set-up lacks: create the course with `python -m mialab.course nbgrader-course` "
                "(docs/instructor_guide.md). This cell scores 0.")
        _say(text)
        raise HiddenTestFailed(text)


# ---------------------------------------------------------------- a cell that skipped its hidden tests

def _before_cell(*_):
    _ran.clear()


def _after_cell(result=None):
    """After a cell that completed: each `hidden_test(...)` in its source ran here; an error otherwise."""
    __tracebackhide__ = True
    info = getattr(result, "info", None)
    source = getattr(info, "raw_cell", "") or ""
    if result is None or not getattr(result, "success", False) or "hidden_test" not in source:
        return
    missing = [f"{notebook} {exercise}" for notebook, exercise in _CALLS.findall(source)
               if (notebook, exercise) not in _ran]
    _ran.clear()
    if missing:
        text = (f"❌ The hidden tests of this cell ({', '.join(missing)}) did not run: the notebook changed the "
                "grading code. This cell scores 0.")
        print(text)
        raise TamperedWithGrading(text)


def _watch_cells() -> None:
    """In an IPython kernel, check after each cell that its hidden tests ran (registered once per kernel)."""
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython else None
    events = getattr(shell, "events", None)
    if events is None:
        return
    for event, callback in zip(("pre_run_cell", "post_run_cell"), getattr(shell, "_mialab_watch", ())):
        try:  # the hooks of an earlier copy of this module (mialab.checks reloaded)
            events.unregister(event, callback)
        except ValueError:
            pass
    events.register("pre_run_cell", _before_cell)
    events.register("post_run_cell", _after_cell)
    shell._mialab_watch = (_before_cell, _after_cell)


class _ReadOnlyModule(types.ModuleType):
    """This module: its attributes cannot be reassigned or deleted from a notebook."""

    def __setattr__(self, name, value):
        raise AttributeError(f"mialab.checks.grading.{name} cannot be changed: the hidden tests use this module.")

    def __delattr__(self, name):
        raise AttributeError(f"mialab.checks.grading.{name} cannot be deleted: the hidden tests use this module.")


_watch_cells()
sys.modules[__name__].__class__ = _ReadOnlyModule

__all__ = ["HiddenTestFailed", "TamperedWithGrading", "graded_outside", "hidden_test"]
