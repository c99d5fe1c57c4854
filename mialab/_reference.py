"""Block the package's reference implementations while a student's function runs under a hidden test."""

from __future__ import annotations

import functools
import inspect
from contextlib import contextmanager


class ReferenceBlocked(RuntimeError):
    """A reference implementation was called from the student's code during grading."""


# how many open `blocked(...)` blocks name each reference; `mialab.checks._process` passes the blocked names to the
# child process that runs the student's function (mialab.checks._child), which blocks them there.
_blocked: dict[str, int] = {}


def reference(func):
    """Mark `func` as a reference implementation that grading may block, by its name `module.function`."""
    key = f"{func.__module__.rsplit('.', 1)[-1]}.{func.__name__}"
    state = _blocked  # bound now: rebinding the module's `_blocked` later does not unblock this wrapper

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if state.get(key):
            raise ReferenceBlocked(
                f"mialab's `{key}` is the reference answer to this exercise and cannot be called from your "
                "solution while it is graded; write the computation yourself.")
        return func(*args, **kwargs)

    # no `__wrapped__` (functools.wraps sets it), so `reference.__wrapped__(...)` is no way around the block
    del wrapper.__wrapped__
    wrapper.__signature__ = inspect.signature(func)
    wrapper.__mialab_reference__ = key
    return wrapper


def with_blocks_suspended(func):
    """`func`, run with no reference blocked: the reference answer of an earlier exercise, put in place of the
    student's own when a later exercise that calls it is checked or graded."""
    state = _blocked

    @functools.wraps(func)
    def run(*args, **kwargs):
        saved = dict(state)
        state.clear()
        try:
            return func(*args, **kwargs)
        finally:
            state.clear()
            state.update(saved)

    del run.__wrapped__
    return run


@contextmanager
def blocked(*keys: str):
    """Within this block, the reference functions named `keys` (e.g. "metrics.advantage") raise ReferenceBlocked.

    Leaving the block raises ReferenceBlocked when code inside it lifted the block (cleared or lowered the counts)."""
    state = _blocked
    for key in keys:
        state[key] = state.get(key, 0) + 1
    try:
        yield
    finally:
        lifted = [key for key in keys if not state.get(key, 0) >= 1]
        for key in keys:
            state[key] = max(state.get(key, 0) - 1, 0)
        if lifted:
            raise ReferenceBlocked(f"the block on mialab's {', '.join(lifted)} was lifted while it was in force.")
