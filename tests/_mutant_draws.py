"""The hidden tests of a mutant table's exercises, run in this process with many seeds (their `_fresh_rng`
monkeypatched, as tests/test_checks_nb00_05.py does): each wrong answer is rejected on EVERY draw, each right one
accepted on every draw, not by luck."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mutants import AUTOGRADED, namespace  # noqa: E402


def every_draw_test(wrong: dict, right: dict, seeds: int | dict = 100, prepare=None):
    """A parametrised test over a table's answers; `seeds`: a number, or {exercise: number}; `prepare(module,
    monkeypatch)` readies the hidden module (e.g. what its test would otherwise compute from the course's data)."""
    cases = [(e, w, s, False) for e, table in wrong.items() for w, s in table.items()]
    cases += [(e, w, s, True) for e, table in right.items() for w, s in table.items()]

    @pytest.mark.parametrize("exercise, what, source, right_answer", cases,
                             ids=[f"{e}: {'right' if ok else 'wrong'}: {w}" for e, w, _, ok in cases])
    def test_the_hidden_test_decides_the_same_on_every_draw(exercise, what, source, right_answer, monkeypatch):
        from mialab.checks import CheckError, hidden
        from mialab.checks.grading import _hidden_file

        row = AUTOGRADED[exercise]
        module = importlib.import_module(f"mialab.checks.{_hidden_file(row.notebook).stem}")
        if prepare is not None:
            prepare(module, monkeypatch)
        test = getattr(module, f"test_{row.test}")
        ns = namespace(exercise)
        exec(source, ns)
        function = ns[row.function]
        n = seeds.get(exercise, 100) if isinstance(seeds, dict) else seeds
        outcomes = []
        for seed in range(n):
            monkeypatch.setattr(module, "_fresh_rng", lambda seed=seed: np.random.default_rng(seed))
            monkeypatch.setattr(hidden, "_fresh_rng", lambda seed=seed: np.random.default_rng(seed))
            try:
                test(function)
                outcomes.append(True)
            except CheckError as error:
                outcomes.append(str(error))
        if right_answer:
            failed = [(seed, o) for seed, o in enumerate(outcomes) if o is not True]
            assert not failed, f"{exercise} {what}: rejected on {len(failed)} of {n} draws, e.g. {failed[0]}"
        else:
            passed = [seed for seed, o in enumerate(outcomes) if o is True]
            assert not passed, f"{exercise} {what}: accepted on {len(passed)} of {n} draws (seeds {passed[:10]})"

    return test_the_hidden_test_decides_the_same_on_every_draw


def with_reference_answers(right: dict) -> dict:
    """`right`, and for each of its exercises mialab.answers' reference answer (unwrapped, as the hidden test of
    tests/test_feedback.py runs it): the way past that use_reference offers must itself be right."""
    merged = {exercise: dict(table) for exercise, table in right.items()}
    for exercise in right:
        row = AUTOGRADED[exercise]
        merged[exercise]["mialab.answers' reference, unwrapped"] = (
            "from mialab import answers as _answers\nfrom mialab.checks._child import _original\n"
            f"{row.function} = _original(_answers.{row.answer.split('.')[1]})\n")
    return merged


def use_reference_test(exercises):
    """use_reference("N.M") in place of the function: the check says ⏭ and raises nothing; grading scores it 0."""

    @pytest.mark.notebook
    @pytest.mark.parametrize("exercise", list(exercises))
    def test_use_reference_is_skipped_by_the_check_and_scores_0_when_graded(exercise, check_inputs, capsys):
        from mialab.checks._process import pack
        from mialab.course.verdict import grade_exercise

        row = AUTOGRADED[exercise]
        module = importlib.import_module(f"mialab.checks.{row.notebook}")
        reference = module.use_reference(exercise)
        check, args, kwargs = check_inputs(exercise)
        assert check(reference, *args, **kwargs) is None
        assert capsys.readouterr().out.startswith(f"⏭ Exercise {exercise} ")
        reply = grade_exercise(row, pack(reference))
        assert not reply.get("ok") and "use_reference" in str(reply.get("message")), reply

    return test_use_reference_is_skipped_by_the_check_and_scores_0_when_graded
