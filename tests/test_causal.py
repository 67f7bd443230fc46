"""Causal checks, the permutation null and the error analysis, on cases with known answers."""

import numpy as np
import pandas as pd
import pytest
import torch

from spectrocam.agreement import permutation_null
from spectrocam.causal import (
    curve_area,
    deletion_curves,
    deletion_orders,
    occlusion_drops,
    occlusion_masks,
    random_bands,
    ratio_bootstrap,
)
from spectrocam.keys import add_phone_ids
from spectrocam.misclassification import explain_errors

from .test_model_cam import PlantedModel, band_input

FREQS = np.arange(400) * 10.0  # the planted model's rows, 10 Hz apart


def test_random_bands_stay_off_the_formants():
    rng = np.random.default_rng(0)
    centres = random_bands(FREQS, [500.0, 1500.0, np.nan], 150, 50, rng)
    assert len(centres) == 50
    for c in centres:
        assert abs(c - 500) > 300 and abs(c - 1500) > 300
        assert 150 <= c <= FREQS[-1] - 150
    assert random_bands(np.arange(0, 400, 10.0), [200.0], 150, 3, rng) == []  # no room


def test_occluding_the_band_with_the_evidence_drops_only_there():
    model = PlantedModel().eval()
    x = band_input(400, 21, 160)  # evidence for class 0 at rows 154-166 (1540-1660 Hz)
    mean = torch.zeros(400)
    centres = [1600.0, 2500.0, 3300.0, 700.0]
    p0, correct, drop_p, drop_correct = occlusion_drops(
        model, x, 0, occlusion_masks(FREQS, centres, 150), mean
    )
    assert correct and p0 > 0.6
    assert drop_p[0] > 0.4 and drop_correct[0] == 1.0  # the prediction flips
    assert np.allclose(drop_p[1:], 0, atol=1e-6) and (drop_correct[1:] == 0).all()


def test_deletion_in_the_maps_order_beats_random_and_reverse():
    model = PlantedModel().eval()
    x = band_input(400, 21, 160)
    profile = np.zeros(400)
    profile[150:171] = 1.0
    orders = deletion_orders({"good": profile, "bad": -profile}, np.random.default_rng(0))
    fractions, curves = deletion_curves(model, x, 0, orders, torch.zeros(400), steps=20)
    assert fractions[0] == 0 and fractions[-1] == 1
    assert curves["good"][0] == pytest.approx(curves["random"][0])  # nothing removed yet
    good, bad, rnd = (curve_area(fractions, curves[k]) for k in ("good", "bad", "random"))
    assert good < rnd < bad
    assert rnd - good > 0.2


def test_ratio_bootstrap_of_a_known_ratio():
    num = pd.DataFrame({"utt_id": list("aabbcc"), "d": [2.0, 2.0, 4.0, 4.0, 6.0, 6.0]})
    den = pd.DataFrame({"utt_id": list("abc"), "d": [1.0, 2.0, 3.0]})
    ratio, low, high = ratio_bootstrap(num, den, "d", 500, 0)
    assert ratio == pytest.approx(2.0)
    assert low == pytest.approx(2.0) and high == pytest.approx(2.0)  # 2x in every utterance
    diff, low, high = ratio_bootstrap(num, den, "d", 500, 0, difference=True)
    assert diff == pytest.approx(4.0 - 2.0)
    assert low < diff < high  # the difference varies between utterances (1, 2, 3)


def test_ratio_over_a_denominator_near_zero_has_no_finite_interval():
    utts = [f"u{k}" for k in range(30)]
    num = pd.DataFrame({"utt_id": utts, "d": np.linspace(0.2, 0.4, 30)})
    wobbly = np.where(np.arange(30) % 2 == 0, 0.05, -0.049)  # mean 0.0005, sign unstable
    ratio, low, high = ratio_bootstrap(num, num.assign(d=wobbly), "d", 500, 0)
    assert ratio > 100 and low == -np.inf and high == np.inf
    steady = np.linspace(0.09, 0.11, 30)  # mean 0.1, far from 0
    ratio, low, high = ratio_bootstrap(num, num.assign(d=steady), "d", 500, 0)
    assert ratio == pytest.approx(3.0, rel=0.01)
    assert np.isfinite(low) and np.isfinite(high) and low < ratio < high


