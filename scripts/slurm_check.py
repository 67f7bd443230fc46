#!/usr/bin/env python
"""The end-to-end test's study on a real one-node SLURM cluster, against the same run without it.

    python scripts/slurm_check.py [--workdir DIR] [--skip-local]      (make slurm-check; as root)

Starts munged (where no munge daemon answers), slurmctld and slurmd on loopback with a generated
slurm.conf (this machine as the one node, as ``slurmd -C`` sees it; no accounting database;
linked from /etc/slurm/slurm.conf while it runs, so it refuses a machine that has one), then
runs the end-to-end test's configuration (tests/test_workflow.py's ``write_config``: 40 clips,
reference TextGrids, ResNet-18 for one epoch, two seeds and the shuffled labels of three
experiments) twice from empty results: with ``--cores 2`` on this machine, and with
``--profile workflow/profiles/slurm`` as shipped, to the summary page. It prints both wall times,
the jobs submitted to SLURM, and every file of the results that differs between the two runs
(logs, benchmarks and checkpoints aside; a table that differs in its wall-time column only,
history.tsv's ``seconds``, and a page that differs in Bokeh's random ids only are counted apart),
then stops the daemons it started. Exit status 0 when both runs finished and no result differs
otherwise. Needs Debian's slurm-wlm (``make slurm-check``
installs it) and the shared test data (../shared/data).
"""

from __future__ import annotations

import argparse
import contextlib
import filecmp
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from spectrocam.machine import cpu_model  # noqa: E402

# What both runs write that is not a result: logs, job timings, training checkpoints (their
# random-number states and epoch times; the kept model, best.pt, is compared); and the columns of
# a table that hold wall times.
NOT_RESULTS = {"logs", "benchmarks", "checkpoint"}
TIMING_COLUMNS = ("seconds",)
DEFAULT_CONF = Path("/etc/slurm/slurm.conf")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SLURM_CONF = """\
ClusterName=spectrocam-check
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation={dir}/state
SlurmdSpoolDir={dir}/spool
SlurmctldPidFile={dir}/slurmctld.pid
SlurmdPidFile={dir}/slurmd.pid
SlurmctldLogFile={dir}/slurmctld.log
SlurmdLogFile={dir}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
{node} NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=check Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def munge_answers() -> bool:
    try:
        encoded = subprocess.run(["munge", "-n"], capture_output=True, timeout=10)
        decoded = subprocess.run(["unmunge"], input=encoded.stdout, capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return encoded.returncode == 0 and decoded.returncode == 0


class OneNodeCluster(contextlib.AbstractContextManager):
    """munged (where none answers), slurmctld and slurmd in the foreground, as children of this
    process, on loopback; ``env`` points SLURM's commands at the generated slurm.conf."""

    def __init__(self, directory: Path):
        self.dir = directory
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.env = dict(os.environ)
        self.linked = False

    def start(self, name: str, cmd: list[str]) -> None:
        log = open(self.dir / f"{name}.out", "w")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env)
        self.procs.append((name, proc))

    def __enter__(self) -> OneNodeCluster:
        for sub in ("state", "spool"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        if not munge_answers():
            run = Path("/run/munge")
            run.mkdir(parents=True, exist_ok=True)
            shutil.chown(run, "munge", "munge")
            self.start("munged", ["setpriv", "--reuid=munge", "--regid=munge",
                                  "--init-groups", "munged", "--foreground"])  # fmt: skip
            wait_for(munge_answers, 30, "munged to answer")
        node = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, check=True)
        node_line = next(ln for ln in node.stdout.splitlines() if ln.startswith("NodeName="))
        host = node_line.split()[0].split("=", 1)[1]
        conf = self.dir / "slurm.conf"
        conf.write_text(
            SLURM_CONF.format(
                host=host,
                dir=self.dir,
                node=node_line,
                ctld_port=free_port(),
                slurmd_port=free_port(),
            )
        )
        self.env["SLURM_CONF"] = str(conf)
        # The slurm-jobstep plugin drops SLURM_CONF (every SLURM_* variable but the job's ids)
        # before its srun inside a job, which then reads the default path.
        if DEFAULT_CONF.exists() or DEFAULT_CONF.is_symlink():
            raise RuntimeError(
                f"{DEFAULT_CONF} exists: this machine has a SLURM configuration of its own; the "
                "check starts a cluster of its own and runs where there is none"
            )
        DEFAULT_CONF.parent.mkdir(parents=True, exist_ok=True)
        DEFAULT_CONF.symlink_to(conf)
        self.linked = True
        self.start("slurmctld", ["slurmctld", "-D", "-i", "-f", str(conf)])
        self.start("slurmd", ["slurmd", "-D", "-f", str(conf), "-N", host])
        wait_for(lambda: self.node_state() == "idle", 60, "the node to be idle")
        self.node = node_line
        return self

    def node_state(self) -> str:
        for name, proc in self.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} stopped: {(self.dir / f'{name}.out').read_text()}")
        out = subprocess.run(
            ["sinfo", "--noheader", "--format=%t"], capture_output=True, text=True, env=self.env
        )
        return out.stdout.strip()

    def __exit__(self, *exc) -> None:
        if self.linked:
            DEFAULT_CONF.unlink()
        for name, proc in reversed(self.procs):
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop: killed", file=sys.stderr)
                proc.kill()
                proc.wait()


def wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(1)


