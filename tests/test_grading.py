"""Grading: hidden tests in fresh processes (the student's function in a child, the test in a grading process),
the nbgrader course layout, the gradebook export, and real nbgrader end to end (generate_assignment, autograde,
export) for every notebook, with crafted submissions on the fixture: the cheats of issue 12, an honest answer
that warns, one that uses its own helpers.

The end-to-end tests (marked `notebook`) share one course directory with its own SQLite gradebook; each
notebook is autograded once, for all its students together, when a test first needs its grades. Each real
notebook is graded twice (its solution and its blank student notebook), the fixture for every crafted
submission (a few minutes: each check cell starts a child for the notebook's check and two processes for its
hidden test).
"""

from __future__ import annotations

import ast
import copy
import csv
import re
import sys
import time
import warnings
from pathlib import Path

import nbformat
import numpy as np
import pytest

import mialab.checks.hidden
import mialab.metrics
from mialab import _reference as _guard
from mialab.checks.grading import HiddenTestFailed
from _course import hidden_test, nbgrader
from mialab.course import release
from mialab.course.grading import (CONFIG_MARKER, course_config, export_grades, guide_table, make_course,
                                   notebook_points, points_table)

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS, NOTEBOOKS = ROOT / "solutions", ROOT / "notebooks"
FIXTURES = ROOT / "tests" / "fixtures" / "solutions"
FIXTURE = FIXTURES / "99_fixture.ipynb"
GUIDE = ROOT / "docs" / "instructor_guide.md"
COURSE = sorted(SOLUTIONS.glob("*.ipynb"))
EVERY = [FIXTURE] + COURSE
IDS = ["fixture"] + [path.stem for path in COURSE]
FIXTURE_TIMEOUT = 30  # seconds per cell when the fixture is autograded: its slowest cell takes about 2 s (idle)
CHILD_TIMEOUT = 5  # seconds per call of the student's function when the fixture is autograded


def _advantage(scores, is_member):
    thresholds = np.unique(scores)[:, None]
    return float(max(0.0, ((scores[is_member] >= thresholds).mean(1) - (scores[~is_member] >= thresholds).mean(1))
                     .max()))


def _constant(scores, is_member):
    return 0.5


# ------------------------------------------------------- hidden tests: the student's function in its own process

def test_hidden_test_passes_a_correct_function_and_prints_nothing(capsys):
    assert hidden_test("nb00", "membership_advantage", _advantage) is None
    assert capsys.readouterr().out == ""


def test_hidden_test_names_the_exercise_but_no_input_or_expected_value():
    with pytest.raises(HiddenTestFailed) as failed:
        hidden_test("nb00", "membership_advantage", _constant)
    message = str(failed.value)
    assert message.startswith("❌ Exercise 0.1 failed a hidden test: your function gives a wrong answer on fresh "
                              "inputs drawn at grading time")
    # the student's own answer (0.5) may be named; no input, no expected value: no other number
    assert re.findall(r"\d+\.\d+", message.split("failed a hidden test")[1]) == ["0.5"]
    assert isinstance(failed.value, AssertionError)  # nbgrader counts it as a failed test


def test_hidden_test_says_not_done_for_a_blank_exercise():
    def blank(scores, is_member):
        raise NotImplementedError()

    with pytest.raises(HiddenTestFailed, match="Exercise 0.1 is not done yet"):
        hidden_test("nb00", "membership_advantage", blank)


CALLS = []


def _records_its_calls(scores, is_member):
    CALLS.append(len(scores))
    return _advantage(scores, is_member)


def test_the_students_function_runs_in_another_process():
    """The student's function runs in the sandbox's process, never in the grading one: its side effects stay there."""
    hidden_test("nb00", "membership_advantage", _records_its_calls)
    assert CALLS == []


def _reads_the_callers_frame(scores, is_member):
    frame = sys._getframe(1)
    while frame is not None:
        for value in frame.f_locals.values():
            if isinstance(value, float):
                return value
        frame = frame.f_back
    return 0.0


class _EqualsAnything:
    def __eq__(self, other):
        return True

    def __float__(self):
        return 0.5


def test_the_expected_value_is_out_of_the_students_reach():
    for student in (_reads_the_callers_frame, lambda scores, is_member: _EqualsAnything()):
        with pytest.raises(HiddenTestFailed, match="wrong answer"):
            hidden_test("nb00", "membership_advantage", student)


def _closure_reference(scores, is_member):
    wrapper = mialab.metrics.advantage
    original = wrapper.__closure__[wrapper.__code__.co_freevars.index("func")].cell_contents
    return original(scores, is_member)


_WRAPPER = mialab.metrics.advantage
_ORIGINAL = _WRAPPER.__closure__[_WRAPPER.__code__.co_freevars.index("func")].cell_contents


def _original_taken_here(scores, is_member):  # the unwrapped reference travels by value, as a notebook global
    return _ORIGINAL(scores, is_member)


def _gc_reference(scores, is_member):
    import gc
    found = [obj for obj in gc.get_objects() if callable(obj) and getattr(obj, "__name__", "") == "advantage"
             and getattr(obj, "__module__", "") == "mialab.metrics" and obj is not mialab.metrics.advantage]
    return found[0](scores, is_member)


