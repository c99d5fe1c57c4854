"""Hints in two levels (issue 27): the check's ❌ names what is wrong and teaches the idea; `hint("N.M")`, asked for
explicitly, comes closer, but no hint spells out a line of the solution. Every notebook with exercises has `hint`
and `use_reference`."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mutants import AUTOGRADED, gives_away, solution_lines  # noqa: E402

ROWS = sorted(AUTOGRADED.values(), key=lambda row: [int(part) for part in row.id.split(".")])


def _module(row):
    return importlib.import_module(f"mialab.checks.nb{int(row.id.split('.')[0]):02d}")


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
def test_the_explicit_hint_comes_close_but_spells_out_no_line_of_the_solution(row, capsys):
    module = _module(row)
    assert hasattr(module, "hint"), f"mialab.checks.{module.__name__} has no hint()"
    assert solution_lines(row.id), f"{row.id}: no solution statement found to compare with"
    module.hint(row.id)
    out = capsys.readouterr().out
    assert out.startswith(f"💡 Exercise {row.id}:"), out
    assert not gives_away(row.id, out), f"{row.id}: hint() spells out {gives_away(row.id, out)}"


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
def test_every_exercise_has_a_reference_to_skip_it_with(row):
    module = _module(row)
    assert hasattr(module, "use_reference"), f"{module.__name__} has no use_reference"
    reference = module.use_reference(row.id)
    assert callable(reference) and reference.__name__ == "ex_" + row.id.replace(".", "_")
