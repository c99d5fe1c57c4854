"""Progress bars: tqdm (notebook-aware), silent when MIALAB_PROGRESS=0 or under tests."""

from __future__ import annotations

import os

from tqdm.auto import tqdm


def progress_enabled() -> bool:
    """True unless MIALAB_PROGRESS is set to 0/false/no."""
    return os.environ.get("MIALAB_PROGRESS", "1").strip().lower() not in {"0", "false", "no", "off"}


def progress(iterable=None, *, total: int | None = None, desc: str | None = None, **kwargs):
    """Wrap an iterable (or make a manual bar with `total`) in a tqdm bar that tests can silence."""
    return tqdm(iterable, total=total, desc=desc, disable=not progress_enabled(), leave=False, **kwargs)


class NoBar:
    """A progress bar that shows nothing: update() and close() do nothing (for work too small to show)."""

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass
