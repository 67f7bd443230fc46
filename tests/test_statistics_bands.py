"""Fast known answers for the statistics of the bands, the deletion curves, the templates, the
randomised controls and the causal fit on band tables made by hand (the second half of
tests/test_statistics.py: the tests ``make mutation`` runs every mutant against)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from spectrocam.evidence.band_occlusion import (
    _token_perturbations,
    add_overlaps,
    local_floor,
    tile_centres,
    token_bands,
)
from spectrocam.evidence.deletion import (
    curve_area,
    deletion_masks,
    deletion_orders,
    signal_orders,
    summarise_deletion,
)
from spectrocam.evidence.needs import fit_needs, needs_table, pair_table
from spectrocam.evidence.sanity import CASCADE, randomised
from spectrocam.evidence.templates import _zscored, class_templates, frequency_profiles

# --- band occlusion --------------------------------------------------------------------------


def test_bands_and_their_occlusion_by_hand():
    freqs = np.arange(10) * 100.0  # 0 .. 900 Hz
    assert tile_centres(freqs, 300).tolist() == [0.0, 300.0, 600.0, 900.0]
    assert tile_centres(freqs + 50, 400).tolist() == [50.0, 450.0, 850.0]
    bands = token_bands(freqs, 100, {"F1": np.array([250.0, 420.0]), "F9": np.array([2e3, 3e3])})
    tiles = [b for b in bands if b[0] == "tile"]
    assert [t[1] for t in tiles] == [100.0 * k for k in range(10)]
    assert tiles[0][2:4] == (-100.0, 100.0) and tiles[0][4].tolist() == [0, 1]
    assert tiles[4][4].tolist() == [3, 4, 5]
    assert [b[:4] for b in bands if b[0] != "tile"] == [("cue:F1", 335.0, 250.0, 420.0)]
    assert bands[-1][4].tolist() == [3, 4]  # no row lies in F9's interval: no band
    assert [b[0] for b in token_bands(freqs, 100, {"F1": np.array([0, 99.0])}, False)] == ["cue:F1"]
    x = np.array([[1.0, 9.0], [2.0, 8.0], [3.0, 7.0], [40.0, 6.0], [5.0, 5.0], [6.0, 4.0]])
    # rows 3: the band and one band width either side, rows 2-4: 0th percentile = minimum
    assert local_floor(x, np.array([3]), 0).tolist() == [3.0, 5.0]
    assert local_floor(x, np.array([0, 1]), 100).tolist() == [40.0, 9.0]  # rows 0-3
    assert local_floor(x, None, 0).tolist() == [1.0, 4.0]
    masks, fills, removed = _token_perturbations(x, [("b", 0, 0, 0, np.array([3]))], 0)
    assert masks.tolist() == [[False] * 6, [False, False, False, True, False, False]]
    assert fills.tolist() == [[0.0, 0.0], [3.0, 5.0]]
    assert removed.tolist() == [0.0, 37.0 + 1.0]  # min(40, 3) and min(6, 5)


def test_overlaps_by_hand():
    bands = pd.DataFrame(
        {
            "token": [0, 0, 0, 0, 1],
            "band": ["none", "tile", "tile", "cue:F1", "tile"],
            "centre_hz": [np.nan, 500.0, 650.0, 500.0, 500.0],
            "low_hz": [np.nan, 400.0, 550.0, 400.0, 400.0],
            "high_hz": [np.nan, 600.0, 750.0, 600.0, 600.0],
        }
    )
    cues = {"F1": np.array([[450.0, 550.0], [np.nan, np.nan]]),
            "F2": np.array([[700.0, 800.0], [300.0, 350.0]])}  # fmt: skip
    out = add_overlaps(bands, cues)
    assert out["overlap_F1"].tolist() == [False, True, False, True, False]
    assert out["overlap_F2"].tolist() == [False, False, False, False, False]
    assert out["overlap_any"].tolist() == [False, True, False, True, False]
    # the 650 Hz tile touches F1 (450-550 vs 550-750) and F2 without its centre in either;
    # token 1's tile touches F2 (300-350 vs 400-600? no): clear
    assert out["clear"].tolist() == [True, True, False, True, True]
    assert "overlap_F1" not in bands  # a copy


# --- deletion ------------------------------------------------------------------------------


def test_deletion_orders_masks_and_areas_by_hand():
    x = np.array([[1.0, 1.0], [5.0, 5.0], [3.0, 3.0], [5.0, 5.0]])
    orders = signal_orders(x)
    assert orders["energy"].tolist() == [1, 3, 2, 0] and orders["low_to_high"].tolist() == [
        0,
        1,
        2,
        3,
    ]
    rng = np.random.default_rng(0)
    got = deletion_orders({"m": np.array([0.1, 0.9, 0.5, 0.9])}, rng)
    assert list(got) == ["m", "random"]
    assert got["m"][:2].tolist() in ([1, 3], [3, 1]) and got["m"][2:].tolist() == [2, 0]
    assert sorted(got["random"]) == [0, 1, 2, 3]
    ties = [deletion_orders({"m": np.zeros(6)}, np.random.default_rng(s))["m"] for s in range(8)]
    assert len({tuple(t) for t in ties}) > 1  # ties broken at random
    fractions, masks = deletion_masks(np.array([2, 0, 3, 1]), 2)
    assert fractions.tolist() == [0.0, 0.5, 1.0]
    assert masks.tolist() == [[True, False, True, False], [True] * 4]
    assert curve_area(np.array([0.0, 0.5, 1.0]), np.array([1.0, 0.5, 0.0])) == 0.5
    table = pd.DataFrame(
        {
            "utt_id": ["a", "a", "b", "b"],
            "order": ["cam", "random", "cam", "random"],
            "area": [0.2, 0.5, 0.4, 0.5],
            "faithfulness": [0.3, 0.0, 0.1, 0.0],
        }
    )
    summary = summarise_deletion(table, 200, 0).set_index("method")
    assert summary.loc["cam", "kind"] == "map" and summary.loc["random", "kind"] == "baseline"
    assert summary.loc["cam", "area"] == pytest.approx(0.3)
    assert summary.loc["cam", "faithfulness"] == pytest.approx(0.2)
    assert summary.loc["cam", ["faithfulness_low", "faithfulness_high"]].tolist() == [0.1, 0.3]
    assert summary.loc["cam", ["area_low", "area_high"]].tolist() == [0.2, 0.4]
    assert summary.loc["cam", "n_segments"] == 2 and summary.loc["cam", "n_utterances"] == 2
    assert list(summary.index) == ["cam", "random"]


# --- templates -----------------------------------------------------------------------------


def test_templates_by_hand():
    maps = np.array(
        [
            [[1.0, 9.0], [3.0, 9.0], [2.0, 9.0]],  # inside: first time cell only
            [[0.0, 0.0], [4.0, 4.0], [2.0, 2.0]],
            [[5.0, 5.0], [5.0, 5.0], [5.0, 5.0]],
        ]
    )
    inside = np.array([[True, False], [True, True], [False, True]])
    profiles = frequency_profiles(maps, inside)
    assert profiles.tolist() == [[1.0, 3.0, 2.0], [0.0, 4.0, 2.0], [5.0, 5.0, 5.0]]
    z = _zscored(profiles)
    sd = np.sqrt(2 / 3)
    assert z[0].tolist() == pytest.approx([-1 / sd, 1 / sd, 0])
    assert z[1].tolist() == pytest.approx([-2 / np.sqrt(8 / 3), 2 / np.sqrt(8 / 3), 0])
    assert z[2].tolist() == [0.0, 0.0, 0.0]
    cell_hz = np.array([100.0, 200.0, 300.0])
    fm = np.array([[500.0, 1500.0, np.nan], [700.0, 1300.0, np.nan], [300.0, 2000.0, 2500.0]])
    templates, summary = class_templates(maps, cell_hz, inside, ["A", "A", "B"], fm)
    a = templates[templates.class_name == "A"]["template"].to_numpy()
    assert a == pytest.approx((z[0] + z[1]) / 2 - z[2])
    assert templates["freq_hz"].tolist() == [100.0, 200.0, 300.0] * 2
    assert templates["cell"].tolist() == [0, 1, 2] * 2
    summary = summary.set_index("class_name")
    assert summary.loc["A", "n_tokens"] == 2 and summary.loc["A", "peak_hz"] == 200.0
    assert summary.loc["B", "peak_hz"] == 100.0  # -template of A: largest at A's lowest
    assert summary.loc["A", "f1_hz"] == 600.0 and np.isnan(summary.loc["A", "f3_hz"])
    assert summary.loc["B", "f3_hz"] == 2500.0
    _, order = class_templates(maps, cell_hz, inside, ["A", "A", "B"], classes=["B", "C", "A"])
    assert order["class_name"].tolist() == ["B", "A"]
    one, summary = class_templates(maps, cell_hz, inside, ["A", "A", "A"])
    assert one["template"].isna().all() and summary["peak_hz"].isna().all()


# --- sanity ----------------------------------------------------------------------------------


def test_randomised_resets_the_last_stages_down_to_the_step():
    from spectrocam.model.network import build_model

    torch.manual_seed(0)
    model = build_model("resnet18", 3).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)  # trained weights: none is PyTorch's initialisation
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.fill_(7.0)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    out = randomised(model, "layer3", seed=1)
    assert not out.training and model.state_dict()["fc.weight"].equal(state["fc.weight"])
    changed = {k for k, v in out.state_dict().items() if not v.equal(state[k])}
    prefixes = {k.split(".")[0] if k.startswith("fc") else k.split(".")[1] for k in changed}
    assert prefixes == {"fc", "layer4", "layer3"}
    bn = out.body.layer3[0].bn1
    assert (bn.running_mean == 0).all() and (bn.running_var == 1).all()
    assert out.body.layer2[0].bn1.running_mean.eq(7.0).all()  # below the step: kept
    again = randomised(model, "layer3", seed=1).state_dict()
    assert all(again[k].equal(v) for k, v in out.state_dict().items())
    other = randomised(model, "layer3", seed=2).state_dict()
    assert not other["fc.weight"].equal(out.state_dict()["fc.weight"])
    every = randomised(model, CASCADE[-1], seed=1).state_dict()
    assert not every["body.conv1.weight"].equal(state["body.conv1.weight"])
    assert not every["body.layer1.0.conv1.weight"].equal(state["body.layer1.0.conv1.weight"])
    assert every["input_mean"].equal(state["input_mean"])  # the standardisation stays
    with pytest.raises(ValueError, match="step must be one of"):
        randomised(model, "layer5")


# --- needs (statement 1) on band tables made by hand -----------------------------------------


def band_table(n_tokens: int = 40, seed: int = 0):
    """Each token's row (band "none") and 14 bands: 2 over cue X, 2 over Y, 1 over Z (which
    removes 100 dB, more than any other band), 8 over none (one of which removes 50 dB) and one
    band that is not clear (its drop is 50: the fit must leave it out). The drop of the true
    class's log p is ``alpha_token + 0.02 a + 0.5 [X]``; occluding Y raises the other class's
    log p by 0.3 (so the log-odds fall by 0.3 more)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n_tokens) % 2
    rows = []
    for i in range(n_tokens):
        base_true, base_other, alpha = -0.2 - rng.random(), -2 - rng.random(), rng.normal()
        rows.append((i, "none", np.nan, 0.0, False, False, False, True, base_true, base_other))
        kinds = ["X", "X", "Y", "Y", "Z", "", "", "", "", "", "", "", "", "unclear"]
        for k, kind in enumerate(kinds):
            a = 100.0 if kind == "Z" else 50.0 if k == 5 else rng.uniform(5, 40)
            d = 50.0 if kind == "unclear" else alpha + 0.02 * a + 0.5 * (kind == "X")
            other = base_other + 0.3 * (kind == "Y")
            rows.append((i, "tile", 100.0 * k, a, kind == "X", kind == "Y", kind == "Z",
                         kind != "unclear", base_true - d, other))  # fmt: skip
    columns = ["token", "band", "centre_hz", "removed_db", "overlap_X", "overlap_Y", "overlap_Z",
               "clear", "true", "other"]  # fmt: skip
    bands = pd.DataFrame(rows, columns=columns)
    bands["overlap_any"] = bands[["overlap_X", "overlap_Y", "overlap_Z"]].any(axis=1)
    true = labels[bands["token"]]
    bands["logp_a"] = np.where(true == 0, bands["true"], bands["other"])
    bands["logp_b"] = np.where(true == 1, bands["true"], bands["other"])
    tokens = pd.DataFrame({"utt_id": [f"u{i // 2}" for i in range(n_tokens)], "word": "w"})
    return bands.drop(columns=["true", "other"]), tokens, labels


