import h5py
import numpy as np
import pandas as pd
import pytest

from spectrocam.align.phone_table import phones_from_textgrids
from spectrocam.corpus.layout import validate_corpus
from spectrocam.keys import add_phone_ids
from spectrocam.segments.build import Experiment, build_store, isolate_windows, select_segments
from spectrocam.segments.spectrogram import StftParams
from spectrocam.segments.store import SegmentStoreWriter, read_segment_table, read_store
from spectrocam.segments.tokens import FUNCTION_WORDS

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
    # frame k of the clip by scipy (tests/test_spectrogram.py checks the STFT against it too)
    from scipy.signal import ShortTimeFFT, get_window

    win = get_window("hann", params.win_samples, fftbins=True)
    stft = ShortTimeFFT(win, params.hop_samples, 22050, mfft=1024, fft_mode="onesided")
    k = int(round(store["window_centre_s"][i] / params.hop_s_exact))
    frame = np.abs(stft.stft(audio.astype(np.float64), p0=k, p1=k + 1)[:186, 0]) ** 2
    expected = 10 * np.log10(np.maximum(frame / np.sum(win**2), 10 ** (params.floor_db / 10)))
    np.testing.assert_allclose(store["spectrograms"][i][:, 20], expected, atol=2e-3)
    mid = (store["start_s"][i] + store["end_s"][i]) / 2
    assert abs(store["window_centre_s"][i] - mid) <= params.hop_s_exact / 2
    # every segment carries its token attributes, read back from the aligned phones
    assert list(store["stress"]) == [int(p[-1]) for p in store["phone"]]  # MFA gives digits
    # by hand from the phone table: the next phone is the one of the same clip that starts where
    # this one ends; rhotic when it is R; a function word by the list
    table = read_segment_table(out).merge(phones, on="phone_id", suffixes=("", "_phones"))
    starts = zip(phones.utt_id, phones.start_s.round(3), phones.phone, strict=True)
    by_start = {(u, t): p for u, t, p in starts}
    ends = zip(table.utt_id, table.end_s.round(3), strict=True)
    expected = [by_start.get((u, e), "") for u, e in ends]
    assert table["next_phone"].tolist() == expected and "" in expected
    assert (table["rhotic"] == [int(p.rstrip("012") == "R") for p in expected]).all()
    is_function = table["word"].str.lower().isin(FUNCTION_WORDS)
    assert (table["function_word"] == is_function).all() and 0 < is_function.sum() < len(table)


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
    with pytest.raises(ValueError, match="token fields missing"):
        with SegmentStoreWriter(out, 1, np.arange(3.0), np.arange(5.0), ["a", "b"]) as w:
            w.write(
                np.zeros((1, 3, 5)),
                np.array([0]),
                {k: ["u"] for k in ("phone_id", "utt_id", "word", "phone")}
                | {k: [0.0] for k in ("start_s", "end_s", "window_centre_s")}
                | {"stress": [1]},
            )
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


def _toy_phones() -> pd.DataFrame:
    """Two clips: "the" (DH IY0), "seat" (S IY1 T), "and" (AE1 N), a pause, "far" (F AA1 R)."""
    rows = [
        ("a", "the", "DH", 0.00, 0.05),
        ("a", "the", "IY0", 0.05, 0.10),
        ("a", "seat", "S", 0.10, 0.20),
        ("a", "seat", "IY1", 0.20, 0.32),
        ("a", "seat", "T", 0.32, 0.40),
        ("b", "and", "AE1", 0.00, 0.08),
        ("b", "and", "N", 0.08, 0.12),
        ("b", "far", "F", 0.50, 0.60),
        ("b", "far", "AA1", 0.60, 0.64),
        ("b", "far", "R", 0.64, 0.70),
    ]
    return pd.DataFrame(rows, columns=["utt_id", "word", "phone", "start_s", "end_s"])


def test_token_filters_keep_stressed_content_words_of_the_duration():
    phones = _toy_phones()
    exp = Experiment("f", {"IY": ["IY"], "AE": ["AE"], "AA": ["AA"]}, 0, 4000)
    every = select_segments(phones, exp)
    assert list(every.phone) == ["IY0", "IY1", "AE1", "AA1"]
    assert list(every.stress) == [0, 1, 1, 1]
    assert list(every.function_word) == [1, 0, 1, 0]
    assert list(every.next_phone) == ["S", "T", "N", "R"]
    assert list(every.rhotic) == [0, 0, 0, 1]
    stressed = select_segments(phones, Experiment(**{**vars(exp), "stress": "primary"}))
    assert list(stressed.word) == ["seat", "and", "far"]
    content = select_segments(phones, Experiment(**{**vars(exp), "words": "content"}))
    assert list(content.word) == ["seat", "far"]
    long = select_segments(phones, Experiment(**{**vars(exp), "min_duration_s": 0.05}))
    assert list(long.phone) == ["IY0", "IY1", "AE1"]  # AA1 lasts 40 ms
    # consonants carry no stress: a primary-stress filter keeps them
    voicing = Experiment("v", {"voiced": ["AA"], "unvoiced": ["S", "T"]}, 0, 4000, "primary")
    assert list(select_segments(phones, voicing).phone) == ["S", "T", "AA1"]
    no_digits = phones.assign(phone=phones.phone.str.replace(r"\d", "", regex=True))
    with pytest.raises(ValueError, match="no stress digits"):
        select_segments(no_digits, Experiment(**{**vars(exp), "stress": "primary"}))
    with pytest.raises(ValueError, match="context must be one of keep, isolate"):
        Experiment(**{**vars(exp), "context": "drop"})


