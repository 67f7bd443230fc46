"""Known answers for the rank contrast (spectrocam.evidence.ranks): it is null on maps that
involve no network, finds a cue planted on F2, is invariant to monotone transforms of a map, and
counts ties as halves; methods whose maps are equal up to a positive factor are one group; the
class-contrastive templates peak where the classes differ."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spectrocam.evidence.baselines import envelope_profiles
from spectrocam.evidence.cues import (
    FORMANT_CUES,
    VOICING_CUES,
    fixed_intervals,
    formant_intervals,
)
from spectrocam.evidence.ranks import (
    auc_table,
    cell_centres_hz,
    identical_method_groups,
    inside_masks,
    map_file_aucs,
    rank_contrasts,
    token_aucs,
)
from spectrocam.evidence.templates import class_templates, map_file_templates
from spectrocam.explain.grid import cell_times, vowel_cells
from spectrocam.explain.maps import MapFile, MapWriter

N_UTT, PER_UTT, N_FREQ, N_TIME, HZ_PER_CELL = 20, 3, 40, 4, 100.0
WINDOW_HZ = 150.0
CELL_HZ = np.arange(N_FREQ) * HZ_PER_CELL  # 0 .. 3,900 Hz
CUES = (*FORMANT_CUES, "any")


def tokens(n_utt: int = N_UTT, per_utt: int = PER_UTT) -> pd.DataFrame:
    """``per_utt`` tokens in each of ``n_utt`` utterances, of two word types per utterance."""
    utt = np.repeat([f"LJ001-{u:04d}" for u in range(n_utt)], per_utt)
    k = np.tile(np.arange(per_utt), n_utt)
    return pd.DataFrame(
        {
            "phone_id": [f"{u}/{i}" for u, i in zip(utt, k, strict=True)],
            "utt_id": utt,
            "class_name": np.where(k % 2 == 0, "IY", "AA"),
            "word": np.where(k % 2 == 0, "the", "and"),
        }
    )


def formants(n: int, seed: int = 0) -> np.ndarray:
    """(n, 3) token-specific F1, F2, F3 in Hz, ranges far enough apart that the +/- 150 Hz
    intervals never overlap; every tenth token has no F3 (Praat lost it)."""
    rng = np.random.default_rng(seed)
    fm = np.stack(
        [rng.uniform(400, 800, n), rng.uniform(1300, 2200, n), rng.uniform(2600, 3200, n)], 1
    )
    fm[::10, 2] = np.nan
    return fm


def power(fm: np.ndarray, seed: int = 1) -> np.ndarray:
    """(n, f, t) power spectra: a resonance at each formant (1, 0.3, 0.1; 80 Hz bandwidth) over
    a floor, with log-normal noise per cell."""
    rng = np.random.default_rng(seed)
    f = CELL_HZ[None, :, None]
    p = np.full((len(fm), N_FREQ, N_TIME), 1e-3)
    for k, amplitude in enumerate((1.0, 0.3, 0.1)):
        centre = np.nan_to_num(fm[:, k], nan=-1e6)[:, None, None]
        p = p + amplitude / (1 + ((f - centre) / 80.0) ** 2)
    return p * np.exp(rng.normal(0, 0.3, p.shape))


def inside(n: int) -> np.ndarray:
    """(n, t) time cells inside the phone: the two middle ones, or one, or all four."""
    mask = np.zeros((n, N_TIME), dtype=bool)
    mask[:, 1:3] = True
    mask[::3, 2] = False
    mask[1::7] = True
    return mask


def network_free_maps(p: np.ndarray) -> dict[str, np.ndarray]:
    """The spectrum in dB and as power^0.25, its cepstrally smoothed envelope (per time cell) in
    dB, and a flat map."""
    n = len(p)
    per_cell = p.transpose(0, 2, 1).reshape(n * N_TIME, N_FREQ)
    span_hz = float(CELL_HZ[-1] - CELL_HZ[0])
    envelope = envelope_profiles(10 * np.log10(per_cell), span_hz)
    envelope = envelope.reshape(n, N_TIME, N_FREQ).transpose(0, 2, 1)
    return {
        "spectrum_db": 10 * np.log10(p),
        "power_0.25": p**0.25,
        "envelope_db": envelope,
        "flat": np.zeros_like(p),
    }


def table(maps: np.ndarray, fm: np.ndarray, tok: pd.DataFrame | None = None) -> pd.DataFrame:
    tok = tokens() if tok is None else tok
    return auc_table(tok, maps, CELL_HZ, inside(len(tok)), formant_intervals(fm, WINDOW_HZ))


def contrasts(trained, control, **kw) -> pd.DataFrame:
    kw = {"n_boot": 1000, "n_flips": 4000, "seed": 0} | kw
    return rank_contrasts(trained, control, **kw).set_index("cue")


@pytest.fixture(scope="module")
def data():
    fm = formants(N_UTT * PER_UTT)
    return fm, power(fm)


def test_network_free_maps_give_no_contrast(data):
    fm, p = data
    rng = np.random.default_rng(5)
    for name, m in network_free_maps(p).items():
        same = table(m, fm)
        result = contrasts(same, same)
        assert list(result.index) == list(CUES), name
        assert (result["difference"] == 0).all(), name
        assert ((result["low"] <= 0) & (result["high"] >= 0)).all(), name
        assert (result["p"] > 0.05).all(), name
        # each "model" with its own noise: still nothing between them
        scale = m.std() if m.std() > 0 else 1.0
        a = table(m + rng.normal(0, 0.5 * scale, m.shape), fm)
        b = table(m + rng.normal(0, 0.5 * scale, m.shape), fm)
        result = contrasts(a, b)
        assert ((result["low"] <= 0) & (result["high"] >= 0)).all(), (name, result)
        assert (result["p"] > 0.05).all(), (name, result)
        assert (result["n_clusters"] == N_UTT).all()


def test_the_contrast_keeps_its_level_on_network_free_maps(data):
    """Over 40 pairs of noisy copies of one network-free map: p < 0.05 in about 5 % of the
    cue tests (at most 10 %), and the interval holds 0 in about 95 % (at least 85 %)."""
    fm, p = data
    for name in ("spectrum_db", "flat"):
        m = network_free_maps(p)[name]
        scale = m.std() if m.std() > 0 else 1.0
        results = []
        for trial in range(40):
            rng = np.random.default_rng(1000 + trial)
            a = table(m + rng.normal(0, 0.5 * scale, m.shape), fm)
            b = table(m + rng.normal(0, 0.5 * scale, m.shape), fm)
            results.append(contrasts(a, b, n_boot=500, n_flips=999, seed=trial))
        result = pd.concat(results)
        assert (result["p"] < 0.05).mean() <= 0.10, name
        assert ((result["low"] <= 0) & (result["high"] >= 0)).mean() >= 0.85, name


def test_the_spectrum_ranks_its_formants_high_and_a_flat_map_at_one_half(data):
    fm, p = data
    maps = network_free_maps(p)
    spectrum = table(maps["spectrum_db"], fm)
    assert spectrum["auc_F1"].mean() > 0.9 and spectrum["auc_F2"].mean() > 0.8
    assert spectrum["auc_F3"].isna().sum() == len(fm[::10])  # no F3: no cells, no AUC
    flat = table(maps["flat"], fm)
    assert (flat[[f"auc_{c}" for c in CUES]].stack() == 0.5).all()


def test_identical_maps_give_exactly_zero_and_p_one(data):
    fm, p = data
    rng = np.random.default_rng(2)
    m = rng.normal(size=p.shape)
    result = contrasts(table(m, fm), table(m.copy(), fm))
    assert (result[["difference", "low", "high"]] == 0).all().all()
    assert (result["p"] == 1).all()
    assert (result["auc_trained"] == result["auc_control"]).all()


def test_the_auc_is_invariant_to_monotone_transforms_and_flips_with_the_sign(data):
    fm, p = data
    reference = token_aucs(p, CELL_HZ, inside(len(p)), formant_intervals(fm, WINDOW_HZ))[0]
    for transformed in (p**0.25, p**2, 10 * np.log10(p)):
        aucs = token_aucs(transformed, CELL_HZ, inside(len(p)), formant_intervals(fm, WINDOW_HZ))
        np.testing.assert_array_equal(aucs[0], reference)
    # signed maps are ranked as they are: a negative map is not dropped, its AUC is 1 - AUC
    negated = token_aucs(-p, CELL_HZ, inside(len(p)), formant_intervals(fm, WINDOW_HZ))[0]
    np.testing.assert_allclose(negated, 1 - reference, atol=1e-12, equal_nan=True)
    assert np.isfinite(negated[:, -1]).all()


def bump_on(fm: np.ndarray, k: int) -> np.ndarray:
    """(n, f, t) 1 on the cells of formant ``k``'s interval, else 0."""
    cells = np.abs(CELL_HZ[None, :] - fm[:, k, None]) <= WINDOW_HZ
    return np.repeat(cells[:, :, None], N_TIME, axis=2).astype(float)


