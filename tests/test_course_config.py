"""The nbgrader course's config: an instructor's own settings survive `nbgrader-course`; the exchange path it states
is nbgrader's; the per-cell grades CSV does not take `nbgrader export`'s name."""

from __future__ import annotations

from pathlib import Path

import pytest

from mialab.course.grading import CONFIG_KEEP, CONFIG_MARKER, course_config, make_course

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "solutions"
EXCHANGE = 'c.Exchange.root = "/home/teacher/exchange"\n'


def _load(folder: Path):
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(folder)).load_config()


def test_rewriting_the_config_keeps_the_instructors_lines_below_the_marker(tmp_path):
    config = tmp_path / "nbgrader_config.py"
    make_course(tmp_path, FIXTURES, timeout=60, gradebook=False)
    assert config.read_text().endswith(CONFIG_KEEP + "\n")
    config.write_text(config.read_text() + EXCHANGE)
    make_course(tmp_path, FIXTURES, timeout=90, gradebook=False)
    text = config.read_text()
    assert text == course_config(timeout=90) + EXCHANGE
    assert _load(tmp_path).Exchange.root == "/home/teacher/exchange"
    assert _load(tmp_path).Execute.timeout == 90


def test_a_config_from_before_the_marker_keeps_its_exchange_root(tmp_path):
    old = course_config().split(CONFIG_KEEP)[0].rstrip() + "\n" + EXCHANGE  # uncommented at the end, as the guide said
    assert old.startswith(CONFIG_MARKER)
    (tmp_path / "nbgrader_config.py").write_text(old)
    make_course(tmp_path, FIXTURES, gradebook=False)
    assert (tmp_path / "nbgrader_config.py").read_text() == course_config() + EXCHANGE


def test_the_config_states_nbgraders_own_default_exchange():
    from nbgrader.exchange.default.exchange import Exchange

    default = Exchange.class_traits()["root"].default()
    assert f"default is {default}" in course_config()


@pytest.mark.parametrize("argv, expected", [([], "grades_by_cell.csv"), (["mine.csv"], "mine.csv")])
def test_export_grades_defaults_to_a_name_nbgrader_export_does_not_use(tmp_path, monkeypatch, capsys, argv,
                                                                       expected):
    from mialab.course import grading
    from mialab.course.__main__ import main

    written = []
    monkeypatch.setattr(grading, "export_grades", lambda course, csv: written.append(Path(csv)) or 0)
    assert main(["export-grades", str(tmp_path), *argv]) == 0
    assert written == [Path(expected)] and expected != "grades.csv"
    assert f"wrote {expected}" in capsys.readouterr().out


def test_the_guide_uses_the_distinct_name_and_says_where_to_start_jupyter_lab():
    guide = (ROOT / "docs" / "instructor_guide.md").read_text(encoding="utf-8")
    assert "export-grades ~/mialab-course grades_by_cell.csv" in guide
    assert "/usr/local/share/nbgrader/exchange" in guide
    assert "cd ~/mialab-course && jupyter lab" in guide


def test_teach_states_the_syllabus_total_and_the_points_per_notebook():
    import re

    from mialab.course.grading import notebook_points

    teach = (ROOT / "docs" / "teach.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    minutes = [int(m) for m in re.findall(r"^\| `\d\d_\w+` \|.*\| (\d+) min \|$", readme, re.M)]
    solutions = sorted((ROOT / "solutions").glob("*.ipynb"))
    assert len(minutes) == len(solutions) > 0
    assert f"All {len(solutions)} notebooks" in teach and f"about {sum(minutes)} minutes" in teach
    totals = [sum(points for _, _, points in notebook_points(path)) for path in solutions]
    assert f"worth {min(totals):g} to {max(totals):g} points, {sum(totals):g} in all" in teach
    assert "if it is ready" not in teach and "ready now" not in teach
