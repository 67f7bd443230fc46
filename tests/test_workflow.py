"""The workflow end to end on real clips: what it writes, what it skips, how it resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import pandas as pd
import pytest
import yaml

from spectrocam.phones import strip_stress

from .conftest import MINI, MINI_MFA, REPO, SHARED_DATA, make_corpus, require_shared

HILLENBRAND = SHARED_DATA / "hillenbrand1995" / "all_talkers.csv"

# A slice of the demo corpus: both big chapters and the small one, short and long clips.
SLICE = [
    "LJ001-0002",
    "LJ001-0007",
    "LJ001-0015",
    "LJ001-0030",
    "LJ002-0010",
    "LJ002-0021",
    "LJ002-0100",
    "LJ050-0029",
    "LJ050-0131",
]
# Every tenth clip of the demo: enough utterances that each class is in the training split.
WIDE_SLICE = (REPO / "config" / "demo_clips.txt").read_text().split()[::10]
EXPERIMENTS = ("vowels_full", "vowels_4k", "voicing_4k")
# The outputs of stages 1-4 (corpus, alignment, segments, splits), without training.
DATA_TARGETS = [
    "results/test/splits/splits.tsv",
    *(f"results/test/splits/{e}_balance.tsv" for e in EXPERIMENTS),
]
VOWELS = {"IY", "AE", "AA", "AO", "UW"}
UNVOICED = {"P", "T", "K", "F", "TH", "S", "SH", "HH", "CH"}


def write_config(workdir: Path, clips: list[str] = SLICE, **changes) -> Path:
    """The demo configuration with the clip slice, a small model trained for one short epoch,
    and ``changes`` (section -> dict) applied."""
    with open(REPO / "config" / "demo.yaml", encoding="utf-8") as fh:
        config = yaml.safe_load(fh)
    (workdir / "clips.txt").write_text("\n".join(clips) + "\n", encoding="utf-8")
    config["run"] = "test"
    config["corpus"].update(dir=str(MINI), clips=str(workdir / "clips.txt"))
    config["alignment"].update(shards=2, reference_dir=str(MINI_MFA))
    config["spectrogram"].update(context_s=0.1, dtype="float16")
    # the study's strides (the cheapest), and the other methods on layer1 (stride 4),
    # so that the slice checks maps on a second grid
    config["model"].update(arch="resnet18", weights="scratch", freq_stride=32, time_stride=32)
    config["training"].update(epochs=1, samples_per_class=16, batch_size=8)
    config["agreement"].update(bootstrap=200, permutations=100)
    config["explain"].update(max_per_class=10, score_cam_channels=4, stage="layer1")
    config["causal"].update(max_segments=8, max_segments_of={}, bootstrap=200, deletion_steps=4)
    config["evidence"].update(bootstrap=200, sign_flips=1000)
    config["report"].update(examples=3, hillenbrand=str(HILLENBRAND))
    # the demo's context control is left out: three more models for the suite's budget; the
    # demo runs it, and tests/test_segments.py checks its known answer on a cue in the context
    config["experiments"]["vowels_4k_isolated"]["enabled"] = False
    for section, values in changes.items():
        if isinstance(values, dict):
            config[section].update(values)
        else:
            config[section] = values
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def snakemake_cmd(workdir: Path, configfile: Path, *args: str, cores: int = 2) -> list[str]:
    return [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(configfile),
        "--cores",
        str(cores),
        "--rerun-incomplete",
        *args,
    ]


def snakemake(workdir: Path, configfile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(snakemake_cmd(workdir, configfile, *args), capture_output=True, text=True)


def check_ok(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]


def nothing_to_do(workdir: Path, configfile: Path, *targets: str) -> bool:
    proc = snakemake(workdir, configfile, "-n", *targets)
    check_ok(proc)
    return "Nothing to be done" in proc.stdout + proc.stderr


def test_pocketsphinx_pipeline_on_real_clips(tmp_path):
    require_shared()
    config = write_config(tmp_path)
    targets = [*DATA_TARGETS, "results/test/alignment/pocketsphinx/agreement.json"]
    check_ok(snakemake(tmp_path, config, *targets))
    out = tmp_path / "results" / "test"

    clips = pd.read_csv(out / "corpus/clips.tsv", sep="\t", keep_default_na=False)
    assert list(clips.utt_id) == SLICE
    phones = pd.read_csv(out / "alignment/pocketsphinx/phones.tsv", sep="\t")
    assert set(phones.utt_id) == set(SLICE)
    assert (phones.end_s > phones.start_s).all()
    summary = json.loads((out / "alignment/pocketsphinx/summary.json").read_text())
    assert summary["utterances"] == len(SLICE) and summary["phones"] == len(phones)
    agreement = json.loads((out / "alignment/pocketsphinx/agreement.json").read_text())
    within = {w["tol_s"]: w["share"] for w in agreement["boundaries"]["within"]}
    assert within[0.02] > 0.6  # a real alignment, not noise
    assert within[0.01] <= within[0.02] <= within[0.05]

    base = phones.phone.map(strip_stress)
    for name, classes in (("vowels_full", VOWELS), ("voicing_4k", VOWELS | UNVOICED)):
        with h5py.File(out / f"segments/{name}.h5", "r") as h5:
            n = h5["spectrograms"].shape[0]
            assert n == int(base.isin(classes).sum())
            assert h5["spectrograms"].shape[1:] == (len(h5["freqs_hz"]), len(h5["times_s"]))
            assert h5["freqs_hz"][-1] <= h5.attrs["fmax_hz"]
            assert h5["spectrograms"].dtype == "float16"
            assert set(h5["utt_id"].asstr()[:]) <= set(SLICE)
    with h5py.File(out / "segments/vowels_4k.h5", "r") as h5:
        assert 4000 - 22050 / 1024 < h5["freqs_hz"][-1] <= 4000
        labels = h5["labels"][:]
        names = list(h5["class_names"].asstr()[:])
        phone = h5["phone"].asstr()[:]
        assert all(names[k] == strip_stress(p) for k, p in zip(labels, phone, strict=True))

    splits = pd.read_csv(out / "splits/splits.tsv", sep="\t")
    assert sorted(splits.utt_id) == sorted(SLICE) and splits.utt_id.is_unique
    balance = pd.read_csv(out / "splits/voicing_4k_balance.tsv", sep="\t")
    with h5py.File(out / "segments/voicing_4k.h5", "r") as h5:
        assert balance.n_segments.sum() == h5["labels"].shape[0]

    assert nothing_to_do(tmp_path, config, *targets)
    # A late-stage change redoes the late stage only.
    changed = write_config(tmp_path, spectrogram={"n_fft": 2048})
    proc = snakemake(tmp_path, changed, "-n", *targets)
    check_ok(proc)
    planned = proc.stdout
    assert "rule segments:" in planned and "rule align_pocketsphinx:" not in planned
    assert "rule validate_corpus:" not in planned


def test_bad_clips_are_rejected_and_the_rest_go_on(tmp_path):
    require_shared()
    corpus = make_corpus(tmp_path / "corpus", SLICE[:5])
    (corpus / "wavs" / "LJ001-0007.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEbroken")
    (corpus / "wavs" / "LJ001-0015.wav").unlink()
    with open(corpus / "metadata.csv", "a", encoding="utf-8") as fh:
        fh.write("LJ003-0001|   |   \n")
    config = write_config(
        tmp_path,
        corpus={"dir": str(corpus), "clips": None},
        alignment={"backend": "textgrids", "textgrids_dir": str(MINI_MFA)},
    )
    check_ok(snakemake(tmp_path, config, *DATA_TARGETS))
    out = tmp_path / "results" / "test"
    rejects = pd.read_csv(out / "corpus/rejects.tsv", sep="\t").set_index("utt_id")["reason"]
    assert rejects["LJ001-0007"].startswith("unreadable wav")
    assert rejects["LJ001-0015"].startswith("no wav file")
    assert rejects["LJ003-0001"] == "empty transcript"
    clips = pd.read_csv(out / "corpus/clips.tsv", sep="\t")
    assert list(clips.utt_id) == ["LJ001-0002", "LJ001-0030", "LJ002-0010"]
    phones = pd.read_csv(out / "alignment/textgrids/phones.tsv", sep="\t")
    with h5py.File(out / "segments/vowels_full.h5", "r") as h5:
        assert h5["labels"].shape[0] == int(phones.phone.map(strip_stress).isin(VOWELS).sum())


def test_bad_config_stops_before_any_job(tmp_path):
    config = write_config(tmp_path, spectrogram={"hop_s": -0.01})
    proc = snakemake(tmp_path, config)
    assert proc.returncode != 0
    assert "'spectrogram.hop_s'" in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "results").exists()


def test_interrupted_run_resumes(tmp_path):
    require_shared()
    config = write_config(tmp_path, alignment={"shards": 4})
    out = tmp_path / "results" / "test"
    shards = out / "alignment/pocketsphinx/shards"
    shard_logs = out / "logs/alignment/pocketsphinx"
    proc = subprocess.Popen(
        snakemake_cmd(tmp_path, config, *DATA_TARGETS, cores=1),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    # With one core the shards run one after the other: once a second one has started, the
    # first is finished and recorded as such.
    started: list[Path] = []
    while len(started) < 2 and proc.poll() is None and time.monotonic() < deadline:
        started = list(shard_logs.glob("*.log")) if shard_logs.exists() else []
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # as a lost node or an expired allocation would
    proc.wait()
    assert len(started) >= 2, "the run never reached its second shard"
    running = max(started, key=lambda p: p.stat().st_mtime_ns)
    finished = [shards / f"{p.stem}.tsv" for p in started if p != running]
    assert finished and all(f.exists() for f in finished)
    assert not (out / "segments/vowels_full.h5").exists()
    done_at = {f: f.stat().st_mtime_ns for f in finished}

    check_ok(snakemake(tmp_path, config, "--unlock"))
    check_ok(snakemake(tmp_path, config, *DATA_TARGETS))
    assert {f: f.stat().st_mtime_ns for f in finished} == done_at  # finished work is kept
    assert len(list(shards.glob("*.tsv"))) == 4
    assert (out / "segments/vowels_full.h5").exists()
    assert nothing_to_do(tmp_path, config, *DATA_TARGETS)


@pytest.mark.parametrize("mode", ["pretrained", "train"])
def test_full_reproduction_plans_download_and_mfa(tmp_path, mode):
    """The study's configuration plans download, extraction and MFA 3.x's command line."""
    cmd = snakemake_cmd(
        tmp_path,
        REPO / "config" / "config.yaml",
        "-n",
        "--printshellcmds",
        "--config",
        f"alignment={{mfa: {{mode: {mode}}}}}",
        cores=8,
    )
    proc = subprocess.run(cmd, capture_output=True, text=True)
    check_ok(proc)
    plan = proc.stdout
    for rule in ("download_corpus", "extract_corpus", "validate_corpus", "mfa_corpus", "segments"):
        assert f"rule {rule}:" in plan
    # MFA gets absolute paths only, and its root under resources/ (created before it runs).
    work = tmp_path.resolve()
    mfa = f"{work}/results/full/alignment/mfa"
    setup = f"mkdir -p {work}/resources/mfa && export MFA_ROOT_DIR={work}/resources/mfa && "
    models = f"{work}/resources/mfa/pretrained_models"
    if mode == "pretrained":
        assert f"{setup}mfa model download acoustic english_us_arpa" in plan
        assert f"{setup}mfa model download dictionary english_us_arpa" in plan
        assert (
            f"{setup}mfa align --clean --single_speaker --output_format long_textgrid --beam 10 "
            f"--retry_beam 40 -j 8 -t {mfa}/tmp {mfa}/corpus "
            f"{models}/dictionary/english_us_arpa.dict {models}/acoustic/english_us_arpa.zip "
            f"{mfa}/textgrids" in plan
        )
    else:
        assert "mfa model download" not in plan and "rule mfa_cmudict_dictionary:" in plan
        assert (
            f"{setup}mfa train --clean --single_speaker --output_format long_textgrid -j 8 "
            f"-t {mfa}/tmp --output_directory {mfa}/textgrids "
            f"{mfa}/corpus {mfa}/cmudict.dict {mfa}/acoustic_model.zip" in plan
        )
