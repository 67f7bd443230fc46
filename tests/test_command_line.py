"""The command line a Snakemake user expects: both Snakefiles, --sdm conda and --use-conda, a
clear stop when conda is missing, the default profile, and make's targets."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

# conda as Snakemake asks it before a run: its info, version and channel priority; nothing else
STAND_IN_CONDA = """#!/bin/sh
echo "$@" >> "$(dirname "$0")/calls.log"
case "$1 $2" in
  "info --json") echo '{"conda_prefix": "'"$(dirname "$0")"'", "platform": "linux-64"}' ;;
  "--version ") echo "conda 24.11.3" ;;
  "config --get") echo '{"get": {"channel_priority": "strict"}}' ;;
  *) echo "stand-in conda: $*" >&2; exit 1 ;;
esac
"""
MFA_RULES = {
    "download_corpus",
    "extract_corpus",
    "validate_corpus",
    "mfa_corpus",
    "mfa_download_acoustic_model",
    "mfa_download_dictionary",
    "mfa_align",
    "mfa_phones",
}


def path_without_conda(extra: Path | None = None) -> str:
    dirs = [d for d in os.environ["PATH"].split(os.pathsep) if d]
    dirs = [d for d in dirs if not (Path(d) / "conda").exists()]
    return os.pathsep.join(([str(extra)] if extra else []) + dirs)


def dry_run(workdir: Path, snakefile: str, path: str, *args: str) -> subprocess.CompletedProcess:
    """``snakemake -n`` of the full study (config/config.yaml: alignment with MFA), from the
    repository root, writing into ``workdir``."""
    config = REPO / "config" / "config.yaml"
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / snakefile),
           "--directory", str(workdir), "-n", *args, "--configfile", str(config)]  # fmt: skip
    env = {**os.environ, "PATH": path}
    return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env)


def planned_rules(proc: subprocess.CompletedProcess) -> set[str]:
    return set(re.findall(r"^(?:local)?rule (\w+):", proc.stdout + proc.stderr, re.MULTILINE))


def test_conda_deployment_without_conda_stops_at_start_and_says_what_to_do(tmp_path):
    proc = dry_run(tmp_path, "Snakefile", path_without_conda(), "--sdm", "conda")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert "conda is not on PATH" in out and "alignment.backend is mfa" in out, out[-3000:]
    assert "https://conda-forge.org/download/" in out and "backend: pocketsphinx" in out
    assert "Building DAG" not in out  # before any job is planned


@pytest.mark.parametrize(
    ("snakefile", "flag", "targets"),
    [
        # the root Snakefile includes workflow/Snakefile; both plan the same jobs
        ("Snakefile", ["--use-conda"], ["results/full/alignment/mfa/phones.tsv"]),
        ("workflow/Snakefile", ["--sdm", "conda"], ["--until", "mfa_phones"]),
    ],
)
def test_sdm_conda_and_use_conda_plan_the_alignment_with_mfa(tmp_path, snakefile, flag, targets):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "conda").write_text(STAND_IN_CONDA, encoding="utf-8")
    (bin_dir / "conda").chmod(0o755)
    proc = dry_run(tmp_path / "work", snakefile, path_without_conda(bin_dir), *flag, *targets)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert planned_rules(proc) == MFA_RULES, out[-3000:]
    assert "info --json" in (bin_dir / "calls.log").read_text()  # Snakemake asked conda
    # the default profile (workflow/profiles/default) is read beside workflow/Snakefile; from the
    # root only with --workflow-profile (the Makefile passes it): the root holds no profiles/
    read = "Using workflow specific profile" in out and "profiles/default" in out
    assert read == (snakefile == "workflow/Snakefile")


def makefile_targets() -> set[str]:
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-zA-Z][a-zA-Z_-]*):(?!=)", text, re.MULTILINE))


def test_make_help_lists_every_target_with_one_line():
    proc = subprocess.run(["make", "-s", "help"], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    listed = dict(re.findall(r"^  make (\S+) +(\S.*)$", proc.stdout, re.MULTILINE))
    targets = makefile_targets()
    assert {"demo", "test", "report", "clean", "clean-downloads", "docs", "help"} <= targets
    missing = targets - set(listed)
    assert not missing, f"Makefile targets without a '## ' comment for make help: {missing}"
    assert "clean-downloads" in proc.stdout and "never" in listed["clean"]
