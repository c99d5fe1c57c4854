"""A small nbgrader course for the grading tests: each notebook's import cells, exercise cells and check cells
(the rest of a notebook only prepares data for its own checks, which no longer decide the grade), autograded by
the real nbgrader command line with the course's nbgrader_config.py."""

from __future__ import annotations

import ast
import copy
import os
import subprocess
import sys
from pathlib import Path

import nbformat

from mialab.checks import registry
from mialab.course.execute import kernel_env
from mialab.course.grading import grade_rows, make_course

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"


def _imports(source: str) -> str:
    """A cell's top-level import statements."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ""
    return "\n".join(ast.get_source_segment(source, node) for node in tree.body
                     if isinstance(node, (ast.Import, ast.ImportFrom)))


def mini_notebook(path: Path) -> nbformat.NotebookNode:
    """One cell with every import of the solution notebook, then each exercise's solution and check cells."""
    nb = nbformat.read(path, as_version=4)
    imports = [_imports(cell.source) for cell in nb.cells
               if cell.cell_type == "code" and not cell.metadata.get("nbgrader")]
    keep = [nbformat.v4.new_code_cell("\n".join(line for line in imports if line))]
    keep += [copy.deepcopy(cell) for cell in nb.cells if cell.cell_type == "code"
             and cell.metadata.get("nbgrader", {}).get("grade_id", "").startswith("ex")]
    nb.cells = keep
    return nb


def notebook_path(exercise: str) -> Path:
    number = int(exercise.split(".")[0])
    return next(SOLUTIONS.glob(f"{number:02d}_*.ipynb"))


def nbgrader(course: Path, *args: str, env=None) -> subprocess.CompletedProcess:
    """The nbgrader command line in the course folder, as an instructor runs it."""
    env = {**kernel_env(), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           **(env or {})}
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True,
                            text=True, timeout=3600)
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stdout[-3000:]}{result.stderr[-5000:]}"
    return result


class Course:
    """An nbgrader course in `folder` with mini versions of the solution notebooks `names` ("00_membership_game")."""

    def __init__(self, folder: Path, names, timeout: int = 120):
        self.folder = Path(folder)
        source = self.folder / "mini"
        source.mkdir(parents=True, exist_ok=True)
        for name in names:
            nbformat.write(mini_notebook(SOLUTIONS / f"{name}.ipynb"), source / f"{name}.ipynb")
        self.names = make_course(self.folder, source, list(names), timeout=timeout)
        for name in self.names:
            nbgrader(self.folder, "generate_assignment", name, "--force")

    def student_notebook(self, name: str) -> nbformat.NotebookNode:
        return nbformat.read(self.folder / "release" / name / f"{name}.ipynb", as_version=4)

    def submit(self, name: str, student: str, answers: dict[str, str], files: dict[str, bytes] | None = None) -> None:
        """Submit the student notebook with the solution cells of `answers` (exercise id -> source) filled in."""
        nb = self.student_notebook(name)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
            number = grade_id.removeprefix("ex").removesuffix("_solution").replace("_", ".")
            if grade_id.endswith("_solution") and number in answers:
                cell.source = answers[number]
        folder = self.folder / "submitted" / student / name
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / f"{name}.ipynb")
        for file, data in (files or {}).items():
            (folder / file).write_bytes(data)

    def autograde(self, name: str, env=None) -> subprocess.CompletedProcess:
        return nbgrader(self.folder, "autograde", name, "--force", env=env)

    def scores(self) -> dict[tuple[str, str], float]:
        """(student, exercise id) -> points of each autograded check cell."""
        columns, rows = grade_rows(self.folder)
        out = {}
        for row in rows:
            for grade_id in columns[2:-1]:
                exercise = registry.BY_GRADE_ID.get(grade_id)
                if exercise is not None and row.get(grade_id, "") != "" and not exercise.manual:
                    out[(row["student"], exercise.id)] = float(row[grade_id])
        return out

    def feedback(self, name: str, student: str) -> nbformat.NotebookNode:
        return nbformat.read(self.folder / "autograded" / student / name / f"{name}.ipynb", as_version=4)


def hidden_test(notebook: str, test: str, function) -> None:
    """Grade `function` as autograde grades the exercise whose hidden test is `test_<test>` of `notebook` ("nb00"):
    mialab.course.verdict.grade_exercise (the hidden test in this process, the function in the sandbox). Returns
    None when it passes; raises HiddenTestFailed with the verdict the feedback would show."""
    from mialab.checks._process import pack
    from mialab.checks.grading import HiddenTestFailed
    from mialab.course.verdict import _verdict_outputs, grade_exercise

    row = next(row for row in registry.EXERCISES if row.notebook == notebook and row.test == test)
    reply = grade_exercise(row, pack(function))
    if not reply.get("ok"):
        raise HiddenTestFailed(_verdict_outputs(row, reply)[0]["evalue"])
