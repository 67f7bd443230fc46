"""The static report's figures: every title fits inside its figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text

from spectrocam.report import figures
from spectrocam.report.figures import fit_titles

LONG = "vowels_4k (The same five vowels, 0-4 kHz, and a description much longer than this)"


def titles(fig) -> list[Text]:
    """The figure's title, and its axes' titles and axis labels."""
    out = [fig._suptitle] if fig._suptitle is not None else []
    for ax in fig.axes:
        out += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
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
    assert "\n" in fig._suptitle.get_text() and "\n" in axes[0].get_title()
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
    assert len(kept) == 4
    for k, fig in enumerate(kept):
        assert texts_inside(fig) == [], k
    # one epoch: whole-number ticks only
    ticks = kept[-1].axes[0].get_xticks()
    assert all(float(t).is_integer() for t in ticks)
