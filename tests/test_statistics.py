"""Fast known answers for the statistics, each worked by hand or by an independent formula: the
tests that ``make mutation`` runs every mutant of the statistics against (docs/testing.md), beside
the known-answer tests of each module; the bands, deletion curves, templates, randomised controls
and causal fit are in tests/test_statistics_bands.py."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from spectrocam.evidence.agreement import (
    band_shares,
    permutation_null,
    profile_agreement,
    within_class_orders,
)
from spectrocam.evidence.baselines import (
    class_mean_profiles,
    envelope_profiles,
    pool_to_cells,
    prior_profiles,
    scaled,
    spectrum_profiles,
)
from spectrocam.evidence.cues import (
    cue_intervals,
    cue_names,
    fixed_intervals,
    formant_intervals,
    token_clusters,
)
from spectrocam.stats import cluster_bootstrap, cluster_bootstrap_ci, cluster_sign_flip, holm

# --- stats ---------------------------------------------------------------------------------


def test_the_bootstrap_weights_each_cluster_by_its_values():
    """Cluster a holds one 0, cluster b three 1s. The mean is 3/4 (values, not clusters); a
    draw of a and b once each gives 3/4 again, so with half the draws there the central 40 %
    interval is exactly (3/4, 3/4); the 95 % one spans a alone (0) to b alone (1)."""
    values, clusters = [0.0, 1.0, 1.0, 1.0], ["a", "b", "b", "b"]
    assert cluster_bootstrap_ci(values, clusters, 4000, 0.4, 1) == (0.75, 0.75, 0.75)
    assert cluster_bootstrap_ci(values, clusters, 4000, 0.95, 1) == (0.75, 0.0, 1.0)
    mean = lambda idx: float(np.mean(np.asarray(values)[idx]))  # noqa: E731
    assert cluster_bootstrap(mean, clusters, 4000, 0.4, 1) == (0.75, 0.75, 0.75)
    assert cluster_bootstrap(mean, clusters, 4000, 0.95, 1) == (0.75, 0.0, 1.0)
    # one cluster: no interval to draw; all values equal: the interval is that value
    assert cluster_bootstrap(mean, ["a"] * 4) == (0.75, 0.75, 0.75)
    assert cluster_bootstrap_ci([1.0, 3.0], ["u", "u"]) == (2.0, 2.0, 2.0)
    # clusters by default: each value its own, so the interval is narrower than the range
    _, low, high = cluster_bootstrap_ci(np.arange(20.0), None, 2000, 0.95, 0)
    assert 5 < low < 9.5 < high < 14
    _, low, high = cluster_bootstrap(lambda idx: np.arange(20.0)[idx].mean(), np.arange(20))
    assert 5 < low < 9.5 < high < 14


def test_the_bootstrap_interval_is_that_of_an_independent_resampling():
    """The percentile interval against one computed here from its own draws of clusters."""
    rng = np.random.default_rng(3)
    clusters = np.repeat(np.arange(12), 3)
    values = rng.normal(2.0, 1.0, 36)
    draws = np.random.default_rng(9).integers(0, 12, (20000, 12))
    sums = np.bincount(clusters, weights=values)
    boot = sums[draws].sum(1) / (3 * 12)
    expected = np.quantile(boot, [0.05, 0.95])
    mean, low, high = cluster_bootstrap_ci(values, clusters, 20000, 0.9, 0)
    assert mean == pytest.approx(values.mean())
    assert (low, high) == pytest.approx(tuple(expected), abs=0.03)
    stat = lambda idx: values[idx].mean()  # noqa: E731
    value, low, high = cluster_bootstrap(stat, clusters, 5000, 0.9, 0)
    assert value == pytest.approx(values.mean())
    assert (low, high) == pytest.approx(tuple(expected), abs=0.04)


def test_the_sign_flip_counts_every_flip_at_least_as_far_from_zero():
    """Three clusters with sums 3, 1, 1 over four values (the NaN left out: T = 5/4):
    |±3 ±1 ±1| >= 5 only for all + and all -, p = 2/8 exactly; the Monte-Carlo p is near it."""
    values = [1.0, 2.0, 1.0, 1.0, np.nan]
    clusters = ["a", "a", "b", "c", "d"]
    assert cluster_sign_flip(values, clusters, exact=True) == (1.25, 0.25)
    assert cluster_sign_flip(values, clusters, n_flips=8) == (1.25, 0.25)  # 2^3 <= 8: exact
    mean, p = cluster_sign_flip(values, clusters, n_flips=20000, seed=3, exact=False)
    assert mean == 1.25 and p == pytest.approx(0.25, abs=0.01) and p != 0.25
    # sums 1, 1: |±1 ±1| >= 2 for 2 of 4 flips; a negative mean keeps its sign
    assert cluster_sign_flip([-1.0, -1.0], ["a", "b"]) == (-1.0, 0.5)
    # Monte-Carlo never gives p = 0: the observed flip counts
    _, p = cluster_sign_flip(np.full(40, 1.0), np.arange(40), n_flips=99, seed=0)
    assert p == pytest.approx(1 / 100)
    with pytest.raises(ValueError, match="too large"):
        cluster_sign_flip(np.ones(31), np.arange(31), exact=True)


def test_holm_by_hand():
    # p sorted 0.01, 0.02, 0.03, 0.5: x4, x3, x2, x1 = 0.04, 0.06, 0.06, 0.5 (running maximum)
    assert holm([0.03, 0.5, 0.01, 0.02]).tolist() == pytest.approx([0.06, 0.5, 0.04, 0.06])
    assert holm([0.4, 0.6]).tolist() == [0.8, 0.8]  # capped at 1, and never below an earlier
    assert holm([0.9, 0.6]).tolist() == [1.0, 1.0]
    out = holm([np.nan, 0.02, 0.01])
    assert np.isnan(out[0]) and out[1:].tolist() == pytest.approx([0.02, 0.02])  # m = 2
    assert holm([]).tolist() == []


# --- agreement -----------------------------------------------------------------------------


def test_band_shares_by_hand():
    freqs = np.arange(6) * 100.0  # 0 .. 500 Hz
    profiles = np.array([[1.0, 1, 2, 0, 4, 0], [0.0, 0, 0, 0, 0, 0], [1.0, 1, 1, 1, 1, 1]])
    fm = np.array([[100.0, 400.0, np.nan], [100.0, np.nan, np.nan], [np.nan] * 3])
    out = band_shares(profiles, freqs, fm, 50)
    # row 0: F1 band is the 100 Hz row (1 of 8), F2 the 400 Hz row (4 of 8), union 5/8
    assert out[0, :2].tolist() == [1 / 8, 4 / 8] and np.isnan(out[0, 2]) and out[0, 3] == 5 / 8
    assert np.isnan(out[1]).all()  # an all-zero profile
    assert np.isnan(out[2]).all()  # no formant at all
    out = band_shares(profiles[:1], freqs, np.array([[100.0, 200.0, 150.0]]), 100)
    # F1 rows 0-200 (4/8), F2 100-300 (3/8), F3 100-200 (3/8), union 0-300 (4/8)
    assert out.tolist() == [[0.5, 3 / 8, 3 / 8, 0.5]]


def test_profile_agreement_peak_positions_and_ratios_by_hand():
    freqs = np.arange(10) * 100.0
    profile = np.array([0, 0, 0, 0, 0, 1.0, 3, 0, 0, 0])
    out = profile_agreement(profile, freqs, {"F1": 500.0, "F2": 900.0}, 50, np.array([150.0]))
    assert out["share_F1"] == 0.25 and out["share_F2"] == 0 and out["chance_F1"] == 0.1
    assert out["ratio_F1"] == pytest.approx(2.5) and out["ratio_F2"] == 0
    assert np.isnan(out["share_F3"]) and np.isnan(out["ratio_F3"])
    assert out["share_any"] == 0.25 and out["chance_any"] == 0.2
    assert out["peak_hz"] == 600 and out["peak_hit"] == 0.0
    assert out["peak_chance"] == 0.0  # the one possible peak position (150 Hz) is near none
    near = profile_agreement(profile, freqs, {"F1": 600.0}, 0, np.array([600.0, 100.0]))
    assert near["peak_hit"] == 1.0 and near["peak_chance"] == 0.5
    tie = profile_agreement(np.r_[np.zeros(8), 2, 2], freqs, {"F1": 850.0}, 50)
    assert tie["peak_hz"] == 850 and tie["peak_hit"] == 1.0  # the centre of the tied rows


def test_within_class_orders_move_items_within_their_group_only():
    groups = np.array([0, 1, 0, 2, 1, 0, 1, 1])
    orders = list(within_class_orders(groups, 50, seed=4))
    assert len(orders) == 50
    for order in orders:
        assert sorted(order) == list(range(len(groups)))
        assert (groups[order] == groups).all()
        assert order[3] == 3  # alone in its group
    assert any((order != np.arange(len(groups))).any() for order in orders)
    assert [o.tolist() for o in within_class_orders(groups, 3, 4)] == [
        o.tolist() for o in orders[:3]
    ]
    assert [o.tolist() for o in within_class_orders(groups, 3, 5)] != [
        o.tolist() for o in orders[:3]
    ]


def test_the_permutation_null_shuffles_formants_within_each_class_only():
    """Two classes whose F1 lie far apart (300 and 800 Hz, 20 Hz spread within a class), each
    map on its class's F1: within a class another token's F1 is as near, so the null equals the
    observed share (p large). A null that shuffled across classes would give half the tokens the
    other class's F1 and halve the null mean."""
    rng = np.random.default_rng(0)
    freqs = np.arange(0, 2000, 10.0)
    groups = np.repeat([0, 1], 40)
    centre = np.where(groups == 0, 300.0, 800.0)
    f1 = centre + rng.normal(0, 20, 80)
    formants = np.column_stack([f1, f1 + 1000, np.full(80, np.nan)])
    maps = np.exp(-(((freqs[None, :] - centre[:, None]) / 40) ** 2))
    result = permutation_null(maps, formants, groups, freqs, 100, n_perm=200)
    assert result["F1"]["observed"] > 0.95 and result["F1"]["null_mean"] > 0.9
    assert result["F1"]["p"] > 0.2 and result["F1"]["n"] == 80
    assert math.isnan(result["F3"]["observed"])


