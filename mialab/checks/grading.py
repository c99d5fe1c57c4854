"""Run a hidden test on pristine code: fresh copies of mialab's modules, loaded from their files for this test.

A graded check cell ends with its hidden tests, which nbgrader removes from the student notebook and puts back
when it autogrades:

    ### BEGIN HIDDEN TESTS
    from mialab.checks.grading import hidden_test
    hidden_test("nb00", "membership_advantage", membership_advantage)
    ### END HIDDEN TESTS

`hidden_test` loads `mialab.checks.hidden` (or `mialab.checks.hidden_nb00`, where a notebook has its own file)
and every mialab module it uses afresh from the package's files, under a private name, so code in the notebook
that redefined a check function, replaced `mialab.checks.hidden.test_...` or a reference such as
`mialab.metrics.advantage`, changes nothing here. While the student's function runs, the references the test
names are blocked (`mialab._reference`), in the notebook's copy of mialab and in the fresh one. This module's
own attributes cannot be reassigned. What this does not stop is said in docs/instructor_guide.md.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import secrets
import sys
import types
from contextlib import contextmanager
from pathlib import Path

from .. import _reference as _guard

_PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the mialab package these files belong to
_NOTEBOOK = re.compile(r"nb\d\d")


class HiddenTestFailed(AssertionError):
    """A hidden test failed; the message names the exercise, never the inputs or the expected values."""


@contextmanager
def pristine_mialab():
    """Within this block, a fresh copy of the mialab package is importable under a private name (yielded).

    Its modules are loaded from the package's files when first imported, and removed from `sys.modules` when
    the block ends. Its reference implementations share the notebook's copy's block list."""
    name = f"_mialab_pristine_{secrets.token_hex(6)}"
    spec = importlib.util.spec_from_file_location(name, _PACKAGE_DIR / "__init__.py",
                                                  submodule_search_locations=[str(_PACKAGE_DIR)])
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    try:
        spec.loader.exec_module(package)
        guard = importlib.import_module(f"{name}._reference")
        guard._blocked = _guard._blocked  # before any reference is defined in the copy
        yield name
    finally:
        for key in [key for key in sys.modules if key == name or key.startswith(name + ".")]:
            del sys.modules[key]


def _hidden_module(package: str, notebook: str):
    own = _PACKAGE_DIR / "checks" / f"hidden_{notebook}.py"
    return importlib.import_module(f"{package}.checks.{own.stem if own.is_file() else 'hidden'}")


def hidden_test(notebook: str, exercise: str, *args, **kwargs) -> None:
    """Run the hidden test `test_<exercise>(*args, **kwargs)` of notebook `notebook` ("nb00") on pristine code.

    Returns None when it passes (and prints nothing, so the solution notebook's stored output does not change).
    Raises HiddenTestFailed, an AssertionError that nbgrader counts as a failed test, when it fails."""
    __tracebackhide__ = True
    if not (isinstance(notebook, str) and _NOTEBOOK.fullmatch(notebook)):
        raise ValueError(f"hidden_test: notebook must be like 'nb00', got {notebook!r}.")
    with pristine_mialab() as package:
        module = _hidden_module(package, notebook)
        test = getattr(module, f"test_{exercise}", None)
        if not callable(test):
            raise LookupError(f"hidden_test: there is no hidden test `test_{exercise}` for {notebook} in "
                              f"mialab/checks/{Path(module.__file__).name}.")
        try:
            test(*args, **kwargs)
        except AssertionError as error:  # CheckError / NotDoneError of the fresh copy
            message = str(error).strip().removeprefix("❌").strip()
            exercise_name, sep, what = message.partition(": ")
            text = f"❌ {exercise_name} failed a hidden test: {what}" if sep else f"❌ Hidden test: {message}"
            print(text)
            raise HiddenTestFailed(text) from None


class _ReadOnlyModule(types.ModuleType):
    """This module: its attributes cannot be reassigned or deleted from a notebook."""

    def __setattr__(self, name, value):
        raise AttributeError(f"mialab.checks.grading.{name} cannot be changed: the hidden tests use this module.")

    def __delattr__(self, name):
        raise AttributeError(f"mialab.checks.grading.{name} cannot be deleted: the hidden tests use this module.")


sys.modules[__name__].__class__ = _ReadOnlyModule

__all__ = ["HiddenTestFailed", "hidden_test", "pristine_mialab"]