def test_a_cue_planted_on_f2_is_found_on_f2_only(data):
    fm, _ = data
    rng = np.random.default_rng(7)
    control = rng.normal(size=(len(fm), N_FREQ, N_TIME))  # a map that knows no formant
    planted = control + 1.0 * bump_on(fm, 1)
    result = contrasts(table(planted, fm), table(control, fm))
    for cue in ("F2", "any"):
        assert result.loc[cue, "difference"] > 0 and result.loc[cue, "low"] > 0, cue
        assert result.loc[cue, "p"] < 0.01, cue
    # the F1 cells and the negatives are the same cells of the same values
    assert result.loc["F1", "difference"] == 0 and result.loc["F1", "p"] == 1
    # with its own noise per model, F1 is still null, F2 still found
    noisy = table(control + rng.normal(size=control.shape) + bump_on(fm, 1), fm)
    other = table(control + rng.normal(size=control.shape), fm)
    result = contrasts(noisy, other)
    assert result.loc["F1", "low"] <= 0 <= result.loc["F1", "high"]
    assert result.loc["F2", "low"] > 0 and result.loc["F2", "p"] < 0.01
    assert result.loc["F2", "auc_trained"] > result.loc["F2", "auc_control"]


def test_ties_count_one_half_by_hand():
    # 2 frequency cells (500, 1,500 Hz) x 3 time cells; F1 = 500 Hz, no F2
    m = np.array([[[3.0, 1.0, 2.0], [1.0, 0.0, 2.0]]])
    cell_hz = np.array([500.0, 1500.0])
    intervals = {"F1": np.array([[400.0, 600.0]]), "F2": np.array([[np.nan, np.nan]])}
    aucs, n_cells = token_aucs(m, cell_hz, np.ones((1, 3), bool), intervals)
    # 3 > {1, 0, 2}: 3; 1 ties 1, > 0: 1.5; 2 > {1, 0}, ties 2: 2.5  -> 7 of 9 pairs
    assert aucs[0, 0] == pytest.approx(7 / 9) and np.isnan(aucs[0, 1])
    assert aucs[0, 2] == pytest.approx(7 / 9) and n_cells.tolist() == [6]
    aucs, n_cells = token_aucs(m, cell_hz, np.array([[True, True, False]]), intervals)
    assert aucs[0, 0] == pytest.approx(3.5 / 4) and n_cells.tolist() == [4]  # {3, 1} vs {1, 0}
    # a constant map: every pair a tie
    flat = np.full((1, N_FREQ, N_TIME), 2.5)
    fm = np.array([[500.0, 1500.0, 2500.0]])
    aucs, _ = token_aucs(flat, CELL_HZ, np.ones((1, N_TIME), bool), formant_intervals(fm, 150))
    assert aucs.tolist() == [[0.5, 0.5, 0.5, 0.5]]
    # a cue over every cell leaves no negative: no AUC
    everything = {"all": np.array([[-1.0, 1e4]])}
    aucs, _ = token_aucs(flat, CELL_HZ, np.ones((1, N_TIME), bool), everything)
    assert np.isnan(aucs).all()


