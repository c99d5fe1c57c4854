"""Count what a student's function asks of a function it is given, in the process where the student's code runs.

The checks and the hidden tests run the student's function in another process, so a counter the check holds
would never see the calls: `counted_call` wraps the argument there and returns the count with the result."""

from __future__ import annotations

import numpy as np


class _Counter:
    """f, counting the rows (records) it is asked about."""

    def __init__(self, f):
        self.f, self.rows = f, 0

    def __call__(self, X, *args, **kwargs):
        self.rows += len(np.atleast_2d(np.asarray(X)))
        return self.f(X, *args, **kwargs)


def counted_call(func, position: int, *args, **kwargs):
    """func(*args, **kwargs) with args[position] counted -> (func's result, the rows asked of args[position])."""
    args = list(args)
    counter = _Counter(args[position])
    args[position] = counter
    return func(*args, **kwargs), counter.rows
