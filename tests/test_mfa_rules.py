"""The MFA rules end to end, against a stand-in ``mfa`` that checks its command line as MFA 3.x
reads it, and the MFA version the conda environment pins against the one README.md and the
documentation name."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from spectrocam.align.phone_table import phones_from_textgrids

from .conftest import MINI_MFA, REPO, require_shared
from .test_workflow import SLICE, check_ok, snakemake, write_config

PHONES = "results/test/alignment/mfa/phones.tsv"

# The stand-in for MFA 3.x's `mfa`: the subcommands and options the rules use, parsed as MFA's
# click commands do (options anywhere among the positional arguments; an unknown option is an
# error here, where MFA would pass it on to its configuration). It refuses a relative path, and
# an MFA_ROOT_DIR that is unset, relative, missing or outside the run's resources/; it records
# each call and writes what MFA would, where MFA would.
STAND_IN = r"""
import argparse, json, os, shutil, sys
from pathlib import Path

record = Path(os.environ["MFA_STANDIN_RECORD"])
resources = Path(os.environ["MFA_STANDIN_RESOURCES"]).resolve()
textgrids = Path(os.environ["MFA_STANDIN_TEXTGRIDS"])


def fail(message):
    with open(record.with_suffix(".errors"), "a", encoding="utf-8") as fh:
        fh.write(f"{sys.argv[1:]}: {message}\n")
    sys.exit(f"mfa stand-in: {message}")


class Parser(argparse.ArgumentParser):
    def error(self, message):
        fail(message)


def common(parser):
    parser.add_argument("--clean", action="store_true")
    parser.add_argument("--single_speaker", action="store_true")
    parser.add_argument("-j", "--num_jobs", type=int)
    parser.add_argument("-t", "--temporary_directory")


def alignment_options(parser):
    choices = ["long_textgrid", "short_textgrid", "json", "csv"]
    parser.add_argument("--output_format", choices=choices, default="long_textgrid")


argv = sys.argv[1:]
if argv[:1] == ["align"]:
    parser = Parser(prog="mfa align")
    for name in ("corpus_directory", "dictionary_path", "acoustic_model_path", "output_directory"):
        parser.add_argument(name)
    alignment_options(parser)
    parser.add_argument("--beam", type=int)
    parser.add_argument("--retry_beam", type=int)
    common(parser)
    command, rest = "align", argv[1:]
elif argv[:1] == ["train"]:
    parser = Parser(prog="mfa train")
    for name in ("corpus_directory", "dictionary_path", "output_model_path"):
        parser.add_argument(name)
    parser.add_argument("--output_directory")
    alignment_options(parser)
    common(parser)
    command, rest = "train", argv[1:]
elif argv[:2] == ["model", "download"]:
    parser = Parser(prog="mfa model download")
    parser.add_argument("model_type", choices=["acoustic", "dictionary"])
    parser.add_argument("model_name", nargs="+")
    command, rest = "model", argv[2:]
else:
    fail("not a command of MFA 3.x that the rules use")
args = parser.parse_intermixed_args(rest)

root = os.environ.get("MFA_ROOT_DIR")
if not root or not os.path.isabs(root) or not os.path.isdir(root):
    fail(f"MFA_ROOT_DIR is {root!r}, not an existing absolute directory")
root = Path(root)
if not root.resolve().is_relative_to(resources):
    fail(f"MFA_ROOT_DIR {root} is not under {resources}")
paths = {
    key: value
    for key, value in vars(args).items()
    if key.endswith(("_directory", "_path")) and value is not None
}
for key, value in paths.items():
    if not os.path.isabs(value):
        fail(f"{key} {value!r} is not an absolute path")
with open(record, "a", encoding="utf-8") as fh:
    fh.write(json.dumps({"argv": sys.argv[1:], "root": str(root), "paths": paths}) + "\n")
# What MFA itself keeps in its root on every run.
(root / "global_config.yaml").write_text("temporary_directory: " + str(root) + "\n")
(root / "joblib_cache").mkdir(exist_ok=True)

if command == "model":
    ext = {"acoustic": ".zip", "dictionary": ".dict"}[args.model_type]
    for name in args.model_name:
        out = root / "pretrained_models" / args.model_type / f"{name}{ext}"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(b"stand-in model")
    sys.exit(0)

