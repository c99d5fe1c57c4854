"""python -m mialab.course {release,execute,nbgrader-course,export-grades,points-table,capstone}: see --help."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

GRADES_CSV = "grades_by_cell.csv"  # not nbgrader export's grades.csv, which would overwrite it or be overwritten


def _seconds(text: str) -> int:
    """argparse type for --timeout: a whole number of seconds >= 1 (argparse prints the refusal, exit status 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of seconds, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 second per cell, got {value}")
    return value


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mialab.course", description=__doc__.split(":")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    rel = commands.add_parser("release", help="generate notebooks/ from solutions/ with nbgrader's steps")
    rel.add_argument("--solutions", default="solutions", help="folder of solution notebooks (default: solutions)")
    rel.add_argument("--out", default="notebooks", help="folder of student notebooks (default: notebooks)")
    rel.add_argument("--check", action="store_true", help="write nothing; exit 1 if a student notebook is stale")
    rel.add_argument("--force", action="store_true",
                     help="also replace student notebooks that were edited, after copying each to OUT/backups/")

    exe = commands.add_parser("execute", help="run solution notebooks in place and store their outputs")
    exe.add_argument("notebooks", nargs="*", type=Path, help="default: solutions/*.ipynb")
    exe.add_argument("--timeout", type=_seconds, default=600, help="seconds per cell (default: 600)")

    course = commands.add_parser("nbgrader-course", help="lay out an nbgrader course directory from solutions/")
    course.add_argument("dest", type=Path, help="the course directory (created if missing)")
    course.add_argument("--solutions", default="solutions", help="folder of solution notebooks (default: solutions)")
    course.add_argument("--assignment", action="append", dest="assignments", metavar="NAME",
                        help="only this notebook, e.g. 00_membership_game (repeatable; default: all)")
    course.add_argument("--timeout", type=_seconds, default=None,
                        help="seconds per cell under autograde (default: 600)")

    grades = commands.add_parser("export-grades", help="write the gradebook as CSV, one column per graded cell")
    grades.add_argument("course_dir", type=Path, help="the nbgrader course directory")
    grades.add_argument("csv", type=Path, nargs="?", default=Path(GRADES_CSV),
                        help=f"the CSV file to write (default: {GRADES_CSV}; `nbgrader export` writes grades.csv)")

    table = commands.add_parser("points-table", help="print the points per notebook (markdown)")
    table.add_argument("--solutions", default="solutions", help="folder of solution notebooks (default: solutions)")
    table.add_argument("--update", type=Path, metavar="GUIDE", help="rewrite the table in GUIDE instead of printing")

    cap = commands.add_parser("capstone", help="write graded capstone targets (notebook 12) and their answer key")
    cap.add_argument("--secret", required=True, help="a string students never see (it picks variants and seeds)")
    cap.add_argument("--out", type=Path, required=True, help="folder for the target files and capstone_key.json")
    cap.add_argument("--student", action="append", dest="students", default=[], metavar="NAME",
                     help="one target per student, in OUT/NAME/ (repeatable; default: one target in OUT/)")
    cap.add_argument("--n-train", type=int, default=2500, help="members per target (default: 2500)")

    args = parser.parse_args(argv)
    if args.command == "capstone":
        return _capstone(args)
    from . import LocalEditsError, check_release, execute, release
    from ._notebook import NotebookError

    try:
        if args.command in ("nbgrader-course", "export-grades", "points-table"):
            return _grading(args)
        if args.command == "release":
            if Path(args.out).exists() and not Path(args.out).is_dir():
                print(f"error: --out {args.out} is a file; pass a folder for the student notebooks.", file=sys.stderr)
                return 1
            if args.check:
                problems = check_release(args.solutions, args.out)
                for problem in problems:
                    print(problem)
                if problems:
                    print("run `python -m mialab.course release` to regenerate the student notebooks.")
                return 1 if problems else 0
            try:
                changed = release(args.solutions, args.out, force=args.force, verbose=True)
            except LocalEditsError as error:
                print(f"error: {error}", file=sys.stderr)
                return 1
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
    except (NotebookError, OSError) as error:   # OSError: a missing folder, --out naming a file, ...
        print(f"error: {error}", file=sys.stderr)
        return 1


def _capstone(args) -> int:
    from ..capstone_targets import KEY_ENV, KEY_FILE, TARGET_FILE, make_assignment

    try:
        key = make_assignment(args.secret, args.out, args.students, n_train=args.n_train)
    except (ValueError, TypeError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {len(key)} target file(s) ({TARGET_FILE}) and the answer key {args.out / KEY_FILE}.\n"
          f"Give each student their {TARGET_FILE}, to put beside 12_capstone_audit.ipynb; keep the key, and "
          f"autograde with {KEY_ENV}={(args.out / KEY_FILE).resolve()} (docs/instructor_guide.md, capstone).")
    return 0


def _grading(args) -> int:
    from . import grading

    try:
        if args.command == "nbgrader-course":
            names = grading.make_course(args.dest, args.solutions, args.assignments,
                                        timeout=grading.CELL_TIMEOUT if args.timeout is None else args.timeout)
            print(f"{args.dest}: {len(names)} assignment(s) in source/ ({', '.join(names)}) and nbgrader_config.py.\n"
                  f"next: cd {args.dest} && nbgrader generate_assignment {names[0]}   (see docs/instructor_guide.md)")
        elif args.command == "export-grades":
            count = grading.export_grades(args.course_dir, args.csv)
            print(f"wrote {args.csv} ({count} row(s): student, notebook, points per graded cell, total)")
        elif args.update:
            changed = grading.update_guide_table(args.update, args.solutions)
            print(f"{args.update}: {'points table updated' if changed else 'points table is up to date'}")
        else:
            print(grading.points_table(args.solutions))
        return 0
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