def test_the_permutation_null_by_hand():
    """Two tokens of one class, each map all on its own F1 (scaled differently), F1 200 and
    600 Hz: observed share 1, the null's orders give 1 or 0; p = (1 + #{null >= 1}) / (1 + n)."""
    freqs = np.arange(8) * 100.0
    maps = np.zeros((3, 8))
    maps[0, 2], maps[1, 6] = 5.0, 0.5
    formants = np.array([[200.0, np.nan, np.nan], [600.0, np.nan, np.nan], [400.0] * 3])
    result = permutation_null(maps, formants, np.zeros(3, int), freqs, 10, 99, seed=2)
    f1 = result["F1"]
    assert f1["n"] == 2 and f1["observed"] == 1.0  # the all-zero map is left out
    kept = [o for o in within_class_orders(np.zeros(2, int), 99, 2)]
    same = sum(o[0] == 0 for o in kept)
    assert f1["null_mean"] == pytest.approx(same / 99)
    assert f1["p"] == pytest.approx((1 + same) / 100)
    assert 0.2 < f1["p"] < 0.8 and result["any"]["observed"] == 1.0


# --- cues ----------------------------------------------------------------------------------


def test_cue_intervals_and_clusters_by_hand():
    fm = np.array([[500.0, 1500.0, np.nan]])
    intervals = formant_intervals(fm, 100)
    assert list(intervals) == ["F1", "F2", "F3"]
    assert intervals["F1"].tolist() == [[400.0, 600.0]] and intervals["F2"].tolist() == [
        [1400.0, 1600.0]
    ]
    assert np.isnan(intervals["F3"]).all()
    assert list(formant_intervals(fm[:, :2], 10, ("a", "b"))) == ["a", "b"]
    assert fixed_intervals({"bar": (0, 500)}, 2)["bar"].tolist() == [[0.0, 500.0]] * 2
    regions = {"voicing": {"bar": (0.0, 500.0)}}
    assert cue_names("voicing", regions) == ["bar"] and cue_names("v", regions) == [
        "F1",
        "F2",
        "F3",
    ]
    tokens = pd.DataFrame({"phone_id": ["u/1", "u/0", "w/0"]})
    formants = pd.DataFrame({"phone_id": ["u/0", "u/1"], "f1_hz": [300.0, 700.0],
                             "f2_hz": [2000.0, 1100.0], "f3_hz": [2800.0, 2500.0]})  # fmt: skip
    got = cue_intervals(tokens, "v", regions, formants, 50)
    assert got["F1"][:2].tolist() == [[650.0, 750.0], [250.0, 350.0]]  # the tokens' order
    assert np.isnan(got["F2"][2]).all()  # no formant row: no interval
    assert cue_intervals(tokens, "voicing", regions, None, 50)["bar"].shape == (3, 2)
    with pytest.raises(ValueError, match="formant table"):
        cue_intervals(tokens, "v", regions, None, 50)
    table = pd.DataFrame({"utt_id": ["a", "a", "b"], "word": ["x", "y", "x"]})
    assert token_clusters(table).tolist() == ["a", "a", "b"]
    assert token_clusters(table, "utterance_word").tolist() == ["a|x", "a|y", "b|x"]


