"""Generate the student notebooks (notebooks/) from the solution notebooks (solutions/) with nbgrader's own steps.

The steps are those of `nbgrader generate_assignment`, read from nbgrader's GenerateAssignment converter so
they stay in its order, less SaveCells (which writes to nbgrader's gradebook database). Then the metadata is
tidied so the student notebooks are byte-stable: releasing twice writes the same bytes.

A student works in notebooks/, so `release` never destroys work: it replaces a student notebook only where the file
is still a release (the bytes committed in git, or the bytes the last `release` here wrote, recorded by hash in
notebooks/.mialab-release.json); an edited one is kept and reported, and `force=True` replaces it after copying it to
notebooks/backups/.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from nbformat import NotebookNode

from .._validation import as_path
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


MANIFEST = ".mialab-release.json"  # in the student folder: {notebook name: sha256 of the bytes release last wrote}
BACKUPS = "backups"                # in the student folder: where `force` copies an edited notebook before replacing it


class LocalEditsError(RuntimeError):
    """`release` left student notebooks alone because they differ from their last release (a student's edits)."""

    def __init__(self, paths: list[Path], written: list[Path]):
        self.paths, self.written = list(paths), list(written)
        names = "\n".join(f"  {path}" for path in self.paths)
        super().__init__(
            f"these student notebooks differ from their last release (edited?), so release left them as they are:\n"
            f"{names}\nTo keep your work, copy them to another name first. To replace them by the new release, "
            f"run `python -m mialab.course release --force` (or `make release FORCE=1`): it copies each one to "
            f"{Path(self.paths[0]).parent / BACKUPS}/ with a timestamp before replacing it.")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def committed_versions(path) -> list[bytes]:
    """The bytes of `path` in git's HEAD commit and in git's index; [] outside a git checkout or if untracked."""
    path = as_path(path, "path").absolute()
    folder = path.parent if path.parent.is_dir() else Path.cwd()
    try:
        top = subprocess.run(["git", "-C", str(folder), "rev-parse", "--show-toplevel"], capture_output=True,
                             text=True, timeout=60)
        if top.returncode != 0:
            return []
        root = Path(top.stdout.strip()).resolve()
        relative = path.parent.resolve().relative_to(root) / path.name
        versions = []
        for spec in (f"HEAD:{relative.as_posix()}", f":{relative.as_posix()}"):
            shown = subprocess.run(["git", "-C", str(root), "show", spec], capture_output=True, timeout=60)
            if shown.returncode == 0 and shown.stdout not in versions:
                versions.append(shown.stdout)
        return versions
    except (OSError, ValueError, subprocess.TimeoutExpired):  # no git, a path outside the checkout, a hung git
        return []


def _read_manifest(out_dir: Path) -> dict:
    try:
        data = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _is_a_release(target: Path, manifest: dict) -> bool:
    """Whether the student notebook at `target` is still as a release left it (committed, or last written here)."""
    data = target.read_bytes()
    return manifest.get(target.name) == _sha256(data) or data in committed_versions(target)


def _back_up(target: Path, stamp: str) -> Path:
    backup = target.parent / BACKUPS / f"{target.stem}.{stamp}{target.suffix}"
    backup.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(target, backup)
    return backup


def release(solutions_dir="solutions", out_dir="notebooks", *, force: bool = False,
            verbose: bool = False) -> list[Path]:
    """Write out_dir/NN_topic.ipynb for each solutions_dir/NN_topic.ipynb; remove student notebooks with no
    solution notebook. Returns the paths written or removed (unchanged files are not rewritten).

    A student notebook that differs from its last release (edited) is left alone and LocalEditsError is raised
    after the others are written; with force=True it is copied to out_dir/backups/NAME.TIMESTAMP.ipynb and replaced.
    An orphan (no solution notebook) is removed only if it is a release; an edited one is kept."""
    out_dir = Path(out_dir)
    pairs = _pairs(solutions_dir, out_dir)
    manifest, stamp = _read_manifest(out_dir), time.strftime("%Y-%m-%dT%H-%M-%S")
    changed, refused = [], []
    for source, target in pairs:
        data = release_notebook(source).encode("utf-8")
        if target.exists() and target.read_bytes() == data:
            manifest[target.name] = _sha256(data)
            continue
        if target.exists() and not _is_a_release(target, manifest):
            if not force:
                refused.append(target)
                continue
            backup = _back_up(target, stamp)
            if verbose:
                print(f"kept your version of {target} as {backup}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        manifest[target.name] = _sha256(data)
        changed.append(target)
        if verbose:
            print(f"wrote {target}")
    expected = {target.name for _, target in pairs}
    for orphan in sorted(out_dir.glob("*.ipynb")):
        if orphan.name in expected:
            continue
        if not _is_a_release(orphan, manifest):
            if verbose:
                print(f"left {orphan} alone (no {Path(solutions_dir) / orphan.name}, and it is not a release)")
            continue
        orphan.unlink()
        manifest.pop(orphan.name, None)
        changed.append(orphan)
        if verbose:
            print(f"removed {orphan} (no {Path(solutions_dir) / orphan.name})")
    if out_dir.is_dir():
        manifest = {name: digest for name, digest in sorted(manifest.items()) if (out_dir / name).exists()}
        (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    if refused:
        raise LocalEditsError(refused, changed)
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


__all__ = ["LocalEditsError", "check_release", "committed_versions", "generate_assignment_steps", "release",
           "release_notebook", "student_notebook"]
