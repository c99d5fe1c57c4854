"""The single-source pipeline: solutions/ (complete, executed) -> notebooks/ (student version, nbgrader's steps).

Each test runs on the fixture notebook (tests/fixtures/solutions/99_fixture.ipynb: two exercises, hidden tests)
and on every solutions/*.ipynb present. Tests marked `notebook` run whole notebooks in a kernel.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mialab.checks import NOT_DONE
from mialab.course import (LocalEditsError, NotebookError, check_release, execute, generate_assignment_steps,
                           read_notebook, release, release_notebook)
from mialab.course.release import BACKUPS, MANIFEST, committed_versions
from mialab.course._notebook import CELL_METADATA, dumps, tidy
from mialab.course.execute import kernel_env

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS, NOTEBOOKS = ROOT / "solutions", ROOT / "notebooks"
FIXTURES = ROOT / "tests" / "fixtures" / "solutions"
FIXTURE = FIXTURES / "99_fixture.ipynb"
COURSE = sorted(SOLUTIONS.glob("*.ipynb"))
EVERY = [FIXTURE] + COURSE
IDS = ["fixture"] + [path.stem for path in COURSE]

SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
# region lines too generic to count as a leak when the student notebook happens to hold them too
TRIVIAL = re.compile(r"^(pass|return|break|continue|else:|try:|finally:|\.\.\.|[)\]}]+[,:]?)?$")
ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{8,16}\b")


def _nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _is_solution(cell) -> bool:
    return bool(_nbgrader(cell).get("solution"))


def _is_grade(cell) -> bool:
    return bool(_nbgrader(cell).get("grade"))


def _raises(cell) -> bool:
    """A cell that shows an error on purpose: the `raises-exception` tag, which nbclient and nbval both honour."""
    return "raises-exception" in cell.metadata.get("tags", [])


@functools.lru_cache(maxsize=None)
def _solution(path: Path):
    return read_notebook(path)


@functools.lru_cache(maxsize=None)
def _student(path: Path):
    return nbformat.reads(release_notebook(path), as_version=4)


def _fixture_copy(folder: Path, *, clear_outputs: bool = False, name: str = FIXTURE.name) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    nb = copy.deepcopy(_solution(FIXTURE))
    if clear_outputs:
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
    nbformat.write(nb, folder / name)
    return folder / name


# ---------------------------------------------------------------- the committed student notebooks are the release

@pytest.fixture(scope="module")
def released_course(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("notebooks")
    release(SOLUTIONS, out)
    return out


def _released_versions(path: Path) -> list[bytes]:
    """The versions of a student notebook that count as the course's own: git's (HEAD, index) and the working copy.

    A student saves answers in notebooks/, so the working copy alone would fail `make test` for them; a maintainer
    who ran `make release` and has not committed yet has the new release in the working copy only."""
    return committed_versions(path) + ([path.read_bytes()] if path.exists() else [])


@pytest.mark.parametrize("source", COURSE, ids=IDS[1:])
def test_committed_student_notebook_is_byte_equal_to_a_fresh_release(source, released_course):
    committed = NOTEBOOKS / source.name
    versions = _released_versions(committed)
    assert versions, f"{committed} is missing: run `make release`."
    assert (released_course / source.name).read_bytes() in versions, (
        f"{committed} (committed and working copy) differs from what the release generates from {source}: "
        "run `make release` and commit notebooks/.")


def _tracked_notebooks() -> list[Path]:
    """notebooks/*.ipynb as git tracks them; every one outside a git checkout (a student's own files are untracked)."""
    try:
        result = subprocess.run(["git", "-C", str(ROOT), "ls-files", "--", "notebooks/*.ipynb"], capture_output=True,
                                text=True, timeout=60)
    except OSError:  # no git on this machine
        return sorted(NOTEBOOKS.glob("*.ipynb"))
    if result.returncode != 0:
        return sorted(NOTEBOOKS.glob("*.ipynb"))
    return [ROOT / line for line in result.stdout.splitlines() if line.count("/") == 1]


def test_every_student_notebook_has_a_solution_notebook():
    if not NOTEBOOKS.is_dir():
        pytest.skip("no notebooks/ yet")
    orphans = [p.name for p in _tracked_notebooks() if not (SOLUTIONS / p.name).exists()]
    assert not orphans, f"notebooks/{orphans} have no solution notebook: run `make release` (it removes them)."


# ---------------------------------------------------------------- a student's work survives release and `make test`

def _git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false",
                             *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def course_clone(tmp_path) -> Path:
    """A small course in its own git repository: solutions/ (the fixture), notebooks/ released and committed."""
    root = tmp_path / "course"
    _fixture_copy(root / "solutions")
    release(root / "solutions", root / "notebooks")
    (root / "notebooks" / MANIFEST).unlink()  # a fresh clone has no record of a local release
    _git(root, "init", "-q")
    _git(root, "add", "solutions", "notebooks")
    _git(root, "commit", "-q", "-m", "course")
    return root


def _edit(path: Path) -> bytes:
    path.write_bytes(path.read_bytes().replace(b"YOUR CODE HERE", b"my answer"))
    return path.read_bytes()


def _change_solution(root: Path) -> None:
    path = root / "solutions" / FIXTURE.name
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source += "\n\nA sentence added after the release."
    nbformat.write(nb, path)


def test_an_edited_student_notebook_counts_as_released_while_its_committed_version_is(course_clone):
    student = course_clone / "notebooks" / FIXTURE.name
    fresh = release_notebook(course_clone / "solutions" / FIXTURE.name).encode("utf-8")
    edited = _edit(student)
    assert edited != fresh and fresh in _released_versions(student)
    _change_solution(course_clone)  # the maintainer changed a solution and did not release: the check must fail
    fresh = release_notebook(course_clone / "solutions" / FIXTURE.name).encode("utf-8")
    assert fresh not in _released_versions(student)


def test_release_keeps_an_edited_student_notebook_and_says_what_to_do(course_clone):
    student = course_clone / "notebooks" / FIXTURE.name
    edited = _edit(student)
    _change_solution(course_clone)
    with pytest.raises(LocalEditsError, match=r"(?s)99_fixture\.ipynb.*--force.*backups") as raised:
        release(course_clone / "solutions", course_clone / "notebooks")
    assert raised.value.paths == [student]
    assert student.read_bytes() == edited
    assert not (course_clone / "notebooks" / BACKUPS).exists()


def test_release_force_replaces_an_edited_notebook_after_a_timestamped_backup(course_clone):
    student = course_clone / "notebooks" / FIXTURE.name
    edited = _edit(student)
    _change_solution(course_clone)
    assert release(course_clone / "solutions", course_clone / "notebooks", force=True) == [student]
    assert student.read_bytes() == release_notebook(course_clone / "solutions" / FIXTURE.name).encode("utf-8")
    backups = list((course_clone / "notebooks" / BACKUPS).glob("*.ipynb"))
    assert len(backups) == 1 and backups[0].read_bytes() == edited
    assert re.fullmatch(r"99_fixture\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.ipynb", backups[0].name)


def test_release_replaces_an_unedited_notebook_committed_or_released_here(course_clone):
    student = course_clone / "notebooks" / FIXTURE.name
    _change_solution(course_clone)
    assert release(course_clone / "solutions", course_clone / "notebooks") == [student]  # equal to git's HEAD
    _change_solution(course_clone)
    assert release(course_clone / "solutions", course_clone / "notebooks") == [student]  # equal to the last release
    assert not (course_clone / "notebooks" / BACKUPS).exists()


def test_release_outside_git_refuses_an_edited_notebook_it_has_no_record_of(tmp_path):
    solutions = _fixture_copy(tmp_path / "solutions").parent
    release(solutions, tmp_path / "notebooks")
    student = tmp_path / "notebooks" / FIXTURE.name
    assert committed_versions(student) == []  # tmp_path is outside any git checkout
    _edit(student)
    with pytest.raises(LocalEditsError):
        release(solutions, tmp_path / "notebooks")


def test_cli_release_exits_1_with_the_message_and_force_backs_up(course_clone):
    _edit(course_clone / "notebooks" / FIXTURE.name)
    _change_solution(course_clone)
    run = functools.partial(subprocess.run, capture_output=True, text=True, cwd=course_clone, env=kernel_env(),
                            timeout=300)
    refused = run([sys.executable, "-m", "mialab.course", "release"])
    assert refused.returncode == 1 and "--force" in refused.stderr and "99_fixture" in refused.stderr
    forced = run([sys.executable, "-m", "mialab.course", "release", "--force"])
    assert forced.returncode == 0, forced.stderr
    assert "backups" in forced.stdout and len(list((course_clone / "notebooks" / BACKUPS).glob("*.ipynb"))) == 1


# ---------------------------------------------------------------- the release machinery, on the fixture

def test_release_applies_nbgraders_generate_assignment_steps_in_order_without_the_database():
    names = [type(step).__name__ for step in generate_assignment_steps()]
    assert names == ["IncludeHeaderFooter", "InstantiateTests", "LockCells", "ClearSolutions", "ClearOutput",
                     "CheckCellMetadata", "ComputeChecksums", "ClearHiddenTests", "ClearMarkScheme",
                     "ComputeChecksums", "CheckCellMetadata"]


def test_release_equals_nbgrader_generate_assignment_up_to_the_metadata_tidy(tmp_path):
    """The release and the real `nbgrader generate_assignment --no-db` give the same student notebooks."""
    source_dir = tmp_path / "source" / "course"
    source_dir.mkdir(parents=True)
    for source in EVERY:
        shutil.copy(source, source_dir / source.name)
    result = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "course", "--no-db",
                             f"--CourseDirectory.root={tmp_path}"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    for source in EVERY:
        theirs = nbformat.read(tmp_path / "release" / "course" / source.name, as_version=4)
        assert dumps(tidy(theirs)) == release_notebook(source), source.name


def test_release_twice_writes_identical_bytes_and_leaves_unchanged_files_alone(tmp_path):
    first = release(FIXTURES, tmp_path / "a")
    data = (tmp_path / "a" / FIXTURE.name).read_bytes()
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [MANIFEST, FIXTURE.name]
    assert first == [tmp_path / "a" / FIXTURE.name]
    assert release(FIXTURES, tmp_path / "a") == []
    release(FIXTURES, tmp_path / "b")
    assert (tmp_path / "b" / FIXTURE.name).read_bytes() == data
    assert data.endswith(b"}\n") and b"\r\n" not in data


def test_release_does_not_depend_on_the_stored_outputs(tmp_path):
    cleared = _fixture_copy(tmp_path, clear_outputs=True)
    assert release_notebook(cleared) == release_notebook(FIXTURE)


def test_solution_region_becomes_nbgraders_stub_at_the_regions_indent():
    cell = {c.id: c for c in _student(FIXTURE).cells}["fx-04"]
    assert cell.source == ('def membership_advantage(scores, is_member):\n    """Largest TPR - FPR over all '
                           'thresholds: scores (n,), is_member (n,) bool -> float."""\n'
                           "    # YOUR CODE HERE\n    raise NotImplementedError()")


def test_hidden_tests_and_their_markers_are_removed_from_check_cells():
    cell = {c.id: c for c in _student(FIXTURE).cells}["fx-05"]
    assert cell.source == "# NBVAL_CHECK_OUTPUT\ncheck_membership_advantage(membership_advantage, scores, is_member)"


def test_student_notebook_keeps_the_solution_notebooks_cell_ids():
    assert [c.id for c in _student(FIXTURE).cells] == [c.id for c in _solution(FIXTURE).cells]


def test_student_notebook_has_no_outputs_and_only_meaningful_metadata():
    nb = _student(FIXTURE)
    assert nb.metadata == {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                          "name": "python3"}, "language_info": {"name": "python"}}
    assert (nb.nbformat, nb.nbformat_minor) == (4, 5)
    for cell in nb.cells:
        assert set(cell.metadata) <= set(CELL_METADATA)
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_check_release_reports_missing_stale_and_orphan_notebooks(tmp_path):
    out = tmp_path / "notebooks"
    assert check_release(FIXTURES, out) == [f"{out / FIXTURE.name}: missing"]
    release(FIXTURES, out)
    assert check_release(FIXTURES, out) == []
    target = out / FIXTURE.name
    target.write_bytes(target.read_bytes().replace(b"YOUR CODE HERE", b"my code"))
    (out / "98_gone.ipynb").write_text("{}")
    assert check_release(FIXTURES, out) == [f"{target}: stale",
                                            f"{out / '98_gone.ipynb'}: orphan (no {FIXTURES / '98_gone.ipynb'})"]
    assert set(release(FIXTURES, out, force=True)) == {target}
    assert (out / "98_gone.ipynb").exists()  # not a release: a student's own notebook is never removed
    assert check_release(FIXTURES, out) == [f"{out / '98_gone.ipynb'}: orphan (no {FIXTURES / '98_gone.ipynb'})"]


def test_release_removes_an_orphan_it_released_itself(tmp_path):
    solutions = _fixture_copy(tmp_path / "solutions").parent
    out = tmp_path / "notebooks"
    release(solutions, out)
    (solutions / FIXTURE.name).unlink()
    assert release(solutions, out) == [out / FIXTURE.name]
    assert not (out / FIXTURE.name).exists()


def test_release_refuses_cells_without_ids_instead_of_inventing_random_ones(tmp_path):
    raw = json.loads(FIXTURE.read_text(encoding="utf-8"))
    raw["nbformat_minor"] = 4
    for cell in raw["cells"]:
        del cell["id"]
    path = tmp_path / "solutions" / "97_old.ipynb"
    path.parent.mkdir()
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(NotebookError, match="have no id.*mialab.course execute"):
        release(path.parent, tmp_path / "notebooks")
    ids = [c.id for c in read_notebook(path, fix_ids=True).cells]
    assert ids == [c.id for c in read_notebook(path, fix_ids=True).cells] == [f"cell-{i:03d}" for i in range(len(ids))]


def test_release_names_the_notebook_when_nbgrader_rejects_it(tmp_path):
    path = _fixture_copy(tmp_path / "solutions", name="96_bad.ipynb")
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source += "\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION"  # a region outside a solution cell
    nbformat.write(nb, path)
    with pytest.raises(NotebookError, match=r"96_bad\.ipynb.*non-solution cell"):
        release_notebook(path)


def test_execute_stores_outputs_with_the_same_bytes_every_run(tmp_path):
    path = _fixture_copy(tmp_path, clear_outputs=True)
    assert execute(path) is True
    assert path.read_bytes() == FIXTURE.read_bytes()
    assert execute(path) is False


def test_nbval_lax_passes_on_an_executed_solution_notebook_with_the_repos_pytest_config():
    result = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "-q",
                             str(FIXTURE.relative_to(ROOT))], cwd=ROOT, capture_output=True, text=True,
                            env=kernel_env(), timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert re.search(r"\b\d+ passed", result.stdout)


# ---------------------------------------------------------------- every notebook: shape, secrecy, outputs

def _split_regions(source: str) -> tuple[list[str], list[str]]:
    """(lines inside solution and hidden-test regions, lines outside them), stripped; marker lines in neither."""
    inside, outside, in_region = [], [], False
    for line in source.splitlines():
        if "BEGIN SOLUTION" in line or "BEGIN HIDDEN TESTS" in line:
            in_region = True
        elif "END SOLUTION" in line or "END HIDDEN TESTS" in line:
            in_region = False
        else:
            (inside if in_region else outside).append(line.strip())
    return inside, outside


@pytest.mark.parametrize("source", EVERY, ids=IDS)
def test_no_solution_or_hidden_test_line_reaches_the_student_notebook(source):
    solution, student = _solution(source), _student(source)
    regions = [_split_regions(cell.source) for cell in solution.cells]
    visible = {line for _, outside in regions for line in outside}
    secret = [line for inside, _ in regions for line in inside if not TRIVIAL.match(line) and line not in visible]
    student_lines = {line.strip() for cell in student.cells for line in cell.source.splitlines()}
    leaked = sorted({line for line in secret if line in student_lines})
    assert not leaked, f"solution or hidden-test lines in the student notebook: {leaked}"
    text = "\n".join(cell.source for cell in student.cells)
    assert not any(marker.lstrip("# ") in text for marker in SOLUTION_MARKERS + HIDDEN_MARKERS)
    if source == FIXTURE:
        assert len(secret) == 12  # the test checks something: 8 solution lines, 4 hidden-test lines


@pytest.mark.parametrize("source", EVERY, ids=IDS)
def test_exercise_cells_have_valid_nbgrader_schema_3_metadata(source):
    from nbgrader.nbgraderformat import MetadataValidator

    nb = _solution(source)
    MetadataValidator().validate_nb(nb)
    cells = [(i, c) for i, c in enumerate(nb.cells) if "nbgrader" in c.metadata]
    assert cells, f"{source.name} has no nbgrader cells"
    grade_ids = [_nbgrader(c)["grade_id"] for _, c in cells]
    assert len(grade_ids) == len(set(grade_ids)), f"duplicate grade ids in {source.name}: {grade_ids}"
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    for i, cell in cells:
        meta, where = _nbgrader(cell), f"{source.name} cell {i} ({_nbgrader(cell)['grade_id']})"
        assert meta["schema_version"] == 3 and {"grade", "grade_id", "locked", "solution", "task"} <= set(meta), where
        if meta["grade"]:
            assert isinstance(meta.get("points"), (int, float)) and meta["points"] > 0, f"{where}: points"
        if cell.cell_type == "code" and meta["grade"]:
            assert meta["locked"] and not meta["solution"], f"{where}: a check cell is graded, locked, not a solution"
        if cell.cell_type == "code" and meta["solution"]:
            assert not meta["locked"] and not meta["grade"], f"{where}: a solution cell is neither locked nor graded"
            assert all(m in cell.source for m in SOLUTION_MARKERS), f"{where}: no ### BEGIN/END SOLUTION region"
            after = [j for j in code if j > i]
            check = nb.cells[after[0]] if after else None
            assert check is not None and _is_grade(check) and _nbgrader(check)["locked"], (
                f"{where}: the next code cell must be the exercise's graded, locked check cell")
            header = next((c.source for c in reversed(nb.cells[:i]) if c.cell_type == "markdown"), "")
            stated = re.search(r"\((\d+(?:\.\d+)?) points?\)", header)
            if stated:
                assert float(stated.group(1)) == _nbgrader(check)["points"], f"{where}: points differ from the header"


@pytest.mark.parametrize("source", EVERY, ids=IDS)
def test_student_check_cells_are_locked_and_carry_nbgrader_checksums(source):
    for cell in _student(source).cells:
        meta = _nbgrader(cell)
        if meta.get("grade") or meta.get("solution") or meta.get("locked"):
            assert meta.get("checksum") and meta.get("cell_type") == cell.cell_type
            assert cell.metadata.get("deletable") is False
            if not meta.get("solution"):
                assert cell.metadata.get("editable") is False


@pytest.mark.parametrize("source", EVERY, ids=IDS)
def test_solution_notebook_stores_the_outputs_of_one_top_to_bottom_run(source):
    code = [c for c in _solution(source).cells if c.cell_type == "code" and c.source.strip()]
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"{source.name} was not run top to bottom in one kernel (execution counts {counts}): run `make execute`.")
    errors = [c.id for c in code for o in c.outputs if o.output_type == "error" and not _raises(c)]
    assert not errors, f"{source.name}: cells {errors} stored an error (tag a cell `raises-exception` if meant)"
    unchecked = [c.id for c in code if "# NBVAL_CHECK_OUTPUT" in c.source and not c.outputs]
    assert not unchecked, f"{source.name}: cells {unchecked} are marked NBVAL_CHECK_OUTPUT but have no output"


@pytest.mark.parametrize("source", EVERY, ids=IDS)
def test_solution_outputs_hold_no_memory_addresses(source):
    texts = [str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
             for c in _solution(source).cells for o in c.get("outputs", [])]
    found = sorted({m for t in texts for m in ADDRESS.findall(t)})
    assert not found, (f"{source.name} prints memory addresses {found[:3]} (e.g. a bare `plt.plot(...)` or "
                       "`fig` as a cell's last line), so re-running it changes the file: end the line with `;`.")


# ---------------------------------------------------------------- every student notebook runs, exercise by exercise

def _error(cell):
    return next((o for o in cell.outputs if o.output_type == "error"), None)


def _describe(source, index, cell, error) -> str:
    head = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
    return f"{source.name} cell {index} ({cell.id}: {head!r}) raised {error.ename}: {error.evalue}"


@pytest.mark.notebook
@pytest.mark.parametrize("source", EVERY, ids=IDS)
def test_student_notebook_fails_only_at_each_blank_exercises_check_with_not_done(source):
    """Run the student notebook in one kernel. Every cell runs cleanly except the check cell after a blank
    solution cell, which fails with NotDoneError ("is not done yet"); then the solution's code is run in place
    of the blank and the check passes, so later cells see a solved exercise."""
    from nbclient import NotebookClient

    student, solved = copy.deepcopy(_student(source)), {c.id: c.source for c in _solution(source).cells}
    cwd = source.parent if source == FIXTURE else (NOTEBOOKS if NOTEBOOKS.is_dir() else SOLUTIONS)
    client = NotebookClient(student, timeout=600, kernel_name="python3", allow_errors=True, record_timing=False,
                            resources={"metadata": {"path": str(cwd)}})
    blank, done = None, 0
    with client.setup_kernel(env=kernel_env()):
        for index, cell in enumerate(student.cells):
            if cell.cell_type != "code":
                continue
            client.execute_cell(cell, index)
            error = _error(cell)
            if blank is not None and _is_grade(cell):
                assert error is not None, f"{source.name} cell {index}: the check passed on a blank exercise"
                assert error.ename == "NotDoneError" and NOT_DONE in error.evalue, _describe(source, index, cell,
                                                                                            error)
                blank_index, blank_cell = blank
                filled = copy.deepcopy(blank_cell)
                filled.source = solved[blank_cell.id]
                client.execute_cell(filled, blank_index)
                assert _error(filled) is None, _describe(source, blank_index, filled, _error(filled))
                again = copy.deepcopy(cell)
                client.execute_cell(again, index)
                assert _error(again) is None, _describe(source, index, again, _error(again))
                blank, done = None, done + 1
                continue
            assert error is None or _raises(cell), _describe(source, index, cell, error)
            if _is_solution(cell):
                blank = (index, cell)
    n_exercises = sum(1 for c in student.cells if c.cell_type == "code" and _is_solution(c))
    assert done == n_exercises > 0
