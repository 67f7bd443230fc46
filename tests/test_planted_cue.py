"""Known answer (e) of the verdict: on real vowels of the demo's clips, a tone planted at 3.5 kHz
in one class only is what a network trained on them reads; both statements must point at it."""

from __future__ import annotations

import h5py
import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from spectrocam.align.phone_table import phones_from_textgrids
from spectrocam.corpus.layout import validate_corpus
from spectrocam.evidence.causal import CausalConfig, run_needs
from spectrocam.evidence.cues import fixed_intervals
from spectrocam.evidence.ranks import auc_tables, rank_contrasts
from spectrocam.explain.maps import MapFile
from spectrocam.explain.methods import compute_maps
from spectrocam.model.batchnorm import recalibrate
from spectrocam.segments.build import Experiment, build_store
from spectrocam.segments.spectrogram import StftParams
from spectrocam.segments.store import SegmentReader, read_segment_table

from .conftest import MINI, MINI_MFA, require_shared
from .test_evidence import TinyNet

PLANTED = (3400.0, 3600.0)  # the tone at 3.5 kHz, in class AA only
ELSEWHERE = (2300.0, 2500.0)  # as far from the formants of these vowels, and empty
CUES = {"planted": PLANTED, "elsewhere": ELSEWHERE}
CLASSES = {"IY": ["IY"], "AA": ["AA"], "UW": ["UW"]}


def train_tiny(reader, labels, seed: int) -> TinyNet:
    torch.manual_seed(seed)
    model = TinyNet(len(CLASSES))
    x = reader.batch(np.arange(len(labels)))
    y = torch.from_numpy(np.asarray(labels))
    model.input_mean.fill_(float(x.mean()))
    model.input_std.fill_(float(x.std()))
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    for step in range(80):
        idx = torch.from_numpy(np.random.default_rng(step).choice(len(y), 32, replace=False))
        model.train()
        optimiser.zero_grad()
        nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
        optimiser.step()
    recalibrate(model, reader, np.arange(len(y)), torch.device("cpu"), 128)
    return model.eval()


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    require_shared()
    tmp = tmp_path_factory.mktemp("planted")
    ids = sorted(p.stem for p in (MINI / "wavs").glob("*.wav"))[:40]
    clips, _ = validate_corpus(MINI, tmp / "conv", clip_ids=ids)
    phones, _ = phones_from_textgrids(MINI_MFA, clips)
    store = tmp / "v.h5"
    params = StftParams(22050, n_fft=1024, hop_s=0.01)
    build_store(phones, clips, Experiment("v", CLASSES, 0, 4000), params, 0.05, store)
    with h5py.File(store, "r+") as h5:
        freqs = h5["freqs_hz"][:]
        labels = h5["labels"][:]
        rows = np.flatnonzero((freqs >= 3450) & (freqs <= 3550))
        x = h5["spectrograms"][:].astype(np.float32)
        aa = labels == list(CLASSES).index("AA")
        level = np.percentile(x[aa], 95, axis=(1, 2))  # as loud as the token's loud cells
        tone = 10 * np.log10(10 ** (x[aa][:, rows] / 10) + 10 ** (level[:, None, None] / 10))
        x[np.ix_(aa, rows)] = tone
        h5["spectrograms"][...] = x.astype(h5["spectrograms"].dtype)
    segments = read_segment_table(store)
    segments["segment_index"] = np.arange(len(segments))
    with SegmentReader(store) as reader:
        trained = train_tiny(reader, reader.labels, 0)
        shuffled = train_tiny(reader, np.random.default_rng(5).permutation(reader.labels), 0)
        with torch.no_grad():
            logits = trained(reader.batch(np.arange(len(labels))))
        segments["predicted"] = logits.argmax(1).numpy()
        assert (segments["predicted"] == segments["label"]).mean() > 0.6
        maps = {}
        for name, model in (("trained", trained), ("shuffled", shuffled)):
            flat = np.full((len(segments), 3), 1 / 3)
            out = tmp / f"{name}.h5"
            compute_maps(model, reader, segments, flat, out, ["cam"], torch.device("cpu"))
            maps[name] = MapFile(tmp / f"{name}.h5")
    return store, segments, trained, maps


def test_the_maps_point_at_the_planted_tone_beyond_the_label_free_model(planted):
    _, segments, _, maps = planted

    def cues(tokens):
        return fixed_intervals(CUES, len(tokens))

    ours, theirs = auc_tables(maps["trained"], cues), auc_tables(maps["shuffled"], cues)
    rows = maps["trained"].segments.class_name == "AA"
    mine = ours["cam"][rows.to_numpy()]
    c = rank_contrasts(mine, theirs["cam"], n_boot=300, n_flips=2000).set_index("cue")
    assert c.loc["planted", "n_tokens"] == rows.sum() > 10
    assert c.loc["planted", "low"] > 0 and c.loc["planted", "p"] < 0.01
    assert c.loc["planted", "difference"] > c.loc["elsewhere", "high"]


def test_the_network_needs_the_planted_tone_beyond_its_energy(planted):
    store, segments, trained, _ = planted
    tokens = segments.assign(segment_index=np.arange(len(segments)))
    cues = fixed_intervals(CUES, len(tokens))
    with SegmentReader(store) as reader:
        _, needs, pairs = run_needs(
            trained, reader, tokens, cues, CausalConfig(bootstrap=300), [150.0], 150.0,
            "utterance", "cpu", 64,
        )  # fmt: skip
    needs = needs.set_index("cue")
    assert needs.loc["planted", "low"] > 0 and needs.loc["planted", "p"] < 0.01
    assert needs.loc["elsewhere", "beta"] < needs.loc["planted", "low"]
    aa = pairs[(pairs.true_class == "AA") & (pairs.cue == "planted")]
    assert (aa["low"] > 0).all()  # AA's log-odds against each other class fall without it
    assert pd.notna(needs.loc["planted", "share_matched"])
