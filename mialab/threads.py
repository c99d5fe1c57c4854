"""How many CPU threads mialab's small models use: one torch thread by default, set where mialab trains or queries.

Models of this course's size gain little from a second intra-op thread, and when another process keeps a core busy
(a browser, a second notebook) torch's threads wait on each other: a notebook measured 16x slower with torch's
default two threads than with one. So mialab runs its training and queries on `torch_threads()` threads (1 unless
you say otherwise) and puts torch's own setting back afterwards. Many models trained at once
(`mialab.many_models.train_many`) run side by side in `workers()` groups, one torch thread each.

    mialab.threads.set_torch_threads(4)      # a big model on an idle machine: allow more
    MIALAB_TORCH_THREADS=4 jupyter lab        # the same, for every kernel
"""

from __future__ import annotations

import contextlib
import numbers
import os

import torch

_override: int | None = None


def _check_count(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 1 <= value <= 1024:
        raise ValueError(f"`{name}` must be a whole number of threads between 1 and 1024; got {value!r}.")
    return int(value)


def _from_env(variable: str) -> int | None:
    text = os.environ.get(variable, "").strip()
    if not text:
        return None
    try:
        return _check_count(int(text), variable)
    except ValueError:
        raise ValueError(f"the environment variable {variable} must be a whole number of threads (for example 1); "
                         f"got {text!r}. Unset it to use mialab's default.") from None


def torch_threads() -> int:
    """Torch intra-op threads mialab uses for its models: set_torch_threads(), else MIALAB_TORCH_THREADS, else 1."""
    if _override is not None:
        return _override
    return _from_env("MIALAB_TORCH_THREADS") or 1


def set_torch_threads(n: int | None) -> None:
    """Use `n` torch threads for mialab's training and queries from now on (None: back to the default)."""
    global _override
    _override = None if n is None else _check_count(n, "n")


def available_cores() -> int:
    """The CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def workers() -> int:
    """Groups of models train_many runs side by side (one torch thread each): MIALAB_WORKERS, else the cores."""
    return _from_env("MIALAB_WORKERS") or available_cores()


@contextlib.contextmanager
def limited(n: int | None = None):
    """Within this block torch uses `n` intra-op threads (default torch_threads()); its setting is restored after."""
    n = torch_threads() if n is None else _check_count(n, "n")
    before = torch.get_num_threads()
    if before != n:
        torch.set_num_threads(n)
    try:
        yield n
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
