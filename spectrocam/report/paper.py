"""The study's own figure, per experiment: each class's mean spectrogram over its test tokens
with the class-mean map over it and the class-mean formants, and beside it the class-mean
spectrum with the map's frequency profile (the figure the study compares by eye, with the
numbers it never reported).

:func:`class_means` computes what the figure draws (also written as a table,
``report/<experiment>/class_means.tsv``); :func:`plot_paper_figure` draws it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from spectrocam.explain.grid import to_grid, vowel_frames
from spectrocam.explain.maps import MapFile
from spectrocam.keys import join
from spectrocam.report.figures import plt, save_figure
from spectrocam.report.profiles import class_profiles
from spectrocam.segments.store import read_spectrogram_block

__all__ = ["ClassMeans", "phone_spectrum", "class_means", "means_table", "plot_paper_figure"]

BLOCK = 256  # spectrograms read at a time


@dataclass
class ClassMeans:
    """Per class (the classes that have test tokens): the mean dB spectrogram (F, T) of its test
    tokens; the mean of their maps, each token's positive part scaled to its maximum (F, T); the
    mean dB spectrum over the frames inside each token's phone (F,); the map's mean frequency
    profile (:func:`spectrocam.report.profiles.class_profiles`; F,); the mean F1-F3 of the
    tokens (single-vowel classes); the mean phone interval relative to the window's centre (s)."""

    method: str
    freqs_hz: np.ndarray
    times_s: np.ndarray
    n: dict[str, int] = field(default_factory=dict)
    spectrogram: dict[str, np.ndarray] = field(default_factory=dict)
    map: dict[str, np.ndarray] = field(default_factory=dict)
    spectrum: dict[str, np.ndarray] = field(default_factory=dict)
    profile: dict[str, np.ndarray] = field(default_factory=dict)
    formants: dict[str, list[float]] = field(default_factory=dict)
    phone_s: dict[str, tuple[float, float]] = field(default_factory=dict)


def phone_spectrum(spectrogram: np.ndarray, times_s, centre_s, start_s, end_s) -> np.ndarray:
    """A token's spectrum: the mean dB over the frames of its window inside its phone (at least
    the nearest one)."""
    return spectrogram[:, vowel_frames(times_s, centre_s, start_s, end_s)].mean(axis=1)


def _spectra(maps: MapFile, store: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Per class: the sum of the tokens' spectrograms (C, F, T) and of their phone spectra."""
    seg = maps.segments
    n_classes, shape = len(maps.class_names), (len(maps.freqs_hz), len(maps.times_s))
    spec_sum = np.zeros((n_classes, *shape))
    spectrum_sum = np.zeros((n_classes, shape[0]))
    for lo in range(0, len(seg), BLOCK):
        part = seg.iloc[lo : lo + BLOCK]
        block = read_spectrogram_block(store, part["segment_index"].to_numpy())
        for s, r in zip(block, part.itertuples(index=False), strict=True):
            spec_sum[r.label] += s
            spectrum_sum[r.label] += phone_spectrum(
                s, maps.times_s, r.window_centre_s, r.start_s, r.end_s
            )
    return spec_sum, spectrum_sum


def class_means(
    maps: MapFile,
    store: str | Path,
    formants: pd.DataFrame,
    classes: Mapping[str, Sequence[str]],
    method: str = "cam",
) -> ClassMeans:
    """The class means of the map file's test tokens (every row; the map's, of the rows that
    ``method`` has maps of). ``formants`` has ``phone_id`` and ``f1_hz``-``f3_hz``;
    ``classes`` maps each class to its phones (formants are drawn for single-phone classes)."""
    seg = maps.segments
    out = ClassMeans(method, maps.freqs_hz, maps.times_s)
    spec_sum, spectrum_sum = _spectra(maps, store)
    counts = np.bincount(seg["label"], minlength=len(maps.class_names))
    cells = np.clip(maps.cells(method, "true"), 0, None).astype(float)
    top = cells.max(axis=(1, 2))
    scaled = np.divide(
        cells, top[:, None, None], out=np.zeros_like(cells), where=top[:, None, None] > 0
    )
    map_labels = seg["label"].to_numpy()[maps.rows(method)]
    grid = maps.cell_grid(method, cells.shape[1:])
    profiles = class_profiles(maps, method, "true")
    measured = (
        join(seg, formants, ["f1_hz", "f2_hz", "f3_hz"], how="left") if len(formants) else None
    )
    for k, name in enumerate(maps.class_names):
        if not counts[k]:
            continue
        own = seg["label"].to_numpy() == k
        out.n[name] = int(counts[k])
        out.spectrogram[name] = spec_sum[k] / counts[k]
        out.spectrum[name] = spectrum_sum[k] / counts[k]
        mine = map_labels == k
        out.map[name] = to_grid(scaled[mine].mean(axis=0), *grid) if mine.any() else None
        out.profile[name] = profiles.get(name)
        centre = seg["window_centre_s"][own]
        out.phone_s[name] = (float((seg["start_s"][own] - centre).mean()),
                             float((seg["end_s"][own] - centre).mean()))  # fmt: skip
        if measured is not None and len(classes.get(name, ())) == 1:
            out.formants[name] = [
                float(measured[f][own].mean()) for f in ("f1_hz", "f2_hz", "f3_hz")
            ]
    return out


def means_table(means: ClassMeans) -> pd.DataFrame:
    """The class-mean spectrum and map profile per class and frequency row, with n."""
    parts = []
    for name, spectrum in means.spectrum.items():
        profile = means.profile.get(name)
        parts.append(
            pd.DataFrame(
                {
                    "class_name": name,
                    "freq_hz": means.freqs_hz,
                    "spectrum_db": spectrum,
                    "map_profile": profile if profile is not None else np.nan,
                    "method": means.method,
                    "n_tokens": means.n[name],
                }
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def plot_paper_figure(
    means: ClassMeans,
    path: str | Path,
    title: str,
    cues: Mapping[str, Sequence[float]] | None = None,
    colours: Mapping[str, str] | None = None,
) -> None:
    """Top row: each class's mean spectrogram (grey, dB) with its mean map over it (colour),
    the mean F1-F3 over the mean phone (green) and the mean phone boundaries (dashed); bottom
    row: its mean spectrum (dB, black) beside the map's profile (the class's colour), with the
    mean F1-F3 (red). ``cues``: fixed cue regions (Hz) drawn as bands instead."""
    names = list(means.spectrogram)
    width = min(9.0, 1.7 * max(len(names), 2) + 0.9)  # 9 in: 864 px on the page, never shrunk
    fig, axes = plt.subplots(
        2, max(len(names), 1), figsize=(width, 4.2), squeeze=False, sharey="row"
    )
    specs = np.stack([means.spectrogram[n] for n in names]) if names else np.zeros((1, 1, 1))
    low, high = np.percentile(specs, [5, 99.5])
    for j, name in enumerate(names):
        _spectrogram_panel(axes[0, j], means, name, (low, high), cues)
        colour = (colours or {}).get(name, "C1")
        _spectrum_panel(
            axes[1, j], means, name, colour, cues, first=j == 0, last=j == len(names) - 1
        )
    handles = [
        Line2D([], [], color="black", lw=1, label="class-mean spectrum (dB)"),
        Line2D(
            [], [], color="grey", lw=1.4, label=f"{means.method.upper()} profile (class colour)"
        ),
        Line2D([], [], color="#00aaff", lw=0.8, ls="--", label="mean phone boundaries"),
    ]
    if means.formants:
        handles += [
            Line2D([], [], color="lime", lw=1.6, label="mean F1-F3 (top)"),
            Line2D([], [], color="#d62728", lw=0.9, ls="--", label="mean F1-F3 (bottom)"),
        ]
    if cues:
        handles.append(Patch(color="#00aaff", alpha=0.12, label="cues: " + ", ".join(cues)))
    columns = len(handles) if width >= 8 else 2
    rows = -(-len(handles) // columns)
    fig.legend(handles=handles, loc="lower center", ncol=columns, fontsize=6.5, frameon=False)
    fig.suptitle(
        f"{title}: class-mean spectrogram with the class-mean {means.method.upper()} over it "
        "(top); class-mean spectrum and the map's profile (bottom)",
        fontsize=9,
    )
    save_figure(fig, path, rect=(0, 0.045 * rows * 4.6 / 4.2 + 0.01, 1, 1))


def _spectrogram_panel(ax, means: ClassMeans, name: str, limits, cues) -> None:
    f, t = means.freqs_hz, means.times_s * 1000
    extent = [t[0], t[-1], f[0], f[-1]]
    ax.imshow(means.spectrogram[name], origin="lower", aspect="auto", extent=extent,
              cmap="gray_r", vmin=limits[0], vmax=limits[1])  # fmt: skip
    m = means.map.get(name)
    if m is not None and m.max() > 0:
        # the map's upper half only, so that the spectrogram stays visible under it
        shown = np.ma.masked_less(m / m.max(), 0.5)
        ax.imshow(shown, origin="lower", aspect="auto", extent=extent, cmap="inferno",
                  alpha=0.45, vmin=0, vmax=1)  # fmt: skip
    start, end = (1000 * v for v in means.phone_s[name])
    for x in (start, end):
        ax.axvline(x, color="#00aaff", lw=0.8, ls="--")
    for k, hz in enumerate(means.formants.get(name, []), start=1):
        if np.isfinite(hz):
            ax.plot([start, end], [hz, hz], color="lime", lw=1.6)
            ax.text(t[0] + 2, hz, f"F{k}", color="#006400", fontsize=6.5, va="bottom",
                    bbox={"facecolor": "white", "alpha": 0.7, "pad": 0.5, "lw": 0})  # fmt: skip
    for lo, hi in (cues or {}).values():
        ax.axhspan(lo, hi, color="#00aaff", alpha=0.12, lw=0)
    ax.set_title(f"{name} (n = {means.n[name]})", fontsize=8)
    ax.set_xlabel("ms from centre", fontsize=7)
    ax.tick_params(labelsize=6.5)


def _spectrum_panel(ax, means: ClassMeans, name: str, colour: str, cues, first, last) -> None:
    f = means.freqs_hz
    ax.plot(f, means.spectrum[name], color="black", lw=1, label="mean spectrum (dB)")
    ax.tick_params(labelsize=6.5)
    ax.set_xlabel("Hz", fontsize=7)
    if first:
        ax.set_ylabel("dB", fontsize=7)
    profile = means.profile.get(name)
    twin = ax.twinx()
    if profile is not None:
        twin.plot(f, profile / profile.max(), color=colour, lw=1.4, label="map profile")
    twin.set_ylim(0, 1.05)
    twin.set_yticks([0, 1] if last else [])
    twin.tick_params(labelsize=6.5)
    for hz in means.formants.get(name, []):
        if np.isfinite(hz):
            ax.axvline(hz, color="#d62728", lw=0.9, ls="--")
    for lo, hi in (cues or {}).values():
        ax.axvspan(lo, hi, color="#00aaff", alpha=0.12, lw=0)
