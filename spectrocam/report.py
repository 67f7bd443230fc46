"""Figures and the summary page of a run."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from spectrocam.agreement import cam_profile, vowel_frames  # noqa: E402
from spectrocam.alignment import strip_stress  # noqa: E402

__all__ = [
    "HILLENBRAND_CODES",
    "hillenbrand_women_means",
    "formant_comparison",
    "class_profiles",
    "plot_confusion",
    "plot_history",
    "plot_profiles",
    "example_indices",
    "plot_examples",
    "agreement_table",
    "json_load",
    "agreement_headline",
    "html_table",
    "write_summary_page",
]

# Hillenbrand et al.'s vowel codes -> ARPAbet (see the data's SOURCE.md).
HILLENBRAND_CODES = {
    "iy": "IY", "ih": "IH", "ei": "EY", "eh": "EH", "ae": "AE", "ah": "AA",
    "aw": "AO", "oa": "OW", "oo": "UH", "uw": "UW", "uh": "AH", "er": "ER",
}  # fmt: skip


def hillenbrand_women_means(path: str | Path) -> pd.DataFrame:
    """Adult women's mean steady-state F1-F3 per vowel (ARPAbet), from all_talkers.csv.

    Zeros and blanks mean "not measured" in that file and are left out.
    """
    data = pd.read_csv(path)
    women = data[data["type"] == "woman"].copy()
    if women.empty:
        raise ValueError(f"{path}: no rows of type 'woman'")
    cols = ["f1_steady", "f2_steady", "f3_steady"]
    women[cols] = women[cols].apply(pd.to_numeric, errors="coerce").replace(0, np.nan)
    women["vowel"] = women["vowel"].map(HILLENBRAND_CODES)
    means = women.dropna(subset=["vowel"]).groupby("vowel")[cols].agg(["mean", "count"])
    out = pd.DataFrame(
        {
            "vowel": means.index,
            "hillenbrand_f1_hz": means[("f1_steady", "mean")].to_numpy(),
            "hillenbrand_f2_hz": means[("f2_steady", "mean")].to_numpy(),
            "hillenbrand_f3_hz": means[("f3_steady", "mean")].to_numpy(),
            "hillenbrand_n": means[("f1_steady", "count")].to_numpy().astype(int),
        }
    )
    return out.reset_index(drop=True)


def formant_comparison(formants: pd.DataFrame, hillenbrand: pd.DataFrame | None) -> pd.DataFrame:
    """Measured LJSpeech means (and sds, NaN counts) per vowel beside Hillenbrand's women."""
    vowel = formants["phone"].astype(str).map(strip_stress)
    rows = []
    for name, g in formants.groupby(vowel):
        row = {"vowel": name, "n": len(g)}
        for k in (1, 2, 3):
            col = f"f{k}_hz"
            row[f"f{k}_mean_hz"] = g[col].mean()
            row[f"f{k}_sd_hz"] = g[col].std()
            row[f"f{k}_undefined"] = int(g[col].isna().sum())
        rows.append(row)
    table = pd.DataFrame(rows)
    if hillenbrand is not None and not table.empty:
        table = table.merge(hillenbrand, on="vowel", how="left")
    return table


def class_profiles(
    cams: Mapping, which: str = "true", grids: Mapping[int, np.ndarray] | None = None
) -> dict[str, np.ndarray]:
    """Per class: the mean over its test segments of the CAM profile (each scaled to sum 1).

    ``grids`` (row of the CAM file -> map on its grid) takes another method's maps, for the
    segments it has, instead of the file's CAM of the ``which`` class.
    """
    names = list(cams["class_names"])
    grouped: dict[str, list[np.ndarray]] = {n: [] for n in names}
    rows = grids if grids is not None else range(len(cams["labels"]))
    for i in rows:
        frames = vowel_frames(
            cams["times_s"], cams["window_centre_s"][i], cams["start_s"][i], cams["end_s"][i]
        )
        grid = grids[i] if grids is not None else cams[f"cam_{which}"][i]
        profile = cam_profile(grid, frames)
        if profile.sum() > 0:
            grouped[names[int(cams["labels"][i])]].append(profile / profile.sum())
    return {n: np.mean(p, axis=0) for n, p in grouped.items() if p}


def _save(fig, path: str | Path, dpi: int = 110, tight: bool = True) -> None:
    """Lay ``fig`` out, write it to ``path`` and free it."""
    if tight:
        fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def _empty_figure(path: str | Path, text: str) -> None:
    fig, ax = plt.subplots(figsize=(6, 1.2))
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=9)
    _save(fig, path, tight=False)


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
    _save(fig, path)


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
    b.set_ylim(0, 1)
    b.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    _save(fig, path)


