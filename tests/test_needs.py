"""Statement 1 of the verdict (does the model need a cue beyond the energy an occlusion removes?):
its known answers on synthetic spectrograms and classifiers whose dependence is set by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from spectrocam.evidence.band_occlusion import (
    add_overlaps,
    score_bands,
    tile_centres,
    token_bands,
)
from spectrocam.evidence.needs import energy_basis, fit_needs, needs_table, pair_table

FREQS = np.arange(100) * 40.0  # 0-3960 Hz, 40 Hz per row
PLANTED = (1850.0, 2150.0)  # the weak band that carries the class
SAME = (3150.0, 3450.0)  # a weak band as loud as the planted one, in every token: no class
LOUD = (350.0, 650.0)  # a loud formant-like band that carries nothing
CUES = {"planted": PLANTED, "same energy": SAME, "loud": LOUD}


class Reader:
    """The part of a segment store's reader that the band occlusion uses (a test double)."""

    def __init__(self, x: np.ndarray, labels: np.ndarray):
        self.x, self.labels = x.astype(np.float32), labels
        self.freqs_hz, self.class_names = FREQS, ["a", "b"]

    def batch(self, indices):
        return torch.from_numpy(self.x[np.asarray(indices)]).unsqueeze(1)


def tokens(n: int = 80, seed: int = 0):
    """Spectrograms (n, F, T) in dB: a floor with noise, a loud peak near 500 Hz and another near
    2.8 kHz that vary by token, a weak +6 dB band at 1.85-2.15 kHz in class 1 only and the same
    at 3.15-3.45 kHz in every token."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    x = -60 + 2 * rng.standard_normal((n, len(FREQS), 11))
    for i in range(n):
        for centre, height in ((500 + 40 * rng.standard_normal(), 40), (2800, 30)):
            x[i] += height * np.exp(-0.5 * ((FREQS - centre) / 80) ** 2)[:, None]
    planted = (FREQS >= PLANTED[0]) & (FREQS <= PLANTED[1])
    for i in np.flatnonzero(labels == 1):
        x[i, planted] += 6.0
    x[:, (FREQS >= SAME[0]) & (FREQS <= SAME[1])] += 6.0
    table = pd.DataFrame({"utt_id": [f"u{i // 4}" for i in range(n)], "word": "w"})
    return x, labels, table


class PlantedBand(nn.Module):
    """Class b's logit: the mean dB of the planted band above its midpoint between classes."""

    def forward(self, x):
        rows = torch.from_numpy((FREQS >= PLANTED[0]) & (FREQS <= PLANTED[1]))
        level = x[:, 0][:, rows].mean(dim=(1, 2))
        return torch.stack([torch.zeros_like(level), 1.5 * (level + 57.0)], dim=1)


class TotalEnergy(nn.Module):
    """Class b's logit: the total dB of the input (it depends on nothing but the energy)."""

    def forward(self, x):
        total = x.sum(dim=(1, 2, 3)) / 1000.0
        return torch.stack([torch.zeros_like(total), total + 65.0], dim=1)


def run(model, x, labels, table, n_boot=400):
    cues = {k: np.tile(v, (len(x), 1)) for k, v in CUES.items()}
    bands = score_bands(model, Reader(x, labels), np.arange(len(x)), cues, 150.0, 10.0, 256, "cpu")
    bands = add_overlaps(bands, cues)
    args = (bands, table, list(CUES), ["a", "b"], labels)
    return bands, needs_table(*args, n_boot=n_boot), pair_table(*args, n_boot=n_boot)


def row(table: pd.DataFrame, cue: str, **where) -> pd.Series:
    sel = table.cue == cue
    for k, v in where.items():
        sel &= table[k] == v
    return table[sel].iloc[0]


