import numpy as np
import pytest
import soundfile as sf

from spectrocam.corpus.layout import CorpusError, read_metadata, validate_corpus

from .conftest import make_corpus

IDS = ["LJ001-0002", "LJ001-0003", "LJ002-0010", "LJ050-0029"]


def test_real_clips_pass(tmp_path):
    corpus = make_corpus(tmp_path / "c", IDS)
    clips, rejects = validate_corpus(corpus, tmp_path / "conv")
    assert list(clips["utt_id"]) == IDS
    assert rejects.empty
    assert (clips["sample_rate_hz"] == 22050).all()
    assert clips.loc[0, "n_samples"] == 41885  # LJ001-0002, as in provenance.csv
    assert clips.loc[0, "text"] == "in being comparatively modern."
    assert not list((tmp_path / "conv").iterdir())  # nothing needed converting


def test_bad_clips_are_listed_and_the_rest_go_on(tmp_path):
    corpus = make_corpus(tmp_path / "c", IDS)
    # A corrupt wav, a metadata line without a wav, an empty transcript, a wav without a line.
    (corpus / "wavs" / "LJ001-0003.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    (corpus / "wavs" / "LJ050-0029.wav").unlink()
    with open(corpus / "metadata.csv", "a", encoding="utf-8") as fh:
        fh.write("LJ009-0001||\n")
        fh.write("LJ009-0002\n")
    sf.write(corpus / "wavs" / "LJ009-0001.wav", np.ones(22050) * 0.1, 22050)
    sf.write(corpus / "wavs" / "LJ009-0003.wav", np.ones(22050) * 0.1, 22050)
    clips, rejects = validate_corpus(corpus, tmp_path / "conv")
    assert list(clips["utt_id"]) == ["LJ001-0002", "LJ002-0010"]
    reasons = dict(zip(rejects["utt_id"], rejects["reason"], strict=True))
    assert reasons["LJ001-0003"].startswith("unreadable wav")
    assert reasons["LJ050-0029"].startswith("no wav file")
    assert reasons["LJ009-0001"] == "empty transcript"
    assert "no transcription" in reasons["LJ009-0002"]
    assert reasons["LJ009-0003"] == "wav without a metadata line"
    assert len(clips) + len(rejects) == 7


def test_other_rates_and_channels_are_converted(tmp_path):
    corpus = make_corpus(tmp_path / "c", IDS[:2])
    audio, sr = sf.read(corpus / "wavs" / "LJ001-0002.wav", dtype="float32")
    stereo = np.stack([audio, audio], axis=1)[::2]  # 11,025 Hz, two channels
    sf.write(corpus / "wavs" / "LJ001-0002.wav", stereo, sr // 2)
    clips, rejects = validate_corpus(corpus, tmp_path / "conv", sample_rate_hz=22050)
    assert rejects.empty
    row = clips.set_index("utt_id").loc["LJ001-0002"]
    assert "mixed down from 2 channels" in row["note"] and "resampled from 11025 Hz" in row["note"]
    converted, rate = sf.read(row["audio_path"])
    assert rate == 22050 and converted.ndim == 1
    assert abs(len(converted) - len(audio)) <= 2
    assert row["audio_path"].startswith(str(tmp_path / "conv"))


def test_clip_list_and_short_clips(tmp_path):
    corpus = make_corpus(tmp_path / "c", IDS)
    clips, rejects = validate_corpus(
        corpus, tmp_path / "conv", clip_ids=["LJ002-0010", "LJ999-0001"], min_duration_s=0.1
    )
    assert list(clips["utt_id"]) == ["LJ002-0010"]
    assert list(rejects["utt_id"]) == ["LJ999-0001"]
    clips, rejects = validate_corpus(corpus, tmp_path / "conv", min_duration_s=5.0)
    assert "LJ001-0002" in set(rejects["utt_id"])  # 1.9 s
    assert "too short" in rejects.set_index("utt_id").loc["LJ001-0002", "reason"]


def test_unusable_corpus_is_one_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        validate_corpus(tmp_path / "nowhere", tmp_path / "conv")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="no metadata.csv"):
        validate_corpus(tmp_path / "empty", tmp_path / "conv")
    corpus = make_corpus(tmp_path / "c", IDS[:1])
    (corpus / "wavs" / "LJ001-0002.wav").unlink()
    with pytest.raises(CorpusError, match="no usable clip"):
        validate_corpus(corpus, tmp_path / "conv")


def test_metadata_parsing(tmp_path):
    path = tmp_path / "metadata.csv"
    path.write_text("A-1|Text one|text one\nA-2|Only text\n|no id\nA-1|dup|dup\n\n", "utf-8")
    lines, bad = read_metadata(path)
    # an id on two lines is ambiguous: neither is used, and it is only a reject
    assert [(m.utt_id, m.normalized) for m in lines] == [("A-2", "Only text")]
    assert bad == [
        ("line 3", "metadata line without a clip id"),
        ("A-1", "clip id on several metadata lines (1, 4); none is used"),
    ]


def test_a_line_that_is_not_utf8_is_rejected_with_its_number_and_speakers_are_read(tmp_path):
    path = tmp_path / "metadata.csv"
    path.write_bytes(
        "B-1|Caf\u00e9|cafe|anna\n".encode() + b"B-2|Caf\xe9|cafe\n" + b"B-3|Three|three\n"
    )
    lines, bad = read_metadata(path)
    assert [(m.utt_id, m.text, m.speaker) for m in lines] == [
        ("B-1", "Caf\u00e9", "anna"),
        ("B-3", "Three", None),
    ]
    assert len(bad) == 1 and bad[0][0] == "B-2"
    assert bad[0][1].startswith("metadata line 2 is not UTF-8")