def _private_helper(scores, is_member):
    return float(mialab.metrics._headline(())(scores, is_member)[1])


def _rebinds(scores, is_member):
    _guard._blocked = {}  # the wrappers hold on to the dict they were made with
    return mialab.metrics.advantage(scores, is_member)


def _clears(scores, is_member):
    _guard._blocked.clear()
    return mialab.metrics.advantage(scores, is_member)


def _reloads(scores, is_member):
    import importlib
    importlib.reload(importlib.import_module("mialab._reference"))
    return importlib.reload(mialab.metrics).advantage(scores, is_member)


@pytest.mark.parametrize("how", ["directly", "by another name", "inside a function", "from its closure",
                                 "found by the garbage collector", "by a private helper", "unwrapped before grading",
                                 "after rebinding the block", "after clearing the block",
                                 "after reloading the modules"])
def test_calling_the_reference_scores_nothing_however_it_is_reached(how, monkeypatch):
    monkeypatch.setattr(_guard, "_blocked", _guard._blocked)  # restored after the test
    student = {"directly": mialab.metrics.advantage,
               "by another name": (lambda s, m, ref=mialab.metrics.advantage: ref(s, m)),
               "inside a function": (lambda s, m: mialab.metrics.advantage(s, m)),
               "from its closure": _closure_reference, "found by the garbage collector": _gc_reference,
               "by a private helper": _private_helper, "unwrapped before grading": _original_taken_here,
               "after rebinding the block": _rebinds,
               "after clearing the block": _clears, "after reloading the modules": _reloads}[how]
    with pytest.raises(HiddenTestFailed, match="Exercise 0.1 failed a hidden test: your function (calls mialab's "
                                               "own implementation|raised)"):
        hidden_test("nb00", "membership_advantage", student)
    assert mialab.metrics.advantage([0.9, 0.1], [True, False]) == 1.0  # untouched here


def _rates(scores, is_member, thresholds):
    return (scores[is_member] >= thresholds).mean(1), (scores[~is_member] >= thresholds).mean(1)


def _uses_a_helper(scores, is_member):
    tpr, fpr = _rates(scores, is_member, np.unique(scores)[:, None])
    return float(max(0.0, (tpr - fpr).max()))


def _warns(scores, is_member):
    np.float64(0.0) / np.float64(0.0)  # a harmless 0/0: RuntimeWarning
    warnings.warn("a warning of the student's own")
    return _advantage(scores, is_member)


def test_a_correct_answer_passes_with_its_own_helpers_and_its_warnings(capsys, recwarn):
    hidden_test("nb00", "membership_advantage", _uses_a_helper)
    hidden_test("nb00", "membership_advantage", _warns)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == "" and not recwarn.list


def test_notebook_checks_run_the_function_in_one_child_and_show_its_warnings_as_feedback(capsys, recwarn):
    from mialab.checks import _process
    from mialab.checks.nb00 import check_membership_advantage

    rng = np.random.default_rng(0)
    is_member = np.arange(100) < 50
    scores = np.round(rng.normal(size=100) + is_member, 2)
    check_membership_advantage(_warns, scores, is_member)
    captured = capsys.readouterr()
    assert captured.err == "" and not recwarn.list
    assert "✅ Exercise 0.1 (membership advantage): correct" in captured.out
    assert captured.out.count("⚠️ Exercise 0.1 (membership advantage): your function warned: RuntimeWarning") == 1
    assert "UserWarning: a warning of the student's own" in captured.out
    session = _process._check["session"]  # the last check's
    pid = session.child.process.pid
    start = time.perf_counter()
    check_membership_advantage(_warns)  # the same function: the same child, small cases only
    assert session.child.process.pid == pid and time.perf_counter() - start < 5
    check_membership_advantage(_uses_a_helper, scores, is_member)
    assert "✅" in capsys.readouterr().out
    _process.close_check_session()


def test_notebook_check_says_when_the_function_calls_the_blocked_reference(capsys):
    from mialab.checks import CheckError
    from mialab.checks.nb00 import check_membership_advantage

    with pytest.raises(CheckError, match="calls mialab's own implementation of this exercise, which grading blocks"):
        check_membership_advantage(lambda s, m: mialab.metrics.advantage(s, m))
    assert "`metrics.advantage` is the reference answer" in capsys.readouterr().out


def _loops(scores, is_member):
    while True:
        pass


def _eats_memory(scores, is_member):
    return float(np.ones(2 ** 31).sum())  # 16 GiB


def test_time_and_memory_limits_stop_the_function_and_name_the_exercise(monkeypatch):
    from mialab.checks import CheckError
    from mialab.checks.nb00 import check_membership_advantage

    monkeypatch.setenv("MIALAB_CHECK_TIMEOUT", "2")
    monkeypatch.setenv("MIALAB_CHECK_MEMORY_GIB", "1")
    with pytest.raises(HiddenTestFailed, match=r"Exercise 0.1 failed a hidden test: your function ran longer than 2 s"):
        hidden_test("nb00", "membership_advantage", _loops)
    with pytest.raises(CheckError, match="ran longer than 2 s"):
        check_membership_advantage(_loops)
    with pytest.raises(HiddenTestFailed, match=r"Exercise 0.1 failed a hidden test: your function needed more "
                                               r"memory than the 1 GiB allowed"):
        hidden_test("nb00", "membership_advantage", _eats_memory)


