"""Time autograding one submission of each notebook against the notebook's own run time (budget: about 2x).

    python benchmarks/grading.py [solutions/NN_topic.ipynb ...] [--budget 2.0] [--strict]

For each notebook: one untimed run to fill mialab's data and model caches (--no-warmup skips it), one timed run
of the solution notebook in a fresh kernel (as benchmarks/notebooks.py times it), then `nbgrader autograde` of
that solution submitted as a student's work, in a temporary course with its own gradebook (the whole command:
nbgrader's start, sanitizing, the run with the hidden tests, the gradebook).
Prints one line per notebook: wall-clock seconds of the own run and of autograde, and the CPU seconds of each
(this process's children: the kernel, nbgrader, and the grading and child processes the hidden tests start),
their ratios, points scored / possible (a hand-graded answer counts 0 until graded). The budget is checked on the
wall-clock ratio: the CPU of the submission's kernel, which autograde runs in a bubblewrap sandbox (its own PID
namespace), is not reported back to this process, so the grade's CPU column undercounts where bwrap runs
(--budget-on cpu where it does not). On a busy machine both runs wait for other work: run it on a quiet one.
--strict exits 1 when one is over.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mialab.course import read_notebook, run_notebook  # noqa: E402
from mialab.course.execute import kernel_env  # noqa: E402
from mialab.course.grading import grade_rows, make_course, notebook_points  # noqa: E402


def cpu() -> float:
    """CPU seconds (user + system) of this process's finished children so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def nbgrader(course: Path, *args: str) -> float:
    """Run an nbgrader command in the course directory; returns its wall-clock seconds."""
    env = {**kernel_env(), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: solutions/*.ipynb")
    parser.add_argument("--budget", type=float, default=2.0, help="autograde / own run time (default: 2.0)")
    parser.add_argument("--budget-on", choices=("cpu", "wall"), default="wall",
                        help="which time the budget applies to (default: wall)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell (default: 600)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a notebook is over the budget")
    parser.add_argument("--no-warmup", dest="warmup", action="store_false",
                        help="time the first run too (with the caches as they are)")
    args = parser.parse_args(argv)

    sources = [p.resolve() for p in args.notebooks] or sorted((ROOT / "solutions").glob("*.ipynb"))
    if not sources:
        print("no solution notebooks found", file=sys.stderr)
        return 1
    over = []
    with tempfile.TemporaryDirectory(prefix="mialab-grading-bench-") as tmp:
        course = Path(tmp) / "course"
        for folder in {source.parent for source in sources}:
            make_course(course, folder, [s.stem for s in sources if s.parent == folder], timeout=args.timeout)
        generate = nbgrader(course, "generate_assignment", "*")
        print(f"nbgrader generate_assignment, {len(sources)} notebook(s): {generate:.1f} s (once per course)\n")
        print(f"{'notebook':<30} {'own wall':>9} {'grade wall':>11} {'ratio':>6} {'own cpu':>8} {'grade cpu':>10} "
              f"{'ratio':>6}  points")
        for source in sources:
            # the notebook's own run, in a copy of its folder (a notebook may write files next to itself)
            folder = Path(tmp) / "own" / source.parent.name
            if not folder.exists():
                shutil.copytree(source.parent, folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
            if args.warmup:
                run_notebook(read_notebook(folder / source.name), folder, timeout=args.timeout)
            start, start_cpu = time.perf_counter(), cpu()
            run_notebook(read_notebook(folder / source.name), folder, timeout=args.timeout)
            own, own_cpu = time.perf_counter() - start, cpu() - start_cpu

            submitted = course / "submitted" / "benchmark" / source.stem
            submitted.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, submitted / source.name)
            start_cpu = cpu()
            graded = nbgrader(course, "autograde", source.stem, "--student", "benchmark")
            graded_cpu = cpu() - start_cpu
            _, rows = grade_rows(course)
            total = next(row["total"] for row in rows if row["notebook"] == source.stem)
            possible = sum(points for _, _, points in notebook_points(source))
            ratio, cpu_ratio = graded / own, graded_cpu / max(own_cpu, 1e-9)
            flag = "  OVER BUDGET" if (cpu_ratio if args.budget_on == "cpu" else ratio) > args.budget else ""
            if flag:
                over.append(source.name)
            print(f"{source.stem:<30} {own:8.1f}s {graded:10.1f}s {ratio:6.2f} {own_cpu:7.1f}s {graded_cpu:9.1f}s "
                  f"{cpu_ratio:6.2f}  {total}/{possible:g}{flag}", flush=True)
    listed = ": " + ", ".join(over) if over else ""
    print(f"\nbudget: autograde <= {args.budget:g} x own run ({args.budget_on} time); {len(over)} over{listed}")
    return 1 if over and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
