"""Feedback in the notebook (mialab.checks): a ❌ or ⏳ shows its message once, without a traceback, and still fails
under nbgrader; the ungraded way past a stuck exercise (use_reference, mialab.answers) lets the notebook run on and
scores 0 when graded, with the real nbgrader on the fixture."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mialab import answers
from mialab.checks import (BLOCKS, CheckError, NotDoneError, answer_key, blocks_for, hidden, nb00, nb01, nb02, nb03,
                           nb04, nb05, use_reference)
from mialab.checks._child import _original
from _course import hidden_test
from mialab.checks.grading import HiddenTestFailed
from mialab.course.execute import kernel_env, run_notebook
from mialab.course.grading import make_course

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "solutions"

# exercise -> (its notebook check, its hidden test)
EXERCISES = {
    "0.1": (nb00.check_membership_advantage, ("nb00", "membership_advantage")),
    "0.2": (nb00.check_tpr_at_fpr, ("nb00", "tpr_at_fpr")),
    "1.1": (nb01.check_generalization_gap, ("nb01", "generalization_gap")),
    "1.2": (nb01.check_correctness_attack, ("nb01", "correctness_attack")),
    "1.3": (nb01.check_confidence_attack, ("nb01", "confidence_attack")),
    "1.4": (nb01.check_leakage_table, ("nb01", "leakage_table")),
    "2.1": (nb02.check_attack_dataset, ("nb02", "attack_dataset")),
    "2.2": (nb02.check_attack_models, ("nb02", "fit_attack_models")),
    "2.3": (nb02.check_shadow_threshold, ("nb02", "shadow_threshold_metrics")),
    "3.1": (nb03.check_top_k_features, ("nb03", "top_k_features")),
    "3.2": (nb03.check_entropy_attack, ("nb03", "entropy_attack")),
    "3.3": (nb03.check_pick_threshold, ("nb03", "pick_threshold")),
    "3.4": (nb03.check_transfer_table, ("nb03", "transfer_table")),
    "4.1": (nb04.check_loss_attack, ("nb04", "loss_attack")),
    "4.2": (nb04.check_yeom_advantage, ("nb04", "yeom_advantage")),
    "4.3": (nb04.check_modified_entropy, ("nb04", "modified_entropy")),
    "5.1": (nb05.check_logit_scale, ("nb05", "logit_scale")),
    "5.2": (nb05.check_likelihood_ratio, ("nb05", "likelihood_ratio")),
    "5.3": (nb05.check_tpr_at_low_fpr, ("nb05", "tpr_at_low_fpr")),
}


# ------------------------------------------------------------------------------ ❌ and ⏳ in a notebook

WRONG = "def membership_advantage(scores, is_member):\n    return 0.5\n"
BLANK = "def membership_advantage(scores, is_member):\n    raise NotImplementedError()\n"
CHECK = "check_membership_advantage(membership_advantage)"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """A tiny notebook run in a real kernel: a wrong answer, a blank one, a skipped one, then a cell after them."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in (
        "import numpy as np\nfrom mialab.checks.nb00 import check_membership_advantage, use_reference",
        WRONG + CHECK, BLANK + CHECK, 'membership_advantage = use_reference("0.1")\n' + CHECK,
        "print(membership_advantage(np.array([0.9, 0.1]), np.array([True, False])))")]
    return run_notebook(nb, tmp_path_factory.mktemp("feedback"), timeout=120, allow_errors=True)


def _text(cell) -> str:
    """Everything a cell shows: its printed text and its error's traceback lines."""
    return "".join(o.get("text", "") for o in cell.outputs) + "\n".join(
        line for o in cell.outputs if o.output_type == "error" for line in o.traceback)


@pytest.mark.parametrize("index, ename, mark", [(1, "CheckError", "❌"), (2, "NotDoneError", "⏳")])
def test_a_failed_check_shows_its_message_once_without_a_traceback(executed, index, ename, mark):
    cell = executed.cells[index]
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert [error.ename for error in errors] == [ename]
    assert errors[0].traceback == errors[0].evalue.splitlines()  # the message alone
    assert errors[0].traceback[0].startswith(f"{mark} Exercise 0.1")
    assert not any("File " in line or "mialab/checks" in line for line in errors[0].traceback)
    assert _text(cell).count(errors[0].traceback[0]) == 1  # said once: not printed as well


