"""Numbers the notebooks' text restates come from their outputs (issue 27): every decimal in the "ours" column of a
"paper vs ours" table is a rounding of a number the notebook's stored outputs print, so that re-running a notebook
cannot leave its table saying something else (the stored outputs are those of one top-to-bottom run:
tests/test_release.py)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"
NUMBER = re.compile(r"(?<![\w.])\d+\.\d+")


def _printed(nb) -> list[str]:
    texts = [output.get("text", "") or str(output.get("data", {}).get("text/plain", ""))
             for cell in nb.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]
    return NUMBER.findall(" ".join(texts))


def _ours(nb):
    """(row's first cell, number) for each decimal in the "ours" column of the notebook's paper-vs-ours tables."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        column = None
        for line in cell.source.splitlines():
            cells = [part.strip() for part in line.strip().strip("|").split("|")] if line.startswith("|") else []
            if not cells:
                column = None
            elif any(part.startswith("ours") for part in cells):
                column = next(i for i, part in enumerate(cells) if part.startswith("ours"))
            elif column is not None and not set(line) <= set("|-: ") and len(cells) > column:
                for number in NUMBER.findall(cells[column]):
                    yield cells[0], number


def _rounds_to(number: str, printed: list[str]) -> bool:
    decimals = len(number.split(".")[1])
    return any(len(p.split(".")[1]) >= decimals and f"{float(p):.{decimals}f}" == number for p in printed)


@pytest.mark.parametrize("path", sorted(SOLUTIONS.glob("*.ipynb")), ids=lambda path: path.stem[:2])
def test_the_ours_column_restates_printed_results(path):
    nb = nbformat.read(path, as_version=4)
    printed = _printed(nb)
    missing = [(row[:40], number) for row, number in _ours(nb) if not _rounds_to(number, printed)]
    assert not missing, f"{path.name}: numbers in the 'ours' column that no output prints: {missing}"
    assert not re.search(r"\b[A-Z]+_[A-Z]+\b(?<!NBVAL_CHECK)", " ".join(
        c.source for c in nb.cells if c.cell_type == "markdown" and "| ours" in c.source)), "a placeholder is left"


def test_a_number_no_output_prints_is_found():
    assert _rounds_to("0.6", ["0.59"]) and _rounds_to("7.1", ["7.10"])
    assert not _rounds_to("0.62", ["0.6"]) and not _rounds_to("0.7", ["0.59"])
