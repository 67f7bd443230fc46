"""Time inside the vowel: a profile averages only the map's time cells whose centre lies inside
the phone. Synthetic map files whose cells outside the phone carry more mass at a band that is
no formant than the cells inside carry at the formant."""

from __future__ import annotations

import numpy as np
import pandas as pd

from spectrocam.evidence.agreement import segment_agreement, summarise_agreement
from spectrocam.explain.grid import cell_times, vowel_cells
from spectrocam.explain.maps import MapFile, MapWriter

HOP_S, N_FRAMES, STRIDE = 0.005, 61, 8  # config.yaml's window: 0.3 s, 8 cells of 40 ms
N_ROWS, HZ_PER_ROW = 40, 100.0
FORMANT_ROW, OTHER_ROW = 6, 30  # 600 Hz (F1) and 3,000 Hz (no formant)
# the time cells inside a phone of each half-width around the window's centre, by hand: cell
# centres at -150, -110, -70, -30, 10, 50, 90, 130 ms (test_cell_times_follow_the_stride)
INSIDE_CELLS = {0.08: [2, 3, 4, 5], 0.04: [3, 4], 0.01: [4]}


def times():
    return (np.arange(N_FRAMES) - N_FRAMES // 2) * HOP_S


def test_cell_times_follow_the_stride():
    centres = cell_times(times(), 8, STRIDE)
    assert np.allclose(centres, (np.arange(8) * 8 - 30) * HOP_S)  # -150, -110, ..., +130 ms


def test_vowel_cells_inside_the_phone_and_the_nearest_for_a_short_one():
    centres = cell_times(times(), 8, STRIDE)  # ms: -150 -110 -70 -30 10 50 90 130
    assert vowel_cells(centres, 1.0, 1.0 - 0.08, 1.0 + 0.08).tolist() == [2, 3, 4, 5]
    assert vowel_cells(centres, 1.0, 1.0 - 0.04, 1.0 + 0.04).tolist() == [3, 4]
    # 20 ms around the window's centre holds no cell centre: the one at +10 ms is nearest
    assert vowel_cells(centres, 1.0, 1.0 - 0.01, 1.0 + 0.009).tolist() == [4]
    # a window of one stride-32 cell (the demo's 11 frames): that cell, however far its centre
    assert vowel_cells(cell_times(times()[:11], 1, 32), 1.0, 0.99, 1.01).tolist() == [0]


def map_file(path, half_widths_s):
    """One segment per half-width, centred on its phone. Inside the phone, every cell has 1.0 at
    the formant's row; outside, 5.0 at another row (and negative values that must not count)."""
    n = len(half_widths_s)
    seg = pd.DataFrame(
        {
            "phone_id": [f"U{i}/0" for i in range(n)],
            "utt_id": [f"U{i}" for i in range(n)],
            "word": "w",
            "phone": "AA1",
            "start_s": 1.0 - np.asarray(half_widths_s),
            "end_s": 1.0 + np.asarray(half_widths_s),
            "window_centre_s": 1.0,
            "segment_index": np.arange(n),
            "label": 0,
            "predicted": 0,
        }
    )
    cells = np.zeros((n, N_ROWS // 4, 8), dtype=np.float32)
    for i, h in enumerate(half_widths_s):
        inside = np.zeros(8, dtype=bool)
        inside[INSIDE_CELLS[h]] = True
        cells[i, FORMANT_ROW // 4, inside] = 1.0
        cells[i, OTHER_ROW // 4, ~inside] = 5.0
        cells[i, 0, ~inside] = -9.0
    freqs = np.arange(N_ROWS) * HZ_PER_ROW
    with MapWriter(path, seg, np.ones((n, 1)), ["AA"], freqs, times()) as w:
        w.add_method("cam", np.arange(n), cells.shape[1:], (4, STRIDE), "layer4")
        w.write("cam", "true", 0, cells)
    return MapFile(path)


def test_profiles_see_the_formant_of_the_cells_inside_the_phone(tmp_path):
    half_widths = [0.08, 0.04, 0.01]
    maps = map_file(tmp_path / "m.h5", half_widths)
    assert maps.n_cells("cam").tolist() == [4, 2, 1]
    profiles = maps.profiles("cam")
    formant_cell = maps.cell_grid("cam")[0] == FORMANT_ROW // 4  # the rows nearest that cell
    for profile in profiles:
        assert np.allclose(profile[formant_cell], 1.0)
        assert np.allclose(profile[~formant_cell], 0.0)  # the 5.0 outside the phone is unseen
    # averaging the whole window instead would have put most mass at 3,000 Hz
    whole = np.clip(maps.cells("cam"), 0, None).mean(axis=2)
    assert (whole[:, OTHER_ROW // 4] > whole[:, FORMANT_ROW // 4]).all()
    assert maps.profiles("cam", rows=[2]).shape == (1, N_ROWS)
    assert maps.n_cells("cam", rows=[2, 0]).tolist() == [1, 4]


def test_agreement_reports_the_cells_it_used(tmp_path):
    maps = map_file(tmp_path / "m.h5", [0.08, 0.04, 0.01])
    formants = pd.DataFrame(
        {"phone_id": maps.segments.phone_id, "f1_hz": 450.0, "f2_hz": np.nan, "f3_hz": np.nan}
    )  # +/- 150 Hz: rows 300-600 Hz, the four rows of the formant's cell
    table = segment_agreement(maps, formants, 150.0)
    assert table["n_cells"].tolist() == [4, 2, 1]
    assert np.allclose(table["share_F1"], 1.0)  # the formant cell holds all the mass
    summary = summarise_agreement(table, n_boot=100)
    row = summary[(summary.class_name == "(all)") & (summary.outcome == "all")].iloc[0]
    assert row["n_cells_median"] == 2 and row["n_cells_min"] == 1
