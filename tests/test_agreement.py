"""CAM-formant agreement on profiles whose answers are known."""

import math

import numpy as np
import pytest

from spectrocam.evidence.agreement import profile_agreement
from spectrocam.explain.grid import cam_profile, vowel_frames

FREQS = np.arange(0, 4000, 10.0)  # 400 rows, 10 Hz apart
FORMANTS = {"F1": 500.0, "F2": 1500.0, "F3": 2500.0}


def test_flat_profile_is_at_chance():
    out = profile_agreement(np.ones(len(FREQS)), FREQS, FORMANTS, 150)
    for name in ("F1", "F2", "F3", "any"):
        assert out[f"ratio_{name}"] == pytest.approx(1.0)
    assert out["chance_F1"] == pytest.approx(31 / 400)  # rows 350..650 Hz inclusive


def test_profile_on_f1_only():
    profile = np.where(np.abs(FREQS - 500) <= 100, 1.0, 0.0)
    out = profile_agreement(profile, FREQS, FORMANTS, 150)
    assert out["share_F1"] == pytest.approx(1.0) and out["share_F2"] == 0.0
    assert out["ratio_F1"] == pytest.approx(400 / 31)
    assert out["peak_hit"] == 1.0 and out["peak_hz"] == pytest.approx(500.0)


def test_peak_away_from_formants_misses():
    profile = np.exp(-(((FREQS - 3500) / 50) ** 2))
    out = profile_agreement(profile, FREQS, FORMANTS, 150)
    assert out["peak_hit"] == 0.0
    assert out["ratio_any"] < 0.01
    # chance of a peak position: 3 bands of 31 rows among 400 positions
    assert out["peak_chance"] == pytest.approx(93 / 400)


def test_undefined_formant_gives_nan_for_it_only():
    profile = np.where(np.abs(FREQS - 1500) <= 50, 1.0, 0.0)
    out = profile_agreement(profile, FREQS, {"F1": np.nan, "F2": 1500.0, "F3": 2500.0}, 150)
    assert math.isnan(out["share_F1"]) and math.isnan(out["ratio_F1"])
    assert out["share_F2"] == pytest.approx(1.0) and out["share_any"] == pytest.approx(1.0)


def test_all_zero_profile_is_nan():
    out = profile_agreement(np.zeros(len(FREQS)), FREQS, FORMANTS, 150)
    assert math.isnan(out["ratio_any"]) and math.isnan(out["peak_hit"])


def test_profile_uses_the_vowel_frames_and_the_positive_part():
    times = np.linspace(-0.05, 0.05, 21)  # 5 ms apart
    frames = vowel_frames(times, centre_s=1.0, start_s=0.99, end_s=1.01)
    assert list(frames) == list(range(8, 13))
    cam = -np.ones((4, 21))
    cam[2, 8:13] = 2.0
    cam[1, :8] = 9.0  # outside the vowel
    assert cam_profile(cam, frames).tolist() == [0.0, 0.0, 2.0, 0.0]
    # a vowel between two frames gets the nearest one
    assert list(vowel_frames(times, 1.0, 1.0011, 1.0012)) == [10]
