"""The report's figures, each written to a PNG and closed."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from spectrocam.explain.maps import MapFile  # noqa: E402
from spectrocam.report.colours import class_colours  # noqa: E402

__all__ = [
    "save_figure",
    "fit_titles",
    "plot_confusion",
    "plot_history",
    "plot_profiles",
    "example_indices",
    "plot_examples",
    "plot_vowel_chart",
    "plot_method_profiles",
]


def save_figure(fig, path: str | Path, dpi: int = 200, tight: bool = True, rect=None) -> None:
    """Fit the titles, lay ``fig`` out, write it to ``path`` (a PNG at print resolution) and as
    SVG beside it (the same name, ``.svg``), and free it."""
    fit_titles(fig)
    if tight:
        fig.tight_layout(rect=rect)
    fig.savefig(path, dpi=dpi)
    fig.savefig(Path(path).with_suffix(".svg"))
    plt.close(fig)


def fit_titles(fig) -> None:
    """Wrap every title that is wider than its room onto more lines: the figure's title (and
    any other text of the figure) within the figure, an axes' title within the figure around
    its axes, or within its axes' width (and a tenth) where other axes stand beside it."""
    renderer = fig.canvas.get_renderer()
    width = fig.bbox.width
    texts = [(t, 0.96 * width) for t in fig.texts if t.get_text()]
    for ax in fig.axes:
        box = ax.get_position()
        beside = any(
            other is not ax and other.get_visible() and _overlap(box, other.get_position())
            for other in fig.axes
        )
        centre = (box.x0 + box.x1) / 2 * width
        room = 1.1 * box.width * width if beside else 1.92 * min(centre, width - centre)
        if ax.title.get_text():
            texts.append((ax.title, room))
    for text, room in texts:
        for _ in range(6):
            wide = text.get_window_extent(renderer).width
            if wide <= room:
                break
            lines = text.get_text().split("\n")
            chars = max(8, int(max(map(len, lines)) * room / wide * 0.95))
            text.set_text("\n".join(textwrap.fill(line, chars) for line in lines))


def _overlap(a, b) -> bool:
    """Whether two axes positions share a band of height (stand side by side)."""
    return min(a.y1, b.y1) - max(a.y0, b.y0) > 0.2 * min(a.height, b.height)


def _empty_figure(path: str | Path, text: str) -> None:
    fig, ax = plt.subplots(figsize=(6, 1.2))
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=9)
    save_figure(fig, path, tight=False)


def plot_confusion(metrics: Mapping, path: str | Path, title: str) -> None:
    names = metrics["class_names"]
    matrix = np.asarray(metrics["confusion"], dtype=float)
    rows = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, rows, out=np.zeros_like(matrix), where=rows > 0)
    fig, ax = plt.subplots(figsize=(1.1 * len(names) + 2.5, 1.0 * len(names) + 2))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(
                j,
                i,
                f"{int(matrix[i, j])}\n{share[i, j]:.0%}",
                ha="center",
                va="center",
                color="white" if share[i, j] > 0.5 else "black",
                fontsize=8,
            )
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(
        f"{title}\naccuracy {metrics['accuracy']:.1%}, macro-F1 {metrics['macro_f1']:.3f}"
        f" (n = {metrics['n']})",
        fontsize=9,
    )
    save_figure(fig, path)


def plot_history(history: pd.DataFrame, path: str | Path, title: str) -> None:
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
    a.plot(history["epoch"], history["train_loss"], "o-", label="training")
    a.plot(history["epoch"], history["val_loss"], "o-", label="validation")
    a.set_xlabel("epoch")
    a.set_ylabel("cross-entropy")
    a.legend()
    b.plot(history["epoch"], history["train_accuracy"], "o-", label="training accuracy")
    b.plot(history["epoch"], history["val_accuracy"], "o-", label="validation accuracy")
    b.plot(history["epoch"], history["val_macro_f1"], "s--", label="validation macro-F1")
    best = history[history["best"].astype(str) == "True"]
    if len(best):
        b.axvline(best["epoch"].iloc[-1], color="grey", ls=":", label="kept model")
    b.set_xlabel("epoch")
    for ax in (a, b):  # epochs are whole numbers
        if len(history) <= 15:
            ax.set_xticks(history["epoch"].to_numpy())
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    b.set_ylim(0, 1)
    b.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    save_figure(fig, path)


def plot_profiles(
    profiles: Mapping[str, np.ndarray],
    freqs_hz: np.ndarray,
    path: str | Path,
    title: str,
    measured: Mapping[str, Sequence[float]] | None = None,
    reference: Mapping[str, Sequence[float]] | None = None,
    hz_per_cell: float | None = None,
    corpus: str = "measured",
) -> None:
    """One panel per class: mean CAM profile, measured formant means (solid) and reference
    means (dashed)."""
    names = list(profiles)
    if not names:
        _empty_figure(path, f"{title}: no test segment has a positive CAM inside its phone")
        return
    fig, axes = plt.subplots(
        len(names), 1, figsize=(8, 1.6 * len(names) + 0.8), sharex=True, squeeze=False
    )
    for ax, name in zip(axes[:, 0], names, strict=True):
        ax.plot(freqs_hz, profiles[name], color="C0", lw=1.2)
        ax.set_ylabel(name, rotation=0, ha="right", va="center")
        ax.set_yticks([])
        for k, f in enumerate((measured or {}).get(name, []), start=1):
            if np.isfinite(f):
                label = f"{corpus} mean F1-F3" if k == 1 else None
                ax.axvline(f, color="C3", lw=1, label=label)
        for k, f in enumerate((reference or {}).get(name, []), start=1):
            if np.isfinite(f):
                ax.axvline(
                    f, color="k", lw=1, ls="--", label="Hillenbrand women F1-F3" if k == 1 else None
                )
    handles, labels = [], []
    for ax in axes[:, 0]:
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(h)
                labels.append(label)
    if handles:
        axes[0, 0].legend(handles, labels, fontsize=7, loc="upper right")
    axes[-1, 0].set_xlabel("frequency (Hz)")
    cell = f", {hz_per_cell:.0f} Hz per CAM cell" if hz_per_cell else ""
    fig.suptitle(f"{title}: mean CAM frequency profile of the true class{cell}", fontsize=10)
    save_figure(fig, path)


def example_indices(maps: MapFile, n: int) -> list[int]:
    """Up to ``n`` test segments (rows of the map file): per class in turn the most confident
    correct one, then the most confidently misclassified one."""
    labels = maps.segments["label"].to_numpy()
    predicted = maps.segments["predicted"].to_numpy()
    probs = maps.probabilities
    picks: list[int] = []
    for want_correct in (True, False):
        for c in range(len(maps.class_names)):
            pool = np.flatnonzero((labels == c) & ((predicted == labels) == want_correct))
            if len(pool) and len(picks) < n:
                p = probs[pool, c] if want_correct else probs[pool, predicted[pool]]
                picks.append(int(pool[np.argmax(p)]))
    return picks


