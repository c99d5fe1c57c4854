"""The hidden tests of notebooks 08-10 reject each wrong answer of their mutant tables on EVERY draw (each test
runs the check's edge cases before its fresh random inputs), and accept each right one on every draw. In this
process, not through grading's sandbox, so that the seeds below are the draws."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_mutants_nb08  # noqa: E402
import test_mutants_nb09  # noqa: E402
import test_mutants_nb10  # noqa: E402
from _mutants import AUTOGRADED, namespace  # noqa: E402

from mialab.checks import CheckError  # noqa: E402

WRONG_SEEDS, RIGHT_SEEDS = 40, 15  # every hidden test runs the check's edge cases first, whatever the seed
TABLES = (test_mutants_nb08, test_mutants_nb09, test_mutants_nb10)
WRONG = [(e, w, s) for t in TABLES for e, table in t.WRONG.items() for w, s in table.items()]
RIGHT = [(e, w, s) for t in TABLES for e, table in t.RIGHT.items() for w, s in table.items()]


def _hidden(exercise, monkeypatch, seed):
    from mialab.checks import hidden
    from mialab.checks.grading import _hidden_file

    row = AUTOGRADED[exercise]
    module = __import__(f"mialab.checks.{_hidden_file(row.notebook).stem}", fromlist=["_"])
    monkeypatch.setattr(module, "_fresh_rng", lambda: np.random.default_rng(seed))
    monkeypatch.setattr(hidden, "_fresh_rng", lambda: np.random.default_rng(seed))
    return getattr(module, f"test_{row.function}")


def _function(exercise, source):
    ns = namespace(exercise)
    exec(source, ns)
    return ns[AUTOGRADED[exercise].function]


@pytest.mark.parametrize("exercise, what, source", WRONG, ids=[f"{e}: {w}" for e, w, _ in WRONG])
def test_the_hidden_test_rejects_the_wrong_answer_on_every_draw(exercise, what, source, monkeypatch):
    function = _function(exercise, source)
    for seed in range(WRONG_SEEDS):
        with pytest.raises(CheckError, match="wrong|raised|expected|more|points"):
            _hidden(exercise, monkeypatch, seed)(function)


@pytest.mark.parametrize("exercise, what, source", RIGHT, ids=[f"{e}: {w}" for e, w, _ in RIGHT])
def test_the_hidden_test_accepts_the_right_answer_on_every_draw(exercise, what, source, monkeypatch):
    function = _function(exercise, source)
    for seed in range(RIGHT_SEEDS):
        _hidden(exercise, monkeypatch, seed)(function)