def test_the_needs_fit_on_a_band_table_made_by_hand():
    bands, tokens, labels = band_table()
    needs = needs_table(bands, tokens, ["X", "Y", "Z"], ["a", "b"], labels, n_pieces=4,
                        n_boot=50).set_index("cue")  # fmt: skip
    assert list(needs.index) == ["X", "Y", "Z", "any"]
    assert needs.loc["X", "beta"] == pytest.approx(0.5, abs=1e-8)
    assert needs.loc["Y", "beta"] == pytest.approx(0.0, abs=1e-8)
    assert needs.loc["X", ["low", "high"]].tolist() == pytest.approx([0.5, 0.5], abs=1e-8)
    assert needs.loc["X", "p"] < 1e-6
    assert needs.loc["X", "n_overlapping"] == 80 and needs.loc["Z", "n_overlapping"] == 40
    assert needs.loc["any", "n_overlapping"] == 200
    assert (needs["n_tokens"] == 40).all() and (needs["n_clusters"] == 20).all()
    # Z's bands remove more than any band over no cue: no band matches them
    assert needs.loc["X", "share_matched"] == 1 and needs.loc["Z", "share_matched"] == 0
    assert 0 < needs.loc["any", "beta"] < 0.5
    pairs = pair_table(bands, tokens, ["X", "Y", "Z"], ["a", "b"], labels, n_pieces=4,
                       n_boot=50)  # fmt: skip
    assert len(pairs) == 2 * 4
    assert set(zip(pairs.true_class, pairs.competitor, strict=True)) == {("a", "b"), ("b", "a")}
    for (_, cue), beta in pairs.set_index(["true_class", "cue"])["beta"].items():
        expected = {"X": 0.5, "Y": 0.3}.get(cue)
        if expected is not None:
            assert beta == pytest.approx(expected, abs=1e-8), cue
    assert (pairs["n_tokens"] == 20).all() and (pairs["n_clusters"] == 20).all()
    # utterance x word clusters: every token is its own in this table (two words per utt)
    tokens["word"] = ["x", "y"] * 20
    by_word = needs_table(bands, tokens, ["X", "Y", "Z"], ["a", "b"], labels, "utterance_word",
                          n_pieces=4, n_boot=20)  # fmt: skip
    assert (by_word["n_clusters"] == 40).all()


