"""The mutant tables (tests/test_mutants_nbNN.py, run by tests/_mutants.py) cover every autograded exercise with at
least 6 plausible wrong answers and 3 correct alternatives, each defining the exercise's function."""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mutants import AUTOGRADED, MIN_RIGHT, MIN_WRONG  # noqa: E402

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