_LOCK = __import__("threading").Lock()


def _holds_a_lock(scores, is_member):
    with _LOCK:
        return _advantage(scores, is_member)


def test_a_function_that_cannot_be_moved_or_a_process_that_cannot_start_scores_zero_for_that_exercise(monkeypatch):
    from mialab.checks import _process

    with pytest.raises(HiddenTestFailed, match="Exercise 0.1 failed a hidden test: there is no function "
                                               "`membership_advantage` to grade \\(TypeError: cannot pickle"):
        hidden_test("nb00", "membership_advantage", _holds_a_lock)

    def cannot(*args, **kwargs):
        raise OSError("no processes left")

    item = _process.pack(_advantage)
    monkeypatch.setattr(_process, "Child", cannot)  # in the grading process: the child cannot start
    reply = _process.grade("nb00", "membership_advantage", [item], {}, _process.child_paths())
    assert not reply["ok"] and reply["message"].startswith("Exercise 0.1: grading could not start a separate Python "
                                                           "process to run your function (OSError: no processes left)")


def test_a_fitted_model_returned_by_the_student_stays_in_the_child_and_answers_from_there():
    from sklearn.linear_model import LogisticRegression

    def fit(features, labels, is_member, n_classes):
        return [None if is_member[labels == c].all() or not is_member[labels == c].any() else
                LogisticRegression().fit(features[labels == c], is_member[labels == c]) for c in range(n_classes)]

    with pytest.raises(HiddenTestFailed, match="Exercise 2.2"):  # a plain LogisticRegression is not the recipe
        hidden_test("nb02", "fit_attack_models", fit)


# ---------------------------------------------------------------- every notebook: check cells, released notebooks

PATTERN = ('# NBVAL_CHECK_OUTPUT\ncheck_<exercise>(<function>, ...)\n### BEGIN HIDDEN TESTS\n'
           'from mialab.checks.grading import graded_outside  # ...\ngraded_outside("<exercise number>")\n'
           '### END HIDDEN TESTS')
OUTSIDE = 'from mialab.checks.grading import graded_outside  # graded after the notebook has run, outside it'


@pytest.mark.parametrize("source", EVERY, ids=IDS)
def test_every_graded_cell_is_graded_outside_the_notebook(source):
    """A graded check cell ends with a hidden region, `graded_outside("<its exercise>")`: the verdict is made after
    the notebook has run, by mialab.course.verdict, from the exercise's registry row (the fixture reuses notebook
    00's exercises under its own grade_ids)."""
    from mialab.checks import registry

    nb = nbformat.read(source, as_version=4)
    graded = [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]
    assert graded
    for cell in graded:
        where = f"{source.name} cell {cell.id} ({cell.metadata['nbgrader']['grade_id']})"
        if cell.metadata["nbgrader"].get("solution"):  # a written answer, graded by hand
            continue
        region = re.search(r"### BEGIN HIDDEN TESTS\n(.*)\n### END HIDDEN TESTS\s*$", cell.source, re.DOTALL)
        assert region, f"{where}: a graded cell must end with its hidden part, like\n{PATTERN}"
        body = region.group(1).strip().splitlines()
        row = registry.BY_GRADE_ID.get(cell.metadata["nbgrader"]["grade_id"])
        if source == FIXTURE:
            row = registry.BY_ID[re.fullmatch(r'graded_outside\("(\d+\.\d+)"\)', body[-1]).group(1)]
            assert row.notebook == "nb00", f"{where}: the fixture grades notebook 00's exercises"
        assert body == [OUTSIDE, f'graded_outside("{row.id}")'], f"{where}: the hidden part must be\n{PATTERN}"


def _imports(cell) -> str:
    """The cell's top-level import statements (none when it is not plain Python)."""
    try:
        tree = ast.parse(cell.source)
    except SyntaxError:
        return ""
    return "\n".join(ast.get_source_segment(cell.source, node) for node in tree.body
                     if isinstance(node, (ast.Import, ast.ImportFrom)))


