"""Other corpora than the demo's: two speakers (one of them the demo's clips with formants that
Praat shifted by a known ratio), 48 kHz stereo, and narrowband audio."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import parselmouth
import pytest
import soundfile as sf
from parselmouth.praat import call

from spectrocam.corpus.layout import read_clip_list
from spectrocam.segments.formants import lobanov

from .conftest import MINI, MINI_MFA, REPO, metadata_lines, require_shared
from .test_workflow import check_ok, snakemake, write_config

RATIO = 1.15  # Praat's "Change gender" formant shift of the copies
CLIPS = read_clip_list(REPO / "config" / "demo_clips.txt")[::20]
TEXTGRIDS = {"backend": "textgrids"}


def two_speaker_corpus(root):
    """The demo clips (speaker 'lj') and their copies ('<id>x', speaker 'shifted') whose
    formants Praat's Change gender moved up by RATIO, pitch and duration unchanged; TextGrids
    for both (the copies keep the originals' timing)."""
    (root / "wavs").mkdir(parents=True)
    textgrids = root / "textgrids"
    textgrids.mkdir()
    lines = []
    for utt_id, line in zip(CLIPS, metadata_lines(CLIPS), strict=True):
        shutil.copy(MINI / "wavs" / f"{utt_id}.wav", root / "wavs" / f"{utt_id}.wav")
        sound = parselmouth.Sound(str(MINI / "wavs" / f"{utt_id}.wav"))
        shifted = call(sound, "Change gender", 75, 600, RATIO, 0, 1, 1)
        peak = np.abs(shifted.values).max()
        sf.write(root / "wavs" / f"{utt_id}x.wav", shifted.values[0] / max(1.0, peak), 22050)
        for name in (utt_id, f"{utt_id}x"):
            shutil.copy(MINI_MFA / f"{utt_id}.TextGrid", textgrids / f"{name}.TextGrid")
        fields = line.split("|")
        lines += ["|".join([*fields[:3], "lj"]), "|".join([f"{utt_id}x", *fields[1:3], "shifted"])]
    (root / "metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def test_lobanov_takes_away_a_constant_formant_ratio():
    a = pd.DataFrame({"f1_hz": [300.0, 700, 500], "f2_hz": [2700.0, 1200, 1800]})
    a["f3_hz"] = np.nan
    table = pd.concat([a.assign(speaker="a"), (a * RATIO).assign(speaker="b")], ignore_index=True)
    z = lobanov(table)
    np.testing.assert_allclose(z[:3, :2], z[3:, :2])
    np.testing.assert_allclose(z[:3, 0], [-1.0, 1.0, 0.0])
    assert np.isnan(z[:, 2]).all()  # undefined stays undefined


def test_two_speakers_split_on_their_own_and_agree_after_lobanov(tmp_path):
    require_shared()
    corpus = two_speaker_corpus(tmp_path / "corpus")
    config = write_config(
        tmp_path,
        clips=[],
        corpus={
            "dir": str(corpus),
            "clips": None,
            "name": "two-speakers",
            # the copies' vocal tract is RATIO shorter: their ceiling RATIO higher
            "speakers": {"shifted": {"max_formant_hz": 5500 * RATIO}, "lj": {"sex": "female"}},
        },
        alignment=TEXTGRIDS | {"textgrids_dir": str(corpus / "textgrids"), "reference_dir": None},
    )
    out = tmp_path / "results" / "test"
    check_ok(
        snakemake(
            tmp_path, config, "results/test/formants/formants.tsv", "results/test/splits/splits.tsv"
        )
    )
    clips = pd.read_csv(out / "corpus/clips.tsv", sep="\t")
    assert set(clips.speaker) == {"lj", "shifted"} and len(clips) == 2 * len(CLIPS)
    splits = pd.read_csv(out / "splits/splits.tsv", sep="\t")
    summary = json.loads((out / "splits/summary.json").read_text())
    assert summary["unit"] == "utterance"
    assert summary["speakers"] == {"train": 2, "validation": 2, "test": 2}
    assert splits.groupby("speaker").size().to_dict() == {"lj": len(CLIPS), "shifted": len(CLIPS)}

    formants = pd.read_csv(out / "formants/formants.tsv", sep="\t")
    assert set(formants.groupby("speaker").max_formant_hz.first()) == {5500, 5500 * RATIO}
    original = formants[formants.speaker == "lj"].set_index("phone_id")
    copy = formants[formants.speaker == "shifted"]
    copy = copy.set_index(copy.phone_id.str.replace("x/", "/", regex=False))
    both = original.join(copy, rsuffix="_copy", how="inner")
    assert len(both) > 50
    for k in (1, 2):
        ratio = (both[f"f{k}_hz_copy"] / both[f"f{k}_hz"]).median()
        assert ratio == pytest.approx(RATIO, abs=0.06), f"F{k}"
        raw = (both[f"f{k}_hz_copy"] - both[f"f{k}_hz"]).abs() / both[f"f{k}_hz"].std()
        normalised = (both[f"f{k}_lobanov_copy"] - both[f"f{k}_lobanov"]).abs()
        # where the raw values differ by the ratio, the normalised ones agree
        assert normalised.median() < 0.25 and normalised.median() < raw.median() / 3, f"F{k}"


def test_48k_stereo_is_mixed_down_and_narrowband_audio_is_warned_of(tmp_path):
    require_shared()
    root = tmp_path / "corpus"
    (root / "wavs").mkdir(parents=True)
    ids = CLIPS[:6]
    for utt_id in ids:
        sound = parselmouth.Sound(str(MINI / "wavs" / f"{utt_id}.wav"))
        wide = sound.resample(48000).values[0]
        sf.write(root / "wavs" / f"{utt_id}.wav", np.stack([wide, 0.5 * wide], 1), 48000)
    (root / "metadata.csv").write_text("\n".join(metadata_lines(ids)) + "\n", encoding="utf-8")
    narrow = tmp_path / "narrow"
    shutil.copytree(root, narrow)
    for utt_id in ids:
        sound = parselmouth.Sound(str(MINI / "wavs" / f"{utt_id}.wav"))
        sf.write(narrow / "wavs" / f"{utt_id}.wav", sound.resample(8000).values[0], 8000)
    alignment = TEXTGRIDS | {"textgrids_dir": str(MINI_MFA)}
    for corpus, run in ((root, "wide"), (narrow, "narrow")):
        config = write_config(
            tmp_path, clips=[], corpus={"dir": str(corpus), "clips": None}, alignment=alignment
        )
        target = "results/test/segments/vowels_full.h5"
        check_ok(snakemake(tmp_path, config, target, "results/test/segments/vowels_4k.h5"))
        clips = pd.read_csv(tmp_path / "results/test/corpus/clips.tsv", sep="\t")
        logs = tmp_path / "results/test/logs/segments"
        if run == "wide":
            assert (clips.source_rate_hz == 48000).all() and (clips.channels == 1).all()
            assert clips.note.str.contains("mixed down from 2 channels").all()
            assert (clips.bandwidth_hz > 10000).all()
            assert "WARNING" not in (logs / "vowels_full.log").read_text()
        else:
            assert (clips.bandwidth_hz < 5000).all()
            assert "the corpus's audio reaches" in (logs / "vowels_full.log").read_text()
            assert "WARNING" not in (logs / "vowels_4k.log").read_text()  # 0-4 kHz is there
        shutil.rmtree(tmp_path / "results")
