"""The mutant tables (tests/test_mutants_nbNN.py, run by tests/_mutants.py) cover every autograded exercise with at
least 6 plausible wrong answers and 3 correct alternatives, each defining the exercise's function."""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mutants import AUTOGRADED, MIN_RIGHT, MIN_WRONG, check_inputs, outcome  # noqa: E402, F401 (the fixture)
from test_verdict import solution  # noqa: E402

TABLES = sorted(Path(__file__).resolve().parent.glob("test_mutants_nb*.py"))


def _tables():
    wrong, right = {}, {}
    for path in TABLES:
        module = importlib.import_module(path.stem)
        for exercise, table in module.WRONG.items():
            wrong.setdefault(exercise, {}).update(table)
        for exercise, table in module.RIGHT.items():
            right.setdefault(exercise, {}).update(table)
    return wrong, right


@pytest.mark.parametrize("exercise", sorted(AUTOGRADED, key=lambda e: [int(p) for p in e.split(".")]))
def test_every_exercise_has_its_mutants(exercise):
    wrong, right = _tables()
    assert len(wrong.get(exercise, {})) >= MIN_WRONG, f"{exercise}: {len(wrong.get(exercise, {}))} wrong answers"
    assert len(right.get(exercise, {})) >= MIN_RIGHT, f"{exercise}: {len(right.get(exercise, {}))} right answers"
    function = AUTOGRADED[exercise].function
    for what, source in {**wrong[exercise], **right[exercise]}.items():
        defined = [node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)]
        assert function in defined, f"{exercise} {what}: does not define {function}"


# ---------------------------------------------------------------- one mistake costs one exercise

EARLIER_WRONG = {  # a later exercise's correct solution, with a wrong earlier exercise in the notebook
    "1.4": "def generalization_gap(p_in, y_in, p_out, y_out):\n    return 123.0\n",
    "4.2": "def loss_attack(probs, y, expected_loss):\n    return np.zeros(len(y), dtype=bool)\n",
    "12.2": "def epsilon_lower_bound(tp, n_members, fp, n_nonmembers, delta):\n    return 123.0\n",
}


@pytest.mark.notebook
@pytest.mark.parametrize("exercise", sorted(EARLIER_WRONG))
def test_an_exercise_is_checked_and_graded_with_the_reference_of_what_it_builds_on(exercise, check_inputs):  # noqa: F811
    """mialab.checks.registry.builds_on: the earlier exercise's function is replaced by its reference answer (in
    the check's child process and the sandbox), so a mistake there does not cost this exercise too."""
    source = solution(AUTOGRADED[exercise]) + EARLIER_WRONG[exercise]
    result = outcome(exercise, source, check_inputs)
    assert result.check_ok and result.grade_ok, f"{exercise}: {result}"
