"""Progress bars: live on a terminal, whole lines led by the job's name elsewhere (a log that
parallel jobs share), logged as lines of the same bar in the job's log."""

from __future__ import annotations

import io
import logging
import types

import pytest

from spectrocam.jobs import job_name, setup_logging
from spectrocam.progress import ProgressBar, bar, logged, set_job_name


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def named_job():
    set_job_name("train vowels_4k/seed0")
    yield
    set_job_name("")


def test_a_bar_is_written_as_lines_to_stderr_and_logged_to_the_file_only(tmp_path, capsys):
    log_path = tmp_path / "job.log"
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    setup_logging(log_path)
    try:
        assert list(logged(range(5), "tokens", every_s=0.0, unit="clip")) == list(range(5))
        with bar(3, "epoch 1/1", "batch", every_s=3600) as progress:
            for _ in range(3):
                progress.update()
        logging.getLogger("spectrocam").info("a plain message")
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = before[0]  # the test's logging as it was
        root.setLevel(before[1])
    err = capsys.readouterr().err
    # stderr is no terminal here: whole lines with count, rate and time left, never redrawn
    assert "\r" not in err
    assert any(
        line.startswith("tokens: 100% 5/5") and "clip/s" in line for line in err.splitlines()
    )
    assert "a plain message" in err
    lines = log_path.read_text().splitlines()
    progress = [line for line in lines if "spectrocam.progress" in line]
    assert progress, lines
    # every_s = 0: a line each time the bar is drawn (at its start and end at least), each with
    # the count, elapsed<left and the rate
    assert any("tokens:" in line and "0/5" in line for line in progress)
    assert any("tokens:" in line and "5/5" in line for line in progress)
    assert all("<" in line and "/s" in line for line in progress)
    final = [line for line in progress if "epoch 1/1" in line]
    assert len(final) == 1 and "3/3" in final[0]  # logged once, when it ended
    assert "tokens" not in "".join(line for line in err.splitlines() if "INFO" in line)
    assert sum("a plain message" in line for line in lines) == 1


def test_on_a_terminal_the_bar_is_redrawn_in_place():
    screen = Terminal()
    with ProgressBar(total=4, desc="epoch 2/3", unit="batch", file=screen, mininterval=0) as b:
        for _ in range(4):
            b.update()
    assert "\r" in screen.getvalue() and "4/4" in screen.getvalue()


def test_without_a_terminal_one_named_line_per_step(named_job):
    log = io.StringIO()
    # mininterval 0: every update draws, so every step can be written
    with ProgressBar(
        total=40, desc="epoch 3/20", unit="batch", file=log, every_percent=25, mininterval=0
    ) as b:
        for _ in range(40):
            b.update()
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    # the start, every 25 % and the end, each once, each a whole line led by the job's name
    percents = [line.split(":", 1)[1].split("%")[0].strip() for line in lines]
    assert percents == ["0", "25", "50", "75", "100"], lines
    assert all(line.startswith("[train vowels_4k/seed0] epoch 3/20: ") for line in lines)
    assert lines[-1].split(": ", 1)[1].startswith("100% 40/40 [")


def test_without_a_total_lines_come_with_time_and_at_the_end(named_job):
    log = io.StringIO()
    with ProgressBar(desc="clips", unit="clip", file=log, every_s=3600) as b:
        b.update(7)
    lines = log.getvalue().splitlines()
    assert len(lines) == 2 and "0clip" in lines[0] and "7clip" in lines[1], lines


def test_a_jobs_name_is_its_rule_and_wildcards():
    wildcards = types.SimpleNamespace(
        items=lambda: [("experiment", "vowels_4k"), ("model", "seed0")]
    )
    assert job_name(types.SimpleNamespace(rule="train", wildcards=wildcards)) == (
        "train vowels_4k/seed0"
    )
    assert job_name(types.SimpleNamespace(rule="splits", wildcards=[])) == "splits"


def test_logged_takes_a_total_for_an_iterator_and_stops_cleanly(capsys):
    items = logged(iter("abcd"), "letters", total=4)
    assert next(items) == "a"
    items.close()  # a loop left early closes its bar
    assert "letters:" in capsys.readouterr().err


def test_a_job_logs_what_it_cost(tmp_path):
    """The job measures itself: wall and CPU seconds since its process started, the start-up's
    part, its memory; on the log's last line, in the form the stage benchmark reads."""
    import re
    from types import SimpleNamespace

    from spectrocam.jobs import job

    log_path = tmp_path / "x.log"
    with job(SimpleNamespace(log=[str(log_path)])):
        sum(i * i for i in range(2_000_000))  # some CPU in the body
    line = log_path.read_text().strip().splitlines()[-1]
    m = re.search(r"job resources: wall ([\d.]+) s \(start-up ([\d.]+) s\), CPU ([\d.]+) s "
                  r"\(start-up ([\d.]+) s\), max RSS (\d+) MB", line)  # fmt: skip
    assert m, line
    from spectrocam.jobs import RESOURCES_LINE  # what the benchmarks read it back with

    assert RESOURCES_LINE.search(line).groups() == m.groups()
    wall, start, cpu, cpu_start, rss = map(float, m.groups())
    assert wall >= start and cpu > cpu_start and rss > 10


def test_a_jobs_peak_memory_is_its_own_not_that_of_the_process_it_was_exec_ed_from():
    """A rule's script is exec'ed in a fork of Snakemake (some 800 MB with torch imported):
    getrusage keeps that fork's high-water mark, so every job reported 800 MB. A parent that
    holds 400 MB and execs a small Python must see the small one's peak."""
    import subprocess
    import sys

    child = "from spectrocam.jobs import usage; print(usage()['max_rss_mb'])"
    parent = (
        "import os, sys\n"
        "ballast = bytearray(400 * 2**20)\n"
        "ballast[::4096] = b'x' * len(ballast[::4096])\n"
        f"os.execv(sys.executable, [sys.executable, '-c', {child!r}])\n"
    )
    out = subprocess.run([sys.executable, "-c", parent], capture_output=True, text=True, check=True)
    peak_mb = float(out.stdout)
    assert 5 < peak_mb < 300, peak_mb
