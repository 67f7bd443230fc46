"""The MFA rules end to end, against a stand-in ``mfa`` that checks its command line as MFA 3.x
reads it, and the MFA version the conda environment pins against the one README.md and the
documentation name."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

from spectrocam.align.phone_table import phones_from_textgrids

from .conftest import MINI_MFA, REPO, require_shared
from .test_workflow import SLICE, check_ok, snakemake, write_config

PHONES = "results/test/alignment/mfa/phones.tsv"

# The stand-in for MFA 3.x's `mfa` (its docstring says what it checks).
STAND_IN = Path(__file__).with_name("mfa_stand_in.py")
# distinct from MFA's defaults (10, 40) and from each other, so that a rule that passes another
# value, or passes them swapped, is seen
BEAM, RETRY_BEAM = 13, 47


@pytest.fixture
def stand_in(tmp_path, monkeypatch):
    """PATH with the stand-in ``mfa`` first; the workdir of the run; the file of its calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    mfa = bin_dir / "mfa"
    mfa.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{STAND_IN}" "$@"\n', encoding="utf-8")
    mfa.chmod(0o755)
    workdir = tmp_path / "work"
    workdir.mkdir()
    record = tmp_path / "calls.jsonl"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("MFA_STANDIN_RECORD", str(record))
    monkeypatch.setenv("MFA_STANDIN_RESOURCES", str(workdir / "resources"))
    monkeypatch.setenv("MFA_STANDIN_TEXTGRIDS", str(MINI_MFA))
    monkeypatch.delenv("MFA_ROOT_DIR", raising=False)
    return workdir, record


@pytest.mark.parametrize("mode", ["pretrained", "train"])
def test_mfa_rules_give_mfa_absolute_paths_and_a_root_in_resources(tmp_path, stand_in, mode):
    require_shared()
    workdir, record = stand_in
    settings = {"mode": mode, "beam": BEAM, "retry_beam": RETRY_BEAM}
    config = write_config(tmp_path, alignment={"backend": "mfa", "mfa": settings})
    proc = snakemake(workdir, config, PHONES)
    errors = record.with_suffix(".errors")
    assert not errors.exists(), errors.read_text()
    check_ok(proc)

    # The phone table is the reference TextGrids' (which the stand-in exported) for every clip.
    clips = pd.read_csv(workdir / "results/test/corpus/clips.tsv", sep="\t")
    phones = pd.read_csv(workdir / PHONES, sep="\t")
    expected, counts = phones_from_textgrids(MINI_MFA, clips)
    assert list(clips.utt_id) == SLICE and set(phones.utt_id) == set(SLICE)
    assert counts.aligned_utterances == len(SLICE)
    columns = ["utt_id", "word", "phone", "start_s", "end_s"]
    pd.testing.assert_frame_equal(
        phones[columns].reset_index(drop=True),
        expected[columns].reset_index(drop=True),
        check_dtype=False,
    )

    calls = [json.loads(line) for line in record.read_text().splitlines()]
    root = (workdir / "resources" / "mfa").resolve()
    mfa = workdir / "results/test/alignment/mfa"
    models = root / "pretrained_models"
    # every argument in its role, as MFA 3.x reads the command line (the stand-in parsed it)
    common = {"corpus_directory": mfa / "corpus", "output_directory": mfa / "textgrids",
              "temporary_directory": mfa / "tmp"}  # fmt: skip
    if mode == "pretrained":
        expected_calls = {
            "download acoustic": {"model_name": ["english_us_arpa"]},
            "download dictionary": {"model_name": ["english_us_arpa"]},
            "align": common
            | {
                "dictionary_path": models / "dictionary/english_us_arpa.dict",
                "acoustic_model_path": models / "acoustic/english_us_arpa.zip",
                "beam": BEAM,
                "retry_beam": RETRY_BEAM,
            },
        }
    else:
        expected_calls = {
            "train": common
            | {
                "dictionary_path": mfa / "cmudict.dict",
                "output_model_path": mfa / "acoustic_model.zip",
            }
        }
    by_command = {}
    for call in calls:
        argv, args = call["argv"], call["args"]
        name = f"download {args['model_type']}" if argv[0] == "model" else argv[0]
        by_command[name] = args
        assert Path(call["root"]).resolve() == root
        for path in call["paths"].values():
            assert os.path.isabs(path) and Path(path).resolve().is_relative_to(workdir.resolve())
        if argv[0] != "model":
            assert args["num_jobs"] == 2  # the rule's 8 threads, capped at --cores 2
            assert args["clean"] and args["single_speaker"]
            assert args["output_format"] == "long_textgrid"
    assert sorted(by_command) == sorted(expected_calls)
    for name, expected in expected_calls.items():
        got = {k: by_command[name][k] for k in expected}
        want = {k: str(v) if isinstance(v, Path) else v for k, v in expected.items()}
        assert got == want, name
    if mode == "train":
        assert zipfile.is_zipfile(mfa / "acoustic_model.zip")

    # MFA's own files are in its root, and nothing is written beside results/ and resources/.
    assert (root / "global_config.yaml").is_file() and (root / "joblib_cache").is_dir()
    assert sorted(os.listdir(workdir)) == [".snakemake", "resources", "results"]


