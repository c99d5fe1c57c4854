"""Run a solution notebook top to bottom and store its outputs in place, byte-stably."""

from __future__ import annotations

import os
from pathlib import Path

from ._notebook import read_notebook, tidy, write_notebook


def kernel_env() -> dict:
    """The environment notebooks run in: this one, with progress bars off (they make outputs differ run to run)."""
    return {**os.environ, "MIALAB_PROGRESS": "0"}


def check_timeout(timeout) -> int:
    """Seconds per cell: a whole number >= 1 (nbclient reads 0 or -1 as no limit, which a course run must not)."""
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 1:
        raise ValueError(f"`timeout` must be a whole number of seconds per cell, at least 1; got {timeout!r}.")
    return timeout


def run_notebook(nb, cwd, timeout: int = 600, kernel_name: str = "python3", allow_errors: bool = False,
                 record_timing: bool = False):
    """Execute `nb` in a fresh kernel (this environment's Python) with working directory `cwd`; returns nb.

    record_timing=True keeps each cell's start and end in its metadata["execution"] (benchmarks/notebooks.py)."""
    from nbclient import NotebookClient  # deferred: the dev extra, only for course tooling

    timeout = check_timeout(timeout)

    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name, allow_errors=allow_errors,
                            record_timing=bool(record_timing), coalesce_streams=True,
                            resources={"metadata": {"path": str(cwd)}})
    return client.execute(env=kernel_env())


def execute(path, timeout: int = 600, kernel_name: str = "python3") -> bool:
    """Run the notebook at `path` in its own folder and save it with its outputs. Returns True when it changed.

    The file is left as it was when a cell fails (nbclient's CellExecutionError says which). Cells without an id
    get a stable one. Timings, widget state and kernel versions are not stored, so a notebook whose outputs are
    deterministic is written with the same bytes every run."""
    check_timeout(timeout)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` must be a notebook's path (a string or pathlib.Path); got {type(path).__name__}.")
    path = Path(path).resolve()
    nb = read_notebook(path, fix_ids=True)
    run_notebook(nb, path.parent, timeout=timeout, kernel_name=kernel_name)
    return write_notebook(tidy(nb), path)