def plot_examples(
    maps: MapFile,
    spectrograms: Mapping[int, np.ndarray],
    path: str | Path,
    title: str,
    n: int = 6,
    formants: pd.DataFrame | None = None,
) -> list[int]:
    """Example test spectrograms (grey) with the true class's CAM in colour over them.

    ``spectrograms`` maps the rows of :func:`example_indices` to the segments' spectrograms;
    ``formants`` (with ``phone_id``) supplies the measured F1-F3 drawn over them.
    """
    picks = example_indices(maps, n)
    if not picks:
        _empty_figure(path, "no test segments")
        return picks
    seg = maps.segments
    freqs, times = maps.freqs_hz, maps.times_s * 1000
    by_phone = formants.set_index("phone_id") if formants is not None else None
    cam_position = dict(zip(picks, maps.positions("cam", picks), strict=True))
    cols = min(3, len(picks))
    rows = (len(picks) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.3 * rows), squeeze=False)
    extent = [times[0], times[-1], freqs[0], freqs[-1]]
    for ax in axes.ravel()[len(picks) :]:
        ax.axis("off")
    for ax, i in zip(axes.ravel(), picks, strict=False):
        s = seg.iloc[i]
        ax.imshow(spectrograms[i], origin="lower", aspect="auto", extent=extent, cmap="gray_r")
        cam = np.clip(maps.grid("cam", "true", cam_position[i]), 0, None)
        if cam.max() > 0:
            ax.imshow(
                cam / cam.max(),
                origin="lower",
                aspect="auto",
                extent=extent,
                cmap="inferno",
                alpha=0.45,
                vmin=0,
                vmax=1,
            )
        phone_ms = [(s.start_s - s.window_centre_s) * 1000, (s.end_s - s.window_centre_s) * 1000]
        for t in phone_ms:
            ax.axvline(t, color="cyan", lw=1, ls="--")
        if by_phone is not None and s.phone_id in by_phone.index:
            for k in (1, 2, 3):
                f = by_phone.at[s.phone_id, f"f{k}_hz"]
                if np.isfinite(f):
                    ax.plot(phone_ms, [f, f], color="lime", lw=1.5)
        ax.set_title(
            f"{s.utt_id} {s.phone} '{s.word}'\n"
            f"true {s.class_name}, predicted {s.predicted_name} "
            f"(p = {maps.probabilities[i][int(s.predicted)]:.2f})",
            fontsize=8,
        )
        ax.set_xlabel("ms from window centre", fontsize=8)
        ax.set_ylabel("Hz", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle(
        f"{title}: CAM of the true class over the spectrogram; dashed: phone "
        "boundaries; green: measured F1-F3",
        fontsize=9,
    )
    save_figure(fig, path)
    return picks


def plot_vowel_chart(
    tokens: pd.DataFrame,
    path: str | Path,
    title: str,
    reference: pd.DataFrame | None = None,
    errors: pd.DataFrame | None = None,
) -> None:
    """F1-F2 chart (phonetic orientation: F2 right to left, F1 top to bottom): measured tokens
    per class, 2-sd ellipses, Hillenbrand women's means, misclassified test tokens marked.

    ``tokens`` has ``class_name, f1_hz, f2_hz``; ``reference`` ``vowel, hillenbrand_f1_hz,
    hillenbrand_f2_hz`` for the classes that are vowels; ``errors`` ``true, predicted, f1_hz,
    f2_hz``.
    """
    fig, ax = plt.subplots(figsize=(7, 5.5))
    classes = list(dict.fromkeys(tokens["class_name"]))
    colours = class_colours(classes)
    for c in classes:
        g = tokens[tokens["class_name"] == c].dropna(subset=["f1_hz", "f2_hz"])
        ax.scatter(g.f2_hz, g.f1_hz, s=6, alpha=0.35, color=colours[c], label=f"{c} (n = {len(g)})")
        if len(g) > 2:
            cov = np.cov(g.f2_hz, g.f1_hz)
            vals, vecs = np.linalg.eigh(cov)
            t = np.linspace(0, 2 * np.pi, 100)
            circle = np.stack([np.cos(t), np.sin(t)])
            ellipse = vecs @ (2 * np.sqrt(np.maximum(vals, 0))[:, None] * circle)
            ax.plot(g.f2_hz.mean() + ellipse[0], g.f1_hz.mean() + ellipse[1], color=colours[c])
    if reference is not None:
        ref = reference[reference["vowel"].isin(classes)]
        ax.scatter(
            ref.hillenbrand_f2_hz,
            ref.hillenbrand_f1_hz,
            marker="*",
            s=160,
            color="k",
            zorder=5,
            label="Hillenbrand women (means)",
        )
        for _, r in ref.iterrows():
            ax.annotate(
                r["vowel"],
                (r.hillenbrand_f2_hz, r.hillenbrand_f1_hz),
                textcoords="offset points",
                xytext=(6, 4),
                fontsize=8,
            )
    if errors is not None and len(errors):
        e = errors.dropna(subset=["f1_hz", "f2_hz"])
        ax.scatter(
            e.f2_hz,
            e.f1_hz,
            marker="x",
            s=30,
            color=[colours.get(p, "k") for p in e["predicted"]],
            zorder=6,
            label="misclassified (colour: predicted)",
        )
    ax.invert_xaxis()
    ax.invert_yaxis()
    ax.set_xlabel("F2 (Hz)")
    ax.set_ylabel("F1 (Hz)")
    ax.set_title(f"{title}: vowel chart, ellipses 2 sd", fontsize=10)
    ax.legend(fontsize=7, loc="lower left")
    save_figure(fig, path)


def plot_method_profiles(
    profiles: Mapping[str, Mapping[str, np.ndarray]],
    freqs_hz: np.ndarray,
    path: str | Path,
    title: str,
    hz_per_cell: Mapping[str, float],
    measured: Mapping[str, Sequence[float]] | None = None,
    reference: Mapping[str, Sequence[float]] | None = None,
    corpus: str = "measured",
) -> None:
    """Classes in rows, methods in columns: each method's mean profile of the true class, with
    the measured (solid) and reference (dashed) formant means."""
    methods = list(profiles)
    classes = list(dict.fromkeys(c for m in methods for c in profiles[m]))
    if not classes:
        _empty_figure(path, f"{title}: no test segment has a positive map inside its phone")
        return
    fig, axes = plt.subplots(
        len(classes),
        len(methods),
        squeeze=False,
        sharex=True,
        figsize=(min(12.0, 1.75 * len(methods) + 1), 1.3 * len(classes) + 1),
    )
    for j, m in enumerate(methods):
        axes[0, j].set_title(f"{m}\n{hz_per_cell.get(m, float('nan')):.0f} Hz/cell", fontsize=8)
        for i, c in enumerate(classes):
            ax = axes[i, j]
            if c in profiles[m]:
                ax.plot(freqs_hz, profiles[m][c], lw=1)
            for f in (measured or {}).get(c, []):
                if np.isfinite(f):
                    ax.axvline(f, color="C3", lw=0.8)
            for f in (reference or {}).get(c, []):
                if np.isfinite(f):
                    ax.axvline(f, color="k", lw=0.8, ls="--")
            ax.set_yticks([])
            ax.tick_params(labelsize=7)
            if j == 0:
                ax.set_ylabel(c, rotation=0, ha="right", va="center", fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("Hz", fontsize=7)
    fig.suptitle(
        f"{title}: mean profile per method and class (red: {corpus} F1-F3, dashed: "
        "Hillenbrand women)",
        fontsize=9,
    )
    save_figure(fig, path)
