"""benchmarks/notebooks.py's per-cell profile (issue 30): the slowest cell is the one that sleeps, and the time
outside the cells (the kernel's start) is what is left of the run."""

import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _benchmark():
    spec = importlib.util.spec_from_file_location("bench_notebooks", ROOT / "benchmarks" / "notebooks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_notebooks"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.notebook
def test_the_profile_names_the_slow_cell_and_the_kernel_start(tmp_path, capsys):
    bench = _benchmark()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# a notebook"), nbformat.v4.new_code_cell("x = 1"),
                nbformat.v4.new_code_cell("import time\ntime.sleep(1.0)"), nbformat.v4.new_code_cell("# a note\ny = x")]
    path = tmp_path / "slow.ipynb"
    nbformat.write(nb, path)
    profile = []
    times = bench.time_notebook(path, 1, 60, profile=profile)
    assert [index for _, index, _ in profile] == [1, 2, 3]
    slowest = max(profile)
    assert slowest[1] == 2 and slowest[2] == "import time" and 0.9 < slowest[0] < times[0]
    assert profile[2][2] == "y = x"            # the first line that is not a comment
    bench.print_profile(times[0], profile, top=1)
    printed = capsys.readouterr().out
    assert "kernel start and outside cells" in printed and "cell   2" in printed and "cell   1" not in printed


def test_a_notebook_without_recorded_timing_has_no_profile():
    bench = _benchmark()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    assert bench.cell_times(nb) == []