def test_permutation_null_tells_token_specific_from_class_level_maps():
    rng = np.random.default_rng(0)
    freqs = np.arange(0, 4000, 10.0)
    n = 60
    f1 = rng.uniform(300, 900, n)  # one class, formants that vary a lot between tokens
    formants = np.column_stack([f1, f1 + 1200, f1 + 2200])
    groups = np.zeros(n, dtype=int)
    own = np.exp(-(((freqs[None, :] - f1[:, None]) / 30) ** 2))  # each map on its own F1
    result = permutation_null(own, formants, groups, freqs, 100, n_perm=200)
    assert result["F1"]["observed"] > 0.9 and result["F1"]["p"] < 0.01
    assert result["F1"]["null_mean"] < 0.6
    shared = np.tile(np.exp(-(((freqs - 600) / 30) ** 2)), (n, 1))  # one map for the class
    result = permutation_null(shared, formants, groups, freqs, 100, n_perm=200)
    assert result["F1"]["p"] > 0.05


def test_errors_nearer_the_predicted_class_are_explained():
    train = pd.DataFrame(
        {
            "phone": ["IY1"] * 4 + ["AA1"] * 4,
            "f1_hz": [300, 320, 340, 360, 700, 720, 740, 760],
            "f2_hz": [2600, 2700, 2800, 2900, 1100, 1200, 1300, 1400],
        }
    )
    predictions = pd.DataFrame(
        {
            "phone_id": ["LJ001-0001/1", "LJ001-0001/2", "LJ001-0001/3"],
            "utt_id": ["LJ001-0001"] * 3,
            "start_s": [0.1, 0.5, 0.9],
            "end_s": [0.2, 0.6, 1.0],
            "phone": ["IY1", "IY1", "AA1"],
            "word": ["a", "b", "c"],
            "true": ["IY", "IY", "AA"],
            "predicted": ["AA", "AA", "AA"],
            "correct": [False, False, True],
            "p_IY": [0.3, 0.4, 0.1],
            "p_AA": [0.7, 0.6, 0.9],
        }
    )
    formants = predictions[["phone_id", "utt_id", "start_s", "end_s"]].assign(
        f1_hz=[730.0, 330.0, 720.0], f2_hz=[1250.0, 2750.0, 1200.0], f3_hz=np.nan, duration_s=0.1
    )
    phones = add_phone_ids(
        pd.DataFrame(
            {
                "utt_id": ["LJ001-0001"] * 5,
                "start_s": [0.0, 0.1, 0.5, 0.9, 1.0],
                "end_s": [0.1, 0.2, 0.6, 1.0, 1.1],
                "phone": ["S", "IY1", "IY1", "AA1", "T"],
            }
        )
    )
    errors, summary = explain_errors(
        predictions, formants, phones, train, {"IY": ["IY"], "AA": ["AA"]}
    )
    assert summary["misclassified"] == 2 and summary["explained_by_formants"] == 1
    assert summary["share_explained"] == 0.5
    first = errors.set_index("start_s").loc[0.1]
    assert first.explained_by_formants == 1 and first.previous == "S" and first.next == "IY1"


def test_base_rate_of_a_nearer_wrong_class():
    from spectrocam.misclassification import random_wrong_share

    stats = pd.DataFrame(
        {"f1_mean": [300, 700, 500], "f1_sd": 50, "f2_mean": [2700, 1200, 1800], "f2_sd": 200},
        index=pd.Index(["IY", "AA", "EH"], name="class_name"),
    )
    tokens = pd.DataFrame(
        {
            "true": ["IY", "IY", "AA"],
            "f1_hz": [300.0, 480.0, 690.0],  # at IY; nearest EH; at AA
            "f2_hz": [2700.0, 2000.0, 1210.0],
        }
    )
    share, n = random_wrong_share(tokens, stats)
    # token 1: no other class nearer (0); token 2: EH nearer, AA not (1/2); token 3: 0
    assert n == 3 and share == pytest.approx((0 + 0.5 + 0) / 3)