@pytest.mark.parametrize("source", EVERY, ids=IDS)
def test_every_solution_passes_its_hidden_tests_every_time(source):
    """The solution functions (defined after the notebook's imports, nothing else: an exercise depends on no other
    state) pass their hidden tests on 10 fresh draws each: a hidden test that a right answer can fail would fail
    students at random. Graded as the verdict grades (the function in a child process), with this process as the
    grading process and one child for the 10 draws."""
    from mialab.checks import _process, registry

    nb = nbformat.read(source, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    namespace: dict = {"__name__": "__main__"}  # a notebook's functions: moved to the child by value
    exec(compile("\n".join(_imports(cell) for cell in code), f"{source.name}:imports", "exec"), namespace)
    calls = []
    for cell in code:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and not meta.get("grade"):
            exec(compile(cell.source, f"{source.name}:{cell.id}", "exec"), namespace)
        elif meta.get("grade") and not meta.get("solution"):
            named = re.findall(r'^graded_outside\("(\d+\.\d+)"\)$', cell.source, re.MULTILINE)
            row = registry.BY_GRADE_ID.get(meta["grade_id"]) or registry.BY_ID[named[0]]
            if not row.manual:
                calls.append((row.notebook, row.test, row.function))
    assert calls, f"{source.name} has no graded exercise"
    for notebook, exercise, function in calls:
        reply = _process.grade(notebook, exercise, [_process.pack(namespace[function])], {}, _process.child_paths(),
                               repeat=10)
        assert reply["ok"], f"{source.name}: {reply['message']}"


HIDDEN_CONTENT = re.compile(r"BEGIN HIDDEN TESTS|END HIDDEN TESTS|hidden_test|\bhidden\.\w|checks\.grading|"
                            r"checks\.hidden|checks import hidden")


def test_no_released_notebook_holds_hidden_test_content(tmp_path):
    """The student notebooks in notebooks/, and a fresh release of every solution notebook and the fixture."""
    release(FIXTURES, tmp_path / "fixture")
    if COURSE:
        release(SOLUTIONS, tmp_path / "course")
    released = sorted(NOTEBOOKS.glob("*.ipynb")) + sorted(tmp_path.glob("*/*.ipynb"))
    assert len(released) >= len(EVERY)
    for path in released:
        found = sorted(set(HIDDEN_CONTENT.findall(path.read_text(encoding="utf-8"))))
        assert not found, f"{path.name} holds hidden-test content: {found}"
    assert HIDDEN_CONTENT.search(FIXTURE.read_text(encoding="utf-8"))  # the pattern finds it where it is


# ---------------------------------------------------------------- the course directory, the points table

def test_make_course_lays_out_one_assignment_per_notebook_with_config_and_gradebook(tmp_path):
    names = make_course(tmp_path / "course", FIXTURES)
    assert names == ["99_fixture"]
    source = tmp_path / "course" / "source" / "99_fixture" / "99_fixture.ipynb"
    assert source.read_bytes() == FIXTURE.read_bytes()
    assert (tmp_path / "course" / "gradebook.db").exists()
    config = (tmp_path / "course" / "nbgrader_config.py").read_text(encoding="utf-8")
    assert config == course_config() and config.startswith(CONFIG_MARKER)


def test_course_config_sets_real_nbgrader_traits(tmp_path):
    """Every setting names a real, configurable trait of the installed nbgrader (a typo would be ignored)."""
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.preprocessors import Execute, OverwriteCells
    from traitlets.config.loader import PyFileConfigLoader

    (tmp_path / "nbgrader_config.py").write_text(course_config(timeout=7), encoding="utf-8")
    config = PyFileConfigLoader("nbgrader_config.py", path=str(tmp_path)).load_config()
    from nbgrader.converters import Autograde

    classes = {"CourseDirectory": CourseDirectory, "Execute": Execute, "OverwriteCells": OverwriteCells,
               "Autograde": Autograde}
    assert set(config) == set(classes)
    for section, values in config.items():
        traits = classes[section].class_traits(config=True)
        assert set(values) <= set(traits), f"{section}: {set(values) - set(traits)} are not nbgrader settings"
    assert config.Execute.timeout == 7 and config.Execute.interrupt_on_timeout is True
    assert config.OverwriteCells.add_missing_cells is True
    assert config.CourseDirectory.db_url == f"sqlite:///{tmp_path / 'gradebook.db'}"
    assert config.CourseDirectory.root == str(tmp_path)
    names = [step.__name__ for step in config.Autograde.autograde_preprocessors]  # the verdict outside the kernel
    assert names[:2] == ["CaptureExecute", "Verdict"] and "SaveAutoGrades" in names


def test_make_course_picks_notebooks_and_keeps_an_edited_config(tmp_path):
    with pytest.raises(ValueError, match=r"no solution notebook for \['42_nope'\]"):
        make_course(tmp_path, FIXTURES, ["42_nope"])
    with pytest.raises(ValueError, match="positive whole number"):
        make_course(tmp_path, FIXTURES, timeout=0)
    assert not (tmp_path / "source").exists()
    config = tmp_path / "nbgrader_config.py"
    make_course(tmp_path, FIXTURES, "99_fixture", timeout=60, gradebook=False)
    assert "c.Execute.timeout = 60" in config.read_text()
    make_course(tmp_path, FIXTURES, timeout=90, gradebook=False)
    assert "c.Execute.timeout = 90" in config.read_text()
    config.write_text("c = get_config()\nc.Execute.timeout = 5\n")  # the instructor's own: the marker is gone
    make_course(tmp_path, FIXTURES, gradebook=False)
    assert config.read_text() == "c = get_config()\nc.Execute.timeout = 5\n"


def test_points_table_lists_every_graded_cell_and_the_totals():
    assert notebook_points(FIXTURE) == [("0.1", "exF_1_check", 1.0), ("0.2", "exF_2_check", 2.0)]
    assert points_table(FIXTURES) == (
        "| notebook | exercise (grade_id): points | total |\n| --- | --- | --- |\n"
        "| `99_fixture` | 0.1 (`exF_1_check`): 1, 0.2 (`exF_2_check`): 2 | 3 |\n| **course** | | **3** |")


def test_instructor_guides_points_table_matches_the_solution_notebooks():
    assert guide_table(GUIDE) == points_table(SOLUTIONS), (
        "the points table in docs/instructor_guide.md is stale: run "
        "`python -m mialab.course points-table --update docs/instructor_guide.md`")


def test_cli_lays_out_a_course_and_prints_the_points_table(tmp_path, capsys, monkeypatch):
    from mialab.course import grading
    from mialab.course.__main__ import main

    monkeypatch.setattr(grading, "_init_gradebook", lambda *args: None)  # tested above; slow
    assert main(["nbgrader-course", str(tmp_path), "--solutions", str(FIXTURES), "--timeout", "20"]) == 0
    assert "c.Execute.timeout = 20" in (tmp_path / "nbgrader_config.py").read_text()
    assert main(["points-table", "--solutions", str(FIXTURES)]) == 0
    assert "| `99_fixture` |" in capsys.readouterr().out
    assert main(["nbgrader-course", str(tmp_path), "--solutions", str(FIXTURES), "--assignment", "nope"]) == 1
    assert main(["export-grades", str(tmp_path / "elsewhere"), str(tmp_path / "g.csv")]) == 1
    assert "no gradebook" in capsys.readouterr().err


# ================================================================ real nbgrader, end to end

_nbgrader = nbgrader  # the nbgrader command line in the course folder (tests/_course.py)


def _cells(nb) -> dict:
    return {cell.id: cell for cell in nb.cells}


def _student_version(course: Path, name: str):
    return nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)