def test_isolation_floors_every_frame_whose_window_leaves_the_phone():
    times = np.arange(-5, 6) * 0.01  # 11 frames, 10 ms apart
    windows = np.zeros((2, 3, 11))
    out = isolate_windows(
        windows, np.array([1.0, 2.0]), times, np.array([0.97, 1.995]), np.array([1.05, 2.005]),
        fill=-100.0, half_window_s=0.0125,
    )  # fmt: skip
    # frames at 0.99 .. 1.03 have their 25 ms window inside [0.97, 1.05] (0.98's starts 0.9675)
    kept = out[0, 0] == 0
    assert np.allclose((1.0 + times)[kept], [0.99, 1.00, 1.01, 1.02, 1.03])
    assert (out[0, :, ~kept] == -100.0).all()
    # a 10 ms phone: no frame's window fits, the middle frame is kept all the same
    assert np.flatnonzero(out[1, 0] == 0).tolist() == [5]


CLASS_TONE_HZ = {"IY": 600.0, "UW": 2400.0}


def _context_cue_corpus(tmp_path, n_per_class=30):
    """Clips whose "vowel" (0.35-0.55 s) is the same noisy 1,200 Hz tone in every class and
    whose following phone (0.55-0.65 s) carries the class: a tone at 600 Hz after IY, at
    2,400 Hz after UW. Only the context tells the classes apart."""
    import soundfile as sf

    sr = 8000
    t = np.arange(int(0.9 * sr)) / sr
    rng = np.random.default_rng(0)
    clips, phones = [], []
    for i in range(2 * n_per_class):
        cls = "IY" if i % 2 == 0 else "UW"
        audio = 0.01 * rng.normal(size=t.size)
        vowel = (t >= 0.35) & (t < 0.55)
        nxt = (t >= 0.55) & (t < 0.65)
        audio[vowel] += (0.3 + 0.1 * rng.random()) * np.sin(2 * np.pi * 1200 * t[vowel])
        audio[nxt] += 0.3 * np.sin(2 * np.pi * CLASS_TONE_HZ[cls] * t[nxt])
        utt = f"LJ001-{i:04d}"
        sf.write(tmp_path / f"{utt}.wav", audio, sr)
        clips.append((utt, str(tmp_path / f"{utt}.wav")))
        phones += [(utt, "word", f"{cls}1", 0.35, 0.55), (utt, "word", "N", 0.55, 0.65)]
    clips = pd.DataFrame(clips, columns=["utt_id", "audio_path"])
    phones = pd.DataFrame(phones, columns=["utt_id", "word", "phone", "start_s", "end_s"])
    return clips, add_phone_ids(phones), sr


def test_a_context_only_cue_is_learned_with_context_and_not_when_isolated(tmp_path):
    """The real path: stores built from audio with context kept and isolated, a ResNet-18
    trained on each, accuracy on held-out clips."""
    import torch

    from spectrocam.model.inference import predict
    from spectrocam.model.training import TrainConfig, train
    from spectrocam.segments.store import SegmentReader, split_indices

    clips, phones, sr = _context_cue_corpus(tmp_path)
    params = StftParams(sr, n_fft=256, hop_s=0.02, win_s=0.025)
    split = np.array(["train", "train", "train", "train", "validation", "test"])
    ids = sorted(set(phones.utt_id))
    splits = pd.DataFrame({"utt_id": ids, "split": split[(np.arange(len(ids)) // 2) % 6]})
    cfg = TrainConfig(
        arch="resnet18", weights="scratch", epochs=3, batch_size=8, lr=1e-3, eval_batch_size=32,
        bn_recalibration=0, collapse_share=1.01,  # no collapse check: isolated, it may collapse
    )  # fmt: skip
    accuracy = {}
    for context in ("keep", "isolate"):
        exp = Experiment("cue", {"IY": ["IY"], "UW": ["UW"]}, 0, 4000, context=context)
        store = tmp_path / f"{context}.h5"
        build_store(phones, clips, exp, params, context_s=0.3, out_path=store)
        run = tmp_path / context
        train(cfg, store, splits, run / "ck", run / "best.pt", run / "h.tsv")
        from spectrocam.model.network import load_model

        model, _ = load_model(run / "best.pt")
        idx = split_indices(store, splits)
        with SegmentReader(store) as reader:
            logits = predict(model, reader, idx["test"], 32, torch.device("cpu"))
            labels = reader.labels[idx["test"]]
        accuracy[context] = float((logits.argmax(1) == labels).mean())
    assert len(idx["test"]) == 10
    assert accuracy["keep"] >= 0.9
    assert accuracy["isolate"] <= 0.7
