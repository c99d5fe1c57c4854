"""python -m mialab.course {release,execute}: see `python -m mialab.course --help`."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mialab.course", description=__doc__.split(":")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    rel = commands.add_parser("release", help="generate notebooks/ from solutions/ with nbgrader's steps")
    rel.add_argument("--solutions", default="solutions", help="folder of solution notebooks (default: solutions)")
    rel.add_argument("--out", default="notebooks", help="folder of student notebooks (default: notebooks)")
    rel.add_argument("--check", action="store_true", help="write nothing; exit 1 if a student notebook is stale")

    exe = commands.add_parser("execute", help="run solution notebooks in place and store their outputs")
    exe.add_argument("notebooks", nargs="*", type=Path, help="default: solutions/*.ipynb")
    exe.add_argument("--timeout", type=int, default=600, help="seconds per cell (default: 600)")

    args = parser.parse_args(argv)
    from . import check_release, execute, release
    from ._notebook import NotebookError

    try:
        if args.command == "release":
            if args.check:
                problems = check_release(args.solutions, args.out)
                for problem in problems:
                    print(problem)
                if problems:
                    print("run `python -m mialab.course release` to regenerate the student notebooks.")
                return 1 if problems else 0
            changed = release(args.solutions, args.out, verbose=True)
            if not changed:
                print(f"{args.out}/ is up to date.")
            return 0

        paths = args.notebooks or sorted(Path("solutions").glob("*.ipynb"))
        if not paths:
            print("no notebooks to execute (none given, none in solutions/).", file=sys.stderr)
            return 1
        from nbclient.exceptions import CellExecutionError

        for path in paths:
            start = time.perf_counter()
            try:
                changed = execute(path, timeout=args.timeout)
            except CellExecutionError as error:
                print(f"error: {path} was not saved, a cell failed:\n{error}", file=sys.stderr)
                return 1
            print(f"{path}: {'updated' if changed else 'unchanged'} ({time.perf_counter() - start:.0f} s)")
        return 0
    except (NotebookError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
