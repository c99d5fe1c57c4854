"""environment.yml (the conda route) names the same dependencies as pyproject.toml."""

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    return requirements


def _environment():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = [], []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip += [d for d in dep["pip"] if not d.startswith("-")]
        else:
            conda.append(dep)
    return conda, pip


def test_environment_names_the_same_dependencies_as_pyproject():
    conda, pip = _environment()
    env_names = {_name(d) for d in conda + pip} - {"python", "pip"}
    assert env_names == {_name(r) for r in _pyproject()}


def test_torch_is_pinned_to_the_same_release_everywhere():
    _, pip = _environment()
    pins = [r for r in _pyproject() if _name(r) == "torch"] + [d for d in pip if _name(d) == "torch"]
    assert len(pins) == 2 and len({p.replace(" ", "") for p in pins}) == 1 and "==" in pins[0]
    assert re.search(r"TORCH_VERSION \?= " + re.escape(pins[0].split("==")[1]), (ROOT / "Makefile").read_text())


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert readme.index("make lab") < readme.index("make test") < readme.index("environment.yml")


def test_the_student_set_up_hides_nbgraders_instructor_tools():
    """`make setup` disables nbgrader's JupyterLab extension and server extensions (the instructor guide turns
    them back on), so `make lab` shows a student the course and no "Create Assignment" panel."""
    import subprocess
    import sys
    venv = Path(sys.prefix)
    if not (venv / ".mialab-installed").exists():
        pytest.skip("this environment was not made by `make setup`")
    jupyter = venv / "bin" / "jupyter"
    lab = subprocess.run([str(jupyter), "labextension", "list"], capture_output=True, text=True, timeout=120)
    line = next(line for line in (lab.stdout + lab.stderr).splitlines() if "@jupyter/nbgrader" in line)
    assert "disabled" in line
    server = subprocess.run([str(jupyter), "server", "extension", "list"], capture_output=True, text=True,
                            timeout=120)
    enabled = [line for line in (server.stdout + server.stderr).splitlines()
               if "nbgrader.server_extensions" in line and "enabled" in line]
    assert not enabled, enabled


def test_make_test_keeps_a_file_or_a_notebook_on_one_worker_and_spreads_the_whole_notebook_runs():
    """`make test` runs two pytest-xdist workers; conftest.py's scheduler keeps a test file (its module fixtures) and
    a notebook's nbval cells (one kernel, in order) on one worker, and gives each whole-notebook run its own unit."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("mialab_root_conftest", ROOT / "conftest.py")
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    unit = conftest.work_unit
    assert unit("solutions/05_lira_rmia_label_only.ipynb::Cell 3") == unit(
        "solutions/05_lira_rmia_label_only.ipynb::Cell 40") == "solutions/05_lira_rmia_label_only.ipynb"
    assert unit("tests/test_metrics.py::test_auc[ties]") == unit("tests/test_metrics.py::test_tpr") == \
        "tests/test_metrics.py"
    for prefix in conftest.WHOLE_NOTEBOOK_TESTS:  # each names a parametrized test that exists (not renamed away)
        path, name = prefix.rstrip("[").split("::")
        assert re.search(rf"^def {name}\(", (ROOT / path).read_text(encoding="utf-8"), re.M), prefix
        runs = [unit(f"{prefix}{stem}]") for stem in ("00_membership_game", "11_defences")]
        assert len(set(runs)) == 2 and unit(f"{prefix}fixture]") == path
    assert "--dist loadfile" in (ROOT / "Makefile").read_text()
