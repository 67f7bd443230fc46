"""Every job asks its scheduler for what its stage declares, under every profile.

A dry run of the full study and of the demo under each profile in workflow/profiles/, read job by
job: its threads, memory, run time and GPUs must be those of its stage (the rule that defines it;
a copy made with ``use rule ... as ...`` is its original's stage), whatever its model (the first
seed's, the shuffled labels') or its rule's name. The SLURM profile's run of the full study must
stay under a stated number of submissions, and a stage larger than the cluster's largest node
must stop the run at start-up. ``sinfo`` is a stand-in written here, so the tests need no cluster.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from .conftest import REPO

PROFILES = sorted(p.parent.name for p in (REPO / "workflow" / "profiles").glob("*/config.yaml"))
CONFIGS = {"full": ["config/config.yaml"], "demo": ["config/config.yaml", "config/demo.yaml"]}
# A run of its own, so that no result of an earlier run leaves a job out of the plan.
RUN = "resources-dry-run"
# The full study's SLURM submissions (jobs and group jobs; the target rule runs locally): 88 of
# its 124 jobs' (a model's training, predictions and maps go as one, a store and its balance).
MAX_SUBMISSIONS = 90
# The stand-in cluster's largest node: the full study's (8 threads, 32 GB for MFA, one GPU), and
# a small one that the demo fits (2 CPUs, 8 GB, no GPU) and the full study does not.
LARGE_NODE = "64 512000 gpu:a100:4(S:0-1)\n"
SMALL_NODE = "2 8000 (null)\n2 7000 (null)\n"

JOB = re.compile(r"^(?P<indent>\s*)(?P<local>local)?rule (?P<rule>\w+):$")
GROUP = re.compile(r"Group job (?P<group>\S+) \(jobs in lexicogr\. order\):$")


def workflow_text() -> str:
    return "\n".join(
        p.read_text()
        for p in [
            REPO / "Snakefile",
            REPO / "workflow" / "Snakefile",
            *REPO.glob("workflow/**/*.smk"),
        ]
    )


def stage_of_rules() -> dict[str, str]:
    """Each rule's stage: itself, or for a copy (``use rule A as B``) its original's."""
    text = workflow_text()
    stages = {m: m for m in re.findall(r"^\s*(?:local)?rule (\w+):", text, re.M)}
    for original, copy_ in re.findall(r"^\s*use rule (\w+) as (\w+)", text, re.M):
        stages[copy_] = original
    for copy_, original in list(stages.items()):
        while stages[original] != original:
            original = stages[original]
        stages[copy_] = original
    return stages


def local_rules() -> set[str]:
    """The rules named by ``localrules:`` (never submitted; a dry run prints them as any rule)."""
    text = workflow_text()
    names = set()
    for block in re.findall(r"^localrules:\n((?:[ \t]+[\w, ]+\n)+)", text, re.M):
        names |= {n.strip() for n in block.replace("\n", ",").split(",") if n.strip()}
    return names


def fake_sinfo(directory: Path, nodes: str) -> dict:
    """An environment whose PATH finds a ``sinfo`` that lists ``nodes``."""
    directory.mkdir(parents=True, exist_ok=True)
    sinfo = directory / "sinfo"
    sinfo.write_text(f"#!/bin/sh\nprintf '{nodes}'\n")
    sinfo.chmod(0o755)
    return os.environ | {"PATH": f"{directory}{os.pathsep}{os.environ['PATH']}"}


def dry_run_cmd(profile: str, configs: list[str]) -> list[str]:
    # --cores: a dry run otherwise lowers every job's threads to one core
    return [
        sys.executable, "-m", "snakemake", "-n", "--nolock", "--cores", "1024",
        "--profile", f"workflow/profiles/{profile}", "--configfile", *configs,
        "--config", f"run={RUN}",
    ]  # fmt: skip


def parse_plan(text: str) -> tuple[list[dict], int]:
    """The jobs of a dry run's output (rule, wildcards, threads, resources, whether local, whether
    in a group) and the number of submissions to a cluster (group jobs and jobs outside groups)."""
    jobs, groups, job, local = [], 0, None, local_rules()
    for line in text.splitlines():
        if GROUP.search(line):
            groups += 1
            continue
        m = JOB.match(line)
        if m:
            job = {
                "rule": m["rule"],
                "local": bool(m["local"]) or m["rule"] in local,
                "grouped": bool(m["indent"]),
                "threads": 1,
                "wildcards": "",
                "resources": {},
            }
            jobs.append(job)
            continue
        if job is None or ":" not in line:
            continue
        key, _, value = line.strip().partition(": ")
        if key == "threads":
            job["threads"] = int(value)
        elif key == "wildcards":
            job["wildcards"] = value
        elif key == "resources":
            job["resources"] = dict(item.split("=", 1) for item in value.split(", "))
    alone = sum(1 for j in jobs if not j["local"] and not j["grouped"])
    return jobs, groups + alone


@pytest.fixture(scope="module")
def plans(tmp_path_factory) -> dict[tuple[str, str], tuple[list[dict], int]]:
    """Every configuration's dry run under every profile, run side by side."""
    bins = tmp_path_factory.mktemp("sinfo")
    procs = {}
    for name, configs in CONFIGS.items():
        env = fake_sinfo(bins / name, LARGE_NODE if name == "full" else SMALL_NODE)
        for profile in PROFILES:
            procs[name, profile] = subprocess.Popen(
                dry_run_cmd(profile, configs),
                cwd=REPO,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
    out = {}
    for key, proc in procs.items():
        text, _ = proc.communicate()
        assert proc.returncode == 0, f"{key}: {text[-3000:]}"
        out[key] = parse_plan(text)
    return out


def job_name(job: dict) -> str:
    return f"{job['rule']}[{job['wildcards']}]"


def request(job: dict) -> dict:
    """What a job asks for: threads, mem_mb ('<TBD>' until its inputs exist), runtime, gpu."""
    res = job["resources"]
    return {
        "threads": job["threads"],
        "mem_mb": res.get("mem_mb"),
        "runtime": res.get("runtime"),
        "gpu": res.get("gpu"),
    }


def test_jobs_of_one_stage_ask_for_the_same(plans):
    """Whatever its rule's name or its model: the first seed's jobs (once twin rules) and the
    shuffled labels' ask for what the other seeds' do."""
    stages = stage_of_rules()
    problems = []
    for key, (jobs, _) in plans.items():
        by_stage = defaultdict(lambda: defaultdict(list))
        for job in jobs:
            if not job["local"]:
                wanted = tuple(sorted(request(job).items(), key=str))
                by_stage[stages[job["rule"]]][wanted].append(job_name(job))
        for stage, asks in by_stage.items():
            if len(asks) > 1:
                ways = "; ".join(
                    f"{dict(w)} for {', '.join(sorted(j)[:3])}" for w, j in asks.items()
                )  # noqa: E501
                problems.append(f"{key}: stage {stage} asks for different things: {ways}")
    assert not problems, "\n".join(problems)


def declared(name: str) -> dict:
    """The configuration Snakemake reads for ``name`` (config.yaml, then demo.yaml over it)."""
    from snakemake.utils import update_config

    from spectrocam.config import validate_config

    config: dict = {}
    for path in CONFIGS[name]:
        update_config(config, yaml.safe_load((REPO / path).read_text()))
    config["run"] = RUN
    return validate_config(copy.deepcopy(config))


def test_every_job_asks_for_what_its_stage_declares(plans):
    from spectrocam.resources import stage_resources

    stages = stage_of_rules()
    problems = []
    for (name, profile), (jobs, _) in plans.items():
        config = declared(name)
        for job in jobs:
            if job["local"]:
                continue
            wanted = stage_resources(config, stages[job["rule"]])
            expected = {
                "threads": wanted.threads,
                # the inputs of a dry run do not exist yet: memory sized by them is to be decided
                "mem_mb": "<TBD>" if wanted.sized_by_input else str(wanted.mem_mb),
                "runtime": str(wanted.runtime),
                "gpu": str(wanted.gpus) if wanted.network else None,
            }
            got = request(job)
            if got != expected:
                problems.append(f"{name}, {profile}: {job_name(job)} asks {got}, not {expected}")
    assert not problems, "\n".join(problems[:40])


def test_the_full_study_asks_for_its_stages_sizes(plans):
    """The figures the README states, on the SLURM profile: every model's training 12 hours on a
    GPU with 8 threads, memory from its store, seed 0 and the shuffled labels included."""
    jobs, _ = plans["full", "slurm"]
    trains = [j for j in jobs if j["rule"] == "train"]
    assert {j["wildcards"].split("model=")[1] for j in trains} == {
        "seed0", "seed1", "seed2", "shuffled"
    }  # fmt: skip
    for job in trains:
        assert request(job) == {"threads": 8, "mem_mb": "<TBD>", "runtime": "720", "gpu": "1"}
    maps = [request(j) for j in jobs if j["rule"] == "maps"]
    assert len(maps) == 16
    assert all(m == {"threads": 8, "mem_mb": "16000", "runtime": "240", "gpu": "1"} for m in maps)


def test_the_full_study_on_slurm_stays_under_its_submissions(plans):
    jobs, submissions = plans["full", "slurm"]
    assert len(jobs) > 100
    assert submissions <= MAX_SUBMISSIONS, f"{submissions} submissions"


def test_a_stage_larger_than_the_largest_node_stops_the_run_at_start_up(tmp_path):
    env = fake_sinfo(tmp_path, SMALL_NODE)
    proc = subprocess.run(
        dry_run_cmd("slurm", CONFIGS["full"]), cwd=REPO, env=env, capture_output=True, text=True
    )
    assert proc.returncode != 0
    text = proc.stdout + proc.stderr
    assert "largest node (2 CPUs, 8000 MB, 0 GPUs" in text
    assert "train: 8 threads (training.threads) > 2 CPUs" in text
    assert "train: 1 GPUs (training.gpus) > 0 GPUs" in text
    assert "mfa_align: 32000 MB (resources.mfa_align.mem_mb) > 8000 MB" in text
    assert "Building DAG" not in text  # before any job is planned


def test_the_demo_sizes_every_stage_that_the_full_study_sizes():
    """demo.yaml is read over config.yaml: a stage config.yaml sizes and demo.yaml does not would
    take the full study's size into the demo."""
    full = yaml.safe_load((REPO / "config/config.yaml").read_text())["resources"]
    demo = yaml.safe_load((REPO / "config/demo.yaml").read_text())["resources"]
    assert set(full) <= set(demo)


def test_sinfo_gives_the_largest_node_and_what_does_not_fit_it():
    from spectrocam.resources import Node, StageResources, misfits, parse_sinfo

    text = "16 64000 (null)\n64 512000+ gpu:a100:4(S:0-1)\n8 32000 gpu:2,tmpdisk:100\n"
    assert parse_sinfo(text) == Node(64, 512000, 4)
    assert parse_sinfo("") is None
    small = parse_sinfo(SMALL_NODE)
    assert small == Node(2, 8000, 0)
    train = StageResources("train", threads=1, mem_mb=2000, mem_mb_per_input_mb=1.5, runtime=60,
                           gpus=0)  # fmt: skip
    assert misfits(train, small) == [] and train.memory(100.4) == 2151
    assert misfits(train, small, input_mb=5000) == [
        "train: 9500 MB (resources.train.mem_mb + mem_mb_per_input_mb x 5000 MB of input) > 8000 MB"
    ]
    mfa = StageResources("mfa_align", threads=8, mem_mb=32000, mem_mb_per_input_mb=0, runtime=720,
                         gpus=0)  # fmt: skip
    assert misfits(mfa, small) == [
        "mfa_align: 8 threads (resources.mfa_align.threads) > 2 CPUs",
        "mfa_align: 32000 MB (resources.mfa_align.mem_mb) > 8000 MB",
    ]


def test_a_network_stage_takes_its_threads_from_training():
    from spectrocam.config import ConfigError, validate_config
    from spectrocam.resources import StageResources, stage_resources

    config = declared("full")
    assert stage_resources(config, "maps").threads == config["training"]["threads"] == 8
    # a rule the configuration does not size asks for the schema's defaults
    assert stage_resources(config, "verdict") == StageResources(
        "verdict", threads=1, mem_mb=2000, mem_mb_per_input_mb=0.0, runtime=60, gpus=0
    )
    config = yaml.safe_load((REPO / "config/demo.yaml").read_text())
    config["resources"]["maps"]["threads"] = 4
    with pytest.raises(ConfigError, match="'resources.maps.threads': the threads of maps jobs"):
        validate_config(config)