def brute_force_auc(values, positive, negative) -> float:
    pos, neg = values[positive], values[negative]
    if not len(pos) or not len(neg):
        return np.nan
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return greater / (len(pos) * len(neg))


def test_token_aucs_agree_with_counting_every_pair():
    rng = np.random.default_rng(11)
    n, f, t = 25, 12, 5
    cell_hz = np.arange(f) * 250.0
    maps = rng.integers(0, 4, (n, f, t)).astype(float)  # many ties
    maps[3, 2, 1] = np.nan  # a cell without a value is left out
    mask = rng.random((n, t)) < 0.6
    mask[:, 0] = True
    lo = rng.uniform(0, 2500, (n, 2))
    intervals = {"A": np.stack([lo[:, 0], lo[:, 0] + 600], 1), "B": np.stack([lo[:, 1]] * 2, 1)}
    intervals["A"][4] = np.nan
    aucs, n_cells = token_aucs(maps, cell_hz, mask, intervals)
    for i in range(n):
        used = mask[i][None, :] & np.isfinite(maps[i])
        cue = {
            k: ((cell_hz >= v[i, 0]) & (cell_hz <= v[i, 1]))[:, None] & used
            for k, v in intervals.items()
        }
        union = cue["A"] | cue["B"]
        negative = used & ~union
        expected = [brute_force_auc(maps[i], c, negative) for c in (cue["A"], cue["B"], union)]
        np.testing.assert_allclose(aucs[i], expected, atol=1e-12, equal_nan=True)
        assert n_cells[i] == used.sum()


