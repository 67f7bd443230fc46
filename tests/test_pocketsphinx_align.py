"""pocketsphinx forced alignment on real LJSpeech clips and on clips that cannot be aligned."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from spectrocam.align.evaluate import compare_alignments
from spectrocam.align.phone_table import PHONE_COLUMNS, phones_from_textgrids
from spectrocam.align.pocketsphinx_batch import align_clips
from spectrocam.align.pocketsphinx_clip import AlignmentFailed, align_clip
from spectrocam.corpus.layout import read_metadata
from spectrocam.phones import ARPABET_PHONES, strip_stress

from .conftest import MINI as CORPUS
from .conftest import MINI_MFA as REFERENCE
from .conftest import require_shared


@pytest.fixture(scope="module", autouse=True)
def shared_data() -> None:
    require_shared()


# The first three clips of the corpus; LJ001-0003 holds the OOV word "woodcutters".
CLIP_IDS = ["LJ001-0001", "LJ001-0002", "LJ001-0003"]


def clip_table(ids: list[str]) -> pd.DataFrame:
    lines, _ = read_metadata(CORPUS / "metadata.csv")
    text = {line.utt_id: line.normalized for line in lines}
    rows = []
    for utt_id in ids:
        wav = CORPUS / "wavs" / f"{utt_id}.wav"
        info = sf.info(str(wav))
        rows.append((utt_id, str(wav), text[utt_id], info.frames / info.samplerate))
    return pd.DataFrame(rows, columns=["utt_id", "audio_path", "text", "duration_s"])


@pytest.fixture(scope="module")
def aligned() -> tuple[pd.DataFrame, pd.DataFrame, object]:
    clips = clip_table(CLIP_IDS)
    table, counts = align_clips(clips, threads=1, progress=False)
    return clips, table, counts


def test_boundaries_match_reference(aligned):
    clips, table, counts = aligned
    assert counts.aligned_utterances == 3 and not counts.unaligned
    ref, _ = phones_from_textgrids(REFERENCE, clips)
    result = compare_alignments(ref, table)
    within = {round(w["tol_s"], 3): w["share"] for w in result["boundaries"]["within"]}
    assert within[0.02] >= 0.80, result["boundaries"]
    assert abs(result["offset_s"]["median"]) <= 0.010


def test_table_is_well_formed(aligned):
    clips, table, counts = aligned
    assert list(table.columns) == PHONE_COLUMNS
    assert set(table["utt_id"]) == set(CLIP_IDS)
    assert all(strip_stress(p) in ARPABET_PHONES for p in table["phone"])
    # Stress digits restored from CMUdict on most vowels.
    assert table["phone"].str.match(r"^[A-Z]+[012]$").mean() > 0.3
    assert counts.phones == len(table)
    assert counts.silences > 0
    for utt_id, g in table.groupby("utt_id"):
        duration = float(clips.loc[clips["utt_id"] == utt_id, "duration_s"].iloc[0])
        start, end = g["start_s"].to_numpy(), g["end_s"].to_numpy()
        assert np.all(end > start)
        assert np.all(start[1:] >= end[:-1] - 1e-9), utt_id  # in order, no overlap
        assert start.min() >= 0 and end.max() <= duration + 1e-9


def test_oov_word_is_guessed_and_counted(aligned):
    _, table, counts = aligned
    assert counts.oov.get("woodcutters") == 1
    assert counts.oov_words == sum(counts.oov.values())
    assert (table["word"] == "woodcutters").sum() >= 5


def test_align_clip_on_array():
    audio, sr = sf.read(str(CORPUS / "wavs" / "LJ001-0002.wav"), dtype="float32")
    rows = align_clip(audio, sr, "in being comparatively modern.")
    assert [w for w, *_ in rows if w != rows[0][0]][0] == "being"
    assert {w for w, *_ in rows} == {"in", "being", "comparatively", "modern"}
    assert [strip_stress(p) for _, p, _, _ in rows][:3] == ["IH", "N", "B"]
    assert all(0 <= s < e <= len(audio) / sr for _, _, s, e in rows)


def write_wav(path: Path, audio: np.ndarray, sr: int = 22050) -> str:
    sf.write(str(path), audio.astype(np.float32), sr)
    return str(path)


def test_unalignable_clips_are_reported(tmp_path):
    rng = np.random.default_rng(0)
    long_text = clip_table(["LJ001-0001"])["text"].iloc[0]
    real = CORPUS / "wavs" / "LJ001-0002.wav"
    clips = pd.DataFrame(
        [
            ("quiet", write_wav(tmp_path / "q.wav", rng.normal(0, 1e-3, 6615)), long_text, 0.3),
            ("noise", write_wav(tmp_path / "n.wav", rng.normal(0, 0.1, 66150)), "hello world", 3),
            ("zeros", write_wav(tmp_path / "z.wav", np.zeros(22050)), "hello", 1.0),
            ("nowords", str(real), "... --", 1.9),
            ("wrong", str(real), "the quick brown fox jumps", 1.9),
            ("LJ001-0002", str(real), "in being comparatively modern.", 1.9),
            ("missing", str(tmp_path / "absent.wav"), "hello", 1.0),
        ],
        columns=["utt_id", "audio_path", "text", "duration_s"],
    )
    table, counts = align_clips(clips, threads=1, progress=False)
    assert set(table["utt_id"]) == {"LJ001-0002"}
    assert counts.aligned_utterances == 1
    assert set(counts.unaligned) == {"quiet", "noise", "zeros", "nowords", "wrong", "missing"}
    assert "too short" in counts.unaligned["quiet"]
    assert "no path" in counts.unaligned["noise"]
    assert "silence" in counts.unaligned["zeros"]
    assert "no words" in counts.unaligned["nowords"]
    assert "implausible" in counts.unaligned["wrong"]


def test_align_clip_raises_for_unalignable():
    with pytest.raises(AlignmentFailed, match="too short"):
        align_clip(np.full(4800, 1e-3, np.float32), 16000, "a rather long transcript " * 5)


def test_worker_processes_give_the_same_result(aligned):
    clips, table, _ = aligned
    two = clips.iloc[1:3]
    par, counts = align_clips(two, threads=2, progress=False)
    assert counts.aligned_utterances == 2
    expected = table[table["utt_id"].isin(two["utt_id"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(par.reset_index(drop=True), expected)
