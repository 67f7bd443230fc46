"""Progress of long loops, in the job's log: count, rate and time left, every so many seconds."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from typing import TypeVar

__all__ = ["logged"]

T = TypeVar("T")
log = logging.getLogger("spectrocam.progress")


def logged(items: Sequence[T], label: str, every_s: float = 30.0) -> Iterator[T]:
    """Yield ``items``, logging ``label: k/n`` with the rate and the time left every ``every_s``
    seconds, and once at the end."""
    n = len(items)
    started = last = time.monotonic()
    for k, item in enumerate(items, start=1):
        yield item
        now = time.monotonic()
        if now - last >= every_s or k == n:
            last = now
            rate = k / max(now - started, 1e-9)
            log.info("%s: %d/%d (%.2f/s, %.0f s left)", label, k, n, rate, (n - k) / rate)
