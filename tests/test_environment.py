"""environment.yml (the conda route) names the same dependencies as pyproject.toml; the Makefile's set-up logic."""

import json
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

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


def test_environment_states_the_same_version_bounds_as_pyproject():
    conda, pip = _environment()
    ours = {}
    for dep in conda + pip:
        name = _name(dep)
        if name not in ("python", "pip"):
            ours[name] = SpecifierSet(re.sub(r"^[A-Za-z0-9_.\-\[\]]+", "", dep.split("#")[0].strip()))
    theirs = {_name(r): Requirement(r).specifier for r in _pyproject()}
    differ = {name: (str(ours[name]), str(theirs[name])) for name in theirs if ours.get(name) != theirs[name]}
    assert not differ, f"environment.yml vs pyproject.toml bounds differ: {differ}"


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
    if not any((venv / stamp).exists() for stamp in (".mialab-installed", ".mialab-student-tools")):
        pytest.skip("this environment was not set up by `make setup`")
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


# ---------------------------------------------------------------- the Makefile's set-up logic (no network, no install)

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="no `make` on this machine")


def _fake_python(folder: Path, probe_rc: int) -> tuple[Path, Path]:
    """A stand-in `python` that logs its arguments; its `-c` (the index probe) exits with probe_rc."""
    log = folder / "calls.log"
    python = folder / "bin" / "python"
    python.parent.mkdir(parents=True, exist_ok=True)
    python.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\n[ "$1" = -c ] && exit {probe_rc}\nexit 0\n')
    python.chmod(0o755)
    return python, log


def _make(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("CONDA_PREFIX", "MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    return subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), *args], capture_output=True, text=True,
                          env={**base, **(env or {})}, timeout=120)


@needs_make
@pytest.mark.parametrize("reachable", [True, False], ids=["cpu-index-up", "cpu-index-down"])
def test_linux_set_up_asks_the_cpu_index_first_and_falls_back_to_pypi_with_a_note(tmp_path, reachable):
    python, log = _fake_python(tmp_path, 0 if reachable else 1)
    result = _make("torch", f"PY={python}", "TORCH_INDEX=auto", "TORCH_PROBE_S=3")
    assert result.returncode == 0, result.stderr
    probe, install = log.read_text().splitlines()
    assert probe.startswith("-c ") and probe.endswith("https://download.pytorch.org/whl/cpu/torch/ 3")
    assert install.startswith("-m pip install --quiet torch==")
    if reachable:
        assert "--index-url https://download.pytorch.org/whl/cpu --extra-index-url https://pypi.org/simple" in install
        assert "note:" not in result.stdout
    else:
        assert "--index-url" not in install
        assert "note:" in result.stdout and "cannot be reached" in result.stdout and "TORCH_INDEX" in result.stdout


@needs_make
def test_linux_default_is_the_cpu_index_and_torch_index_overrides_it(tmp_path):
    default = _make("-n", "torch", f"PY={tmp_path}/bin/python")
    if os.uname().sysname == "Linux":
        assert "https://download.pytorch.org/whl/cpu" in default.stdout and "note:" in default.stdout
    chosen = _make("-n", "torch", f"PY={tmp_path}/bin/python", "TORCH_INDEX=https://example.invalid/cu128")
    assert "--index-url https://example.invalid/cu128" in chosen.stdout and "whl/cpu" not in chosen.stdout
    for value in ("pypi", ""):
        pypi = _make("-n", "torch", f"PY={tmp_path}/bin/python", f"TORCH_INDEX={value}")
        assert "--index-url" not in pypi.stdout and "torch==" in pypi.stdout, value


@needs_make
def test_inside_a_ready_conda_env_make_uses_it_and_builds_no_venv(tmp_path):
    _fake_python(tmp_path, 0)  # every `python -c` succeeds: the env has mialab's dependencies
    plan = _make("-n", "lab", env={"CONDA_PREFIX": str(tmp_path)}).stdout
    assert "-m venv" not in plan and "pip install" not in plan
    assert f"{tmp_path}/bin/jupyter labextension disable" in plan and f"{tmp_path}/bin/jupyter lab " in plan
    assert "overrides.d/mialab.json" in plan
    venv = _make("-n", "lab", "MIALAB_CONDA=0", f"VENV={tmp_path}/venv", env={"CONDA_PREFIX": str(tmp_path)}).stdout
    assert "-m venv" in venv and f"{tmp_path}/venv/bin/jupyter lab " in venv  # (a fresh VENV: this checkout has one)


@needs_make
def test_a_conda_env_without_mialab_still_gets_a_venv(tmp_path):
    _fake_python(tmp_path, 1)  # the env lacks mialab's dependencies
    plan = _make("-n", "setup", f"VENV={tmp_path}/venv", env={"CONDA_PREFIX": str(tmp_path)}).stdout
    assert f"-m venv {tmp_path}/venv" in plan


def test_the_lab_the_course_opens_has_no_news_pop_up():
    overrides = json.loads((ROOT / "jupyter" / "overrides.json").read_text())
    assert overrides["@jupyterlab/apputils-extension:notification"] == {"fetchNews": "false", "checkForUpdates": False}
    makefile = (ROOT / "Makefile").read_text()
    assert "--LabApp.news_url=None" in makefile and "overrides.d/mialab.json" in makefile


def test_environment_yml_tells_conda_users_how_to_hide_nbgraders_instructor_tools():
    text = (ROOT / "environment.yml").read_text()
    assert "make setup" in text and "labextension disable" in text