# --- baselines -----------------------------------------------------------------------------


def test_baselines_by_hand():
    times = np.array([-0.01, 0.0, 0.01])
    spec = np.array([[[1.0, 2.0, 9.0], [3.0, 5.0, 7.0]]])
    # the vowel spans the first two frames (centre 1.0 s, vowel 0.99-1.0)
    assert spectrum_profiles(spec, times, [1.0], [0.99], [1.0]).tolist() == [[1.5, 4.0]]
    # a vowel between frames: the frame nearest its midpoint
    assert spectrum_profiles(spec, times, [1.0], [1.013], [1.014]).tolist() == [[9.0, 7.0]]
    prior = prior_profiles(np.array([0.0, 300.0]), 2)
    assert prior.tolist() == [[1 / 200, 1 / 500]] * 2
    db = np.array([[-10.0, -30.0, -20.0]])
    assert scaled(db).tolist() == [[20.0, 0.0, 10.0]]
    assert scaled(db, 2)[0].tolist() == pytest.approx([1.0, 1e-4, 1e-2])
    with pytest.raises(ValueError, match="db or a number"):
        scaled(db, "power")
    profiles = np.array([[2.0, 2.0], [1.0, 3.0], [0.0, 0.0], [5.0, 5.0]])
    loo = class_mean_profiles(profiles, np.array([0, 0, 0, 1]))
    # token 0: mean of (0.25, 0.75) and (0, 0); token 2: of (0.5, 0.5) and (0.25, 0.75)
    assert loo.tolist() == [[0.125, 0.375], [0.25, 0.25], [0.375, 0.625], [0.0, 0.0]]
    cells = pool_to_cells(np.array([[1.0, 3.0, 5.0, 10.0]]), np.array([0, 0, 1, 1]))
    assert cells.tolist() == [[2.0, 2.0, 7.5, 7.5]]
    # the envelope keeps floor(span x 2.5 ms) cepstral coefficients: a constant stays itself,
    # a cosine at quefrency 5 of 8 coefficients goes on a 4 kHz axis (10 kept), off at 1 kHz (2)
    x = np.cos(2 * np.pi * 5 * np.arange(64) / 64)[None, :] + 3
    np.testing.assert_allclose(envelope_profiles(x, 4000.0), x, atol=1e-12)
    np.testing.assert_allclose(envelope_profiles(x, 1000.0), np.full((1, 64), 3.0), atol=1e-12)
    np.testing.assert_allclose(envelope_profiles(x, 100.0), 3.0, atol=1e-12)  # at least 1


