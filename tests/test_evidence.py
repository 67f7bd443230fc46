"""Known answers for the evidence beyond the spectrum: two classes that share a loud low band and
differ only in a weak band elsewhere (present in one class, absent in the other)."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from spectrocam.evidence.baselines import (
    class_mean_profiles,
    envelope_profiles,
    pool_to_cells,
    scaled,
)
from spectrocam.evidence.cues import cue_intervals
from spectrocam.evidence.ranks import auc_tables, identical_map_groups, rank_contrasts
from spectrocam.evidence.sanity import randomised
from spectrocam.evidence.shares import band_shares, evidence_table, paired_summary
from spectrocam.explain.maps import MapFile, MapWriter
from spectrocam.explain.methods import compute_maps
from spectrocam.model.batchnorm import recalibrate
from spectrocam.model.network import STAGES, SpectroResNet
from spectrocam.segments.store import (
    SegmentReader,
    SegmentStoreWriter,
    read_segment_table,
    read_spectrogram_block,
)
from spectrocam.stats import holm

N_ROWS, N_FRAMES, HZ_PER_ROW = 64, 9, 50.0
LOUD_HZ, WEAK_HZ = 350.0, 2250.0  # the shared loud band; class 1's weak band
WINDOW_HZ = 150.0


def synthetic_store(path, n_per_class=60, seed=0):
    """Spectrograms in dB: a loud band (+40 dB) at 350 Hz in every segment and, in class 1, a
    weak one (+12 dB) around 2,250 Hz (each token's within +/- 200 Hz), over noise; and their
    "formants": F1 the loud band, F2 the token's weak band (undefined in class 0)."""
    rng = np.random.default_rng(seed)
    freqs = np.arange(N_ROWS) * HZ_PER_ROW
    labels = np.repeat([0, 1], n_per_class)
    spec = rng.normal(-60, 2, (len(labels), N_ROWS, N_FRAMES))
    weak = np.where(labels == 1, WEAK_HZ + rng.integers(-4, 5, len(labels)) * HZ_PER_ROW, np.nan)
    for i, c in enumerate(labels):
        spec[i, np.abs(freqs - LOUD_HZ) <= 100] += 40
        if c == 1:
            spec[i, np.abs(freqs - weak[i]) <= 100] += 12
    utts = [f"U{i // 4:03d}" for i in range(len(labels))]
    fields = {
        "phone_id": [f"{u}/{i % 4}" for i, u in enumerate(utts)],
        "utt_id": utts,
        "word": ["w"] * len(labels),
        "phone": ["IY1" if c == 0 else "AA1" for c in labels],
        "start_s": np.full(len(labels), 0.98),
        "end_s": np.full(len(labels), 1.02),
        "window_centre_s": np.full(len(labels), 1.0),
    }
    times = (np.arange(N_FRAMES) - N_FRAMES // 2) * 0.01
    with SegmentStoreWriter(path, len(labels), freqs, times, ["IY", "AA"]) as w:
        w.write(spec.astype(np.float32), labels, fields)
    formants = pd.DataFrame(
        {
            "phone_id": fields["phone_id"],
            "f1_hz": LOUD_HZ,
            "f2_hz": weak,
            "f3_hz": np.nan,
        }
    )
    return formants


class TinyNet(SpectroResNet):
    """A SpectroResNet whose body is two small convolutions at full resolution (one cell per
    row and frame), so that its CAM can point at a band."""

    def __init__(self, n_classes: int = 2) -> None:
        super().__init__("resnet18", n_classes)
        layers = OrderedDict(
            conv1=nn.Conv2d(1, 8, 3, padding=1),
            bn1=nn.BatchNorm2d(8),
            relu=nn.ReLU(),
            maxpool=nn.Identity(),
            **{s: nn.Identity() for s in STAGES[:-1]},
            layer4=nn.Sequential(nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU()),
        )
        self.body = nn.Sequential(layers)
        self.fc = nn.Linear(16, n_classes)
        self.stage_strides = {s: (1, 1) for s in STAGES}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("evidence")
    formants = synthetic_store(tmp / "s.h5")
    torch.manual_seed(0)
    model = TinyNet()
    with SegmentReader(tmp / "s.h5") as reader:
        x = reader.batch(np.arange(len(reader.labels)))
        y = torch.from_numpy(reader.labels)
        model.input_mean.fill_(float(x.mean()))
        model.input_std.fill_(float(x.std()))
        optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
        for step in range(60):
            idx = torch.from_numpy(np.random.default_rng(step).choice(len(y), 32, replace=False))
            model.train()
            optimiser.zero_grad()
            nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            optimiser.step()
        # few steps from scratch: the BatchNorm statistics lag, as in training (see batchnorm)
        recalibrate(model, reader, np.arange(len(y)), torch.device("cpu"), 120)
        with torch.no_grad():
            assert (model(x).argmax(1) == y).float().mean() > 0.95  # it has learnt the task
    return model, tmp, formants


def map_file(model, tmp, name, methods=("cam", "gradcam")):
    segments = read_segment_table(tmp / "s.h5")
    segments["segment_index"] = np.arange(len(segments))
    segments["predicted"] = segments["label"]
    with SegmentReader(tmp / "s.h5") as reader:
        compute_maps(
            model,
            reader,
            segments,
            np.full((len(segments), 2), 0.5),
            tmp / name,
            list(methods),
            torch.device("cpu"),
            stage="layer4",
        )
    return MapFile(tmp / name)


def cues_of(formants):
    def cues(tokens):
        return cue_intervals(tokens, "vowels", {}, formants, WINDOW_HZ)

    return cues


def test_the_maps_point_at_the_weak_band_beyond_the_randomised_model(trained):
    """The map statement on a network that learnt a weak band: its maps rank the F2 cells (the
    weak band) above the rest more than the same method's maps of the network with every weight
    randomised; the loud band that every token has (F1) gets no such preference."""
    model, tmp, formants = trained
    maps = map_file(model, tmp, "maps.h5")
    random = map_file(randomised(model, "conv1", seed=1), tmp, "random.h5")
    assert identical_map_groups(maps) == [["cam", "gradcam"]]  # pooled last stage: one map
    ours, theirs = auc_tables(maps, cues_of(formants)), auc_tables(random, cues_of(formants))
    c = rank_contrasts(ours["cam"], theirs["cam"], n_boot=300, n_flips=2000).set_index("cue")
    assert c.loc["F2", "low"] > 0.1 and c.loc["F2", "p"] < 0.01
    assert c.loc["F2", "n_tokens"] == 60  # class 1 alone has a weak band
    assert c.loc["F1", "difference"] < c.loc["F2", "low"]
    # the description beside it: the spectrum points at the loud band, the maps at the weak one
    spectrograms = read_spectrogram_block(tmp / "s.h5", maps.segments.segment_index)
    table = evidence_table(maps, spectrograms, formants, WINDOW_HZ, spectrum_power=1)
    summary = paired_summary(table, n_boot=200).set_index(["method", "band"])
    f1, f2 = summary.loc[("cam", "F1")], summary.loc[("cam", "F2")]
    assert f1.share_spectrum > 0.9 and f2.share_spectrum < 0.05 and f2.minus_spectrum_low > 0.1


def test_a_map_equal_to_the_spectrum_is_no_evidence_by_either_statistic(trained):
    """A network-free map (the power spectrum) as both models' maps: the contrast is exactly 0;
    and its share equals the spectrum's when the description uses the same scale (power)."""
    _, tmp, formants = trained
    segments = read_segment_table(tmp / "s.h5")
    segments["segment_index"] = np.arange(len(segments))
    segments["predicted"] = segments["label"]
    spectrograms = read_spectrogram_block(tmp / "s.h5", segments.segment_index)
    power = 10 ** (spectrograms.astype(float) / 10)
    with MapWriter(
        tmp / "spectrum.h5",
        segments,
        np.full((len(segments), 2), 0.5),
        ["IY", "AA"],
        np.arange(N_ROWS) * HZ_PER_ROW,
        (np.arange(N_FRAMES) - N_FRAMES // 2) * 0.01,
    ) as out:
        out.add_method("cam", np.arange(len(segments)), (N_ROWS, N_FRAMES), (1, 1), "layer4")
        out.write("cam", "true", 0, power.astype(np.float32))
    maps = MapFile(tmp / "spectrum.h5")
    aucs = auc_tables(maps, cues_of(formants))["cam"]
    c = rank_contrasts(aucs, aucs, n_boot=200, n_flips=1000).set_index("cue")
    defined = c.loc[["F1", "F2", "any"]]  # no token has an F3
    assert (defined["difference"] == 0).all() and (defined["p"] == 1).all()
    assert c.loc["F3", "n_tokens"] == 0
    assert c.loc["F1", "auc_trained"] > 0.8  # the spectrum itself ranks the loud band first
    table = evidence_table(maps, spectrograms, formants, WINDOW_HZ, spectrum_power=1)
    summary = paired_summary(table, n_boot=200).set_index("band")
    # (the map averages power over frames, the spectrum dB: equal but for Jensen's gap)
    assert np.allclose(summary.loc[["F1", "F2", "any"], "minus_spectrum"], 0, atol=1e-4)
    assert np.isnan(summary.loc["F3", "minus_spectrum"])  # no F3 is defined
    # on the dB scale the same map is "above the spectrum" on F1: the description's answer
    # depends on the scale, which is why it is not the verdict
    db = paired_summary(evidence_table(maps, spectrograms, formants, WINDOW_HZ), n_boot=200)
    assert db.set_index("band").loc["F1", "minus_spectrum_low"] > 0.2


def test_baselines_and_adjustments_do_what_they_say():
    freqs = np.arange(8) * 100.0
    shares = band_shares(np.eye(8)[[2, 5]], freqs, np.array([[200.0, np.nan, np.nan]] * 2), 50)
    assert shares[:, 0].tolist() == [1.0, 0.0] and np.isnan(shares[:, 1]).all()
    power = np.tile(np.r_[np.ones(4), 100 * np.ones(4)], (2, 1))
    assert np.allclose(pool_to_cells(power, np.array([0, 0, 1, 1, 2, 2, 3, 3])), power)
    assert np.allclose(pool_to_cells(power, np.array([0, 0, 0, 0, 0, 0, 1, 1]))[0, :6], 34)
    db = np.array([[-60.0, -40.0, -50.0]])
    assert scaled(db, "db").tolist() == [[0.0, 20.0, 10.0]]
    assert np.allclose(scaled(db, 1), [[0.01, 1.0, 0.1]]) and np.allclose(
        scaled(db, 0.5), [[0.1, 1, 10**-0.5]]
    )
    profiles = np.array([[1.0, 0], [0, 1.0], [1.0, 1.0]])
    loo = class_mean_profiles(profiles, np.array([0, 0, 1]))
    assert loo.tolist() == [[0, 1], [1, 0], [0, 0]]  # the others of its class, never itself
    assert holm([0.01, 0.04, 0.03, np.nan]).tolist()[:3] == pytest.approx([0.03, 0.06, 0.06])


def test_the_envelope_keeps_the_formants_and_drops_the_harmonics_on_every_axis():
    """A vowel spectrum in dB: two formant peaks under harmonics of a 195 Hz voice. Keeping the
    quefrencies below 2.5 ms smooths the harmonics away on a 0-4 kHz and a 0-11 kHz axis (the old
    30 coefficients kept them on 0-4 kHz)."""
    for top_hz in (4000.0, 11025.0):
        f = np.linspace(0, top_hz, int(top_hz / 21.5) + 1)
        formants = 25 * np.exp(-0.5 * ((f - 700) / 120) ** 2) + 20 * np.exp(
            -0.5 * ((f - 1200) / 150) ** 2
        )
        harmonics = 8 * np.cos(2 * np.pi * f / 195.0)
        db = (-60 + formants + harmonics)[None, :]
        envelope = envelope_profiles(db, top_hz)[0]
        between = (f > 2000) & (f < 3500)  # no formant here: only the harmonics' ripple
        assert np.ptp(envelope[between]) < 4 < np.ptp(db[0, between]), top_hz
        assert abs(f[np.argmax(envelope)] - 700) < 150, top_hz  # the formant peak stays
    old = np.fft.irfft(np.where(np.arange(94) < 30, np.fft.rfft(db[0, :187]), 0), n=187)
    assert np.ptp(old[(f[:187] > 2000) & (f[:187] < 3500)]) > 4


def test_the_summary_breaks_down_by_token_subset_each_with_its_n():
    """Known answer: the map puts 0.6 of its mass on the formants of the stressed content
    words, 0.2 elsewhere; every baseline 0.1."""
    from spectrocam.evidence.baselines import BASELINES
    from spectrocam.evidence.shares import subset_summary

    n = 12
    tokens = pd.DataFrame(
        {
            "phone_id": [f"u{i}/0" for i in range(n)],
            "stress": [1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 2, 0],
            "function_word": [0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0, 0],
            "rhotic": [1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0],
        }
    )
    content = ((tokens.stress == 1) & (tokens.function_word == 0)).to_numpy()
    rows = []
    for source in ("cam", *BASELINES):
        share = np.where(content, 0.6, 0.2) if source == "cam" else np.full(n, 0.1)
        frame = pd.DataFrame({"method": "cam", "source": source, "phone_id": tokens.phone_id})
        frame["utt_id"] = [f"u{i}" for i in range(n)]
        frame[[f"share_{b}" for b in ("F1", "F2", "F3", "any")]] = np.repeat(share[:, None], 4, 1)
        rows.append(frame)
    summary = subset_summary(pd.concat(rows, ignore_index=True), tokens, n_boot=50)
    anyband = summary[summary.band == "any"].set_index("tokens")
    assert list(anyband.index) == ["all", "stressed content words", "rhotic context"]
    assert anyband["n_segments"].tolist() == [12, 5, 2]
    assert anyband.loc["stressed content words", "share"] == pytest.approx(0.6)
    assert anyband.loc["all", "share"] == pytest.approx((5 * 0.6 + 7 * 0.2) / 12)
    assert anyband.loc["rhotic context", "minus_spectrum"] == pytest.approx((0.6 + 0.2) / 2 - 0.1)
    # the first row of each method and band is the all-token one (what the verdict reads)
    assert summary.groupby(["method", "band"]).head(1)["tokens"].eq("all").all()
    # a store without token attributes: the all-token rows only
    assert set(subset_summary(pd.concat(rows), tokens[["phone_id"]], 50)["tokens"]) == {"all"}
