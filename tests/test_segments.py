import h5py
import numpy as np
import pandas as pd
import pytest

from spectrocam.alignment import phones_from_textgrids
from spectrocam.corpus import validate_corpus
from spectrocam.keys import add_phone_ids
from spectrocam.segments import Experiment, build_store, select_segments
from spectrocam.spectrogram import StftParams, log_power_spectrogram
from spectrocam.store import SegmentStoreWriter, read_store

from .conftest import MINI_MFA, make_corpus

IDS = ["LJ001-0002", "LJ001-0003", "LJ002-0010"]
VOWELS = Experiment(
    "v", {"IY": ["IY"], "AE": ["AE"], "AA": ["AA"], "AO": ["AO"], "UW": ["UW"]}, 0, 4000
)


@pytest.fixture
def real(tmp_path):
    corpus = make_corpus(tmp_path / "c", IDS)
    clips, _ = validate_corpus(corpus, tmp_path / "conv")
    phones, _ = phones_from_textgrids(MINI_MFA, clips)
    return clips, phones


def test_store_holds_every_segment_of_the_phone_table(tmp_path, real):
    clips, phones = real
    params = StftParams(22050, n_fft=1024, hop_s=0.005)
    out = tmp_path / "v.h5"
    build_store(phones, clips, VOWELS, params, context_s=0.2, out_path=out, threads=2)
    store = read_store(out)
    base = phones.phone.str.replace(r"\d", "", regex=True)
    expected = phones[base.isin(["IY", "AE", "AA", "AO", "UW"])]
    assert len(store["labels"]) == len(expected) > 10
    assert store["spectrograms"].shape == (len(expected), 186, 41)  # 0..4000 Hz, 0.2 s
    assert store["class_names"] == ["IY", "AE", "AA", "AO", "UW"]
    assert np.all(np.diff(store["freqs_hz"]) == pytest.approx(22050 / 1024))
    assert store["freqs_hz"][-1] <= 4000
    assert store["times_s"][20] == 0
    assert np.diff(store["times_s"]) == pytest.approx(np.full(40, 110 / 22050))
    for i, phone in enumerate(store["phone"]):
        assert store["class_names"][store["labels"][i]] == phone[:2]
    counts = pd.Series(store["phone"]).str[:2].value_counts().sort_index()
    assert counts.equals(expected.phone.str[:2].value_counts().sort_index())
    assert store["attrs"]["hop_samples"] == 110 and store["attrs"]["n_fft"] == 1024
    # A segment's window is the clip's own spectrogram around the phone's middle.
    i = 0
    clip = clips.set_index("utt_id").loc[store["utt_id"][i]]
    import soundfile as sf

    audio, _ = sf.read(clip["audio_path"], dtype="float32")
    spec = log_power_spectrogram(audio, params)[:186]
    k = int(round(store["window_centre_s"][i] / params.hop_s_exact))
    np.testing.assert_allclose(store["spectrograms"][i][:, 20], spec[:, k], atol=1e-4)
    mid = (store["start_s"][i] + store["end_s"][i]) / 2
    assert abs(store["window_centre_s"][i] - mid) <= params.hop_s_exact / 2


def test_select_segments_ignores_stress_and_other_phones():
    phones = pd.DataFrame(
        {
            "utt_id": ["a", "a", "a", "b"],
            "word": ["x"] * 4,
            "phone": ["IY1", "IH0", "UW2", "AE"],
            "start_s": [0.0, 0.1, 0.2, 0.0],
            "end_s": [0.1, 0.2, 0.3, 0.1],
        }
    )
    chosen = select_segments(phones, VOWELS)
    assert list(chosen.phone) == ["IY1", "UW2", "AE"]
    assert list(chosen.label) == [0, 4, 1]


def test_failed_write_leaves_no_file(tmp_path):
    out = tmp_path / "x.h5"
    with pytest.raises(RuntimeError):
        with SegmentStoreWriter(out, 2, np.arange(3.0), np.arange(5.0), ["a", "b"]):
            raise RuntimeError("interrupted")
    assert not out.exists() and not (tmp_path / "x.h5.tmp").exists()
    with pytest.raises(ValueError, match="incomplete"):
        with SegmentStoreWriter(out, 2, np.arange(3.0), np.arange(5.0), ["a", "b"]) as w:
            w.write(
                np.zeros((1, 3, 5)),
                np.array([0]),
                {k: ["u"] for k in ("phone_id", "utt_id", "word", "phone")}
                | {k: [0.0] for k in ("start_s", "end_s", "window_centre_s")},
            )
    with h5py.File(tmp_path / "x.h5.tmp", "r") as h5:
        assert h5["labels"].shape == (2,)
    assert not out.exists()


def test_tone_lands_in_its_freqs_hz_row_of_the_store(tmp_path):
    """A synthetic 1,500 Hz 'vowel' in a clip comes out in the store's 1,500 Hz row."""
    import soundfile as sf

    sr, freq_hz = 22050, 1500.0
    t = np.arange(sr) / sr
    audio = np.where((t > 0.4) & (t < 0.6), 0.5 * np.sin(2 * np.pi * freq_hz * t), 0.0)
    wav = tmp_path / "T-1.wav"
    sf.write(wav, audio, sr)
    clips = pd.DataFrame({"utt_id": ["T-1"], "audio_path": [str(wav)]})
    phones = pd.DataFrame(
        {"utt_id": ["T-1"], "word": ["tone"], "phone": ["IY1"], "start_s": [0.4], "end_s": [0.6]}
    ).pipe(add_phone_ids)
    params = StftParams(sr, n_fft=2048)
    exp = Experiment("tone", {"IY": ["IY"], "UW": ["UW"]}, 500, 4000)
    build_store(phones, clips, exp, params, context_s=0.1, out_path=tmp_path / "t.h5")
    store = read_store(tmp_path / "t.h5")
    assert list(store["phone_id"]) == ["T-1/0"]
    spec = store["spectrograms"][0]
    peak = store["freqs_hz"][spec.argmax(axis=0)]
    assert np.all(np.abs(peak - freq_hz) <= sr / 2048 / 2)
    assert store["freqs_hz"][0] >= 500 and store["freqs_hz"][-1] <= 4000
    assert store["window_centre_s"][0] == pytest.approx(0.5, abs=params.hop_s_exact / 2)