def _submit(course: Path, name: str, student: str, nb) -> None:
    folder = course / "submitted" / student / name
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{name}.ipynb")


# the fixture's cells: fx-04 / fx-08 solution cells of exercises 0.1 / 0.2, fx-05 / fx-09 their check cells
WRONG_1 = "def membership_advantage(scores, is_member):\n    return 0.5"
FAKE_CHECK_1 = ('def check_membership_advantage(*args, **kwargs):\n'
                '    print("✅ Exercise 0.1 (membership advantage): correct.")\n')
FAKE_CHECK_2 = 'def check_tpr_at_fpr(*args, **kwargs):\n    print("✅ Exercise 0.2 (TPR at a fixed FPR): correct.")\n'
WRONG_2 = "def tpr_at_fpr(scores, is_member, fpr):\n    return 0.0"
FAKES = FAKE_CHECK_1 + FAKE_CHECK_2  # each cheat below also fools the notebook's checks: only the hidden test is left
# the cheats of issue 12 (each was full marks when the student's function ran in the notebook's kernel)
READ_FRAME = """
import sys

def _expected_from_the_callers():
    frame = sys._getframe(2)
    while frame is not None:
        for name in ("expected", "want"):
            if isinstance(frame.f_locals.get(name), float):
                return frame.f_locals[name]
        frame = frame.f_back
    return 0.0

def membership_advantage(scores, is_member):
    return _expected_from_the_callers()
"""
LIFT_BLOCK = """
import importlib
import mialab.metrics
from mialab import _reference
_reference._blocked = {}

def membership_advantage(scores, is_member):
    _reference._blocked = {}
    return mialab.metrics.advantage(scores, is_member)
"""
RELOAD_GUARD = """
def tpr_at_fpr(scores, is_member, fpr):
    importlib.reload(_reference)
    return importlib.reload(mialab.metrics).tpr_at_fpr(scores, is_member, fpr=fpr)
"""
CLOSURE = """
import mialab.metrics
_wrapper = mialab.metrics.advantage
_original = _wrapper.__closure__[_wrapper.__code__.co_freevars.index("func")].cell_contents

def membership_advantage(scores, is_member):
    return _original(scores, is_member)
"""
GC = """
import gc

def tpr_at_fpr(scores, is_member, fpr):
    found = [f for f in gc.get_objects() if callable(f) and getattr(f, "__name__", "") == "tpr_at_fpr"
             and getattr(f, "__module__", "") == "mialab.metrics" and f is not mialab.metrics.tpr_at_fpr]
    return found[0](scores, is_member, fpr=fpr)
"""
PRIVATE = """
from mialab import metrics

def membership_advantage(scores, is_member):
    return float(metrics._headline(())(scores, is_member)[1])
"""
PRIVATE_2 = """
def tpr_at_fpr(scores, is_member, fpr):
    fprs, tprs, _ = metrics._roc(scores, is_member)
    return metrics._tpr_at(fprs, tprs, fpr)
"""
REPLACE_GRADING = """
import sys, types
sys.modules["mialab.checks.grading"] = types.SimpleNamespace(hidden_test=lambda *args, **kwargs: None)
"""
REPLACE_IN_CHECK = """
def check_tpr_at_fpr(*args, **kwargs):  # replaces the module again inside the check cell itself
    sys.modules["mialab.checks.grading"] = types.SimpleNamespace(hidden_test=lambda *args, **kwargs: None)
    print("✅ Exercise 0.2 (TPR at a fixed FPR): correct.")
"""
WARNS_1 = """def membership_advantage(scores, is_member):
    thresholds = np.unique(scores)[:, None]
    tpr = (scores[is_member] >= thresholds).mean(axis=1)
    fpr = (scores[~is_member] >= thresholds).mean(axis=1)
    np.float64(0.0) / np.float64(0.0)  # a harmless 0/0: RuntimeWarning
    return float(max(0.0, (tpr - fpr).max()))
"""
WARNS_2 = """def tpr_at_fpr(scores, is_member, fpr):
    thresholds = np.unique(scores)[:, None]
    tpr = (scores[is_member] >= thresholds).mean(axis=1)
    fpr_t = (scores[~is_member] >= thresholds).mean(axis=1)
    np.mean(np.array([]))  # RuntimeWarning: Mean of empty slice
    return float(max(0.0, tpr[fpr_t <= fpr].max(initial=0.0)))
"""
HELPERS_1 = """def rates(scores, is_member):
    thresholds = np.unique(scores)[:, None]
    return (scores[is_member] >= thresholds).mean(axis=1), (scores[~is_member] >= thresholds).mean(axis=1)

def membership_advantage(scores, is_member):
    tpr, fpr = rates(scores, is_member)
    return float(max(0.0, (tpr - fpr).max()))
"""
HELPERS_2 = """def tpr_at_fpr(scores, is_member, fpr):
    tpr, fpr_t = rates(scores, is_member)  # the helper of the cell above
    return float(max(0.0, tpr[fpr_t <= fpr].max(initial=0.0)))
"""