# --- edge cases that the mutation run showed untested ------------------------------------------


def test_agreement_edge_cases():
    freqs = np.arange(10) * 100.0
    small = np.full(10, 0.05)  # a profile whose mass is below 1: still a profile
    out = profile_agreement(small, freqs, {"F1": 500.0}, 50)
    assert out["share_F1"] == pytest.approx(0.1) and out["ratio_F1"] == pytest.approx(1.0)
    assert out["peak_hit"] == 1.0  # a flat profile: every row is its peak, centred at 450 Hz
    off_axis = profile_agreement(small, freqs, {"F1": 5000.0}, 50)  # no row near F1: no chance
    assert off_axis["chance_F1"] == 0 and math.isnan(off_axis["ratio_F1"])


def test_baseline_edge_cases():
    db = np.array([[-10.0, -30.0], [-50.0, -40.0]])  # each profile relative to its own loudest
    np.testing.assert_allclose(scaled(db, 1), [[1.0, 0.01], [0.1, 1.0]])
    pooled = pool_to_cells(np.array([[1, 2, 5]]), np.array([0, 0, 1]))  # integer profiles
    assert pooled.dtype == float and pooled.tolist() == [[1.5, 1.5, 5.0]]
    spec = np.array([[[1.0, 2.0, 2.0]]], dtype=np.float16)  # stored as float16
    mean = spectrum_profiles(spec, np.array([-0.01, 0.0, 0.01]), [1.0], [0.98], [1.02])
    assert mean[0, 0] == pytest.approx(5 / 3, abs=1e-9)  # averaged in float64


