"""The hidden part of a graded check cell. A check cell ends with

    ### BEGIN HIDDEN TESTS
    from mialab.checks.grading import graded_outside  # graded after the notebook has run, outside it
    graded_outside("0.1")
    ### END HIDDEN TESTS

which nbgrader removes from the student's notebook and puts back when it autogrades. The verdict is not made here:
mialab.course.verdict (installed by the course's nbgrader_config.py) captures the student's function from the
kernel after the notebook has run, runs the exercise's hidden test (mialab.checks.hidden*) in nbgrader's process
with the student's function in a sandbox, and writes the verdict as the cell's only output. Nothing the kernel
prints, raises or displays reaches a score. `graded_outside` itself does nothing, except under an autograde that
lacks that step, where it fails the cell.
"""

from __future__ import annotations

import os

from . import _Feedback, _say


class HiddenTestFailed(_Feedback):
    """A hidden test failed; the message names the exercise, never the inputs or the expected values (shown alone,
    without a traceback, like a check's ❌)."""


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


__all__ = ["HiddenTestFailed", "graded_outside"]