def test_fit_needs_strata_and_what_it_leaves_out():
    rng = np.random.default_rng(2)
    token = np.repeat(np.arange(30), 10)
    cue = np.tile(np.arange(10) < 2, 30)
    stratum = token % 3  # class 0 needs the cue (1.0), the others do not
    a = rng.uniform(0, 20, len(token))
    d = rng.normal(0, 1, 30)[token] + 0.05 * a + np.where(stratum == 0, 1.0, 0.0) * cue
    d[:10] = np.nan  # token 0's rows: left out
    fit = fit_needs(d, a, cue[:, None], token, token // 2, stratum, n_pieces=3, n_boot=100)
    # the strata's betas (1, 0, 0) weighted by their tokens (9 after token 0 went, 10, 10)
    assert fit["beta"][0] == pytest.approx(9 / 29, abs=1e-8)
    assert fit["n_tokens"] == 29 and fit["n_clusters"] == 15
    assert fit["n_overlapping"].tolist() == [58]
    pooled = fit_needs(d, a, cue[:, None], token, token // 2, None, n_pieces=3, n_boot=100)
    assert 0.2 < pooled["beta"][0] < 0.45  # one curve for all: about the same, not exact
    none = fit_needs(d, a, np.zeros((len(d), 1)), token, token, n_boot=10)
    assert np.isnan(none["beta"]).all() and np.isnan(none["p"]).all()
    assert np.isnan(none["share_matched"]).all()
    few = fit_needs(d[10:19], a[10:19], cue[10:19, None], token[10:19], token[10:19], n_boot=5)
    assert np.isnan(few["beta"]).all()  # fewer than 10 rows: no fit


# --- edge cases that the mutation run showed untested ------------------------------------------


def test_deletion_and_template_edge_cases():
    _, masks = deletion_masks(np.array([1, 0]), 2)
    assert masks.dtype == bool
    got = deletion_orders({"m": np.array([False, True, False])}, np.random.default_rng(0))
    assert got["m"][0] == 1  # a boolean map: the row it marks first
    table = pd.DataFrame({"utt_id": list("abcdef"), "order": "cam", "area": np.arange(6.0),
                          "faithfulness": np.arange(6.0)})  # fmt: skip
    from spectrocam.stats import cluster_bootstrap_ci

    row = summarise_deletion(table, 100, 7).iloc[0]
    assert (row.area_low, row.area_high) == cluster_bootstrap_ci(table.area, table.utt_id, 100,
                                                                 0.95, 7)[1:]  # fmt: skip
    flat = np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 3.0]])
    with np.errstate(divide="raise", invalid="raise"):  # a flat profile divides by nothing
        assert _zscored(flat)[0].tolist() == [0.0, 0.0, 0.0]
    empty, summary = class_templates(np.zeros((0, 3, 2)), np.arange(3.0), np.zeros((0, 2), bool),
                                     [])  # fmt: skip
    assert list(empty.columns) == ["class_name", "cell", "freq_hz", "template"] and summary.empty