def _crafted(solved, blank) -> dict[str, tuple[dict, tuple[float, float]]]:
    """student -> (submission, expected points of exercises 0.1 and 0.2)."""
    right_2 = _cells(solved)["fx-08"].source

    def submission(sources=None, delete=(), edit=None):
        nb = copy.deepcopy(blank)
        cells = _cells(nb)
        for cell_id, text in (sources or {}).items():
            cells[cell_id].source = text
        if edit:
            edit(cells)
        nb.cells = [cell for cell in nb.cells if cell.id not in delete]
        return nb

    def edit_locked(cells):
        cells["fx-05"].source = 'print("✅ Exercise 0.1 (membership advantage): correct.")'
        cells["fx-09"].source += "\n# edited"
        cells["fx-09"].metadata["nbgrader"]["points"] = 100
        cells["fx-09"].metadata["nbgrader"]["locked"] = False

    return {
        "solution": (copy.deepcopy(solved), (1, 2)),
        "blank": (copy.deepcopy(blank), (0, 0)),
        "one_wrong": (submission({"fx-04": WRONG_1, "fx-08": right_2}), (0, 2)),
        "edits_locked_cells": (submission({"fx-04": WRONG_1, "fx-08": right_2}, edit=edit_locked), (0, 2)),
        # 0.1: wrong and its check deleted; 0.2: right and its check deleted (nbgrader puts both back and runs them)
        "deletes_graded_cells": (submission({"fx-04": WRONG_1, "fx-08": right_2}, delete={"fx-05", "fx-09"}),
                                 (0, 2)),
        "redefines_checks": (submission({
            "fx-04": FAKE_CHECK_1 + WRONG_1,
            "fx-08": "import mialab.checks.hidden\n"
                     "mialab.checks.hidden.test_tpr_at_fpr = lambda *args, **kwargs: None\n" + FAKE_CHECK_2 +
                     "def tpr_at_fpr(scores, is_member, fpr):\n    return 0.0"}), (0, 0)),
        "patches_references": (submission({
            "fx-04": "import mialab.metrics\nmialab.metrics.advantage = lambda *args, **kwargs: 0.5\n" +
                     FAKE_CHECK_1 + WRONG_1,
            "fx-08": "import mialab.checks.grading\ntry:\n"
                     "    mialab.checks.grading.hidden_test = lambda *args, **kwargs: None\n"
                     "except AttributeError:\n    pass\n"
                     "mialab.metrics.tpr_at_fpr = lambda *args, **kwargs: 0.0\n" + FAKE_CHECK_2 +
                     "def tpr_at_fpr(scores, is_member, fpr):\n    return 0.0"}), (0, 0)),
        "calls_references": (submission({
            "fx-04": "from mialab import metrics\n\ndef membership_advantage(scores, is_member):\n"
                     "    return metrics.advantage(scores, is_member)",
            "fx-08": "from mialab import metrics\nfrom mialab import _reference as _guard\n\n"
                     "def tpr_at_fpr(scores, is_member, fpr):\n    _guard._blocked.clear()\n"
                     "    return metrics.tpr_at_fpr(scores, is_member, fpr=fpr)"}), (0, 0)),
        "loops_forever": (submission({"fx-04": "def membership_advantage(scores, is_member):\n    while True:\n"
                                               "        pass", "fx-08": right_2}), (0, 2)),
        "patches_numpy": (submission({
            "fx-04": "import numpy\nnumpy.allclose = lambda *args, **kwargs: True\n"
                     "numpy.isclose = lambda a, b, **kwargs: numpy.ones(numpy.shape(a), bool)\n" + FAKES + WRONG_1,
            "fx-08": WRONG_2}), (0, 0)),
        "reads_the_frame": (submission({"fx-04": FAKES + READ_FRAME, "fx-08": "def tpr_at_fpr(scores, is_member, "
                                        "fpr):\n    return _expected_from_the_callers()"}), (0, 0)),
        "lifts_the_block": (submission({"fx-04": FAKES + LIFT_BLOCK, "fx-08": RELOAD_GUARD}), (0, 0)),
        "digs_out_the_reference": (submission({"fx-04": FAKES + CLOSURE, "fx-08": GC}), (0, 0)),
        "calls_a_private_helper": (submission({"fx-04": FAKES + PRIVATE, "fx-08": PRIVATE_2}), (0, 0)),
        "replaces_the_grading_module": (submission({"fx-04": REPLACE_GRADING + FAKES + WRONG_1,
                                                    "fx-08": REPLACE_IN_CHECK + WRONG_2}), (0, 0)),
        "warns": (submission({"fx-04": WARNS_1, "fx-08": WARNS_2}), (1, 2)),
        "uses_its_own_helpers": (submission({"fx-04": HELPERS_1, "fx-08": HELPERS_2}), (1, 2)),
    }