def run_study(workdir: Path, config: Path, args: list[str], env: dict, log: Path) -> float:
    """Run the whole study in ``workdir``; its wall time in seconds (raises on failure)."""
    cmd = [
        sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
        "--directory", str(workdir), "--configfile", str(config), *args,
    ]  # fmt: skip
    start = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        tail = log.read_text()[-4000:]
        raise RuntimeError(f"{' '.join(cmd)} failed ({log}):\n{tail}")
    return wall


def timing_only(a: Path, b: Path) -> bool:
    """Whether two tables differ only in their wall-time columns (history.tsv's ``seconds``)."""
    import pandas as pd

    left, right = (pd.read_csv(p, sep="\t", dtype=str) for p in (a, b))
    timing = [c for c in TIMING_COLUMNS if c in left.columns]
    return left.drop(columns=timing).equals(right.drop(columns=timing))


def ids_only(a: Path, b: Path) -> bool:
    """Whether two pages differ only in random ids (Bokeh gives every rendering of a document
    new uuid4s: two renderings on one machine differ as much)."""
    left, right = (UUID.sub("<uuid>", p.read_text(errors="replace")) for p in (a, b))
    return left == right


def compare_results(a: Path, b: Path) -> tuple[list[str], dict[str, list[str]], int]:
    """Files of two runs' results that differ (or that one run lacks), those that differ in
    something that changes from run to run anyway (``wall time``, ``random ids``), and how many
    files were compared."""

    def files(root: Path) -> set[str]:
        return {
            str(p.relative_to(root))
            for p in root.rglob("*")
            if p.is_file() and not NOT_RESULTS & set(p.relative_to(root).parts)
        }

    left, right = files(a), files(b)
    differ, explained = sorted(left ^ right), {"wall time": [], "random ids": []}
    for rel in sorted(left & right):
        if filecmp.cmp(a / rel, b / rel, shallow=False):
            continue
        if rel.endswith(".tsv") and timing_only(a / rel, b / rel):
            explained["wall time"].append(rel)
        elif rel.endswith(".html") and ids_only(a / rel, b / rel):
            explained["random ids"].append(rel)
        else:
            differ.append(rel)
    return sorted(differ), explained, len(left | right)


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {seconds % 60:.0f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, help="keep everything here (default: a temp dir)")
    parser.add_argument(
        "--skip-local",
        action="store_true",
        help="no run without SLURM (compare with the workdir's earlier one, if any)",
    )
    args = parser.parse_args(argv)
    from tests.conftest import TEXTGRIDS, require_shared
    from tests.test_workflow import WIDE_SLICE, write_config

    if os.geteuid() != 0:
        print("slurm-check: run as root (it starts slurmctld, slurmd and munged)", file=sys.stderr)
        return 2
    try:
        require_shared()
    except BaseException as exc:  # pytest's Skipped
        print(f"slurm-check: {exc}", file=sys.stderr)
        return 2
    work = args.workdir or Path(tempfile.mkdtemp(prefix="spectrocam-slurm-check-"))
    work = work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    config = write_config(work, clips=WIDE_SLICE, alignment=TEXTGRIDS)
    print(f"slurm-check in {work}; {cpu_model()}, {os.cpu_count()} CPUs", flush=True)

    local_wall = None
    if not args.skip_local:
        print("the study without SLURM (--cores 2) ...", flush=True)
        shutil.rmtree(work / "local", ignore_errors=True)
        local_wall = run_study(
            work / "local", config, ["--cores", "2"], dict(os.environ), work / "local.log"
        )
        print(f"  {minutes(local_wall)}", flush=True)
    with OneNodeCluster(work / "cluster") as cluster:
        print(f"cluster up: {cluster.node}", flush=True)
        print("the study under --profile workflow/profiles/slurm ...", flush=True)
        slurm_log = work / "slurm.log"
        shutil.rmtree(work / "slurm", ignore_errors=True)
        slurm_wall = run_study(
            work / "slurm",
            config,
            ["--profile", str(REPO / "workflow" / "profiles" / "slurm")],
            cluster.env,
            slurm_log,
        )
    text = slurm_log.read_text()
    submitted = len(re.findall(r"has been submitted with SLURM jobid", text))
    steps = re.findall(r"(\d+) of (\d+) steps \(100%\) done", text)
    print(f"  {minutes(slurm_wall)}, {submitted} jobs submitted to SLURM", flush=True)
    if steps:
        print(f"  {steps[-1][0]} of {steps[-1][1]} steps done", flush=True)

    status = 0
    if (work / "local" / "results" / "test").is_dir():
        differ, explained, compared = compare_results(
            work / "local" / "results" / "test", work / "slurm" / "results" / "test"
        )
        same = compared - len(differ) - sum(map(len, explained.values()))
        print(f"results compared byte for byte: {compared} files, {same} identical")
        print(
            f"  {len(explained['wall time'])} differ in their wall-time column only "
            f"({', '.join(TIMING_COLUMNS)}): {', '.join(explained['wall time'])}"
        )
        print(
            f"  {len(explained['random ids'])} in Bokeh's random document ids only (any two "
            f"renderings do): {', '.join(explained['random ids'])}"
        )
        for rel in differ:
            print(f"  differs: {rel}")
        status = 1 if differ else 0
        local = minutes(local_wall) if local_wall is not None else "(earlier run)"
        print(
            f"summary: local {local}, SLURM {minutes(slurm_wall)}, "
            f"{submitted} jobs submitted, {'identical' if not differ else 'NOT identical'}"
        )
    return status


if __name__ == "__main__":
    sys.exit(main())
