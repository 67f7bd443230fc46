"""The causal statement, the deletion curves, the agreement's permutation null and the error
analysis, on cases with known answers."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from spectrocam.config import ConfigError
from spectrocam.evidence.agreement import permutation_null
from spectrocam.evidence.band_occlusion import local_floor, token_bands
from spectrocam.evidence.causal import (
    CausalConfig,
    causal_tokens,
    half_widths,
    needs_at_ceilings,
    run_needs,
)
from spectrocam.evidence.cues import formant_intervals
from spectrocam.evidence.deletion import deletion_orders, run_deletion, summarise_deletion
from spectrocam.evidence.errors import explain_errors
from spectrocam.keys import add_phone_ids

DF = 22050 / 1024  # the demo's rows: 21.5 Hz apart
FREQS = np.arange(186) * DF  # 0-4 kHz, as vowels_4k
EVIDENCE_HZ = 1500.0  # class 1 is louder here, and only here


def band(centre_hz: float, half_width_hz: float = 150.0) -> np.ndarray:
    return np.flatnonzero(np.abs(FREQS - centre_hz) <= half_width_hz)


def test_the_local_floor_never_adds_energy_and_empties_a_loud_band():
    rng = np.random.default_rng(0)
    x = rng.normal(-60, 4, (186, 11)).astype(np.float32)
    loud = band(EVIDENCE_HZ)
    x[loud] += 40.0
    for centre in (EVIDENCE_HZ, 600.0, 2600.0, 3900.0):
        rows = band(centre)
        after = np.minimum(x[rows], local_floor(x, rows, 10)[None, :])
        assert (after <= x[rows]).all()
    after = np.minimum(x[loud], local_floor(x, loud, 10)[None, :])
    assert (x[loud] - after).mean() > 35  # the band falls to its surroundings' floor
    flat = np.full((186, 11), -50.0, np.float32)  # nothing to take away
    assert (np.minimum(flat[loud], local_floor(flat, loud, 10)) == flat[loud]).all()


class ProfileModel(nn.Module):
    """A linear classifier of the frequency profile (the mean over frames)."""

    def __init__(self, n_rows: int) -> None:
        super().__init__()
        self.fc = nn.Linear(n_rows, 2)

    def forward(self, x):
        return self.fc((x.mean(-1)[:, 0] + 60) / 10)


def synthetic(n: int, rng, labels=None):
    """Spectrograms (n, 1, F, T) of noise at -60 dB with a +12 dB blob of 14 rows at random rows
    in every segment; class 1 alone is 12 dB louder at EVIDENCE_HZ +/- 150 Hz (14 rows)."""
    labels = rng.integers(0, 2, n) if labels is None else labels
    x = rng.normal(-60, 3, (n, 1, len(FREQS), 11)).astype(np.float32)
    for i in range(n):  # a distractor as wide as the evidence, in either class: a band
        lo = rng.integers(0, len(FREQS) - 14)  # elsewhere that removes as much energy
        x[i, 0, lo : lo + 14] += 12.0
    evidence = band(EVIDENCE_HZ)
    x[np.ix_(labels == 1, [0], evidence)] += 12.0
    return torch.from_numpy(x), labels


@pytest.fixture(scope="module")
def trained():
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    x, y = synthetic(400, rng)
    model = ProfileModel(len(FREQS))
    target, profiles = torch.from_numpy(y), (x.mean(-1)[:, 0] + 60) / 10
    params = list(model.parameters())
    for _ in range(200):  # gradient descent on the linear layer alone, on the profiles
        loss = nn.functional.cross_entropy(model.fc(profiles), target)
        loss = loss + 1e-3 * (model.fc.weight**2).sum()
        with torch.no_grad():
            for p, g in zip(params, torch.autograd.grad(loss, params), strict=True):
                p -= 1.0 * g
    return model.eval()


class Reader:
    """What the causal tests read of a segment store (a test double)."""

    def __init__(self, x, labels):
        self.x, self.labels, self.freqs_hz = x, np.asarray(labels), FREQS
        self.class_names = ["a", "b"]

    def batch(self, indices):
        return self.x[np.asarray(indices)]


def tokens_and_cues(n, formants):
    tokens = pd.DataFrame(
        {
            "segment_index": np.arange(n),
            "phone_id": [f"LJ001-{k // 2:04d}/{k % 2}" for k in range(n)],
            "utt_id": [f"LJ001-{k // 2:04d}" for k in range(n)],  # two per utterance
            "word": "w",
        }
    )
    return tokens, formant_intervals(np.tile(np.asarray(formants, float), (n, 1)), 150.0)


def needs_run(model, n=40, formants=(EVIDENCE_HZ, 3000.0, np.nan), widths=(150.0,)):
    rng = np.random.default_rng(1)
    x, labels = synthetic(n, rng, labels=np.arange(n) % 2)
    tokens, cues = tokens_and_cues(n, formants)
    reader = Reader(x, labels)
    cfg = CausalConfig(bootstrap=300)
    out = run_needs(model, reader, tokens, cues, cfg, list(widths), 150.0, "utterance", "cpu", 16)
    return reader, tokens, cues, cfg, out


def test_the_causal_statement_finds_the_band_the_classifier_needs_beyond_its_energy(trained):
    _, tokens, cues, _, (bands, needs, pairs) = needs_run(trained, widths=(75.0, 150.0))
    assert list(needs.half_width_hz.unique()) == [75.0, 150.0]
    head = needs[needs.headline].set_index("cue")
    assert head.loc["F1", "low"] > 0.5 and head.loc["F1", "p"] < 0.001  # F1 sits on the evidence
    assert head.loc["F2", "low"] < 0 < head.loc["F2", "high"]  # F2: nothing tells the classes
    assert head.loc["F3", "n_overlapping"] == 0 and np.isnan(head.loc["F3", "beta"])
    assert head.loc["F1", "n_tokens"] == 40 and head.loc["F1", "n_clusters"] == 20
    # dose-response: a narrower band leaves part of the evidence
    narrow = needs[~needs.headline].set_index("cue")
    assert narrow.loc["F1", "beta"] < head.loc["F1", "beta"]
    # the class that is louder at the band loses its log-odds there, against the other class
    b = pairs[(pairs.true_class == "b") & (pairs.cue == "F1")].iloc[0]
    assert b.competitor == "a" and b.low > 0
    # every token has the token itself, the tiles of each half-width and its cue bands
    per_token = bands[bands.half_width_hz == 150.0].groupby("token").size()
    tiles = [k for k in token_bands(FREQS, 150.0, {}) if k[0] == "tile"]
    assert (per_token == 1 + len(tiles) + 2).all()  # F3 is undefined: no band


def test_batches_across_tokens_give_the_scores_of_one_token_at_a_time(trained):
    rng = np.random.default_rng(2)
    x, labels = synthetic(5, rng)
    tokens, cues = tokens_and_cues(5, (EVIDENCE_HZ, 3000.0, np.nan))
    cfg = CausalConfig(bootstrap=100)
    one = run_needs(
        trained, Reader(x, labels), tokens, cues, cfg, [150.0], 150, "utterance", "cpu", 1
    )
    many = run_needs(
        trained, Reader(x, labels), tokens, cues, cfg, [150.0], 150, "utterance", "cpu", 7
    )
    a, b = one[0], many[0]
    assert len(a) == len(b)
    np.testing.assert_allclose(a.filter(like="logp_"), b.filter(like="logp_"), rtol=1e-5, atol=1e-5)


def test_the_causal_statement_at_another_ceiling_says_whether_its_call_holds(trained):
    # the configured ceiling puts F1 on the evidence; "6000" moves it to 2.5 kHz, where nothing
    # tells the classes apart; "5000" moves it a little, still on the evidence
    reader, tokens, cues, cfg, (bands, needs, _) = needs_run(trained)
    headline = needs[needs.headline].drop(columns=["half_width_hz", "headline"])
    n = len(tokens)
    moved = {
        "5000": tokens_and_cues(n, (EVIDENCE_HZ + 40, 3000.0, np.nan))[1],
        "6000": tokens_and_cues(n, (2500.0, 3000.0, np.nan))[1],
    }
    table = needs_at_ceilings(
        trained, reader, tokens, bands, moved, headline, cfg, 150.0, "utterance", "cpu", 16
    )
    f1 = table[table.cue == "F1"].set_index("ceiling")
    assert f1.loc["configured", "call"] == "above" and f1.loc["5000", "holds"]
    assert f1.loc["6000", "call"] != "above" and not f1.loc["6000", "holds"]
    assert set(table.ceiling) == {"configured", "5000", "6000"}


def test_tokens_without_cues_are_left_out_and_a_subset_is_seeded():
    tokens = pd.DataFrame({"phone_id": list("abcd")})
    cues = {"F1": np.array([[1.0, 2.0], [np.nan, np.nan], [1.0, 2.0], [3.0, 4.0]])}
    assert causal_tokens(tokens, cues, None, 0).tolist() == [0, 2, 3]
    picked = causal_tokens(tokens, cues, 2, 0)
    assert len(picked) == 2 and (np.diff(picked) > 0).all()
    assert picked.tolist() == causal_tokens(tokens, cues, 2, 0).tolist()


def test_deletion_curves_rank_the_faithful_map_first(trained):
    rng = np.random.default_rng(3)
    n = 12
    x, labels = synthetic(n, rng, labels=np.ones(n, dtype=int))
    profile = np.zeros(len(FREQS))
    profile[band(EVIDENCE_HZ)] = 1.0
    orders = [deletion_orders({"good": profile, "bad": -profile}, rng) for _ in range(n)]
    rows = run_deletion(trained, Reader(x, labels), np.arange(n), orders, 6, 10, "cpu", 5)
    dele = pd.DataFrame(rows)
    dele.insert(0, "utt_id", [f"u{r // 2}" for r in dele.row])
    curves = np.array([[float(v) for v in c.split()] for c in dele.curve])
    assert curves.shape == (n * 5, 7)  # 5 orders, deletion_steps + 1 points
    last = pd.Series(curves[:, -1]).groupby(dele.row.to_numpy())
    assert (last.nunique() == 1).all()  # every order ends with every row removed
    assert (curves[:, -1] < 0.5).all() and (curves[:, 0] > 0.5).all()
    table = summarise_deletion(dele, 300, 0).set_index("method")
    assert set(table.index) == {"good", "bad", "random", "energy", "low_to_high"}
    assert table.loc["good", "faithfulness_low"] > 0.2
    assert table.loc["bad", "faithfulness"] < table.loc["good", "faithfulness_low"] - 0.2
    assert table.loc["energy", "kind"] == "baseline" and table.loc["good", "kind"] == "map"
    # each area is the trapezoid rule over its own curve (6 steps of 1/6), worked here; the
    # faithfulness is the random order's area minus the order's own, token by token
    area = (curves[:, :-1] + curves[:, 1:]).sum(axis=1) / 2 / 6
    np.testing.assert_allclose(dele["area"], area, atol=1e-4)  # the curves are printed to 1e-4
    random_area = pd.Series(area[dele.order == "random"], index=dele.row[dele.order == "random"])
    np.testing.assert_allclose(dele["faithfulness"], random_area[dele.row].to_numpy() - area,
                               atol=1e-4)  # fmt: skip
    assert (dele.loc[dele.order == "good", "faithfulness"] > 0.2).mean() > 0.8


def test_a_half_width_of_zero_is_refused():
    assert half_widths(CausalConfig(half_widths_hz=(75.0, 300.0)), 150) == [75.0, 150.0, 300.0]
    with pytest.raises(ConfigError, match="half-width"):
        half_widths(CausalConfig(half_widths_hz=(0.0,)), 150)


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
    from spectrocam.evidence.errors import random_wrong_share

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


def test_the_comparison_shows_the_map_statement_and_the_deletion_baselines():
    from spectrocam.report.tables import comparison_table

    contrasts = pd.DataFrame(
        {
            "method": ["cam", "cam", "layercam"],
            "same_maps": ["gradcam hirescam", "gradcam hirescam", ""],
            "cue": ["F1", "any", "any"],
            "n_tokens": [390, 391, 150],
            "difference": [0.5, 0.12, -0.02],
            "low": [0.4, 0.09, -0.05],
            "high": [0.6, 0.15, 0.01],
        }
    )
    deletion = pd.DataFrame(
        {
            "method": ["cam", "random", "energy", "low_to_high"],
            "n_segments": 10,
            "faithfulness": [0.3, 0.0, 0.25, -0.1],
            "faithfulness_low": [0.2, 0.0, 0.15, -0.2],
            "faithfulness_high": [0.4, 0.0, 0.35, 0.0],
        }
    )
    table = comparison_table(
        "vowels_4k", pd.DataFrame(columns=["method", "cam", "class_name", "outcome"]),
        pd.DataFrame(), deletion, contrasts,
        {"cam": 86.0, "gradcam": 86.0, "layercam": 86.0, "scorecam": 86.0},
    ).set_index("method")  # fmt: skip
    column = "AUC minus shuffled labels (n)"
    assert table.loc["cam", column] == "+0.120 [+0.090, +0.150] (391)"
    assert table.loc["gradcam", column].endswith("= cam")  # the same maps: one test
    assert table.loc["layercam", column].startswith("-0.020")
    assert pd.isna(table.loc["scorecam", column])  # not contrasted: no figure invented
    assert "0.25" in table.loc["cam", "faithfulness of energy order"]
    assert "faithfulness of random order" not in table