def test_cue_and_token_edge_cases():
    from spectrocam.evidence.causal import causal_tokens

    tokens = pd.DataFrame({"phone_id": [f"u/{i}" for i in range(100)]})
    cues = {"F1": np.tile([1.0, 2.0], (100, 1))}
    first, again = causal_tokens(tokens, cues, 10, 3), causal_tokens(tokens, cues, 10, 3)
    assert first.tolist() == again.tolist() != causal_tokens(tokens, cues, 10, 4).tolist()
    assert causal_tokens(tokens, cues, 100, 3).tolist() == list(range(100))


def test_defaults_and_clusters_of_the_tests():
    """The documented defaults (1,000 permutations, 10,000 sign flips, seed 0) and the clusters
    that the rank contrast resamples."""
    from spectrocam.evidence.ranks import rank_contrasts, table_cues

    freqs = np.arange(8) * 100.0
    maps = np.eye(8)[[2, 6, 2, 6]]
    fm = np.array([[200.0] * 3, [600.0] * 3, [600.0] * 3, [200.0] * 3])
    null = permutation_null(maps, fm, np.zeros(4, int), freqs, 10)["F1"]
    assert null == permutation_null(maps, fm, np.zeros(4, int), freqs, 10, 1000, 0)["F1"]
    assert null["p"] * 1001 == pytest.approx(round(null["p"] * 1001))
    _, p = cluster_sign_flip(np.ones(40), np.arange(40))
    assert p == pytest.approx(1 / 10001)
    assert cluster_bootstrap(lambda idx: np.asarray(idx).size, np.arange(5))[0] == 5
    assert cluster_bootstrap_ci([1.0, None, 3.0])[0] == 2.0  # a missing value is left out
    rng = np.random.default_rng(0)
    tokens = pd.DataFrame({"phone_id": [f"u{i // 3}/{i % 3}" for i in range(30)],
                           "utt_id": [f"u{i // 3}" for i in range(30)]})  # fmt: skip
    ours = tokens.assign(auc_F1=rng.random(30))
    theirs = tokens.assign(auc_F1=rng.random(30))
    row = rank_contrasts(ours, theirs, n_boot=500, n_flips=200).iloc[0]
    diff = ours.auc_F1 - theirs.auc_F1
    assert (row["low"], row["high"]) == cluster_bootstrap_ci(diff, tokens.utt_id, 500)[1:]
    assert table_cues(ours) == ["F1"] and table_cues(ours.assign(auc_any=0.5)) == ["F1", "any"]


