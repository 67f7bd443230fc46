"""The study's figure: class means of spectrogram, map and spectrum, on a small hand-made run
whose answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from spectrocam.explain.grid import vowel_frames
from spectrocam.explain.maps import MapFile
from spectrocam.report.paper import class_means, means_table, plot_paper_figure
from spectrocam.report.profiles import class_profiles
from spectrocam.segments.store import read_store

from .test_explorer import make_run


def test_the_class_means_are_the_means_of_the_class_tokens(tmp_path):
    run = make_run(tmp_path)
    maps = MapFile(run["maps"])
    store = read_store(run["store"])
    means = class_means(maps, run["store"], run["formants"], {"IY": ["IY"], "AA": ["AA"]})
    seg = maps.segments
    for k, name in enumerate(maps.class_names):
        own = np.flatnonzero(seg.label == k)
        specs = store["spectrograms"][seg.segment_index[own]].astype(float)
        assert means.n[name] == len(own)
        assert np.allclose(means.spectrogram[name], specs.mean(axis=0))
        spectra = [
            s[
                :, vowel_frames(maps.times_s, *seg.loc[i, ["window_centre_s", "start_s", "end_s"]])
            ].mean(axis=1)
            for s, i in zip(specs, own, strict=True)
        ]
        assert np.allclose(means.spectrum[name], np.mean(spectra, axis=0))
        # the map: each token's positive part scaled to its maximum, averaged, on the grid
        grids = [np.clip(maps.grid("cam", "true", i), 0, None) for i in own]
        grids = [g / g.max() for g in grids if g.max() > 0]
        expected = np.sum(grids, axis=0) / len(own)
        assert np.allclose(means.map[name], expected)
        assert np.allclose(means.profile[name], class_profiles(maps, "cam", "true")[name])
        f1 = run["formants"].set_index("phone_id").f1_hz[seg.phone_id[own]]
        assert means.formants[name][0] == pytest.approx(f1.mean())  # of the measured tokens
        centre = seg.window_centre_s[own]
        assert means.phone_s[name][0] == pytest.approx((seg.start_s[own] - centre).mean())
    table = means_table(means)
    assert set(table.class_name) == {"IY", "AA"} and len(table) == 2 * len(maps.freqs_hz)
    assert table.groupby("class_name").n_tokens.first().to_dict() == means.n


def test_a_class_of_several_phones_has_no_formant_lines_and_its_cues_are_drawn(tmp_path):
    run = make_run(tmp_path)
    maps = MapFile(run["maps"])
    means = class_means(maps, run["store"], run["formants"], {"IY": ["IY", "IH"], "AA": ["AA"]})
    assert "IY" not in means.formants and "AA" in means.formants
    path = tmp_path / "paper.png"
    plot_paper_figure(means, path, "vowels", cues={"voicing_bar": [0, 200]})
    assert Image.open(path).info["dpi"][0] == pytest.approx(200, abs=1)
    assert "<svg" in path.with_suffix(".svg").read_text()
    assert Image.open(path).size[0] <= 9 * 200  # 9 in: shown at full size beside another
    assert isinstance(means_table(means), pd.DataFrame)
