"""A student's laptop is never idle: time a notebook as `make lab` runs it (no OMP_NUM_THREADS, torch's defaults),
once on a quiet machine and once with a busy loop pinned to one core, and print the ratio (target <= 1.5x).

    python benchmarks/contention.py [solutions/04_loss_and_metric_attacks.ipynb] [--repeat 1]

The busy loop is a second Python process spinning on core 0 (os.sched_setaffinity), as a browser tab or another
notebook would. Each run starts from the shared cache, warmed by one untimed run first, so both timings measure
the same work. Run it on an otherwise idle machine: other load is counted as "quiet".
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mialab.course import read_notebook, run_notebook  # noqa: E402


def _spin(core: int) -> None:
    try:
        os.sched_setaffinity(0, {core})
    except (AttributeError, OSError):
        pass
    while True:
        pass


def _time(path: Path, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        nb = read_notebook(path)
        start = time.perf_counter()
        run_notebook(nb, path.parent)
        times.append(time.perf_counter() - start)
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", nargs="?", type=Path,
                        default=ROOT / "solutions" / "04_loss_and_metric_attacks.ipynb")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per condition (default 1)")
    args = parser.parse_args(argv)
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "MIALAB_TORCH_THREADS"):
        os.environ.pop(variable, None)       # as `make lab` runs: the package alone picks the thread count
    path = args.notebook.resolve()
    print(f"{path.name}: {os.cpu_count()} cores; warming the cache with one untimed run", flush=True)
    _time(path, 1)
    quiet = _time(path, args.repeat)
    busy_loop = multiprocessing.Process(target=_spin, args=(0,), daemon=True)
    busy_loop.start()
    try:
        busy = _time(path, args.repeat)
    finally:
        busy_loop.terminate()
        busy_loop.join()
    q, b = statistics.median(quiet), statistics.median(busy)
    print(f"quiet machine:           {q:6.1f} s  (runs: {', '.join(f'{t:.1f}' for t in quiet)})")
    print(f"one core kept busy:      {b:6.1f} s  (runs: {', '.join(f'{t:.1f}' for t in busy)})")
    print(f"busy / quiet:            {b / q:6.2f}x  (target <= 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
