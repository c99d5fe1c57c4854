"""mialab builds as a wheel that holds the whole package, and a course notebook runs against the installed wheel with
no source checkout in sight (what a JupyterHub image, Binder or Colab needs). Nothing is downloaded: the wheel is
built with this environment's setuptools, and the fresh venv sees this environment's packages (torch, Jupyter)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD_FILES = ("pyproject.toml", "README.md", "LICENSE", "LICENSE-notebooks")  # what pyproject.toml refers to
NOTEBOOK = ROOT / "solutions" / "00_membership_game.ipynb"

_EXECUTE = """
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
               resources={"metadata": {"path": "."}}).execute()
nbformat.write(nb, sys.argv[1])
"""


def _package_files() -> set[str]:
    return {p.relative_to(ROOT).as_posix() for p in (ROOT / "mialab").rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a copy of the package's files (the checkout gets no build/ or egg-info)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in BUILD_FILES:
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "mialab", src / "mialab", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                             "-q", "-w", str(tmp / "dist"), str(src)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    wheels = list((tmp / "dist").glob("mialab-*.whl"))
    assert len(wheels) == 1, wheels
    print(f"wheel {wheels[0].name}: {wheels[0].stat().st_size / 1e3:.0f} kB")
    return wheels[0]


def test_the_wheel_holds_every_file_of_the_package_and_its_dependencies(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    missing = sorted(_package_files() - names)
    assert not missing, f"the wheel lacks {missing}: declare them as package data in pyproject.toml"
    assert not [n for n in names if n.startswith(("tests/", "solutions/", "notebooks/"))]
    assert "Requires-Dist: torch==" in metadata and "Provides-Extra: course" in metadata


def _fresh_venv(folder: Path) -> Path:
    """A venv with none of this checkout; this environment's site-packages are on its path after its own (a plain
    path line in a .pth file, so that this environment's own .pth files, e.g. an editable mialab, do not run there)."""
    result = subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(folder)],
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        pytest.skip(f"cannot create a venv here (`python -m venv`: {result.stderr.strip()[-300:]})")
    python = folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "mialab_test_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


@pytest.mark.notebook
def test_notebook_00_runs_against_the_installed_wheel_without_the_checkout(wheel, tmp_path):
    python = _fresh_venv(tmp_path / "venv")
    result = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    run = tmp_path / "run"
    run.mkdir()
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import mialab; print(mialab.__file__)"))
    nbformat.write(nb, run / NOTEBOOK.name)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the checkout must not be importable
    env.update(MIALAB_CACHE=str(tmp_path / "cache"), MIALAB_PROGRESS="0")
    result = subprocess.run([str(python), "-c", _EXECUTE, NOTEBOOK.name], cwd=run, env=env, capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    ran = nbformat.read(run / NOTEBOOK.name, as_version=4)
    errors = [(c.id, o.ename, o.evalue) for c in ran.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error" and "raises-exception" not in c.metadata.get("tags", [])]
    assert not errors, errors
    where = "".join(o.get("text", "") for o in ran.cells[-1].outputs).strip()
    assert Path(where).is_relative_to(tmp_path / "venv"), f"the kernel imported mialab from {where}, not the wheel"
    assert not Path(where).is_relative_to(ROOT)


def test_readme_says_how_to_open_the_course_on_a_hosted_jupyter_service():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip wheel . --no-deps" in readme and all(name in readme for name in ("JupyterHub", "Binder", "Colab"))
