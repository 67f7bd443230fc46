"""The static report's figures: every title fits inside its figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.text import Text
from PIL import Image

from spectrocam.report import figures
from spectrocam.report.colours import CLASS_COLOURS, class_colour
from spectrocam.report.figures import fit_titles

LONG = "vowels_4k (The same five vowels, 0-4 kHz, and a description much longer than this)"


def titles(fig) -> list[Text]:
    """The figure's title, and its axes' titles and axis labels."""
    out = list(fig.texts)  # the figure's title is one of them
    for ax in fig.axes:
        out += [ax.title, ax.xaxis.label, ax.yaxis.label]
    return out


def texts_inside(fig) -> list[str]:
    """The titles and labels of ``fig`` that reach outside it (nothing if every one fits)."""
    fig.canvas.draw()
    renderer, box = fig.canvas.get_renderer(), fig.bbox
    out = []
    for t in titles(fig):
        if t.get_text() and t.get_visible():
            e = t.get_window_extent(renderer)
            if e.x0 < box.x0 - 1 or e.x1 > box.x1 + 1 or e.y0 < box.y0 - 1 or e.y1 > box.y1 + 1:
                out.append(t.get_text())
    return out


def test_fit_titles_wraps_what_is_wider_than_the_figure_or_its_axes():
    fig, axes = plt.subplots(1, 3, figsize=(6, 2.5))
    fig.suptitle(LONG + ": mean profile per method and class, red and dashed lines")
    for ax in axes:
        ax.set_title("LJ001-0015 AO1 'forms', true AO, predicted UW (p = 0.27)")
    fit_titles(fig)
    fig.tight_layout()
    assert texts_inside(fig) == []
    assert "\n" in fig.get_suptitle() and "\n" in axes[0].get_title()
    plt.close(fig)


@pytest.fixture
def kept(monkeypatch):
    """The figures the plotting functions make, kept open instead of closed."""
    made, close = [], plt.close
    monkeypatch.setattr(figures.plt, "close", made.append)
    yield made
    for fig in made:
        close(fig)


def test_the_report_figures_keep_their_titles_inside(tmp_path, kept):
    metrics = {
        "class_names": ["IY", "AE", "AA"],
        "confusion": [[5, 1, 0], [2, 3, 1], [0, 0, 4]],
        "accuracy": 0.75,
        "macro_f1": 0.7,
        "n": 16,
    }
    figures.plot_confusion(metrics, tmp_path / "c.png", LONG)
    freqs = np.linspace(0, 4000, 50)
    profiles = {c: np.abs(np.sin(freqs / (k + 300))) for k, c in enumerate(["IY", "AE", "AA"])}
    figures.plot_profiles(profiles, freqs, tmp_path / "p.png", LONG, hz_per_cell=689.0)
    methods = {m: profiles for m in ("cam", "gradcam", "gradcam++", "hirescam", "layercam")}
    hz = dict.fromkeys(methods, 86.0)
    figures.plot_method_profiles(methods, freqs, tmp_path / "m.png", LONG, hz, corpus="ljspeech")
    history = pd.DataFrame(
        {
            "epoch": [1],
            "train_loss": [1.2],
            "val_loss": [1.3],
            "train_accuracy": [0.4],
            "val_accuracy": [0.3],
            "val_macro_f1": [0.3],
            "best": [True],
        }  # fmt: skip
    )
    figures.plot_history(history, tmp_path / "h.png", LONG)
    tokens = pd.DataFrame({"class_name": ["AE", "IY", "AA"] * 4,
                           "f1_hz": np.arange(12) * 50.0 + 300,
                           "f2_hz": np.arange(12) * 100.0 + 1000})  # fmt: skip
    figures.plot_vowel_chart(tokens, tmp_path / "v.png", LONG)
    assert len(kept) == 5
    # every figure also as SVG beside its PNG; the PNG at print resolution, and no wider than the
    # page at 1,280 px (12 in at 96 px per inch), so that the page never shrinks its labels
    for name in ("c", "p", "m", "h", "v"):
        svg = (tmp_path / f"{name}.svg").read_text()
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg
        assert Image.open(tmp_path / f"{name}.png").info["dpi"][0] == pytest.approx(200, abs=1)
    assert all(fig.get_figwidth() <= 12 for fig in kept)
    # the vowel chart colours each class by the shared map, whatever order the data have
    chart = kept[-1].axes[0]
    drawn = {c.get_label().split()[0]: to_hex(c.get_facecolor()[0]) for c in chart.collections}
    assert drawn == {c: class_colour(c) for c in ("AE", "IY", "AA")}
    for k, fig in enumerate(kept):
        assert texts_inside(fig) == [], k
    # one epoch: whole-number ticks only
    ticks = kept[-1].axes[0].get_xticks()
    assert all(float(t).is_integer() for t in ticks)


def test_a_class_has_one_colour_everywhere():
    assert class_colour("IY") == CLASS_COLOURS["IY"] != class_colour("AE")
    assert class_colour("a class of its own") == class_colour("a class of its own")
    assert class_colour("a class of its own").startswith("#")