def test_a_skipped_exercise_says_so_without_an_error_and_the_notebook_runs_on(executed):
    skipped, after = executed.cells[3], executed.cells[4]
    assert not [o for o in skipped.outputs + after.outputs if o.output_type == "error" or o.get("name") == "stderr"]
    assert _text(skipped).startswith("⏭ Exercise 0.1 (membership advantage): skipped with the reference")
    assert "scores 0 when it is graded" in _text(skipped)
    assert _text(after).strip() == "1.0"


def test_outside_ipython_the_message_is_printed_and_raised(capsys):
    with pytest.raises(CheckError) as raised:
        nb00.check_membership_advantage(lambda scores, is_member: 0.5)
    assert isinstance(raised.value, AssertionError)  # nbgrader counts it as a failed test
    assert str(raised.value) in capsys.readouterr().out
    assert raised.value._render_traceback_() == str(raised.value).splitlines()
    assert issubclass(NotDoneError, AssertionError)


# ------------------------------------------------------------------------------ use_reference


@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_every_check_skips_its_reference_without_raising(exercise, capsys):
    check, _ = EXERCISES[exercise]
    assert check(use_reference(exercise)) is None
    out = capsys.readouterr().out
    assert out.startswith(f"⏭ Exercise {exercise} ") and "scores 0 when it is graded" in out


def test_another_exercises_reference_is_refused_and_an_unknown_exercise_named():
    with pytest.raises(CheckError, match="reference answer of exercise 0.2, not of this one"):
        nb00.check_membership_advantage(use_reference("0.2"))
    with pytest.raises(ValueError, match="no reference answer for exercise '9.9'.*0.1, 0.2, 1.1"):
        use_reference("9.9")


def test_a_function_that_wraps_the_reference_fails_the_check_as_it_fails_grading(capsys):
    reference = use_reference("1.3")

    def confidence_attack(probs, y):
        return reference(probs, y)
    with pytest.raises(CheckError):
        nb01.check_confidence_attack(confidence_attack)
    assert "calls the reference answer of this exercise" in capsys.readouterr().out


@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_each_reference_answer_is_right_by_its_hidden_test(exercise):
    """The answer itself (unwrapped, run here), through the hidden test's fresh inputs and expected values."""
    _, (_, name) = EXERCISES[exercise]
    answer = _original(getattr(answers, "ex_" + exercise.replace(".", "_")))
    getattr(hidden, f"test_{name}")(answer)


@pytest.mark.parametrize("exercise", ["0.1", "1.3", "2.3", "4.1", "5.2"])
def test_the_hidden_test_scores_a_skipped_exercise_zero(exercise):
    _, (notebook, name) = EXERCISES[exercise]
    assert answer_key(exercise) in blocks_for(exercise)
    with pytest.raises(HiddenTestFailed, match=f"Exercise {exercise} failed a hidden test: skipped with the "
                                               "reference answer"):
        hidden_test(notebook, name, use_reference(exercise))


LATER = """
import numpy as np
from mialab import metrics
from mialab.checks.nb01 import use_reference

generalization_gap, confidence_attack = use_reference("1.1"), use_reference("1.3")

def leakage_table(sweep):
    gaps, advantages = [], []
    for t in sweep:
        gaps.append(generalization_gap(t["probs_in"], t["y_in"], t["probs_out"], t["y_out"]))
        scores = np.concatenate([confidence_attack(t["probs_in"], t["y_in"]),
                                 confidence_attack(t["probs_out"], t["y_out"])])
        advantages.append(metrics.advantage(scores, np.arange(len(scores)) < len(t["y_in"])))
    return np.array(gaps), np.array(advantages)
"""


def test_a_later_exercise_built_on_skipped_ones_is_graded_on_its_own_code():
    """As in a notebook: 1.1 and 1.3 skipped with use_reference, 1.4 calls them by their names (which grading
    points at the references, mialab.checks.registry.builds_on, though the sandbox has no answers)."""
    notebook = {"__name__": "__main__"}
    exec(LATER, notebook)
    nb01.check_leakage_table(notebook["leakage_table"])
    hidden_test("nb01", "leakage_table", notebook["leakage_table"])  # passes: raises nothing


# ------------------------------------------------------------------------------ real nbgrader on the fixture