def test_inside_masks_and_identical_groups_edge_cases():
    from spectrocam.evidence.ranks import identical_method_groups, inside_masks

    mask = inside_masks([np.array([1.0, 2.0]), [0]], 3)  # cells read back as floats
    assert mask.dtype == bool and mask.tolist() == [[False, True, True], [True, False, False]]
    table = pd.DataFrame({"phone_id": ["u/0", "u/0"], "auc_F1": [0.5, 0.6]})
    with pytest.raises(pd.errors.MergeError):  # a token twice: no pairing
        identical_method_groups({"a": table, "b": table})


def test_floors_are_float32_and_the_fits_default_to_1000_resamples():
    x = np.arange(12.0).reshape(4, 3)
    assert local_floor(x, None, 10).dtype == np.float32
    assert local_floor(x, np.array([1]), 10).dtype == np.float32
    bands, tokens, labels = band_table(12)
    args = (bands, tokens, ["X", "Y", "Z"], ["a", "b"], labels)
    for fit in (needs_table, pair_table):
        pd.testing.assert_frame_equal(fit(*args, n_pieces=4), fit(*args, n_pieces=4, n_boot=1000))


def test_the_causal_fit_is_per_class():
    """Class b needs X (0.6) and loses energy twice as fast; class a needs nothing. Fitted per
    class with its own energy curve, beta is the token-weighted mean of 0.6 and 0: 0.3."""
    bands, tokens, labels = band_table(40)
    b = labels[bands.token] == 1
    rows = bands.band != "none"
    extra = np.where(bands.overlap_X, 0.1, 0.0) + 0.02 * bands.removed_db  # b only
    lp = np.where(b & rows, bands.logp_b - extra, bands.logp_b)
    bands = bands.assign(logp_b=lp)
    a = ~b & rows & bands.overlap_X
    bands.loc[a, "logp_a"] += 0.5  # class a: X's drop undone
    needs = needs_table(bands, tokens, ["X", "Y", "Z"], ["a", "b"], labels, n_pieces=4,
                        n_boot=20).set_index("cue")  # fmt: skip
    assert needs.loc["X", "beta"] == pytest.approx(0.3, abs=1e-8)