def plot_profiles(
    profiles: Mapping[str, np.ndarray],
    freqs_hz: np.ndarray,
    path: str | Path,
    title: str,
    measured: Mapping[str, Sequence[float]] | None = None,
    reference: Mapping[str, Sequence[float]] | None = None,
    hz_per_cell: float | None = None,
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
                ax.axvline(f, color="C3", lw=1, label="LJSpeech mean F1-F3" if k == 1 else None)
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
    _save(fig, path)


def example_indices(cams: Mapping, n: int) -> list[int]:
    """Up to ``n`` test segments: per class in turn a correct one, then a misclassified one."""
    labels, predicted = np.asarray(cams["labels"]), np.asarray(cams["predicted"])
    probs = np.asarray(cams["probabilities"])
    picks: list[int] = []
    for want_correct in (True, False):
        for c in range(len(cams["class_names"])):
            pool = np.flatnonzero((labels == c) & ((predicted == labels) == want_correct))
            if len(pool) and len(picks) < n:
                picks.append(
                    int(
                        pool[
                            np.argmax(
                                probs[pool, c] if want_correct else probs[pool, predicted[pool]]
                            )
                        ]
                    )
                )
    return picks


def plot_examples(
    cams: Mapping,
    spectrograms: Mapping[int, np.ndarray],
    path: str | Path,
    title: str,
    n: int = 6,
    formants: pd.DataFrame | None = None,
) -> list[int]:
    """Example test spectrograms (grey) with the true class's CAM in colour over them.

    ``spectrograms`` maps the positions of :func:`example_indices` in the CAM file to the
    segments' spectrograms.
    """
    picks = example_indices(cams, n)
    if not picks:
        _empty_figure(path, "no test segments")
        return picks
    names = list(cams["class_names"])
    freqs, times = cams["freqs_hz"], cams["times_s"] * 1000
    cols = min(3, len(picks))
    rows = (len(picks) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.3 * rows), squeeze=False)
    extent = [times[0], times[-1], freqs[0], freqs[-1]]
    for ax in axes.ravel()[len(picks) :]:
        ax.axis("off")
    for ax, i in zip(axes.ravel(), picks, strict=False):
        ax.imshow(spectrograms[i], origin="lower", aspect="auto", extent=extent, cmap="gray_r")
        cam = np.clip(cams["cam_true"][i], 0, None)
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
        centre = cams["window_centre_s"][i]
        for t in (cams["start_s"][i], cams["end_s"][i]):
            ax.axvline((t - centre) * 1000, color="cyan", lw=1, ls="--")
        if formants is not None:
            hit = formants[
                (formants["utt_id"] == cams["utt_id"][i])
                & (np.abs(formants["start_s"] - cams["start_s"][i]) < 1e-4)
            ]
            for k in (1, 2, 3):
                if len(hit) and np.isfinite(hit[f"f{k}_hz"].iloc[0]):
                    ax.plot(
                        [(cams["start_s"][i] - centre) * 1000, (cams["end_s"][i] - centre) * 1000],
                        [hit[f"f{k}_hz"].iloc[0]] * 2,
                        color="lime",
                        lw=1.5,
                    )
        true, pred = names[int(cams["labels"][i])], names[int(cams["predicted"][i])]
        ax.set_title(
            f"{cams['utt_id'][i]} {cams['phone'][i]} '{cams['word'][i]}'\n"
            f"true {true}, predicted {pred} "
            f"(p = {cams['probabilities'][i][int(cams['predicted'][i])]:.2f})",
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
    _save(fig, path, dpi=100)
    return picks


def agreement_headline(summary: pd.DataFrame) -> dict:
    """The true-class CAM's figures over all classes (all/correct/misclassified)."""
    out = {}
    if summary.empty:
        return out
    if "method" in summary:
        summary = summary[summary["method"] == "cam"]
    sel = summary[(summary["cam"] == "true") & (summary["class_name"] == "(all)")]
    for _, row in sel.iterrows():
        out[row["outcome"]] = {
            k: (None if pd.isna(row[k]) else float(row[k]))
            for k in row.index
            if k.startswith(("ratio_", "peak_", "share_", "chance_", "n_"))
        }
    return out


# --- the summary page ---------------------------------------------------------------------------


def _fmt(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    if isinstance(value, float | np.floating):
        return f"{value:.{digits}f}"
    return html.escape(str(value))


def html_table(frame: pd.DataFrame, digits: int = 2) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_fmt(v, digits)}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _ci(row: Mapping, key: str) -> str:
    if not np.isfinite(row[key]):
        return "–"
    low, high = row[key + "_low"], row[key + "_high"]
    if np.isinf(low) and np.isinf(high):
        # a ratio whose denominator is not distinguishable from 0 (see causal.ratio_bootstrap)
        return f"{_fmt(row[key])} [unbounded]"
    return f"{_fmt(row[key])} [{_fmt(low)}, {_fmt(high)}]"


def agreement_table(summary: pd.DataFrame, cam: str = "true") -> pd.DataFrame:
    """The agreement summary in the page's form: ratios to chance with their CIs."""
    rows = []
    if "method" in summary:
        summary = summary[summary["method"] == "cam"]
    for _, r in summary[summary["cam"] == cam].iterrows():
        rows.append(
            {
                "class": r["class_name"],
                "outcome": r["outcome"],
                "n (utt.)": f"{r['n_segments']} ({r['n_utterances']})",
                "F1 ratio": _ci(r, "ratio_F1"),
                "F2 ratio": _ci(r, "ratio_F2"),
                "F3 ratio": _ci(r, "ratio_F3"),
                "F1-F3 ratio": _ci(r, "ratio_any"),
                "peak on a formant": _ci(r, "peak_hit"),
                "peak chance": _fmt(r["peak_chance"]),
            }
        )
    return pd.DataFrame(rows)


PAGE_STYLE = """
body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.4;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.2em;font-size:.9em}
td,th{border:1px solid #ccc;padding:.25em .5em;text-align:right}
th{background:#f2f2f2} td:first-child,th:first-child{text-align:left}
img{max-width:100%;border:1px solid #ddd;margin:.3em 0} .note{color:#555;font-size:.9em}
"""


def write_summary_page(path: str | Path, sections: list[tuple[str, str]], title: str) -> None:
    """An HTML page from ``(heading, html body)`` sections, written whole or not at all."""
    path = Path(path)
    body = "".join(f"<h2>{html.escape(h)}</h2>\n{b}\n" for h, b in sections)
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title><style>{PAGE_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f"{body}</body></html>\n"
    )
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)


