"""pytest settings shared by the unit tests (`pytest tests`) and the notebook tests (`pytest --nbval-lax solutions`)."""

import os
from pathlib import Path

# progress bars write run-dependent text (and widget ids) into outputs; notebook kernels inherit this environment
os.environ["MIALAB_PROGRESS"] = "0"

ROOT = Path(__file__).resolve().parent

# the course-pipeline fixture notebooks are inputs of tests/test_release.py, not notebooks to validate with nbval
collect_ignore_glob = ["tests/fixtures/*"]


def pytest_configure(config):
    config.addinivalue_line("markers",
                            "notebook: runs whole notebooks in a kernel (slow); deselect with -m 'not notebook'")
    option = config.option
    if getattr(option, "nbval", False) or getattr(option, "nbval_lax", False):
        # the same notebook tests however nbval is called: this environment's kernel, the course's sanitizers
        if not option.nbval_kernel_name:
            option.nbval_current_env = True
        if not option.nbval_sanitize_with:
            option.nbval_sanitize_with = str(ROOT / "tests" / "nbval_sanitize.cfg")