def test_the_energy_order_keeps_ties_in_row_order():
    x = np.random.default_rng(0).integers(0, 3, (186, 1)).astype(float)
    by_hand = sorted(range(186), key=lambda i: (-x[i, 0], i))
    assert signal_orders(x)["energy"].tolist() == by_hand


def test_fit_needs_small_cases_by_hand():
    from spectrocam.evidence.needs import _matched, energy_basis

    # matched: a cue band as loud as the loudest band over no cue is matched; none without one
    assert _matched(np.array([5.0, 5.0, 3.0]), np.array([[1], [0], [0]]), np.zeros(3)).tolist() == [
        1.0
    ]
    assert _matched(np.array([1.0, 2.0]), np.array([[1], [1]]), np.zeros(2)).tolist() == [0.0]
    # knots at ties of the smallest or largest value add nothing: left out
    ties = np.repeat([0.0, 1.0], 50)
    assert energy_basis(ties, 4).shape == (100, 2)
    # the bootstrap's standard error (ddof 1) from two draws, recovered from their percentiles
    rng = np.random.default_rng(4)
    token = np.repeat(np.arange(10), 6)
    cue = np.tile(np.arange(6) < 2, 10)[:, None]
    a = rng.uniform(0, 10, 60)
    d = rng.normal(0, 1, 10)[token] + 0.1 * a + 0.05 * cue[:, 0] + rng.normal(0, 0.3, 60)
    two = fit_needs(d, a, cue, token, token // 2, n_pieces=1, n_boot=2)
    spread = (two["high"][0] - two["low"][0]) / 0.95  # |b2 - b1|
    se = spread / np.sqrt(2)
    assert two["p"][0] == pytest.approx(math.erfc(abs(two["beta"][0]) / se / math.sqrt(2)))
    assert 0.001 < two["p"][0] < 0.999  # a p-value that the standard error decides
    assert two["n_overlapping"].dtype.kind == "i" and two["n_overlapping"].tolist() == [20]
    one = fit_needs(d, a, cue, token, token // 2, n_pieces=1, n_boot=1)
    assert np.isnan(one["low"]).all() and np.isnan(one["high"]).all()
    missing = fit_needs([*d[:-1], None], a, cue, token, token // 2, n_pieces=1, n_boot=2)
    assert missing["n_tokens"] == 10 and np.isfinite(missing["beta"]).all()
