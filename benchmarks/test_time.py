"""How long `make test` takes from a fresh clone (venv set up, caches empty): the course's 30-minute budget.

    python benchmarks/test_time.py [--keep]

Clones this repository's committed HEAD into a temporary folder, runs `make test` there and prints the wall time
of the set-up and of the tests. The clone starts with no .venv and no datasets/cache, as CI does.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the clone (printed) instead of deleting it")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="mialab-test-time-"))
    clone = folder / "mialab"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("MIALAB_CACHE", "OMP_NUM_THREADS", "VIRTUAL_ENV")}
    start = time.perf_counter()
    subprocess.run(["make", "setup"], cwd=clone, env=env, check=True, stdout=subprocess.DEVNULL)
    setup = time.perf_counter() - start
    start = time.perf_counter()
    result = subprocess.run(["make", "test"], cwd=clone, env=env)
    tests = time.perf_counter() - start
    print(f"make setup {setup:7.1f} s; make test {tests:7.1f} s ({tests / 60:.1f} min, budget 30 min); "
          f"exit {result.returncode}")
    if args.keep:
        print(f"clone kept in {clone}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
