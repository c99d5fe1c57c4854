"""Time each solution notebook: median of 3 runs, each in a fresh kernel, on a copy of solutions/ (left untouched).

    python benchmarks/notebooks.py [solutions/NN_topic.ipynb ...] [--repeat 3] [--budget 60] [--strict] [--empty-cache]
                                   [--cells N]

Prints one line per notebook (median and every run, in seconds) and the total; a notebook whose median is over
the budget (the course's 60 s per notebook on a 2-core laptop) is flagged. --strict exits 1 when one is.
--empty-cache gives every run its own empty MIALAB_CACHE folder (data generated and models trained from scratch,
as on a student's first run); without it runs share the usual cache, so only the first run is a cold one.
--cells N prints, for each notebook's first run, where its time went: the kernel's start (and anything outside the
cells) and the N slowest cells, with each cell's first line.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mialab.course import read_notebook, run_notebook  # noqa: E402


def time_notebook(path: Path, repeat: int, timeout: int, empty_cache: Path | None = None,
                  profile: list | None = None) -> list[float]:
    """Wall-clock seconds of `repeat` runs of the notebook at `path`, each in a fresh kernel (kernel start included).

    With `empty_cache`, each run's kernel gets a new empty folder under it as MIALAB_CACHE. With `profile` (a list),
    the first run's cells are appended to it as (seconds, cell index, first line)."""
    times = []
    for i in range(repeat):
        nb = read_notebook(path)
        if empty_cache is not None:
            os.environ["MIALAB_CACHE"] = str(empty_cache / f"{path.stem}-run{i}")
        start = time.perf_counter()
        run_notebook(nb, path.parent, timeout=timeout, record_timing=profile is not None and i == 0)
        times.append(time.perf_counter() - start)
        if profile is not None and i == 0:
            profile.extend(cell_times(nb))
    return times


def cell_times(nb) -> list[tuple[float, int, str]]:
    """(seconds, index, first line) of each code cell that ran, from nbclient's recorded timing."""
    out = []
    for index, cell in enumerate(nb.cells):
        timing = cell.get("metadata", {}).get("execution", {})
        begin, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if cell.cell_type == "code" and begin and end:
            seconds = (datetime.fromisoformat(end.replace("Z", "+00:00"))
                       - datetime.fromisoformat(begin.replace("Z", "+00:00"))).total_seconds()
            first = next((line for line in cell.source.splitlines() if line.strip() and not line.startswith("#")),
                         "")
            out.append((seconds, index, first[:70]))
    return out


def print_profile(total: float, cells: list, top: int) -> None:
    """The time outside the cells (kernel start, shutdown) and the `top` slowest cells."""
    inside = sum(seconds for seconds, _, _ in cells)
    print(f"    kernel start and outside cells {total - inside:6.1f} s; {len(cells)} cells {inside:6.1f} s")
    for seconds, index, first in sorted(cells, reverse=True)[:top]:
        print(f"    cell {index:3d} {seconds:6.1f} s  {first}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: solutions/*.ipynb")
    parser.add_argument("--repeat", type=int, default=3, help="runs per notebook (default: 3)")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per notebook (default: 60)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell (default: 600)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a notebook is over the budget")
    parser.add_argument("--cells", type=int, default=0, metavar="N",
                        help="print the kernel start and the N slowest cells of each notebook's first run")
    parser.add_argument("--empty-cache", action="store_true",
                        help="give each run an empty MIALAB_CACHE (cold start: no data or models cached)")
    args = parser.parse_args(argv)

    sources = [p.resolve() for p in args.notebooks] or sorted((ROOT / "solutions").glob("*.ipynb"))
    if not sources:
        print("no solution notebooks found", file=sys.stderr)
        return 1
    over, total = [], 0.0
    with tempfile.TemporaryDirectory(prefix="mialab-bench-") as tmp:
        for source in sources:
            # a copy of the notebook's folder, so a notebook that writes files next to itself changes nothing
            folder = Path(tmp) / source.parent.name
            if not folder.exists():
                shutil.copytree(source.parent, folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
            empty = Path(tmp) / "caches" if args.empty_cache else None
            profile = [] if args.cells else None
            times = time_notebook(folder / source.name, args.repeat, args.timeout, empty, profile)
            median = statistics.median(times)
            total += median
            flag = "  OVER BUDGET" if median > args.budget else ""
            if flag:
                over.append(source.name)
            runs = ", ".join(f"{t:.1f}" for t in times)
            print(f"{source.name:<40} median {median:6.1f} s   (runs: {runs}){flag}", flush=True)
            if profile is not None:
                print_profile(times[0], profile, args.cells)
    cache = "an empty cache per run" if args.empty_cache else "the shared cache"
    print(f"{'total (sum of medians)':<40}        {total:6.1f} s   budget {args.budget:g} s per notebook; "
          f"{len(over)} over{': ' + ', '.join(over) if over else ''}; {cache}")
    return 1 if over and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