class Course:
    """One nbgrader course for the module: every notebook released once, each autograded on first need."""

    def __init__(self, root: Path):
        self.root = root
        self.names = make_course(root, FIXTURES) + (make_course(root, SOLUTIONS) if COURSE else [])
        self.graded: dict[str, float] = {}
        self.expected: dict[str, tuple[float, float]] = {}

    def autograde(self, name: str) -> None:
        if name in self.graded:
            return
        _nbgrader(self.root, "generate_assignment", name)  # here, not for all at once: xdist workers share the work
        solved = nbformat.read(self.root / "source" / name / f"{name}.ipynb", as_version=4)
        blank = _student_version(self.root, name)
        if name == FIXTURE.stem:
            for student, (nb, points) in _crafted(solved, blank).items():
                _submit(self.root, name, student, nb)
                self.expected[student] = points
            extra = [f"--Execute.timeout={FIXTURE_TIMEOUT}"]
            env = {"MIALAB_CHECK_TIMEOUT": str(CHILD_TIMEOUT)}
        else:
            _submit(self.root, name, "solution", solved)
            _submit(self.root, name, "blank", blank)
            extra, env = [], {}
        start = time.perf_counter()
        _nbgrader(self.root, "autograde", name, *extra, env=env)
        self.graded[name] = time.perf_counter() - start

    def grades(self, name: str, student: str) -> dict:
        """grade_id -> (score, max score) of one student's autograded notebook, from nbgrader's gradebook."""
        from nbgrader.api import Gradebook

        self.autograde(name)
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gb:
            notebook = gb.find_submission_notebook(name, name, student)
            return {grade.name: (grade.score, grade.max_score) for grade in notebook.grades}

    def autograded(self, name: str, student: str):
        self.autograde(name)
        return nbformat.read(self.root / "autograded" / student / name / f"{name}.ipynb", as_version=4)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Course:
    return Course(tmp_path_factory.mktemp("course"))


@pytest.mark.notebook
@pytest.mark.parametrize("source", EVERY, ids=IDS)  # spread over the workers: ../conftest.py
def test_nbgrader_gives_the_solution_full_marks_and_the_untouched_student_notebook_zero(source, course):
    name = source.stem
    full, blank = course.grades(name, "solution"), course.grades(name, "blank")
    assert set(full) == {grade_id for _, grade_id, _ in notebook_points(source)} == set(blank)
    manual = {c.metadata["nbgrader"]["grade_id"] for c in nbformat.read(source, as_version=4).cells
              if c.metadata.get("nbgrader", {}).get("grade") and c.metadata["nbgrader"].get("solution")}
    # a written answer (a graded solution cell) waits for the instructor's grade: 0 until then, and 0 when blank
    assert all(score == most > 0 for grade_id, (score, most) in full.items() if grade_id not in manual), (
        f"{name}: the solution lost points {full}")
    assert all(score == 0 for score, _ in blank.values()), f"{name}: the blank notebook got points {blank}"
    for student in ("solution", "blank"):  # the run completed: every code cell ran, outputs were written
        nb = course.autograded(name, student)
        assert all(cell.execution_count for cell in nb.cells if cell.cell_type == "code" and cell.source.strip())
    meant = {cell.id for cell in nbformat.read(source, as_version=4).cells
             if "raises-exception" in cell.metadata.get("tags", [])}
    errors = [(cell.id, output.ename) for cell in course.autograded(name, "solution").cells if cell.id not in meant
              for output in cell.get("outputs", []) if output.output_type == "error"]
    assert not errors, f"{name}: cells of the solution failed under autograde (a timeout?): {errors}"


def _fixture_points(course: Course, student: str) -> tuple[float, float]:
    grades = course.grades(FIXTURE.stem, student)
    assert {grade_id: most for grade_id, (_, most) in grades.items()} == {"exF_1_check": 1, "exF_2_check": 2}
    return grades["exF_1_check"][0], grades["exF_2_check"][0]


CRAFTED = ["one_wrong", "edits_locked_cells", "deletes_graded_cells", "redefines_checks", "patches_references",
           "calls_references", "loops_forever", "patches_numpy", "reads_the_frame", "lifts_the_block",
           "digs_out_the_reference", "calls_a_private_helper", "replaces_the_grading_module", "warns",
           "uses_its_own_helpers"]


@pytest.mark.notebook
@pytest.mark.parametrize("student", CRAFTED)
def test_a_crafted_submission_gets_exactly_the_points_of_its_honest_work(student, course):
    assert _fixture_points(course, student) == course.expected[student]