def json_load(path: str | Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


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
    colours = {c: f"C{k}" for k, c in enumerate(classes)}
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
    _save(fig, path)


def plot_method_profiles(
    profiles: Mapping[str, Mapping[str, np.ndarray]],
    freqs_hz: np.ndarray,
    path: str | Path,
    title: str,
    hz_per_cell: Mapping[str, float],
    measured: Mapping[str, Sequence[float]] | None = None,
    reference: Mapping[str, Sequence[float]] | None = None,
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
        figsize=(2.4 * len(methods) + 1, 1.3 * len(classes) + 1),
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
            ax.tick_params(labelsize=6)
            if j == 0:
                ax.set_ylabel(c, rotation=0, ha="right", va="center", fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("Hz", fontsize=7)
    fig.suptitle(
        f"{title}: mean profile per method and class (red: LJSpeech F1-F3, dashed: "
        "Hillenbrand women)",
        fontsize=9,
    )
    _save(fig, path, dpi=100)


def comparison_table(
    experiment: str,
    agreement: pd.DataFrame,
    null: pd.DataFrame,
    deletion: pd.DataFrame,
    occlusion: pd.DataFrame,
    hz_per_cell: Mapping[str, float],
) -> pd.DataFrame:
    """One row per method: agreement with the formants (true-class map, all test vowels),
    permutation p, faithfulness, and the experiment's band-occlusion ratios (the same model
    for every method)."""
    occ = {}
    for _, r in occlusion.iterrows():
        occ[f"occlusion {r['formant']}: drop formant - random"] = _ci(r, "drop_p_diff")
        occ[f"occlusion {r['formant']}: ratio"] = _ci(r, "drop_p_ratio")
    rows = []
    for method, hz in hz_per_cell.items():
        a = agreement[
            (agreement["method"] == method)
            & (agreement["cam"] == "true")
            & (agreement["class_name"] == "(all)")
            & (agreement["outcome"] == "all")
        ]
        nl = null[(null["method"] == method) & (null["formant"] == "any")] if len(null) else null
        d = deletion[deletion["method"] == method] if len(deletion) else deletion
        row = {"experiment": experiment, "method": method, "Hz per cell": f"{hz:.0f}"}
        if len(a):
            r = a.iloc[0]
            row |= {
                "n vowels": int(r["n_any"]),
                "F1 ratio": _ci(r, "ratio_F1"),
                "F2 ratio": _ci(r, "ratio_F2"),
                "F3 ratio": _ci(r, "ratio_F3"),
                "peak on a formant": _ci(r, "peak_hit"),
                "peak chance": _fmt(r["peak_chance"]),
            }
        if len(nl):
            r = nl.iloc[0]
            row["own vs shuffled formants (share)"] = (
                f"{r['observed']:.3f} vs {r['null_mean']:.3f}, p = {r['p']:.3f} (n = {r['n']})"
            )
        if len(d):
            r = d.iloc[0]
            row["faithfulness (n)"] = f"{_ci(r, 'faithfulness')} ({int(r['n_segments'])})"
        rows.append(row | occ)
    return pd.DataFrame(rows)
