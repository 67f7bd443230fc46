"""Shared fixtures: the real clips in ../shared/data, and small corpora built from them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
MINI = SHARED_DATA / "ljspeech_mini"
MINI_MFA = SHARED_DATA / "ljspeech_mini_mfa"
TEXTGRIDS = {"backend": "textgrids", "textgrids_dir": str(MINI_MFA)}


def require_shared() -> None:
    if not (MINI / "metadata.csv").is_file():
        pytest.skip(f"the shared test corpus is not at {MINI}")


def metadata_lines(ids: list[str]) -> list[str]:
    lines = {}
    for line in (MINI / "metadata.csv").read_text(encoding="utf-8").splitlines():
        lines[line.split("|", 1)[0]] = line
    return [lines[i] for i in ids]


def make_corpus(root: Path, ids: list[str]) -> Path:
    """A corpus in LJSpeech's layout with copies of the given real clips."""
    require_shared()
    (root / "wavs").mkdir(parents=True)
    for utt_id in ids:
        shutil.copy(MINI / "wavs" / f"{utt_id}.wav", root / "wavs" / f"{utt_id}.wav")
    (root / "metadata.csv").write_text("\n".join(metadata_lines(ids)) + "\n", encoding="utf-8")
    return root


@pytest.fixture
def shared_mini() -> Path:
    require_shared()
    return MINI


@pytest.fixture(scope="session")
def study(tmp_path_factory) -> tuple[Path, Path]:
    """The whole study on the end-to-end slice of the real clips (ResNet-18, one epoch,
    reference TextGrids as the alignment), run once and its ``snakemake --report`` made
    (``report.zip``), for every test that reads its outputs: ``(workdir, configfile)``."""
    require_shared()
    from .test_workflow import WIDE_SLICE, check_ok, snakemake, write_config

    workdir = tmp_path_factory.mktemp("study")
    config = write_config(workdir, clips=WIDE_SLICE, alignment=TEXTGRIDS)
    check_ok(snakemake(workdir, config))
    check_ok(snakemake(workdir, config, "--report", str(workdir / "report.zip")))
    return workdir, config