def test_tiles_cover_the_axis_every_half_width_and_cue_bands_follow():
    assert list(tile_centres(FREQS, 1000.0)) == [0.0, 1000.0, 2000.0, 3000.0]
    cues = {"F1": np.array([400.0, 700.0]), "F3": np.array([np.nan] * 2)}
    bands = token_bands(FREQS, 150.0, cues)
    tiles = [b for b in bands if b[0] == "tile"]
    assert len(tiles) == 27 and tiles[1][1] == 150.0
    assert list(tiles[1][4]) == [0, 1, 2, 3, 4, 5, 6, 7]  # 0-280 Hz: within 150 Hz of 150 Hz
    cue = [b for b in bands if b[0] != "tile"]
    assert [b[0] for b in cue] == ["cue:F1"]  # an undefined formant has no band
    assert FREQS[cue[0][4]].min() == 400 and FREQS[cue[0][4]].max() == 680


def test_occlusion_never_adds_energy_and_records_what_it_removed():
    x, labels, table = tokens(8)
    bands, *_ = run(PlantedBand(), x, labels, table, n_boot=10)
    assert (bands.removed_db >= 0).all()
    assert (bands[bands.band == "none"].removed_db == 0).all()
    loud = bands[bands.band == "cue:loud"]
    quiet = bands[(bands.band == "tile") & (bands.centre_hz == 1500)]
    assert loud.removed_db.mean() > 5 * quiet.removed_db.mean()  # a loud band loses more dB


def test_the_energy_curve_is_piecewise_linear_with_knots_at_quantiles():
    a = np.arange(101.0)
    basis = energy_basis(a, 4)  # knots at 25, 50, 75
    assert basis.shape == (101, 4)
    assert np.allclose(np.diff(basis, n=2, axis=0)[np.r_[0:23, 26:48, 51:73, 76:99]], 0)
    assert list(basis[100]) == [100, 75, 50, 25] and list(basis[20]) == [20, 0, 0, 0]


def test_the_fit_recovers_a_cue_effect_that_energy_would_confound():
    """d = token effect + 0.02 a + 0.5 [F2]: the F2 bands also lose the most energy."""
    rng = np.random.default_rng(1)
    n_tok, n_band = 60, 20
    token = np.repeat(np.arange(n_tok), n_band)
    f2 = np.tile(np.arange(n_band) < 3, n_tok)
    f1 = np.tile((np.arange(n_band) >= 3) & (np.arange(n_band) < 6), n_tok)
    a = rng.uniform(0, 100, len(token)) + 80 * f2 + 80 * f1
    d = rng.normal(0, 1, n_tok)[token] + 0.02 * a + 0.5 * f2 + rng.normal(0, 0.1, len(token))
    fit = fit_needs(d, a, np.stack([f1, f2], 1), token, token // 3, n_boot=300)
    assert fit["beta"][1] == pytest.approx(0.5, abs=0.05) and fit["low"][1] > 0.3
    assert fit["low"][0] < 0 < fit["high"][0] and fit["p"][0] > 0.05
    assert fit["p"][1] < 1e-6 and fit["n_clusters"] == 20


def test_a_weak_band_that_carries_the_class_is_found_and_a_loud_one_is_not():
    x, labels, table = tokens()
    _, needs, pairs = run(PlantedBand(), x, labels, table)
    planted, same = row(needs, "planted"), row(needs, "same energy")
    assert planted.beta > 1 and planted.low > 0 and planted.p < 0.001
    assert same.low < 0 < same.high and same.p > 0.05
    # a loud band that carries nothing is no more needed than its energy says; few bands over
    # no cue remove as much as it does, and the table says so
    assert abs(row(needs, "loud").beta) < 0.02 * planted.beta
    assert planted.share_matched == 1 and row(needs, "loud").share_matched < 0.5
    # the discriminative form says the same for the class that carries the band
    assert row(pairs, "planted", true_class="b").low > 0
    assert row(pairs, "loud", true_class="b").low < 0 < row(pairs, "loud", true_class="b").high


def test_a_classifier_of_the_energy_alone_needs_no_band_beyond_its_energy():
    x, labels, table = tokens()
    _, needs, pairs = run(TotalEnergy(), x, labels, table)
    for cue in ("planted", "same energy", "loud", "any"):
        # the log-probability falls with the dB removed alone: nothing is left for a band
        assert abs(row(needs, cue).beta) < 0.01, cue
        # the log-odds fall linearly with it: the energy curve takes all of it
        assert abs(row(pairs, cue, true_class="b").beta) < 1e-6, cue