def test_fixed_regions_are_the_same_cues_for_every_token():
    intervals = fixed_intervals(VOICING_CUES, 3)
    assert list(intervals) == ["voicing_bar", "frication"]
    assert intervals["frication"].tolist() == [[2500.0, 4000.0]] * 3
    m = np.zeros((3, N_FREQ, N_TIME))
    m[:, CELL_HZ <= 500] = 1.0  # all the map's mass on the voicing bar
    out = auc_table(tokens(1, 3), m, CELL_HZ, np.ones((3, N_TIME), bool), intervals)
    assert out.columns.tolist() == [
        "phone_id",
        "utt_id",
        "class_name",
        "word",
        "n_cells",
        "auc_voicing_bar",
        "auc_frication",
        "auc_any",
    ]
    assert (out["auc_voicing_bar"] == 1.0).all() and (out["auc_frication"] == 0.5).all()


def test_contrast_pairs_tokens_by_phone_id_and_counts_what_it_leaves_out(data):
    fm, _ = data
    rng = np.random.default_rng(3)
    m = rng.normal(size=(len(fm), N_FREQ, N_TIME))
    trained = table(m + bump_on(fm, 1), fm)
    control = table(m, fm).iloc[::-1].iloc[:-6]  # other order, six tokens fewer
    result = contrasts(trained, control)
    assert result.loc["F1", "n_tokens"] == len(fm) - 6 and result.loc["F1", "n_left_out"] == 0
    assert result.loc["F1", "difference"] == 0  # rows were paired by phone_id, not position
    no_f3 = np.isnan(fm[::-1][:-6, 2]).sum()
    assert result.loc["F3", "n_tokens"] == len(fm) - 6 - no_f3
    assert result.loc["F3", "n_left_out"] == no_f3


def test_utterance_by_word_clusters(data):
    fm, _ = data
    rng = np.random.default_rng(4)
    a = table(rng.normal(size=(len(fm), N_FREQ, N_TIME)), fm)
    b = table(rng.normal(size=(len(fm), N_FREQ, N_TIME)), fm)
    by_utt = contrasts(a, b)
    by_word = contrasts(a, b, cluster="utterance_word")
    assert by_utt.loc["any", "n_clusters"] == N_UTT
    assert by_word.loc["any", "n_clusters"] == 2 * N_UTT  # two word types per utterance
    assert by_word.loc["any", "difference"] == pytest.approx(by_utt.loc["any", "difference"])
    with pytest.raises(ValueError, match="cluster"):
        contrasts(a, b, cluster="speaker")
    with pytest.raises(KeyError, match="word"):
        contrasts(a.drop(columns="word"), b, cluster="utterance_word")


def test_methods_with_maps_equal_up_to_a_positive_factor_are_one_group(data):
    fm, p = data
    rng = np.random.default_rng(6)
    cam = rng.normal(size=p.shape)
    factor = rng.uniform(0.01, 100, len(fm))[:, None, None]  # a positive factor per token
    tables = {
        "cam": table(cam, fm),
        "gradcam": table(cam * factor, fm).iloc[::-1],  # rows in another order
        "gradcam++": table(cam + rng.normal(0, 0.3, cam.shape), fm),
        "hirescam": table(cam * factor / 7, fm).iloc[5:],  # fewer tokens
        "layercam": table(np.abs(cam), fm),
    }
    groups = identical_method_groups(tables)
    assert groups == [["cam", "gradcam", "hirescam"], ["gradcam++"], ["layercam"]]
    assert identical_method_groups({k: tables[k] for k in ("hirescam", "cam")}) == [
        ["hirescam", "cam"]
    ]


