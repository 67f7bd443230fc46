"""Progress bars: live on stderr, logged as lines of the same bar in the job's log."""

from __future__ import annotations

import logging

from spectrocam.jobs import setup_logging
from spectrocam.progress import bar, logged


def test_a_bar_is_drawn_on_stderr_and_logged_to_the_file_only(tmp_path, capsys):
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
    # the live bar: count, rate and time left, redrawn in place on the terminal
    assert "tokens:" in err and "5/5" in err and "clip/s" in err and "\r" in err
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
    wall, start, cpu, cpu_start, rss = map(float, m.groups())
    assert wall >= start and cpu > cpu_start and rss > 10
