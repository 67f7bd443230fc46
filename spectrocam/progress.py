"""Progress of long loops, readable on a terminal and in a log alike.

On a terminal (stderr is a TTY) a tqdm bar with rate and time left is redrawn in place. Anywhere
else (Snakemake's log of a run, ``make demo > demo.log``, a SLURM job's output), where a
carriage-return bar of each parallel job would overwrite the others' on one line, the bar is not
drawn: one whole line is written instead each time another ``every_percent`` of the loop is done
(and at its end; every ``every_s`` seconds when the total is unknown), led by the job's name
(:func:`set_job_name`, set by :func:`spectrocam.jobs.job` to the rule and its wildcards)::

    [train vowels_4k/seed0] epoch 3/20:  50% 28/56 [00:10<00:10, 2.80batch/s]

The job's log file gets the same line every ``every_s`` seconds and at the end, as records of
the logger ``spectrocam.progress`` flagged ``progress``, which :func:`spectrocam.jobs.setup_logging`
keeps out of stderr (where the bar or its lines already are).

``logged(items, label)`` wraps an iterable; ``bar(total, label)`` gives a bar to ``update`` by
hand (for loops over results that arrive out of order or in chunks).
"""

from __future__ import annotations

import io
import logging
import math
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

__all__ = ["logged", "bar", "ProgressBar", "is_progress_record", "set_job_name"]

T = TypeVar("T")
log = logging.getLogger("spectrocam.progress")

_job_name = ""


def set_job_name(name: str) -> None:
    """Name the lines that progress writes where no terminal is (the rule and its wildcards)."""
    global _job_name
    _job_name = name


class ProgressBar(tqdm):
    """A tqdm bar on ``file`` (stderr): live on a terminal, else whole lines every
    ``every_percent`` %; its text is logged every ``every_s`` seconds and when it ends."""

    def __init__(self, *args, every_s: float = 10.0, every_percent: float = 10.0, **kwargs) -> None:
        self._every_s = every_s
        self._logged_at = time.monotonic()
        self._logged_n = -1
        stream = kwargs.pop("file", None) or sys.stderr
        self._live = _is_terminal(stream)
        self._lines_to = None if self._live else stream
        self._every_percent = every_percent
        self._line_step = -1  # the last step (of every_percent, or of every_s) written
        self._line_n = -1  # and its count
        kwargs["file"] = stream if self._live else _Discard()
        kwargs.setdefault("mininterval", 0.5)
        kwargs.setdefault("dynamic_ncols", self._live)
        kwargs.setdefault("ascii", not _unicode(stream))
        super().__init__(*args, **kwargs)

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        shown = super().display(msg, pos)
        finished = self.total is not None and self.n >= self.total
        if self._lines_to is not None:
            self._write_line(force=finished)
        if finished or time.monotonic() - self._logged_at >= self._every_s:
            self.log_line()
        return shown

    def text(self, ncols: int = 80) -> str:
        """The bar's current text (``ncols`` 0: without the bar itself)."""
        return self.format_meter(**{**self.format_dict, "ncols": ncols})

    def log_line(self) -> None:
        """Log the bar's current text (once per count)."""
        if self.n == self._logged_n:
            return
        self._logged_at, self._logged_n = time.monotonic(), self.n
        log.info("%s", self.text(), extra={"progress": True})

    def _write_line(self, force: bool = False) -> None:
        """Where no terminal is: one line when another step of the loop is done (``force``: now,
        unless this count was written already)."""
        if self.total:
            step = math.floor(100.0 * self.n / self.total / self._every_percent)
        elif self._every_s > 0:
            step = math.floor(self.format_dict["elapsed"] / self._every_s)
        else:
            step = self._line_step + 1
        if self.n == self._line_n or not force and step <= self._line_step:
            return
        self._line_step, self._line_n = max(step, self._line_step), self.n
        name = f"[{_job_name}] " if _job_name else ""
        print(f"{name}{self.text(0)}", file=self._lines_to, flush=True)

    def close(self) -> None:
        if not self.disable:
            if self.n != self._logged_n:
                self.log_line()
            if self._lines_to is not None:
                self._write_line(force=True)  # the last count, whatever the step
        super().close()


class _Discard(io.TextIOBase):
    """Where tqdm draws its bar when no terminal is: nowhere (the lines are written by
    :meth:`ProgressBar._write_line`); a StringIO kept every redraw for the job's life."""

    def write(self, text: str) -> int:
        return len(text)


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _unicode(stream) -> bool:
    return "utf" in (getattr(stream, "encoding", None) or "").lower()


def bar(
    total: int | None,
    label: str,
    unit: str = "it",
    every_s: float = 10.0,
) -> ProgressBar:
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
