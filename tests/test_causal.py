"""Causal checks, the permutation null and the error analysis, on cases with known answers."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from spectrocam.config import ConfigError
from spectrocam.evidence.agreement import permutation_null
from spectrocam.evidence.causal import (
    CausalConfig,
    half_widths,
    occlusion_ceilings,
    run_causal_tests,
    segment_perturbations,
    summarise_deletion,
    summarise_occlusion,
)
from spectrocam.evidence.errors import explain_errors
from spectrocam.evidence.occlusion import (
    band_rows,
    deletion_orders,
    fill_change_db,
    local_floor,
    matched_controls,
    occupied_rows,
)
from spectrocam.keys import add_phone_ids

DF = 22050 / 1024  # the demo's rows: 21.5 Hz apart
FREQS = np.arange(186) * DF  # 0-4 kHz, as vowels_4k
EVIDENCE_HZ = 1500.0  # class 1 is louder here, and only here


def test_matched_controls_have_the_bands_rows_inside_the_axis_and_clear_of_formants():
    formants = [500.0, 1500.0, 2500.0]
    for w in (75.0, 150.0, 300.0):
        occupied = occupied_rows(FREQS, formants, w)
        for f in formants:
            band = band_rows(FREQS, f, w)
            controls = matched_controls(band, occupied, [2, 3])
            for offset, rows in controls:
                assert len(rows) == len(band) and np.all(np.diff(rows) == 1)
                assert rows[0] >= 0 and rows[-1] < len(FREQS)
                assert not occupied[rows].any()
                distance = (FREQS[rows].mean() - FREQS[band].mean()) / (len(band) * DF)
                assert distance == pytest.approx(offset, abs=0.5 / len(band))
    # +/- 150 Hz: 14 rows, 301 Hz. F2's controls 2 band widths away (about 900 and 2100 Hz)
    # fit; 3 band widths away (about 600 and 2400 Hz) they touch F1's and F3's bands
    occupied = occupied_rows(FREQS, formants, 150.0)
    offsets = [k for k, _ in matched_controls(band_rows(FREQS, 1500, 150), occupied, [2, 3])]
    assert sorted(offsets) == [-2.0, 2.0]
    # F1 at 300 Hz: below, the axis ends; above, F2's band at 1000 Hz is in the way: none fit
    occupied = occupied_rows(FREQS, [300.0, 1000.0], 150.0)
    assert matched_controls(band_rows(FREQS, 300, 150), occupied, [2, 3]) == []


def test_the_local_floor_never_adds_energy_and_empties_a_loud_band():
    rng = np.random.default_rng(0)
    x = rng.normal(-60, 4, (186, 11)).astype(np.float32)
    loud = band_rows(FREQS, EVIDENCE_HZ, 150)
    x[loud] += 40.0
    for centre in (EVIDENCE_HZ, 600.0, 2600.0, 3900.0):
        rows = band_rows(FREQS, centre, 150)
        delta, energy = fill_change_db(x, rows, local_floor(x, rows, 10))
        assert delta <= 0 and energy <= 0
    delta, energy = fill_change_db(x, loud, local_floor(x, loud, 10))
    assert delta < -40 and energy < -40  # the band falls to its surroundings' floor
    flat = np.full((186, 11), -50.0, np.float32)  # nothing to take away
    assert fill_change_db(flat, loud, local_floor(flat, loud, 10)) == (0.0, 0.0)


class ProfileModel(nn.Module):
    """A linear classifier of the frequency profile (the mean over frames)."""

    def __init__(self, n_rows: int) -> None:
        super().__init__()
        self.fc = nn.Linear(n_rows, 2)

    def forward(self, x):
        return self.fc((x.mean(-1)[:, 0] + 60) / 10)


def synthetic(n: int, rng, labels=None):
    """Spectrograms (n, 1, F, T) of noise at -60 dB with loud blobs at random rows in every
    segment; class 1 alone is 12 dB louder at EVIDENCE_HZ +/- 150 Hz."""
    labels = rng.integers(0, 2, n) if labels is None else labels
    x = rng.normal(-60, 3, (n, 1, len(FREQS), 11)).astype(np.float32)
    for i in range(n):
        lo = rng.integers(0, len(FREQS) - 8)
        x[i, 0, lo : lo + 8] += 12.0  # a distractor, in either class
    band = band_rows(FREQS, EVIDENCE_HZ, 150)
    x[np.ix_(labels == 1, [0], band)] += 12.0
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
    """What run_causal_tests reads of a segment store."""

    def __init__(self, x, labels):
        self.x, self.labels, self.freqs_hz = x, np.asarray(labels), FREQS

    def batch(self, indices):
        return self.x[np.asarray(indices)]


def causal_run(model, n=24, batch_size=16, formants=(EVIDENCE_HZ, 3000.0, np.nan), deletion=True):
    rng = np.random.default_rng(1)
    x, labels = synthetic(n, rng, labels=np.ones(n, dtype=int))  # all of the banded class
    profile = np.zeros(len(FREQS))
    profile[band_rows(FREQS, EVIDENCE_HZ, 150)] = 1.0
    orders = [deletion_orders({"good": profile, "bad": -profile}, rng) for _ in range(n)]
    cfg = CausalConfig(deletion_steps=6, bootstrap=500)
    occ, dele = run_causal_tests(
        model,
        Reader(x, labels),
        np.arange(n),
        np.tile(np.asarray(formants, float), (n, 1)),
        orders,
        cfg,
        half_widths(cfg, 150.0),
        torch.device("cpu"),
        batch_size,
        deletion=deletion,
    )
    utts = [f"LJ001-{k // 2:04d}" for k in range(n)]  # two segments per utterance
    occ, dele = pd.DataFrame(occ), pd.DataFrame(dele)
    occ.insert(0, "utt_id", [utts[r] for r in occ.row])
    if deletion:
        dele.insert(0, "utt_id", [utts[r] for r in dele.row])
    return occ, dele


def test_occluding_the_band_with_the_evidence_drops_and_its_matched_controls_do_not(trained):
    occ, dele = causal_run(trained)
    assert (occ.delta_db <= 0).all() and (occ.energy_db <= 0).all()  # no fill adds energy
    controls = occ[occ.kind == "control"]
    assert (controls.delta_db < -1).mean() > 0.9  # ... and the controls do take energy away
    summary = summarise_occlusion(occ, 500, 0, headline_hz=150.0).set_index(
        ["half_width_hz", "formant"]
    )
    assert list(summary.index.get_level_values(0).unique()) == [75.0, 150.0, 300.0]
    f1 = summary.loc[(150.0, "F1")]  # F1 sits on the evidence
    assert f1.headline and f1.n_segments == 24 and f1.n_paired == 24 and f1.n_utterances == 12
    assert f1.rows_formant == f1.rows_control == 14
    assert f1.drop_logp_formant > 2.0 and abs(f1.drop_logp_control) < 0.2
    assert f1.drop_logp_diff_low > 1.5 and f1.drop_p_diff_low > 0.5
    assert f1.drop_correct_formant > 0.9 and f1.drop_correct_control == 0
    f2 = summary.loc[(150.0, "F2")]  # F2 at 3 kHz, where nothing tells the classes apart
    assert abs(f2.drop_logp_diff) < 0.2 and f2.drop_logp_diff_low < 0.05
    # dose-response: a narrower band leaves part of the evidence
    assert summary.loc[(75.0, "F1")].drop_logp_formant < f1.drop_logp_formant
    # deletion: the map that ranks the band first is faithful, the reverse is not
    table = summarise_deletion(dele, 500, 0).set_index("method")
    assert set(table.index) == {"good", "bad", "random", "energy", "low_to_high"}
    assert table.loc["good", "faithfulness_low"] > 0.2
    assert table.loc["bad", "faithfulness"] < table.loc["good", "faithfulness_low"] - 0.2
    assert table.loc["random", "faithfulness"] == 0
    assert table.loc["energy", "kind"] == "baseline" and table.loc["good", "kind"] == "map"


def test_batches_across_segments_give_the_scores_of_one_segment_at_a_time(trained):
    one, one_del = causal_run(trained, n=5, batch_size=1)
    many, many_del = causal_run(trained, n=5, batch_size=4)  # groups of 4 and 1, batches split
    assert len(one) == len(many) and len(one_del) == len(many_del)
    np.testing.assert_allclose(one.drop_logp, many.drop_logp, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(one_del.area, many_del.area, rtol=1e-5, atol=1e-6)
    curves = np.array([[float(v) for v in c.split()] for c in many_del.curve])
    assert curves.shape == (5 * 5, 7)  # 5 orders, deletion_steps + 1 points
    p_true = many.groupby("row").p_true.first()
    np.testing.assert_allclose(curves[:, 0], p_true[many_del.row].to_numpy(), atol=1e-4)
    last = pd.Series(curves[:, -1]).groupby(many_del.row.to_numpy())
    assert (last.nunique() == 1).all()  # every order ends with every row removed
    assert (curves[:, -1] < 0.5).all() and (curves[:, 0] > 0.5).all()


def test_occlusion_at_another_ceiling_says_whether_the_causal_call_holds(trained):
    # the configured ceiling puts F1 on the evidence; "6000" moves it to 2.5 kHz, where nothing
    # tells the classes apart; "5000" moves F1 a little, still on the evidence
    headline, head_del = causal_run(trained, n=8)
    alone, no_del = causal_run(trained, n=8, deletion=False)
    assert len(head_del) and no_del.empty  # occlusions only, the same ones
    np.testing.assert_allclose(alone.drop_logp, headline.drop_logp, rtol=1e-5, atol=1e-6)
    moved, _ = causal_run(trained, n=8, formants=(2500.0, 3000.0, np.nan), deletion=False)
    near, _ = causal_run(trained, n=8, formants=(EVIDENCE_HZ + 40, 3000.0, np.nan), deletion=False)
    summaries = {
        label: summarise_occlusion(t, 300, 0, headline_hz=150.0)
        for label, t in (("configured", headline), ("5000", near), ("6000", moved))
    }
    table = occlusion_ceilings(summaries, "configured", 150.0)
    f1 = table[table.formant == "F1"].set_index(["ceiling", "half_width_hz"])
    assert (
        f1.loc[("configured", 150.0), "headline"]
        and f1.loc[("configured", 150.0), "call"] == "above"
    )
    assert f1.loc[("5000", 150.0), "holds"] and f1.loc[("5000", 150.0), "call"] == "above"
    assert f1.loc[("6000", 150.0), "call"] != "above" and not f1.loc[("6000", 150.0), "holds"]
    assert table.headline.sum() == 2  # F1 and F2 at the configured ceiling and 150 Hz
    assert set(table.ceiling) == {"configured", "5000", "6000"}


def test_formants_without_a_control_or_outside_the_axis_are_counted(trained):
    occ, _ = causal_run(trained, n=4, formants=(300.0, 1000.0, 5000.0))
    summary = summarise_occlusion(occ, 200, 0, headline_hz=150.0).set_index(
        ["half_width_hz", "formant"]
    )
    f1 = summary.loc[(150.0, "F1")]
    assert f1.n_segments == 4 and f1.n_no_control == 4 and f1.n_paired == 0
    assert np.isnan(f1.drop_logp_diff)
    assert summary.loc[(150.0, "F3")].n_outside == 4  # 5 kHz on a 0-4 kHz axis
    x = np.zeros((186, 11), np.float32)
    occlusions, masks, fills, names = segment_perturbations(
        x, FREQS, [300.0, 1000.0, 5000.0], [150.0], [2, 3], 10, {"random": np.arange(186)}, 4
    )
    # the unperturbed segment, F1 and F2 with F2's controls, 3 deletion steps and the last
    # (every row removed), shared by every order
    n_bands = sum(o["kind"] != "outside" for o in occlusions)
    assert len(masks) == len(fills) == 1 + n_bands + 3 + 1 and not masks[0].any()
    assert masks[-1].all() and masks[-2].sum() == round(0.75 * 186)
    assert [o["kind"] for o in occlusions if o["formant"] == "F3"] == ["outside"]


def test_a_half_width_of_zero_or_a_control_on_its_own_band_is_refused():
    assert half_widths(CausalConfig(half_widths_hz=(75.0, 300.0)), 150) == [75.0, 150.0, 300.0]
    with pytest.raises(ConfigError, match="half-width"):
        half_widths(CausalConfig(half_widths_hz=(0.0,)), 150)
    with pytest.raises(ConfigError, match="control offset"):
        half_widths(CausalConfig(control_offsets=(0.5,)), 150)


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


def test_the_comparison_shows_the_headline_paired_drops_and_the_deletion_baselines():
    from spectrocam.report.tables import comparison_table

    occlusion = pd.DataFrame(
        {
            "half_width_hz": [75.0, 150.0],
            "headline": [False, True],
            "formant": ["F1", "F1"],
            "n_paired": [9, 10],
            **{f"drop_p_diff{s}": [0.9, v] for s, v in (("", 0.2), ("_low", 0.1), ("_high", 0.3))},
            **{f"drop_logp_diff{s}": [9.0, v] for s, v in (("", 1.5), ("_low", 1), ("_high", 2))},
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
        pd.DataFrame(), deletion, occlusion, {"cam": 86.0},
    )  # fmt: skip
    row = table.iloc[0]
    assert row["occlusion F1 +/- 150 Hz: drop p formant - control (n)"].endswith("(10)")
    assert "1.5" in row["occlusion F1 +/- 150 Hz: drop log p formant - control"]
    assert not any("75 Hz" in c for c in table.columns)  # only the headline half-width
    assert "0.25" in row["faithfulness of energy order"]
    assert (
        "faithfulness of low_to_high order" in table and "faithfulness of random order" not in table
    )
