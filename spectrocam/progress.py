"""Progress of long loops: a tqdm bar with rate and time left, live on the terminal (stderr) and
written into the job's log as lines of the same bar every so many seconds and at the end.

``logged(items, label)`` wraps an iterable; ``bar(total, label)`` gives a bar to ``update`` by
hand (for loops over results that arrive out of order or in chunks). The log lines are records
of the logger ``spectrocam.progress`` flagged ``progress``: :func:`spectrocam.jobs.setup_logging`
keeps them out of stderr, where the live bar already is.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

__all__ = ["logged", "bar", "ProgressBar", "is_progress_record"]

T = TypeVar("T")
log = logging.getLogger("spectrocam.progress")


class ProgressBar(tqdm):
    """A tqdm bar on stderr that also logs its text every ``every_s`` seconds and when it ends."""

    def __init__(self, *args, every_s: float = 10.0, **kwargs) -> None:
        self._every_s = every_s
        self._logged_at = time.monotonic()
        self._logged_n = -1
        kwargs.setdefault("file", sys.stderr)
        kwargs.setdefault("mininterval", 0.5)
        kwargs.setdefault("dynamic_ncols", True)
        kwargs.setdefault("ascii", not _unicode(kwargs["file"]))
        super().__init__(*args, **kwargs)

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        shown = super().display(msg, pos)
        finished = self.total is not None and self.n >= self.total
        if finished or time.monotonic() - self._logged_at >= self._every_s:
            self.log_line()
        return shown

    def log_line(self) -> None:
        """Log the bar's current text (once per count)."""
        if self.n == self._logged_n:
            return
        self._logged_at, self._logged_n = time.monotonic(), self.n
        text = self.format_meter(**{**self.format_dict, "ncols": 80})
        log.info("%s", text, extra={"progress": True})

    def close(self) -> None:
        if not self.disable and self.n != self._logged_n:
            self.log_line()
        super().close()


def _unicode(stream) -> bool:
    return "utf" in (getattr(stream, "encoding", None) or "").lower()


def bar(total: int | None, label: str, unit: str = "it", every_s: float = 10.0) -> ProgressBar:
    """A bar of ``total`` steps named ``label``; use it as a context manager and ``update`` it."""
    return ProgressBar(total=total, desc=label, unit=unit, every_s=every_s)


def logged(
    items: Iterable[T],
    label: str,
    every_s: float = 10.0,
    unit: str = "it",
    total: int | None = None,
) -> Iterator[T]:
    """Yield ``items`` under a progress bar named ``label`` (``total`` defaults to their
    length, when they have one)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with bar(total, label, unit, every_s) as progress:
        for item in items:
            yield item
            progress.update()


def is_progress_record(record: logging.LogRecord) -> bool:
    """A log record of a progress bar (kept out of stderr, where the bar is drawn live)."""
    return bool(getattr(record, "progress", False))