@pytest.mark.notebook
def test_edited_locked_cells_are_restored_from_the_source_before_grading(course):
    source = _cells(nbformat.read(FIXTURE, as_version=4))
    graded = _cells(course.autograded(FIXTURE.stem, "edits_locked_cells"))
    for cell_id in ("fx-05", "fx-09"):
        assert graded[cell_id].source == source[cell_id].source  # with the hidden tests back in
    assert graded["fx-09"].metadata["nbgrader"]["points"] == 2  # not the 100 the submission claimed


@pytest.mark.notebook
def test_deleted_graded_cells_are_put_back_and_run(course):
    graded = course.autograded(FIXTURE.stem, "deletes_graded_cells")
    restored = [cell for cell in graded.cells if cell.metadata.get("nbgrader", {}).get("grade")]
    assert [cell.metadata["nbgrader"]["grade_id"] for cell in restored] == ["exF_1_check", "exF_2_check"]
    assert all("was missing from the submission" in cell.source and cell.execution_count for cell in restored)


@pytest.mark.notebook
def test_an_infinite_loop_is_stopped_by_the_time_limit_with_the_exercise_named_and_the_rest_still_runs(course):
    cells = _cells(course.autograded(FIXTURE.stem, "loops_forever"))
    (error,) = cells["fx-05"].outputs  # the verdict alone
    assert error.ename == "HiddenTestFailed"
    assert error.evalue.startswith(f"❌ Exercise 0.1 failed a hidden test: your function ran longer than "
                                   f"{CHILD_TIMEOUT} s")
    assert any("✅ Exercise 0.2: passed the hidden tests" in out.get("text", "") for out in cells["fx-09"].outputs)


@pytest.mark.notebook
def test_an_honest_answer_that_warns_sees_its_warnings_in_the_feedback_and_nothing_on_stderr(course):
    cells = _cells(course.autograded(FIXTURE.stem, "warns"))
    for cell_id, warning in (("fx-05", "RuntimeWarning: invalid value encountered"),
                             ("fx-09", "RuntimeWarning: Mean of empty slice")):
        outputs = cells[cell_id].outputs
        assert not [o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"], outputs
        text = "".join(o.get("text", "") for o in outputs)
        assert f"your function warned: {warning}" in text and "✅" in text


@pytest.mark.notebook
def test_a_replaced_grading_module_changes_nothing_the_verdict_is_the_cells_only_output(course):
    cells = _cells(course.autograded(FIXTURE.stem, "replaces_the_grading_module"))
    for cell_id, exercise in (("fx-05", "0.1"), ("fx-09", "0.2")):
        (verdict,) = cells[cell_id].outputs
        assert verdict.output_type == "error" and verdict.ename == "HiddenTestFailed", cells[cell_id].outputs
        assert verdict.evalue.startswith(f"❌ Exercise {exercise} failed a hidden test")


@pytest.mark.notebook
def test_a_failed_hidden_test_tells_the_student_which_exercise_without_the_values(course):
    cells = _cells(course.autograded(FIXTURE.stem, "redefines_checks"))
    error = next(output for output in cells["fx-05"].outputs if output.output_type == "error")
    assert error.ename == "HiddenTestFailed"
    assert error.evalue.startswith("❌ Exercise 0.1 failed a hidden test: your function gives a wrong answer")
    assert error.traceback == error.evalue.splitlines()  # the message alone, said once (not printed as well)
    assert "".join(o.get("text", "") for o in cells["fx-05"].outputs).count(error.evalue.splitlines()[0]) == 0
    cells = _cells(course.autograded(FIXTURE.stem, "lifts_the_block"))
    error = next(output for output in cells["fx-05"].outputs if output.output_type == "error")
    assert error.ename == "HiddenTestFailed" and "Exercise 0.1" in error.evalue
    assert "calls mialab's own implementation" in error.evalue


@pytest.mark.notebook
def test_calling_the_blocked_reference_is_told_in_the_feedback(course):
    cells = _cells(course.autograded(FIXTURE.stem, "calls_references"))
    for cell_id, exercise in (("fx-05", "Exercise 0.1"), ("fx-09", "Exercise 0.2")):
        (error,) = cells[cell_id].outputs  # the verdict alone
        assert error.ename == "HiddenTestFailed" and error.evalue.startswith(f"❌ {exercise} failed a hidden test")
        assert "calls mialab's own implementation of this exercise" in error.evalue


@pytest.mark.notebook
def test_exported_csv_has_the_points_of_every_graded_cell_and_the_totals(course, tmp_path):
    course.autograde(FIXTURE.stem)
    path = tmp_path / "grades.csv"
    count = export_grades(course.root, path)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == count
    fixture = {row["student"]: row for row in rows if row["notebook"] == FIXTURE.stem}
    assert set(fixture) == set(course.expected)
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:2] == ["student", "notebook"] and header[-1] == "total"
    assert header.index("exF_1_check") < header.index("exF_2_check")
    for student, (first, second) in course.expected.items():
        row = fixture[student]
        assert (float(row["exF_1_check"]), float(row["exF_2_check"]), float(row["total"])) == (
            first, second, first + second), student
    assert list(rows[0]) == header
    other = [column for column in header[2:-1] if not column.startswith("exF_")]
    assert all(row[column] == "" for row in fixture.values() for column in other)  # other notebooks' cells