def test_templates_peak_where_the_classes_differ():
    n = 90
    rng = np.random.default_rng(8)
    classes = np.repeat(["IY", "AA", "UW"], n // 3)
    f2 = {"IY": 2300.0, "AA": 1200.0, "UW": 1600.0}
    fm = np.stack([np.full(n, 500.0), [f2[c] for c in classes], np.full(n, 2900.0)], 1)
    fm[:, 1] += rng.normal(0, 40, n)
    common = 3 * np.exp(-(((CELL_HZ - 500) / 200) ** 2))  # every class's F1: no contrast
    specific = np.exp(-(((CELL_HZ[None, :] - fm[:, 1:2]) / 150) ** 2))
    maps = (common + specific)[:, :, None] + rng.normal(0, 0.05, (n, N_FREQ, N_TIME))
    maps *= rng.uniform(0.1, 10, n)[:, None, None]  # each token's own scale: z-scored away
    mask = inside(n)
    templates, summary = class_templates(maps, CELL_HZ, mask, classes, fm)
    summary = summary.set_index("class_name")
    for c, hz in f2.items():
        assert abs(summary.loc[c, "peak_hz"] - hz) <= HZ_PER_CELL, c
        assert summary.loc[c, "f2_hz"] == pytest.approx(hz, abs=20)
        assert summary.loc[c, "n_tokens"] == n // 3
    assert set(templates.columns) >= {"class_name", "cell", "freq_hz", "template"}
    assert len(templates) == 3 * N_FREQ
    # the same map for every token (up to a positive factor and an offset): no template at all
    same = common[None, :, None] * rng.uniform(0.1, 10, (n, 1, 1)) + rng.normal(0, 1, (n, 1, 1))
    templates, _ = class_templates(np.broadcast_to(same, maps.shape), CELL_HZ, mask, classes)
    assert np.abs(templates["template"]).max() < 1e-9
    # a constant map has a zero profile, not NaN
    templates, summary = class_templates(np.ones_like(maps), CELL_HZ, mask, classes)
    assert (templates["template"] == 0).all() and "f1_hz" not in summary


HOP_S, N_FRAMES, STRIDE = 0.005, 61, 8  # config.yaml's window: 0.3 s, 8 cells of 40 ms


def test_map_file_aucs_and_templates_are_those_of_the_arrays(tmp_path, data):
    """A map file of stride-2 frequency cells (rows 50 Hz apart: cells 100 Hz apart) and
    stride-8 time cells: the wrappers take each cell's centre and the time cells inside each
    phone, and pair the formant table by phone_id."""
    fm, _ = data
    n = len(fm)
    tok = tokens()
    times = (np.arange(N_FRAMES) - N_FRAMES // 2) * HOP_S
    half = np.where(np.arange(n) % 2 == 0, 0.012, 0.06)  # one cell inside, or three
    seg = tok.assign(phone="AA1", start_s=1.0 - half, end_s=1.0 + half, window_centre_s=1.0)
    seg = seg.assign(segment_index=np.arange(n), label=(tok["class_name"] == "IY").astype(int))
    seg["predicted"] = seg["label"]
    cells = np.random.default_rng(9).normal(size=(n, N_FREQ, 8)).astype(np.float32)
    rows_hz = np.arange(2 * N_FREQ) * HZ_PER_CELL / 2
    with MapWriter(tmp_path / "m.h5", seg, np.ones((n, 2)), ["AA", "IY"], rows_hz, times) as w:
        w.add_method("cam", np.arange(n), (N_FREQ, 8), (2, STRIDE), "layer4")
        w.write("cam", "true", 0, cells)
    maps = MapFile(tmp_path / "m.h5")
    assert np.allclose(cell_centres_hz(maps.freqs_hz, N_FREQ, 2), CELL_HZ)
    centres = cell_times(times, 8, STRIDE)
    mask = inside_masks([vowel_cells(centres, 1.0, 1.0 - h, 1.0 + h) for h in half], 8)
    assert mask.sum(1).tolist()[:2] == [1, 3]
    rows = np.arange(n)[::-1][:50]
    intervals = formant_intervals(fm[rows], WINDOW_HZ)
    got = map_file_aucs(maps, "cam", intervals, rows)
    expected = auc_table(tok.iloc[rows], cells[rows], CELL_HZ, mask[rows], intervals)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True))
    formant_table = tok[["phone_id"]].assign(f1_hz=fm[:, 0], f2_hz=fm[:, 1], f3_hz=fm[:, 2])
    got_t, got_s = map_file_templates(maps, "cam", formants=formant_table.iloc[::-1])
    exp_t, exp_s = class_templates(cells, CELL_HZ, mask, tok["class_name"].to_numpy(), fm)
    assert exp_s["class_name"].tolist() == ["IY", "AA"]
    classes = ["AA", "IY", "UW"]  # the file's order; a class without a token is left out
    exp_t, exp_s = class_templates(cells, CELL_HZ, mask, tok["class_name"].to_numpy(), fm, classes)
    assert exp_s["class_name"].tolist() == ["AA", "IY"]
    pd.testing.assert_frame_equal(got_t, exp_t)
    pd.testing.assert_frame_equal(got_s, exp_s)