def test_more_edge_cases_of_the_tests():
    from spectrocam.evidence.agreement import _peak_positions
    from spectrocam.evidence.ranks import token_aucs

    # Monte-Carlo sign flips drawn in chunks (4,000 clusters: chunks of 1,048): all-zero values
    # tie every flip, so p is exactly 1 whatever the chunks
    assert cluster_sign_flip(np.zeros(4000), np.arange(4000), n_flips=3000, seed=1) == (0.0, 1.0)
    # peak positions: the mean frequency of each cell's rows
    positions = _peak_positions(np.arange(6) * 100.0, np.array([0, 0, 1, 1, 1, 2]))
    assert positions.tolist() == [50.0, 300.0, 500.0]
    # no cue at all: only "any", which has no cell
    aucs, n_cells = token_aucs(np.zeros((2, 3, 2)), np.arange(3.0), np.ones((2, 2), bool), {})
    assert aucs.shape == (2, 1) and np.isnan(aucs).all() and n_cells.tolist() == [6, 6]


def test_fit_needs_is_least_squares_with_token_effects():
    """With one energy piece the fit is ordinary least squares of the drop on a token dummy
    each, the dB removed and the cue indicators: numpy's lstsq on that design, worked here."""
    from spectrocam.evidence.needs import fit_needs

    rng = np.random.default_rng(5)
    token = np.repeat(np.arange(12), 8)
    cues = np.stack([np.tile(np.arange(8) < 2, 12), np.tile(np.arange(8) == 3, 12)], 1)
    a = rng.uniform(0, 30, len(token))
    d = rng.normal(0, 1, 12)[token] + 0.03 * a + 0.4 * cues[:, 0] + rng.normal(0, 0.2, len(a))
    design = np.column_stack([np.eye(12)[token], a, cues])
    expected = np.linalg.lstsq(design, d, rcond=None)[0][-2:]
    fit = fit_needs(d, a, cues, token, token // 2, n_pieces=1, n_boot=200)
    np.testing.assert_allclose(fit["beta"], expected, atol=1e-9)
    assert (fit["low"] < fit["beta"]).all() and (fit["beta"] < fit["high"]).all()
    default = fit_needs(d, a, cues, token, token // 2, n_pieces=1)
    explicit = fit_needs(d, a, cues, token, token // 2, n_pieces=1, n_boot=1000, seed=0)
    assert default["low"].tolist() == explicit["low"].tolist()


def test_the_cluster_bootstrap_is_seeded_with_0_by_default():
    """Its documented default: two calls without a seed give the interval of seed 0 (and
    another seed gives another interval, so the comparison can fail)."""
    from spectrocam.stats import cluster_bootstrap

    values = np.random.default_rng(3).normal(size=40)
    clusters = np.repeat(np.arange(20), 2)

    def mean(i):
        return values[i].mean()

    assert cluster_bootstrap(mean, clusters) == cluster_bootstrap(mean, clusters, seed=0)
    assert cluster_bootstrap(mean, clusters) != cluster_bootstrap(mean, clusters, seed=1)
