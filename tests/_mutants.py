"""Mutant tables (issue 27): every exercise's plausible wrong answers and correct alternatives, each run through
the notebook's own check (with the arguments the solution notebook passes it) and through grading as autograde
grades (mialab.course.verdict.grade_exercise: the hidden test, the student's function in the sandbox).

A table file (tests/test_mutants_nbNN.py) holds, per exercise id, `WRONG` and `RIGHT`: {what it is: source}, where
source defines the exercise's function as a student would type it in the exercise cell (the notebook's imports,
and the solutions of the notebook's other exercises, are in scope, as in the notebook). Its tests are

    test_wrong, test_right, test_wrong_every_draw, test_right_every_draw, test_use_reference = \
        mutant_tests(WRONG, RIGHT)

A wrong answer must be rejected by both the check (❌, no ✅) and the hidden test; a right one accepted by both.

The check's arguments come from the solution notebook: it is run once up to its last check cell, with each
check call replaced by a recorder (mialab's sources and the notebook's bytes key a cache in .mialab_cache/, ignored
by git, so a second run of the tests reads them back).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import cloudpickle
import nbformat
import pytest

from mialab.checks import registry

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _course import SOLUTIONS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = {path.stem[:2]: path for path in sorted(SOLUTIONS.glob("*.ipynb"))}
AUTOGRADED = {row.id: row for row in registry.EXERCISES if not row.manual}
_CALL = re.compile(r"^(check_\w+)\(", re.MULTILINE)
MIN_WRONG, MIN_RIGHT = 6, 3


def notebook_of(exercise: str) -> Path:
    return NOTEBOOKS[f"{int(exercise.split('.')[0]):02d}"]


def _cells(path: Path) -> list:
    return nbformat.read(path, as_version=4).cells


def _grade_id(cell) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id", "")


def _visible(source: str) -> str:
    return source.split("### BEGIN HIDDEN TESTS")[0]


def _key(path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes())
    for source in sorted((ROOT / "mialab").rglob("*.py")):  # the checks are loaded from their module, not recorded
        if source.relative_to(ROOT / "mialab").parts[0] not in ("checks", "course", "answers.py"):
            digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def record_check_inputs(path: Path, folder: Path) -> None:
    """Run the solution notebook at `path` up to its last check cell, each check call replaced by a recorder that
    writes `folder/<exercise>.pkl`: (check name, args, kwargs)."""
    from mialab.course.execute import run_notebook

    nb = nbformat.read(path, as_version=4)
    ids = {row.grade_id: row.id for row in AUTOGRADED.values()}
    last = max(i for i, cell in enumerate(nb.cells) if _grade_id(cell) in ids)
    cells = []
    for cell in nb.cells[:last + 1]:
        if cell.cell_type != "code":
            continue
        if _grade_id(cell) in ids:
            source = _visible(cell.source)
            name = _CALL.search(source)
            assert name, f"{path.name}: the check cell {_grade_id(cell)} calls no check_...(" + ")"
            source = _CALL.sub(lambda m: f'__record__({ids[_grade_id(cell)]!r}, {m.group(1)!r}, ', source, count=1)
            cell = nbformat.v4.new_code_cell(source)
        cells.append(cell)
    recorder = (f"def __record__(exercise, name, *args, **kwargs):\n"
                f"    import cloudpickle\n"
                f"    with open({str(folder)!r} + '/' + exercise + '.pkl', 'wb') as file:\n"
                f"        cloudpickle.dump((name, args, kwargs), file)\n")
    nb.cells = [nbformat.v4.new_code_cell(recorder), *cells]
    run_notebook(nb, path.parent, timeout=900)


@pytest.fixture(scope="module")
def check_inputs():
    """exercise id -> (check function, args after the student's function, kwargs), for the table's notebooks."""
    def load(exercise):
        path = notebook_of(exercise)
        folder = ROOT / ".mialab_cache" / "mutant-inputs" / f"{path.stem}-{_key(path)}"
        if not (folder / "done").exists():
            folder.mkdir(parents=True, exist_ok=True)
            record_check_inputs(path, folder)
            (folder / "done").write_text("")
        with open(folder / f"{exercise}.pkl", "rb") as file:
            name, args, kwargs = cloudpickle.load(file)
        module = importlib.import_module(f"mialab.checks.nb{int(exercise.split('.')[0]):02d}")
        return getattr(module, name), args[1:], kwargs
    return load


def solution_lines(exercise: str) -> list[str]:
    """The statements of the exercise's solution (whitespace removed) long enough to give an answer away."""
    row = AUTOGRADED[exercise]
    cell = next(cell for cell in _cells(notebook_of(exercise))
                if _grade_id(cell) == row.grade_id.replace("_check", "_solution"))
    inside = cell.source.split("### BEGIN SOLUTION")[-1].split("### END SOLUTION")[0]
    lines = ["".join(line.split("#")[0].split()) for line in inside.splitlines()]
    return [line for line in lines if len(line) >= 12]


def gives_away(exercise: str, text: str) -> list[str]:
    """The solution statements that `text` (a hint, a ❌ message) spells out whole."""
    flat = "".join(text.split())
    return [line for line in solution_lines(exercise) if line in flat]


def namespace(exercise: str) -> dict:
    """The notebook's imports and its other exercises' solutions, as a notebook's `__main__` holds them."""
    from _course import _imports

    cells = _cells(notebook_of(exercise))
    ns = {"__name__": "__main__"}
    exec("\n".join(_imports(cell.source) for cell in cells if cell.cell_type == "code"), ns)
    solutions = {_grade_id(cell).replace("_solution", ""): cell.source for cell in cells
                 if _grade_id(cell).endswith("_solution")}
    for row in registry.in_notebook(AUTOGRADED[exercise].notebook):
        source = solutions.get(row.grade_id.replace("_check", ""))
        if source is not None and row.id != exercise and not row.manual:
            exec(source, ns)
    return ns


@dataclass
class Outcome:
    check_ok: bool
    check_text: str
    grade_ok: bool
    grade_text: str

    def __str__(self):
        return (f"check {'accepted' if self.check_ok else 'rejected'}: {self.check_text.strip()[:300]!r}; "
                f"grading {'accepted' if self.grade_ok else 'rejected'}: {self.grade_text.strip()[:300]!r}")


def outcome(exercise: str, source: str, inputs) -> Outcome:
    """Run the answer `source` (defining the exercise's function) through the check and through grading."""
    from mialab.checks._process import pack
    from mialab.course.verdict import grade_exercise

    row = AUTOGRADED[exercise]
    ns = namespace(exercise)
    exec(source, ns)
    function = ns[row.function]
    check, args, kwargs = inputs(exercise)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            check(function, *args, **kwargs)
            check_ok = True
        except Exception as error:  # noqa: BLE001 -- a CheckError (❌) or anything else: not a ✅
            check_ok = False
            print(f"{type(error).__name__}: {error}")
    check_ok = check_ok and "✅" in out.getvalue()
    reply = grade_exercise(row, pack(function))
    return Outcome(check_ok, out.getvalue(), bool(reply.get("ok")), str(reply.get("message", "")))


def on_every_draw(exercise: str, source: str, monkeypatch, seeds: int, prepare=None) -> list:
    """The hidden test of `exercise` run here on `seeds` fixed draws of its inputs (seeds 0, 1, ...) -> the
    CheckError of each draw (None where the answer passed). A hidden test must decide the same on every draw.
    `prepare(module, monkeypatch)` readies the hidden module (what its test would compute from the course's data)."""
    import warnings

    import numpy as np

    from mialab.checks import CheckError, hidden
    from mialab.checks._process import hidden_module_name

    row = AUTOGRADED[exercise]
    module = importlib.import_module(hidden_module_name(row.notebook))
    if prepare is not None:
        prepare(module, monkeypatch)
    ns = namespace(exercise)
    exec(source, ns)
    outcomes = []
    for seed in range(seeds):
        monkeypatch.setattr(module, "_fresh_rng", lambda seed=seed: np.random.default_rng(seed))
        monkeypatch.setattr(hidden, "_fresh_rng", lambda seed=seed: np.random.default_rng(seed))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                getattr(module, f"test_{row.test}")(ns[row.function])
            outcomes.append(None)
        except CheckError as error:
            outcomes.append(error)
    return outcomes


def reference_answer(exercise: str) -> str:
    """An answer that is mialab.answers' reference, unwrapped (as grading would run it if it were allowed): the way
    past that use_reference offers must itself pass the hidden test on every draw."""
    row = AUTOGRADED[exercise]
    return ("from mialab import answers as _answers\nfrom mialab.checks._child import _original\n"
            f"{row.function} = _original(_answers.ex_{exercise.replace('.', '_')})\n")


def mutant_tests(wrong: dict, right: dict, seeds: int | dict = 50, prepare=None):
    """The parametrised tests of a table file: each wrong answer rejected by the check and by grading, each right
    one accepted by both; the hidden test decides the same on `seeds` fixed draws (a number, or {exercise: number};
    a wrong answer that slipped through one draw in 125 was once missed by 10), for the reference answers too; and
    use_reference is skipped (⏭) by the check and scores 0 when graded."""
    wrong_cases = [(exercise, what, source) for exercise, table in wrong.items() for what, source in table.items()]
    right_cases = [(exercise, what, source) for exercise, table in right.items() for what, source in table.items()]
    right_drawn = right_cases + [(exercise, "mialab.answers' reference", reference_answer(exercise))
                                 for exercise in right]

    def n_seeds(exercise):
        return seeds.get(exercise, 50) if isinstance(seeds, dict) else seeds

    @pytest.mark.notebook
    @pytest.mark.parametrize("exercise, what, source", wrong_cases, ids=[f"{e}: {w}" for e, w, _ in wrong_cases])
    def test_wrong_answer_is_rejected_by_check_and_grading(exercise, what, source, check_inputs):
        result = outcome(exercise, source, check_inputs)
        assert not result.check_ok and not result.grade_ok, f"{exercise} {what}: {result}"
        assert not gives_away(exercise, result.check_text), f"{exercise} {what}: the ❌ spells out the solution"

    @pytest.mark.notebook
    @pytest.mark.parametrize("exercise, what, source", right_cases, ids=[f"{e}: {w}" for e, w, _ in right_cases])
    def test_right_answer_is_accepted_by_check_and_grading(exercise, what, source, check_inputs):
        result = outcome(exercise, source, check_inputs)
        assert result.check_ok and result.grade_ok, f"{exercise} {what}: {result}"

    @pytest.mark.parametrize("exercise, what, source", wrong_cases, ids=[f"{e}: {w}" for e, w, _ in wrong_cases])
    def test_the_hidden_test_rejects_each_wrong_answer_on_every_draw(exercise, what, source, monkeypatch):
        drawn = on_every_draw(exercise, source, monkeypatch, n_seeds(exercise), prepare)
        missed = [seed for seed, error in enumerate(drawn) if error is None]
        assert not missed, f"{exercise} {what}: passed the hidden test on the draws of seeds {missed[:10]}"

    @pytest.mark.parametrize("exercise, what, source", right_drawn, ids=[f"{e}: {w}" for e, w, _ in right_drawn])
    def test_the_hidden_test_accepts_each_right_answer_on_every_draw(exercise, what, source, monkeypatch):
        drawn = on_every_draw(exercise, source, monkeypatch, n_seeds(exercise), prepare)
        failed = [(seed, str(error)) for seed, error in enumerate(drawn) if error]
        assert not failed, f"{exercise} {what}: failed the hidden test on the draws {failed[:3]}"

    @pytest.mark.notebook
    @pytest.mark.parametrize("exercise", list(right))
    def test_use_reference_is_skipped_by_the_check_and_scores_0_when_graded(exercise, check_inputs, capsys):
        from mialab.checks._process import pack
        from mialab.course.verdict import grade_exercise

        row = AUTOGRADED[exercise]
        reference = importlib.import_module(f"mialab.checks.{row.notebook}").use_reference(exercise)
        check, args, kwargs = check_inputs(exercise)
        assert check(reference, *args, **kwargs) is None
        assert capsys.readouterr().out.startswith(f"⏭ Exercise {exercise}")
        reply = grade_exercise(row, pack(reference))
        assert not reply.get("ok") and "use_reference" in str(reply.get("message")), reply

    return (test_wrong_answer_is_rejected_by_check_and_grading, test_right_answer_is_accepted_by_check_and_grading,
            test_the_hidden_test_rejects_each_wrong_answer_on_every_draw,
            test_the_hidden_test_accepts_each_right_answer_on_every_draw,
            test_use_reference_is_skipped_by_the_check_and_scores_0_when_graded)
