"""Generate the student notebooks (notebooks/) from the solution notebooks (solutions/) with nbgrader's own steps.

The steps are those of `nbgrader generate_assignment`, read from nbgrader's GenerateAssignment converter so
they stay in its order, less SaveCells (which writes to nbgrader's gradebook database). Then the metadata is
tidied so the student notebooks are byte-stable: releasing twice writes the same bytes.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

from nbformat import NotebookNode

from ._notebook import NotebookError, dumps, read_notebook, tidy


def generate_assignment_steps() -> list:
    """nbgrader's GenerateAssignment preprocessors, in its order, without the database step (SaveCells)."""
    from nbgrader.converters import GenerateAssignment  # deferred: the dev extra, only for course tooling
    from nbgrader.preprocessors import SaveCells

    classes = GenerateAssignment.class_traits()["preprocessors"].default()
    return [cls() for cls in classes if not issubclass(cls, SaveCells)]


def student_notebook(nb: NotebookNode, name: str = "notebook", path=".") -> NotebookNode:
    """The student version of a solution notebook: solutions stubbed, hidden tests removed, outputs cleared."""
    if not hasattr(nb, "cells") or not hasattr(nb, "metadata"):
        raise TypeError(f"`nb` must be a notebook (what read_notebook returns); got {type(nb).__name__}.")
    nb = copy.deepcopy(nb)
    resources = {"metadata": {"name": name, "path": str(path)}, "unique_key": name,
                 "nbgrader": {"notebook": name, "assignment": ".", "student": "."}}
    for step in generate_assignment_steps():
        nb, resources = step(nb, resources)
    return tidy(nb)


def release_notebook(source) -> str:
    """The student notebook generated from the solution notebook at `source`, as the text `release` writes."""
    source = _path(source, "source")
    nb = read_notebook(source)
    try:
        student = student_notebook(nb, name=source.stem, path=source.parent)
    except Exception as error:  # nbgrader's own errors (unclosed region, bad metadata) do not name the file
        raise NotebookError(f"{source}: nbgrader cannot make the student version: "
                            f"{type(error).__name__}: {error}") from error
    return dumps(student)


def _path(value, name: str) -> Path:
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"`{name}` must be a path (a string or pathlib.Path); got {type(value).__name__} {value!r}.")
    return Path(value)


def _pairs(solutions_dir, out_dir) -> list[tuple[Path, Path]]:
    solutions_dir, out_dir = _path(solutions_dir, "solutions_dir"), _path(out_dir, "out_dir")
    if not solutions_dir.is_dir():
        raise FileNotFoundError(f"no folder {solutions_dir}: run this from the course root, or pass solutions_dir.")
    return [(source, out_dir / source.name) for source in sorted(solutions_dir.glob("*.ipynb"))]


def release(solutions_dir="solutions", out_dir="notebooks", *, verbose: bool = False) -> list[Path]:
    """Write out_dir/NN_topic.ipynb for each solutions_dir/NN_topic.ipynb; remove student notebooks with no
    solution notebook. Returns the paths written or removed (unchanged files are not rewritten)."""
    changed = []
    pairs = _pairs(solutions_dir, out_dir)
    for source, target in pairs:
        text = release_notebook(source)
        if not target.exists() or target.read_bytes() != text.encode("utf-8"):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(text.encode("utf-8"))
            changed.append(target)
            if verbose:
                print(f"wrote {target}")
    expected = {target.name for _, target in pairs}
    for orphan in sorted(Path(out_dir).glob("*.ipynb")):
        if orphan.name not in expected:
            orphan.unlink()
            changed.append(orphan)
            if verbose:
                print(f"removed {orphan} (no {Path(solutions_dir) / orphan.name})")
    return changed


def check_release(solutions_dir="solutions", out_dir="notebooks") -> list[str]:
    """The student notebooks that differ from what `release` would write, as 'path: missing|stale|orphan'."""
    problems = []
    pairs = _pairs(solutions_dir, out_dir)
    for source, target in pairs:
        if not target.exists():
            problems.append(f"{target}: missing")
        elif target.read_bytes() != release_notebook(source).encode("utf-8"):
            problems.append(f"{target}: stale")
    expected = {target.name for _, target in pairs}
    for orphan in sorted(Path(out_dir).glob("*.ipynb")):
        if orphan.name not in expected:
            problems.append(f"{orphan}: orphan (no {Path(solutions_dir) / orphan.name})")
    return problems


__all__ = ["check_release", "generate_assignment_steps", "release", "release_notebook", "student_notebook"]