SUBMISSIONS = {  # student -> (source of the 0.1 solution cell fx-04, expected points of 0.1 and 0.2)
    "solution": (None, (1, 2)),
    "wrong": ("def membership_advantage(scores, is_member):\n    return 0.5", (0, 2)),
    "skips": ('from mialab.checks.nb00 import use_reference\nmembership_advantage = use_reference("0.1")', (0, 2)),
}


def _nbgrader(course: Path, *args: str) -> None:
    env = {**kernel_env(), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The fixture released and autograded by nbgrader for each submission -> (grades, autograded notebooks)."""
    from nbgrader.api import Gradebook

    course = tmp_path_factory.mktemp("course")
    (name,) = make_course(course, FIXTURES)
    _nbgrader(course, "generate_assignment", name)
    solved = nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)
    blank = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
    right_2 = next(cell.source for cell in solved.cells if cell.id == "fx-08")
    for student, (source, _) in SUBMISSIONS.items():
        nb = copy.deepcopy(solved if source is None else blank)
        for cell in nb.cells:
            if source is not None and cell.id in ("fx-04", "fx-08"):
                cell.source = source if cell.id == "fx-04" else right_2
        folder = course / "submitted" / student / name
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{name}.ipynb")
    _nbgrader(course, "autograde", name, "--Execute.timeout=60")
    grades, notebooks = {}, {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in SUBMISSIONS:
            found = gb.find_submission_notebook(name, name, student)
            grades[student] = {grade.name: grade.score for grade in found.grades}
            notebooks[student] = nbformat.read(course / "autograded" / student / name / f"{name}.ipynb",
                                               as_version=4)
    return grades, notebooks


@pytest.mark.notebook
@pytest.mark.parametrize("student", list(SUBMISSIONS))
def test_nbgrader_scores_right_wrong_and_skipped_answers(graded, student):
    grades, _ = graded
    assert (grades[student]["exF_1_check"], grades[student]["exF_2_check"]) == SUBMISSIONS[student][1]


@pytest.mark.notebook
def test_under_nbgrader_a_wrong_answer_shows_its_message_alone_and_a_skipped_one_lets_the_rest_run(graded):
    _, notebooks = graded
    cells = {cell.id: cell for cell in notebooks["wrong"].cells}
    (error,) = cells["fx-05"].outputs  # the verdict alone (mialab.course.verdict), not the kernel's ❌
    assert error.ename == "HiddenTestFailed" and error.traceback == error.evalue.splitlines()
    assert error.evalue.startswith("❌ Exercise 0.1 failed a hidden test: your function gives a wrong answer")
    cells = {cell.id: cell for cell in notebooks["skips"].cells}
    (skipped,) = cells["fx-05"].outputs
    assert skipped.ename == "HiddenTestFailed" and "skipped with the reference answer" in skipped.evalue
    for later in ("fx-06", "fx-09", "fx-10"):  # the cells after the skipped exercise ran without an error
        assert cells[later].execution_count and not [o for o in cells[later].outputs if o.output_type == "error"]
    assert "advantage = " in _text(cells["fx-06"])


# ------------------------------------------------------------------------------ the way past, in the notebooks

STILL_STUCK = re.compile(r"\*Still stuck\?\* Put `from mialab\.checks\.nb0(\d) import use_reference` and "
                         r"`(\w+) = use_reference\(\"(\d\.\d)\"\)` in place of your function: the check then says "
                         r"the exercise is skipped and the rest of the notebook runs, but the exercise scores 0 when "
                         r"graded\.")


@pytest.mark.parametrize("path", sorted((ROOT / "solutions").glob("0[0-5]_*.ipynb")), ids=lambda p: p.stem[:2])
def test_every_graded_exercise_of_00_to_05_shows_the_way_past_in_the_same_words(path):
    nb = nbformat.read(path, as_version=4)
    exercises = [cell.source for cell in nb.cells if cell.cell_type == "markdown"
                 and cell.source.startswith("### Exercise")]
    assert exercises
    for text in exercises:
        number = re.match(r"### Exercise (\d\.\d)", text).group(1)
        found = STILL_STUCK.search(" ".join(text.split()))
        assert found, f"{path.stem}, exercise {number}: no 'Still stuck?' line"
        assert found.group(1) == path.stem[1] and found.group(3) == number
        assert f"def {found.group(2)}(" in "".join(cell.source for cell in nb.cells if cell.cell_type == "code")
        blocked = BLOCKS.get(number, ())
        assert all(f"`{key}`" in text for key in blocked), f"exercise {number}: the text must name what is off limits"
