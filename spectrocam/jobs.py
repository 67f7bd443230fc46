"""Glue for the workflow's scripts: logging into the rule's log file and clear failures.

A rule's script does ``with job(snakemake) as log: ...``. Messages go to the rule's log file and
to stderr (a progress bar is drawn live on a terminal, written as whole lines led by the job's
name elsewhere, and logged as lines in the file: :mod:`spectrocam.progress`); an expected
error (bad input, a corpus that cannot be used, ...) ends the job with a one-line message
instead of a traceback. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import logging
import os
import re
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from spectrocam.exceptions import ExpectedError
from spectrocam.progress import is_progress_record, set_job_name

__all__ = ["setup_logging", "job", "job_name", "usage", "process_age_s", "RESOURCES"]


def setup_logging(log_path: str | Path | None, level: int = logging.INFO) -> logging.Logger:
    """Log to stderr and to ``log_path``; the lines of progress bars go to the file only (the
    bar itself is drawn live on stderr, :mod:`spectrocam.progress`)."""
    terminal = logging.StreamHandler(sys.stderr)
    terminal.addFilter(lambda record: not is_progress_record(record))
    handlers: list[logging.Handler] = [terminal]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        handlers=handlers,
        force=True,
    )
    return logging.getLogger("spectrocam")


def process_age_s() -> float | None:
    """Seconds since this process started (Linux: /proc), or None where that is not known."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        start = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return uptime - start / ticks


def own_peak_rss_kb() -> float:
    """This process's largest resident memory in kB: /proc's VmHWM where there is one, which
    starts afresh at exec. getrusage's ru_maxrss keeps the high-water mark of the process before
    its exec, here the forked Snakemake with torch imported (about 800 MB whatever the job)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def usage() -> dict[str, float]:
    """This process's CPU seconds (user + system, its finished children included) and its
    largest resident memory in MB (its own, or a finished child's if larger)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    return {"cpu_s": cpu, "max_rss_mb": max(own_peak_rss_kb(), kids.ru_maxrss) / 1024}


RESOURCES = "job resources: "
# the line :func:`job` logs at its end, as benchmarks read it back: wall, start-up, CPU, the CPU
# of the start-up, max RSS
RESOURCES_LINE = re.compile(
    RESOURCES + r"wall ([\d.]+) s \(start-up ([\d.]+) s\), CPU ([\d.]+) s "
    r"\(start-up ([\d.]+) s\), max RSS (\d+) MB"
)


def job_name(smk: Any) -> str:
    """The rule and its wildcards' values, as a job's progress lines are led by:
    ``train vowels_4k/seed0``."""
    wildcards = getattr(smk, "wildcards", None)
    values = [str(v) for _, v in wildcards.items()] if hasattr(wildcards, "items") else []
    name = str(getattr(smk, "rule", None) or "job")
    return f"{name} {'/'.join(values)}" if values else name


@contextmanager
def job(smk: Any) -> Iterator[logging.Logger]:
    """Run a rule's body with logging set up; expected errors end it with a clear message. At
    the end the log says what the job cost, measured by the job itself (Snakemake's benchmark
    files sample every 30 s and miss short jobs): ``job resources: wall W s (start-up S s), CPU
    C s (start-up D s), max RSS M MB``, the start-up being the imports before the rule's body."""
    started, start_cpu = process_age_s(), usage()["cpu_s"]
    entered = time.perf_counter()
    log = setup_logging(smk.log[0] if len(smk.log) else None)
    set_job_name(job_name(smk))
    try:
        yield log
    except (ExpectedError, FileNotFoundError, FloatingPointError) as exc:
        log.error("%s", exc)
        logging.shutdown()
        sys.exit(1)
    body = time.perf_counter() - entered
    now = usage()
    log.info(
        "%swall %.2f s (start-up %.2f s), CPU %.2f s (start-up %.2f s), max RSS %.0f MB",
        RESOURCES,
        (started or 0.0) + body,
        started or 0.0,
        now["cpu_s"],
        start_cpu,
        now["max_rss_mb"],
    )
