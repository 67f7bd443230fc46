"""Sensitivity of the headline to the band's half-width and to Praat's ceiling: known answers on
synthetic map files and on synthetic vowels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import parselmouth
import pytest

from spectrocam.corpus.layout import load_audio
from spectrocam.evidence.sensitivity import call, formant_sets, sensitivity_table
from spectrocam.explain.maps import MapFile, MapWriter
from spectrocam.report.sensitivity import ceiling_moves_view, sensitivity_view
from spectrocam.segments.formants import (
    FormantConfig,
    ceiling_columns,
    ceiling_moves,
    measure_ceilings,
    measure_vowel,
)

from .test_formants import SR, synthetic_vowel

N_ROWS, HZ_PER_ROW, N_FRAMES = 40, 100.0, 5
F1_HZ, AWAY_HZ = 800.0, 3200.0  # the formant's cell (rows 700-900 Hz) and one far from it


def map_file(path, hz: dict[str, float], n=40, seed=0):
    """Methods over ``n`` vowels (4 per utterance), each with its top cell at the frequency
    ``hz[method]`` over noise; one time cell."""
    seg = pd.DataFrame(
        {
            "phone_id": [f"U{i // 4}/{i % 4}" for i in range(n)],
            "utt_id": [f"U{i // 4}" for i in range(n)],
            "word": "w",
            "phone": "AA1",
            "start_s": 0.98,
            "end_s": 1.02,
            "window_centre_s": 1.0,
            "segment_index": np.arange(n),
            "label": 0,
            "predicted": 0,
        }
    )
    freqs = np.arange(N_ROWS) * HZ_PER_ROW
    times = (np.arange(N_FRAMES) - N_FRAMES // 2) * 0.01
    rng = np.random.default_rng(seed)
    with MapWriter(path, seg, np.ones((n, 1)), ["AA"], freqs, times) as w:
        for method, f in hz.items():
            cells = rng.uniform(0, 0.01, (n, N_ROWS // 2, 1)).astype(np.float32)
            cells[:, int(f / HZ_PER_ROW) // 2] = 1.0
            w.add_method(method, np.arange(n), cells.shape[1:], (2, 32), "layer4")
            w.write(method, "true", 0, cells)
    return MapFile(path)


def test_the_table_gives_the_expected_signs_and_says_when_the_headline_holds(tmp_path):
    # trained: "on" points at F1, "off" 2,400 Hz away; the control model points nowhere in
    # particular (its top cell at 1,600 Hz, away from both)
    trained = map_file(tmp_path / "m.h5", {"on": F1_HZ, "off": AWAY_HZ})
    control = map_file(tmp_path / "c.h5", {"on": 1600.0, "off": 1600.0}, seed=1)
    n = len(trained)
    ids = trained.segments.phone_id
    formants = pd.DataFrame({"phone_id": ids, "f1_hz": F1_HZ, "f2_hz": np.nan, "f3_hz": np.nan})
    # at "5000" every F1 moved to 2,000 Hz, where neither map is
    ceilings = pd.DataFrame({"phone_id": ids, "utt_id": trained.segments.utt_id})
    for hz, f1 in ((5000, 2000.0), (5500, F1_HZ)):
        ceilings[ceiling_columns(hz)] = np.column_stack([np.full(n, f1), np.full((n, 2), np.nan)])
    sets = formant_sets(formants, ceilings, [5000, 5500])
    table = sensitivity_table(
        trained, control, sets, [75, 300], headline_hz=150, n_boot=200, n_flips=500
    )
    assert len(table) == 2 * 4 * 3 * 3  # methods x (F1-F3, any) x (75, 150, 300) x sets
    f1 = table[table.cue == "F1"].set_index(["method", "ceiling", "half_width_hz"])
    assert f1.loc[("on", "configured", 150.0), "headline"]
    assert f1.loc[("on", "configured", 150.0), "call"] == "above"
    assert f1.loc[("off", "configured", 150.0), "call"] == "unclear"  # as the control: 0
    assert f1.loc[("on", "5500", 300.0), "call"] == "above" and f1.loc[("on", "5500", 300), "holds"]
    assert f1.loc[("on", "5000", 150.0), "call"] != "above"
    assert not f1.loc[("on", "5000", 150.0), "holds"]
    assert f1.loc[("on", "configured", 150.0), "n_tokens"] == n
    assert f1.loc[("on", "configured", 150.0), "n_clusters"] == n // 4
    assert f1.loc[("on", "configured", 150.0), "auc_trained"] > 0.9
    assert table[table.cue == "F2"]["n_tokens"].eq(0).all()  # F2 is undefined everywhere
    assert table[table.cue == "F2"]["call"].eq("no vowels").all()
    # the page's view: one row per method and half-width, one column per ceiling
    view = sensitivity_view(table, cue="F1").set_index(["method", "half-width Hz"])
    assert list(view.columns[:3]) == ["configured", "5000", "5500"]
    assert view.loc[("on", 150.0), "configured"].endswith("above (headline)")
    assert view.loc[("on", 150.0), "holds"] == "2 of 3"  # all but the moved formants


def test_a_missing_ceiling_is_a_plain_error():
    with pytest.raises(ValueError, match="holding 6000"):
        empty = pd.DataFrame(columns=["phone_id", "f1_hz", "f2_hz", "f3_hz"])
        formant_sets(empty, pd.DataFrame({"phone_id": []}), [6000])


def test_call():
    assert call(0.1, 0.2) == "above" and call(-0.2, -0.1) == "below"
    assert call(-0.1, 0.1) == "unclear" and call(np.nan, np.nan) == "unclear"


def test_ceilings_are_measured_per_vowel_and_their_moves_counted(tmp_path):
    formants_hz = (500.0, 1500.0, 2500.0)
    sound = synthetic_vowel(formants_hz, duration_s=0.6)
    sound.save(str(tmp_path / "a.wav"), "WAV")
    clips = pd.DataFrame({"utt_id": ["A"], "audio_path": [str(tmp_path / "a.wav")]})
    vowels = pd.DataFrame(
        {"phone_id": ["A/1", "A/0"], "utt_id": "A", "start_s": [0.35, 0.05], "end_s": [0.55, 0.25]}
    )
    cfg = FormantConfig()
    table = measure_ceilings(vowels, clips, [5000, 5500, 6000], cfg)
    assert table.phone_id.tolist() == ["A/1", "A/0"]  # the input's order
    for hz in (5000, 5500, 6000):
        for k, f in enumerate(formants_hz[:2]):
            assert table[ceiling_columns(hz)[k]].to_numpy() == pytest.approx(f, rel=0.05)
    # the configured ceiling's column is the formants rule's measurement (of the saved clip)
    audio, _ = load_audio(tmp_path / "a.wav")
    alone = measure_vowel(parselmouth.Sound(audio.astype(np.float64), SR), 0.05, 0.25, cfg)
    assert table.loc[1, "f2_hz_c5500"] == pytest.approx(alone["f2_hz"], abs=1e-6)
    with pytest.raises(ValueError, match="spurious formants"):
        measure_ceilings(vowels, clips, [4000], cfg)


def test_moves_count_the_tokens_that_leave_their_band():
    formants = pd.DataFrame(
        {
            "phone_id": list("abcd"),
            "f1_hz": 500.0,
            "f2_hz": 1500.0,
            "f3_hz": [2500.0] * 3 + [np.nan],
        }
    )
    ceilings = pd.DataFrame({"phone_id": list("abcd")})
    ceilings[ceiling_columns(6000)] = np.array(
        [[510, 1500, 2600], [500, 1700, 2900], [500, 1500, 2400], [500, 1500, 3000]], dtype=float
    )
    moves = ceiling_moves(formants, ceilings, [6000], [75, 150]).set_index(
        ["formant", "half_width_hz"]
    )
    assert moves.loc[("F1", 75.0), "moved"] == 0
    assert moves.loc[("F2", 150.0), "moved"] == 1 and moves.loc[("F2", 150.0), "n"] == 4
    assert moves.loc[("F3", 75.0), "moved"] == 3 and moves.loc[("F3", 150.0), "moved"] == 1
    assert (
        moves.loc[("F3", 150.0), "n"] == 3
        and moves.loc[("F3", 150.0), "n_defined_at_one_only"] == 1
    )
    assert moves.loc[("F3", 150.0), "share_moved"] == pytest.approx(1 / 3)
    view = ceiling_moves_view(moves.reset_index()).set_index("formant")
    assert view.loc["F3", "share moved > 75"] == 1.0 and view.loc["F3", "n"] == 3
