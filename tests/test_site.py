"""The course website (docs/site): it builds offline from the stored outputs, claims no notebook that does not exist,
and works in a real browser (Debian's chromium, headless; skipped, with the reason, where there is none)."""

import importlib.util
import json
import re
import shutil
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name):
    """docs/site/NAME.py as a module of its own name (plain `import build` could find PyPI's `build`)."""
    spec = importlib.util.spec_from_file_location(f"mialab_site_{name}", ROOT / "docs" / "site" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


build = _load("build")
browser = _load("browser")

SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))


def test_readme_syllabus_lists_all_14_notebooks_and_marks_exactly_the_missing_ones():
    rows = build.readme_syllabus(ROOT / "README.md")
    assert sorted(rows) == [f"{n:02d}" for n in range(14)]
    numbers = re.findall(r"^\|\s*`(\d\d)_", (ROOT / "README.md").read_text(encoding="utf-8"), re.M)
    assert len(numbers) == 14, f"README's course table has {len(numbers)} rows for 14 notebooks: one row each"
    on_disk = {p.name[:2] for p in SOLUTIONS}
    for number, entry in rows.items():
        coming = entry.time == "in preparation"
        assert coming == (number not in on_disk), (
            f"README's course table says notebook {number} is {'in preparation' if coming else 'ready'}, "
            f"but solutions/ {'has' if number in on_disk else 'has no'} {number}_*.ipynb: update its row")


def test_the_landing_page_links_the_notebooks_whose_files_exist_and_no_other(tmp_path):
    root = tmp_path / "repo"
    (root / "solutions").mkdir(parents=True)
    (root / "notebooks").mkdir()
    shutil.copy2(ROOT / "README.md", root / "README.md")
    shutil.copy2(SOLUTIONS[0], root / "solutions" / SOLUTIONS[0].name)  # only the first notebook exists
    entries = build.syllabus(root)
    assert len(entries) == 14 and [e.exists for e in entries] == [True] + [False] * 13
    index = build._index(entries)
    assert f"](notebooks/{SOLUTIONS[0].stem})" in index
    assert index.count("](notebooks/") == 1 and index.count("*in preparation*") == 13
    assert "1 of the 14 notebooks are ready" in index
    assert "not released yet" in index  # no student notebook in notebooks/: nothing to download


