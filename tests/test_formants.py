"""Formants with Praat's Burg method: a synthetic vowel with known resonances, and real clips."""

import math

import numpy as np
import pandas as pd
import parselmouth
import pytest

from spectrocam.corpus.layout import validate_corpus
from spectrocam.segments.formants import (
    FormantConfig,
    formant_summary,
    measure_formants,
    measure_vowel,
)

from .conftest import MINI, MINI_MFA, require_shared

SR = 22050


def one_pole(x, a):
    y = np.empty_like(x)
    acc = 0.0
    for i, v in enumerate(x):
        acc = v + a * acc
        y[i] = acc
    return y


def resonator(x, freq_hz, bandwidth_hz):
    """A second-order digital resonator (Klatt's formant filter)."""
    r = math.exp(-math.pi * bandwidth_hz / SR)
    a1, a2 = 2 * r * math.cos(2 * math.pi * freq_hz / SR), -r * r
    y = np.zeros_like(x)
    y1 = y2 = 0.0
    for i, v in enumerate(x):
        y0 = v + a1 * y1 + a2 * y2
        y[i], y2, y1 = y0, y1, y0
    return y


def synthetic_vowel(formants_hz, f0_hz=120.0, duration_s=0.3):
    """A pulse train with a glottal spectral tilt and lip radiation, through five resonators."""
    n = int(duration_s * SR)
    x = np.zeros(n)
    x[:: int(round(SR / f0_hz))] = 1.0
    x = one_pole(one_pole(x, 0.97), 0.97)  # glottal source: -12 dB per octave
    for f, bw in zip((*formants_hz, 3700.0, 4800.0), (60, 90, 120, 150, 200), strict=True):
        x = resonator(x, f, bw)
    x = np.diff(x, prepend=0.0)  # lip radiation: +6 dB per octave
    return parselmouth.Sound(0.5 * x / np.abs(x).max(), SR)


@pytest.mark.parametrize(
    "formants", [(500.0, 1500.0, 2500.0), (350.0, 2700.0, 3300.0), (900.0, 1200.0, 2800.0)]
)
def test_synthetic_vowel_formants_come_back(formants):
    sound = synthetic_vowel(formants)
    cfg = FormantConfig()
    out = measure_vowel(sound, 0.05, 0.25, cfg)
    for k, f in enumerate(formants, start=1):
        assert out[f"f{k}_hz"] == pytest.approx(f, rel=0.05)
    assert out["n_frames"] > 10 and not out["short"]
    # a short vowel is measured in one frame and flagged
    short = measure_vowel(sound, 0.12, 0.16, cfg)
    assert short["n_frames"] == 1 and short["short"]
    assert short["f2_hz"] == pytest.approx(formants[1], rel=0.05)


def test_silence_gives_nan_and_it_is_counted():
    silence = parselmouth.Sound(np.zeros(int(0.2 * SR)), SR)
    out = measure_vowel(silence, 0.05, 0.15, FormantConfig())
    assert math.isnan(out["f1_hz"])
    table = pd.DataFrame(
        [
            {"phone": "AA1", "short": False, "f1_hz": np.nan, "f2_hz": 1000.0, "f3_hz": np.nan},
            {"phone": "AA0", "short": True, "f1_hz": 700.0, "f2_hz": 1100.0, "f3_hz": 2500.0},
        ]
    )
    summary = formant_summary(table)
    assert summary["nan"] == {"f1_hz": 1, "f2_hz": 0, "f3_hz": 1}
    assert summary["n_short"] == 1 and summary["per_vowel"]["AA"]["n"] == 2
    assert summary["per_vowel"]["AA"]["f1_hz_mean"] == 700.0


def test_real_vowels_in_parallel_match_serial_and_look_like_vowels(tmp_path):
    require_shared()
    from spectrocam.align.phone_table import phones_from_textgrids

    ids = ["LJ001-0002", "LJ001-0007", "LJ002-0010", "LJ050-0029"]
    clips, _ = validate_corpus(MINI, tmp_path / "converted", clip_ids=ids)
    phones, _ = phones_from_textgrids(MINI_MFA, clips)
    cfg = FormantConfig()
    serial = measure_formants(phones, clips, {"IY", "AA"}, cfg, threads=1)
    parallel = measure_formants(phones, clips, {"IY", "AA"}, cfg, threads=2)
    pd.testing.assert_frame_equal(serial, parallel)
    assert set(serial.phone.str.rstrip("012")) == {"IY", "AA"}
    means = serial.groupby(serial.phone.str.rstrip("012"))[["f1_hz", "f2_hz"]].mean()
    # IY is close and front (low F1, high F2); AA is open and back.
    assert means.loc["IY", "f1_hz"] < means.loc["AA", "f1_hz"]
    assert means.loc["IY", "f2_hz"] > means.loc["AA", "f2_hz"] + 500
