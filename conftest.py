"""pytest settings shared by the unit tests (`pytest tests`) and the notebook tests (`pytest --nbval-lax solutions`)."""

import os
from pathlib import Path

import pytest

# progress bars write run-dependent text (and widget ids) into outputs; notebook kernels inherit this environment
os.environ["MIALAB_PROGRESS"] = "0"

ROOT = Path(__file__).resolve().parent

# the course-pipeline fixture notebooks are inputs of tests/test_release.py, not notebooks to validate with nbval
collect_ignore_glob = ["tests/fixtures/*"]


def pytest_configure(config):
    config.addinivalue_line("markers",
                            "notebook: runs whole notebooks in a kernel (slow); deselect with -m 'not notebook'")
    option = config.option
    if getattr(option, "nbval", False) or getattr(option, "nbval_lax", False):
        # the same notebook tests however nbval is called: this environment's kernel, the course's sanitizers
        if not option.nbval_kernel_name:
            option.nbval_current_env = True
        if not option.nbval_sanitize_with:
            option.nbval_sanitize_with = str(ROOT / "tests" / "nbval_sanitize.cfg")


# tests whose every parameter runs a whole notebook: each parameter is a work unit of its own, so the workers share
# them (the fixture's parameter stays with its file: the crafted submissions' tests share its autograding)
WHOLE_NOTEBOOK_TESTS = (
    "tests/test_grading.py::test_nbgrader_gives_the_solution_full_marks_and_the_untouched_student_notebook_zero[",
    "tests/test_release.py::test_student_notebook_fails_only_at_each_blank_exercises_check_with_not_done[",
)


@pytest.hookimpl(optionalhook=True, tryfirst=True)  # a pytest-xdist hook: ignored where xdist is not installed
def pytest_xdist_make_scheduler(config, log):
    """`make test` runs `pytest -n 2 --dist loadfile`: a test file, or a notebook's cells, runs on one worker, in
    order (its module fixtures are built once), except the tests above, whose parameters are spread out."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling  # here: only under pytest-xdist

    class FilesAndNotebookRuns(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return FilesAndNotebookRuns(config, log)


def work_unit(nodeid: str) -> str:
    """The work unit of a test under `make test`: its file (a notebook for nbval's cells), or the test itself for
    one parameter of WHOLE_NOTEBOOK_TESTS."""
    if nodeid.startswith(WHOLE_NOTEBOOK_TESTS) and not nodeid.endswith("[fixture]"):
        return nodeid
    return nodeid.split("::", 1)[0]