def test_the_reading_copy_drops_hidden_tests_and_nbval_markers_and_keeps_every_output():
    entry = next(e for e in build.syllabus() if e.exists)
    original = json.loads(entry.solution.read_text(encoding="utf-8"))
    copy = build._reading_copy(entry)
    text = "\n".join(build._cell_text(c) for c in copy["cells"])
    assert "BEGIN HIDDEN TESTS" not in text and "hidden_test(" not in text and "NBVAL_" not in text
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    regions = [re.search(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", build._cell_text(c), re.S)
               for c in original["cells"] if c["cell_type"] == "code"]
    solution_lines = [line.strip() for r in regions if r for line in r.group(1).splitlines() if line.strip()]
    assert solution_lines and all(line in text for line in solution_lines)  # the solution's code stays
    assert "{download}`the student notebook" in text
    outputs = [c.get("outputs") for c in original["cells"] if c["cell_type"] == "code"]
    assert [c.get("outputs") for c in copy["cells"] if c["cell_type"] == "code"] == outputs


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    start = time.perf_counter()
    status = build.build(out)
    seconds = time.perf_counter() - start
    print(f"site built in {seconds:.1f} s")
    return out, status


def test_the_site_builds_without_a_warning(site):
    out, status = site
    warnings = (out / "warnings.txt").read_text(encoding="utf-8").strip()
    assert status == 0 and not warnings, f"Sphinx: exit {status}\n{warnings}"
    assert (out / "html" / "index.html").exists()


def test_the_architecture_map_is_on_the_site_and_linked_from_the_landing_page(site):
    html = site[0] / "html"
    assert "Layers" in (html / "guide" / "architecture.html").read_text(encoding="utf-8")
    assert 'href="guide/architecture.html"' in (html / "index.html").read_text(encoding="utf-8")


def test_every_notebook_page_exists_and_offers_its_student_notebook(site):
    html = site[0] / "html"
    for solution in SOLUTIONS:
        page = (html / "notebooks" / f"{solution.stem}.html").read_text(encoding="utf-8")
        links = set(re.findall(r'href="\.\./(_downloads/[^"]+\.ipynb)"', page))
        names = {Path(link).name for link in links}
        if (ROOT / "notebooks" / solution.name).exists():
            assert solution.name in names and all((html / link).exists() for link in links), solution.name
        assert f"{solution.stem}_solution.ipynb" in names
        for student in html.glob(f"_downloads/*/{solution.name}"):
            assert "BEGIN SOLUTION" not in student.read_text(encoding="utf-8")


def test_no_page_shows_nbgraders_solution_markers(site):
    html = site[0] / "html"
    shown = [p.name for p in (html / "notebooks").glob("*.html") if "SOLUTION" in p.read_text(encoding="utf-8")
             and re.search(r"### (BEGIN|END) SOLUTION", p.read_text(encoding="utf-8"))]
    assert not shown, f"pages showing ### BEGIN/END SOLUTION: {shown}"


def test_the_site_in_a_real_browser(site):
    found = browser.find_browser()
    if isinstance(found, str):
        pytest.skip(f"browser check NOT run: {found}")
    out, _ = site
    report = browser.check_site(out / "html", browser=found)
    print(report.summary())
    assert report.pages >= len(SOLUTIONS) + 3 and report.links > 0
    assert sorted(Path(p).stem for p in report.figures) == [p.stem for p in SOLUTIONS]
    assert report.search["summaries"] > 0 and report.search["bare"] == 0, report.search
    assert not report.errors, "\n".join(report.errors)


def test_the_browser_check_sees_search_without_summaries_and_a_page_wider_than_a_phone(site):
    """The search and width checks can fail: search.html without the pages' text script shows no summary under
    file:// (the browser refuses the fetch), and without the site's stylesheet the syllabus is cut off at 400 px."""
    found = browser.find_browser()
    if isinstance(found, str):
        pytest.skip(f"browser check NOT run: {found}")
    html = site[0] / "html"
    plain = html / "search_plain.html"
    plain.write_text((html / "search.html").read_text(encoding="utf-8").replace(
        'src="_static/mialab_search_pages.js', 'src="_static/none.js'), encoding="utf-8")
    unstyled = html / "index_unstyled.html"
    unstyled.write_text((html / "index.html").read_text(encoding="utf-8").replace("mialab.css", "none.css"),
                        encoding="utf-8")
    driver = browser.open_browser(*found)
    try:
        state = browser.check_search(driver, html, timeout=5, page=plain.name)
        assert state["results"] > 0 and state["summaries"] == 0 and state["bare"] > 0, state
        assert browser.check_widths(driver, html, [html / "index.html"]) == []
        problems = browser.check_widths(driver, html, [unstyled])
        assert any("download column is out of view" in p for p in problems), problems
    finally:
        driver.quit()
        plain.unlink()
        unstyled.unlink()


def test_every_ready_notebook_has_a_time_in_minutes_on_the_syllabus():
    for entry in build.syllabus(ROOT):
        if entry.solution is not None:
            assert re.fullmatch(r"\d+ min", entry.time), f"notebook {entry.number}: time {entry.time!r}"


def test_each_not_reproduced_line_links_its_reproduction_entry_and_the_link_works_on_the_site(site):
    """Issue 30: a notebook's "at paper scale" line links docs/reproduction.md's entry (in JupyterLab) and, on the
    site, the guide page's anchor of that entry."""
    linked = {}
    for solution in SOLUTIONS:
        text = solution.read_text(encoding="utf-8")
        linked[solution.stem[:2]] = set(re.findall(r"\.\./docs/reproduction\.md#([\w-]+)", text))
    assert {"02", "03", "06", "07", "08", "09", "11"} <= {k for k, v in linked.items() if v}
    page = (ROOT / "docs" / "reproduction.md").read_text(encoding="utf-8")
    html = site[0] / "html"
    guide = (html / "guide" / "reproduction.html").read_text(encoding="utf-8")
    for number, anchors in linked.items():
        for anchor in anchors:
            assert f'<a id="{anchor}"></a>' in page and f'id="{anchor}"' in guide, anchor
        if anchors:
            notebook = next((html / "notebooks").glob(f"{number}_*.html")).read_text(encoding="utf-8")
            assert all(f'href="../guide/reproduction.html#{anchor}"' in notebook for anchor in anchors), number
