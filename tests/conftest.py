"""Shared fixtures: the real clips in ../shared/data, and small corpora built from them; and the
one rule for a test that lacks something from outside the repository (:func:`missing`): it skips
on a developer's machine and fails under CI."""

from __future__ import annotations

import importlib
import os
import shutil
from pathlib import Path
from types import ModuleType
from typing import NoReturn

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
MINI = SHARED_DATA / "ljspeech_mini"
MINI_MFA = SHARED_DATA / "ljspeech_mini_mfa"
TEXTGRIDS = {"backend": "textgrids", "textgrids_dir": str(MINI_MFA)}


def under_ci() -> bool:
    """Whether the tests run under CI: the ``CI`` variable set (``.ci/run`` sets it) to anything
    but empty, 0, false or no."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(why: str) -> NoReturn:
    """A test cannot run for want of something outside the repository (the shared data,
    Chromium, a test-only library): a skip that says ``why``, or under CI a failure, so that CI
    never passes on tests it did not run."""
    if under_ci():
        pytest.fail(f"{why} (CI is set: a missing requirement is a failure, not a skip)", False)
    pytest.skip(why)


def require_shared() -> None:
    """The shared test corpus (``../shared/data``: the clips and their reference TextGrids)."""
    if not (MINI / "metadata.csv").is_file() or not MINI_MFA.is_dir():
        missing(f"the shared test corpus is not at {MINI} (with its TextGrids in {MINI_MFA})")


def require_module(name: str) -> ModuleType:
    """A test-only library of the dev extra, imported."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        missing(f"the test-only library {name} is absent ({error}): make env installs it")


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