corpus = Path(args.corpus_directory)
if not corpus.is_dir():
    fail(f"no corpus directory {corpus}")
if not Path(args.dictionary_path).is_file():
    fail(f"no dictionary {args.dictionary_path}")
if command == "align":
    if not Path(args.acoustic_model_path).is_file():
        fail(f"no acoustic model {args.acoustic_model_path}")
    out_dir = Path(args.output_directory)
else:
    if not args.output_directory:
        fail("mfa train without --output_directory exports no alignments")
    out_dir = Path(args.output_directory)
# MFA links its alignment archives across the temporary directory by the paths built from -t.
tmp = Path(args.temporary_directory or root) / corpus.name
(tmp / "ali").mkdir(parents=True, exist_ok=True)
(tmp / "ali" / "ali.1.ark").write_bytes(b"")
(tmp / "sat_ali").mkdir(exist_ok=True)
link = tmp / "sat_ali" / "ali.1.ark"
link.unlink(missing_ok=True)
link.symlink_to(tmp / "ali" / "ali.1.ark")
if not link.exists():
    fail(f"{link} points nowhere")
out_dir.mkdir(parents=True, exist_ok=True)
for lab in sorted(corpus.glob("*.lab")):
    shutil.copy(textgrids / f"{lab.stem}.TextGrid", out_dir / f"{lab.stem}.TextGrid")
if command == "train":
    Path(args.output_model_path).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output_model_path).write_bytes(b"stand-in acoustic model")
"""

POSITIONALS = {"align": 4, "train": 3}


@pytest.fixture
def stand_in(tmp_path, monkeypatch):
    """PATH with the stand-in ``mfa`` first; the workdir of the run; the file of its calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    mfa = bin_dir / "mfa"
    mfa.write_text(f"#!{sys.executable}\n{STAND_IN}", encoding="utf-8")
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


def flag_value(argv: list[str], *names: str) -> str | None:
    for i, arg in enumerate(argv):
        if arg in names:
            return argv[i + 1]
    return None


def positionals(argv: list[str], command: str) -> list[str]:
    """The positional arguments of an align or train command line (the rules' flags only)."""
    valued = {"--output_format", "--beam", "--retry_beam", "-j", "-t", "--output_directory"}
    out, args = [], iter(argv[1:])
    for arg in args:
        if arg in valued:
            next(args)
        elif not arg.startswith("-"):
            out.append(arg)
    assert len(out) == POSITIONALS[command], argv
    return out


@pytest.mark.parametrize("mode", ["pretrained", "train"])
def test_mfa_rules_give_mfa_absolute_paths_and_a_root_in_resources(tmp_path, stand_in, mode):
    require_shared()
    workdir, record = stand_in
    config = write_config(tmp_path, alignment={"backend": "mfa", "mfa": {"mode": mode}})
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
    commands = [" ".join(c["argv"][:3]) if c["argv"][0] == "model" else c["argv"][0] for c in calls]
    if mode == "pretrained":
        assert sorted(commands) == [
            "align",
            "model download acoustic",
            "model download dictionary",
        ]
    else:
        assert commands == ["train"]
    root = (workdir / "resources" / "mfa").resolve()
    for call in calls:
        argv = call["argv"]
        assert Path(call["root"]).resolve() == root
        if argv[0] == "model":
            continue
        paths = positionals(argv, argv[0]) + [flag_value(argv, "-t")]
        if argv[0] == "train":
            paths.append(flag_value(argv, "--output_directory"))
        for path in paths:
            assert path and os.path.isabs(path), argv
            assert Path(path).resolve().is_relative_to(workdir.resolve()), argv
        assert flag_value(argv, "-j") == "2"  # the rule's 8 threads, capped at --cores 2
        assert {"--clean", "--single_speaker"} <= set(argv)
        assert flag_value(argv, "--output_format") == "long_textgrid"
    if mode == "train":
        assert (workdir / "results/test/alignment/mfa/acoustic_model.zip").is_file()
    else:
        models = root / "pretrained_models"
        assert (models / "acoustic/english_us_arpa.zip").is_file()
        assert (models / "dictionary/english_us_arpa.dict").is_file()

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
