"""Course tooling: the solution notebooks are the single source; the student notebooks are generated from them.

    python -m mialab.course execute [solutions/NN_topic.ipynb ...]   # run in place, store outputs
    python -m mialab.course release [--check] [--force]               # solutions/ -> notebooks/ (nbgrader's steps)

Needs the `dev` extras (nbgrader, nbclient).
"""

from ._notebook import NotebookError, read_notebook, tidy, write_notebook
from .execute import execute, run_notebook
from .release import (LocalEditsError, check_release, generate_assignment_steps, release, release_notebook,
                      student_notebook)

__all__ = ["LocalEditsError", "NotebookError", "check_release", "execute", "generate_assignment_steps", "read_notebook",
           "release", "release_notebook", "run_notebook", "student_notebook", "tidy", "write_notebook"]