def test_mfa_version_pinned_is_the_one_documented():
    env = yaml.safe_load((REPO / "envs" / "mfa.yaml").read_text(encoding="utf-8"))
    pins = [
        d.split("=", 1)[1]
        for d in env["dependencies"]
        if isinstance(d, str) and d.startswith("montreal-forced-aligner=")
    ]
    assert len(pins) == 1 and re.fullmatch(r"\d+\.\d+\.\d+", pins[0]), env["dependencies"]
    docs = [
        REPO / "README.md",
        REPO / "config" / "README.md",
        *sorted((REPO / "docs").glob("*.md")),
    ]
    # Any version next to MFA's name: "MFA 3.3.9", "`montreal-forced-aligner` 3.3.9", "...=3.3"
    named = r"(?:MFA|Montreal Forced Aligner|montreal-forced-aligner)[`'\" =]{1,3}v?"
    documented = {
        (path.relative_to(REPO).as_posix(), version)
        for path in docs
        for version in re.findall(
            named + r"(\d+\.\d+(?:\.\d+)?)", path.read_text(encoding="utf-8"), flags=re.IGNORECASE
        )
    }
    assert ("README.md", pins[0]) in documented, f"README.md does not name MFA {pins[0]}"
    other = {(name, v) for name, v in documented if v != pins[0]}
    assert not other, f"envs/mfa.yaml pins {pins[0]}, the documentation names {other}"


def run_stand_in(tmp_path, *argv: str) -> subprocess.CompletedProcess:
    env = os.environ | {
        "MFA_ROOT_DIR": str(tmp_path / "resources/mfa"),
        "MFA_STANDIN_RESOURCES": str(tmp_path / "resources"),
        "MFA_STANDIN_RECORD": str(tmp_path / "calls.jsonl"),
        "MFA_STANDIN_TEXTGRIDS": str(tmp_path / "reference"),
    }
    return subprocess.run(
        [sys.executable, str(STAND_IN), *argv], env=env, capture_output=True, text=True
    )


def test_the_stand_in_reads_the_command_line_by_role_and_refuses_a_swap(tmp_path):
    """MFA 3.x's own command lines pass; a swap of two arguments or an option without its value
    fails, as it must for the rule test to see it."""
    (tmp_path / "resources/mfa").mkdir(parents=True)
    corpus, reference = tmp_path / "mfa/corpus", tmp_path / "reference"
    corpus.mkdir(parents=True)
    reference.mkdir()
    (corpus / "LJ001-0001.lab").write_text("the cat\n")
    (reference / "LJ001-0001.TextGrid").write_text("stand-in TextGrid\n")
    models = tmp_path / "resources/mfa/pretrained_models"
    for kind in ("acoustic", "dictionary"):
        assert run_stand_in(tmp_path, "model", "download", kind, "english_us_arpa").returncode == 0
    dictionary = str(models / "dictionary/english_us_arpa.dict")
    acoustic = str(models / "acoustic/english_us_arpa.zip")
    out, tmp = str(tmp_path / "mfa/textgrids"), str(tmp_path / "mfa/tmp")
    beams = ["--beam", "10", "--retry_beam", "40"]
    options = ["--clean", "--single_speaker", "-j", "2", "-t", tmp, *beams]
    first = run_stand_in(tmp_path, "align", *options, str(corpus), dictionary, acoustic, out)
    assert first.returncode == 0, first.stderr  # options before, among or after the positionals
    ok = run_stand_in(tmp_path, "align", str(corpus), dictionary, acoustic, out, *options)
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "mfa/textgrids/LJ001-0001.TextGrid").is_file()
    call = json.loads((tmp_path / "calls.jsonl").read_text().splitlines()[-1])["args"]
    assert call["dictionary_path"] == dictionary and call["acoustic_model_path"] == acoustic
    assert (call["beam"], call["retry_beam"], call["num_jobs"]) == (10, 40, 2)
    model = str(tmp_path / "mfa/acoustic_model.zip")
    trained = run_stand_in(tmp_path, "train", str(corpus), dictionary, model, "-t", tmp,
                           "--output_directory", out)  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    assert zipfile.is_zipfile(model)
    align = ["align", str(corpus), dictionary, acoustic, out]
    wrong = {
        "dictionary and acoustic model swapped": ["align", str(corpus), acoustic, dictionary, out],
        "corpus and output swapped": ["align", out, dictionary, acoustic, str(corpus)],
        "beam without its value": [*align, "--beam", "--retry_beam", "40"],
        "beams swapped": [*align, "--beam", "40", "--retry_beam", "10"],
        "an acoustic model missing": ["align", str(corpus), dictionary, out, *beams],
        "-j without its value": [*align, *beams, "-j"],
        "a relative path": ["align", "mfa/corpus", dictionary, acoustic, out, *beams],
        "train: dictionary and model swapped": [
            "train",
            str(corpus),
            model,
            dictionary,
            "--output_directory",
            out,
        ],  # fmt: skip
        "train without --output_directory": ["train", str(corpus), dictionary, model],
        "download without a name": ["model", "download", "acoustic"],
        "download of another kind": ["model", "download", "english_us_arpa", "acoustic"],
    }
    for why, argv in wrong.items():
        if argv[0] == "align" and "--beam" not in argv and why != "an acoustic model missing":
            argv = [*argv, *beams]
        proc = run_stand_in(tmp_path, *argv)
        assert proc.returncode != 0 and "mfa stand-in:" in proc.stderr, why
