"""What each job asks its scheduler for, and the cluster node it must fit (no torch: light to
import, the Snakefile reads it).

A job's **stage** is the rule that defines it (a copy made with ``use rule ... as ...`` is its
original's stage). Its threads, memory, run time and GPUs come from the configuration only:

- ``resources.<stage>`` (``threads``, ``mem_mb`` plus ``mem_mb_per_input_mb`` times the size of
  its inputs, ``runtime`` in minutes); a stage not listed asks for the schema's defaults;
- for the stages that run a network (:data:`NETWORK_STAGES`), ``training.threads`` (the figures
  depend on it: a network trained on one thread is not the one trained on two, so the scripts
  set torch's threads from it, never from the scheduler's allocation) and ``training.gpus``.

``workflow/rules/common.smk`` turns this into each rule's ``threads:`` and ``resources:``
(``threads_for``, ``resources_for``); ``tests/test_resources.py`` checks every job of a dry run
against it under every profile. :func:`largest_node` and :func:`misfits` stop a cluster run at
start-up when a stage asks for more than any node has (SLURM would leave such a job pending).
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from spectrocam.config import NETWORK_STAGES, load_schema

__all__ = [
    "NETWORK_STAGES",
    "StageResources",
    "Node",
    "stage_resources",
    "largest_node",
    "parse_sinfo",
    "misfits",
]


@dataclass(frozen=True)
class StageResources:
    """One stage's request: ``mem_mb`` plus ``mem_mb_per_input_mb`` per MB of its inputs."""

    stage: str
    threads: int
    mem_mb: int
    mem_mb_per_input_mb: float
    runtime: int
    gpus: int

    def memory(self, input_mb: float = 0.0) -> int:
        """Memory in MB for inputs of ``input_mb`` MB."""
        return self.mem_mb + math.ceil(self.mem_mb_per_input_mb * max(0.0, input_mb))

    @property
    def sized_by_input(self) -> bool:
        return self.mem_mb_per_input_mb > 0

    @property
    def network(self) -> bool:
        """Whether the stage runs a network (its threads and GPUs are training's)."""
        return self.stage in NETWORK_STAGES


@cache
def _entry_defaults() -> dict:
    entry = load_schema()["properties"]["resources"]["additionalProperties"]["properties"]
    return {key: sub["default"] for key, sub in entry.items()}


def stage_resources(config: Mapping, stage: str) -> StageResources:
    """What a job of ``stage`` asks for under the validated configuration ``config``."""
    entry = _entry_defaults() | dict(config.get("resources", {}).get(stage) or {})
    network = stage in NETWORK_STAGES
    return StageResources(
        stage=stage,
        threads=int(config["training"]["threads"] if network else entry["threads"]),
        mem_mb=int(entry["mem_mb"]),
        mem_mb_per_input_mb=float(entry["mem_mb_per_input_mb"]),
        runtime=int(entry["runtime"]),
        gpus=int(config["training"]["gpus"]) if network else 0,
    )


@dataclass(frozen=True)
class Node:
    """The largest node of a cluster: its CPUs, memory (MB) and GPUs (each the largest of any
    node: a job fits when some node has enough of each)."""

    cpus: int
    mem_mb: int
    gpus: int
    source: str = "sinfo"

    def __str__(self) -> str:
        return f"{self.cpus} CPUs, {self.mem_mb} MB, {self.gpus} GPUs ({self.source})"


_GPU = re.compile(r"gpu(?::[^:,(]+)?:(\d+)")


def parse_sinfo(text: str) -> Node | None:
    """The largest node of ``sinfo --noheader --Node --format '%c %m %G'`` (CPUs, memory in MB,
    generic resources such as ``gpu:a100:4(S:0-1)``); None when it lists no node."""
    cpus = mem = gpus = 0
    found = False
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 2 or not parts[0].isdigit():
            continue
        found = True
        cpus = max(cpus, int(parts[0]))
        mem = max(mem, int(parts[1].rstrip("+")) if parts[1].rstrip("+").isdigit() else 0)
        gres = parts[2] if len(parts) > 2 else ""
        gpus = max(gpus, sum(int(n) for n in _GPU.findall(gres)))
    return Node(cpus, mem, gpus) if found else None


def largest_node(timeout_s: float = 20.0) -> tuple[Node | None, str]:
    """The cluster's largest node from SLURM's ``sinfo``, and a note on where it came from (why
    not, when it is None: no sinfo, or sinfo failed)."""
    sinfo = shutil.which("sinfo")
    if sinfo is None:
        return None, "no sinfo on PATH"
    try:
        proc = subprocess.run(
            [sinfo, "--noheader", "--Node", "--format", "%c %m %G"],
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"sinfo failed: {exc}"
    if proc.returncode != 0:
        last = ([line for line in proc.stderr.splitlines() if line.strip()] or [""])[-1]
        return None, f"sinfo failed with exit status {proc.returncode}: {last}"
    node = parse_sinfo(proc.stdout)
    return node, "sinfo" if node else "sinfo lists no node"


def misfits(wanted: StageResources, node: Node, input_mb: float = 0.0) -> list[str]:
    """What ``wanted`` asks for beyond ``node`` (empty when it fits), each naming the key to
    change."""
    threads_key = "training.threads" if wanted.network else f"resources.{wanted.stage}.threads"
    problems = []
    if wanted.threads > node.cpus:
        problems.append(f"{wanted.threads} threads ({threads_key}) > {node.cpus} CPUs")
    memory = wanted.memory(input_mb)
    if memory > node.mem_mb:
        key = f"resources.{wanted.stage}.mem_mb"
        if wanted.sized_by_input and input_mb:
            key += f" + mem_mb_per_input_mb x {input_mb:.0f} MB of input"
        problems.append(f"{memory} MB ({key}) > {node.mem_mb} MB")
    if wanted.gpus > node.gpus:
        problems.append(f"{wanted.gpus} GPUs (training.gpus) > {node.gpus} GPUs")
    return [f"{wanted.stage}: {p}" for p in problems]
