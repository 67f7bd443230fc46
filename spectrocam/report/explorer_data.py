"""The explorer's data: per experiment one file with its token table and what the plots need,
and the tokens' arrays in chunk files that the page loads when a token is selected.

===========================  ===================================================================
file (in the explorer)       content
===========================  ===================================================================
data/<experiment>.js         ``SpectrocamExplorer.experiment(name, {...})``: the token table
                             (columns), classes, the exact grid (``freqs_hz``, ``times_s``), each
                             map's cells-to-grid index, class profiles, formant lines, the clips'
                             sound files
data/<experiment>/<k>.js     ``SpectrocamExplorer.chunk(name, k, [...])``: tokens ``k * chunk``
                             to ``(k + 1) * chunk - 1`` (rows of the map file): spectrogram and
                             maps as base64 float16, neighbouring phones, agreement per map
===========================  ===================================================================

Files are JavaScript (not JSON) so that a page opened from ``file://`` can load them with a
``<script>`` element, which browsers allow where they refuse ``fetch``. The spectrogram is
float16 (the store's own precision in the demo; 0.03 dB at 100 dB); each map is float16 scaled
by its largest absolute value (the page draws maps relative to their maximum). The sound is not
copied: each token links to its clip's wav with a media fragment (``clip.wav#t=start,end``),
relative to the page, with the absolute ``file:`` address as a second source.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from spectrocam.config import Section
from spectrocam.explain.maps import MapFile
from spectrocam.keys import join
from spectrocam.progress import logged
from spectrocam.report.colours import class_colours
from spectrocam.report.explorer_context import audio_sources, context_phones
from spectrocam.report.paper import phone_spectrum
from spectrocam.report.profiles import class_profiles
from spectrocam.segments.store import read_spectrograms

__all__ = [
    "ExplorerConfig",
    "ExperimentData",
    "AGREEMENT_COLUMNS",
    "half_b64",
    "runs",
    "stress_of",
    "audio_sources",
    "token_table",
    "map_entries",
    "profile_entries",
    "context_phones",
    "token_arrays",
    "representative_row",
    "write_experiment",
    "script",
]

AGREEMENT_COLUMNS = ("ratio_F1", "ratio_F2", "ratio_F3", "ratio_any", "peak_hz", "peak_hit")


@dataclass(frozen=True)
class ExplorerConfig(Section):
    """The ``report.explorer`` section."""

    SECTIONS = ("report.explorer",)

    chunk_tokens: int = 64
    audio_context_s: float = 0.3


@dataclass(frozen=True)
class ExperimentData:
    """What the explorer shows of one experiment, by path and table."""

    name: str
    description: str
    maps: str | Path  # maps/<experiment>.h5
    segments: str | Path  # segments/<experiment>.h5
    agreement: pd.DataFrame  # agreement/<experiment>_segments.tsv (with phone_id)
    classes: dict[str, list[str]]  # class -> phones (the store's)


def half_b64(values: np.ndarray) -> str:
    """``values`` as little-endian float16, base64 (row-major)."""
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f2").tobytes()).decode("ascii")


def runs(values) -> list[list[int]]:
    """A monotone index (each grid row's cell) as ``[value, count]`` runs."""
    out: list[list[int]] = []
    for v in np.asarray(values, dtype=int).tolist():
        if out and out[-1][0] == v:
            out[-1][1] += 1
        else:
            out.append([v, 1])
    return out


def stress_of(phone: str) -> str:
    """The stress digit of an ARPAbet vowel (``IY1`` -> ``1``), "" for a phone without one."""
    phone = str(phone)
    return phone[-1] if phone[-1:].isdigit() else ""


def _rounded(values, digits: int) -> list:
    """Floats rounded for the page; NaN and infinities become null."""
    arr = np.asarray(values, dtype=float)
    return [round(float(v), digits) if np.isfinite(v) else None for v in arr]


def token_table(maps: MapFile, formants: pd.DataFrame, agreement: pd.DataFrame) -> dict:
    """The token table as columns (lists), one row per test segment in map-file order: keys,
    word, phone, stress, classes, probabilities, outcome, duration, F1-F3 and the true-class
    CAM's agreement with them."""
    seg = maps.segments
    probs = np.asarray(maps.probabilities, dtype=float)
    n = np.arange(len(seg))
    fm = join(seg, formants, ["f1_hz", "f2_hz", "f3_hz"], how="left")
    cam = agreement
    if len(cam) and "phone_id" not in cam:
        raise ValueError(
            "the agreement table has no phone_id: it was made by an older spectrocam; make it "
            "again (snakemake --forcerun agreement)"
        )
    if len(cam):
        cam = cam[(cam["method"] == "cam") & (cam["cam"] == "true")]
    cam = join(seg[["phone_id"]], cam, list(AGREEMENT_COLUMNS), how="left") if len(cam) else None
    table = {
        "row": n.tolist(),
        "phone_id": seg["phone_id"].astype(str).tolist(),
        "utt_id": seg["utt_id"].astype(str).tolist(),
        "word": seg["word"].fillna("").astype(str).tolist(),
        "phone": seg["phone"].astype(str).tolist(),
        "stress": [stress_of(p) for p in seg["phone"]],
        "class_name": seg["class_name"].astype(str).tolist(),
        "predicted_name": seg["predicted_name"].astype(str).tolist(),
        "outcome": np.where(seg["correct"], "correct", "misclassified").tolist(),
        "p_true": _rounded(probs[n, seg["label"].to_numpy()], 4),
        "p_predicted": _rounded(probs[n, seg["predicted"].to_numpy()], 4),
        "start_s": _rounded(seg["start_s"], 4),
        "end_s": _rounded(seg["end_s"], 4),
        "window_centre_s": _rounded(seg["window_centre_s"], 4),
        "duration_ms": _rounded(1000 * (seg["end_s"] - seg["start_s"]), 1),
    }
    for k in (1, 2, 3):
        table[f"f{k}_hz"] = _rounded(fm[f"f{k}_hz"], 1)
    for col in AGREEMENT_COLUMNS:
        values = cam[col] if cam is not None else np.full(len(seg), np.nan)
        table[col] = _rounded(values, 3 if col != "peak_hz" else 1)
    hit = table["peak_hit"]
    table["peak_on_formant"] = ["" if h is None else "yes" if h else "no" for h in hit]
    table["probabilities"] = [_rounded(p, 4) for p in probs]
    return table


def map_entries(maps: MapFile) -> list[dict]:
    """Every map the file has (method and class), with its cells-to-grid index."""
    out = []
    for m in maps.methods:
        attrs = maps.method_attrs(m)
        for which in maps.which(m):
            cells = maps.cells(m, which).shape[1:]
            row_cell, frame_cell = maps.cell_grid(m, cells)
            out.append(
                {
                    "key": f"{m}:{which}",
                    "method": m,
                    "which": which,
                    "label": f"{m} ({which} class)",
                    "stage": str(attrs["stage"]),
                    "cells": [int(c) for c in cells],
                    "hz_per_cell": round(float(attrs["hz_per_cell"]), 2),
                    "s_per_cell": round(float(attrs["s_per_cell"]), 5),
                    "description": str(attrs.get("description", "")),
                    "n_tokens": int(len(maps.rows(m))),
                    "row_cell": runs(row_cell),
                    "frame_cell": runs(frame_cell),
                }
            )
    return out


def profile_entries(maps: MapFile) -> dict[str, dict[str, dict]]:
    """Per method (true-class maps) and class: the mean frequency profile (each token's scaled
    to sum 1, :func:`spectrocam.report.profiles.class_profiles`; float16, scaled to its maximum)
    and how many tokens it has."""
    out: dict[str, dict[str, dict]] = {}
    labels = maps.segments["label"].to_numpy()
    for m in maps.methods:
        profiles = class_profiles(maps, m, "true")
        positive = maps.profiles(m, "true").sum(axis=1) > 0
        counts = np.bincount(labels[maps.rows(m)][positive], minlength=len(maps.class_names))
        out[m] = {
            c: {"profile": half_b64(p / p.max()), "n": int(counts[maps.class_names.index(c)])}
            for c, p in profiles.items()
        }
    return out


def token_arrays(
    maps: MapFile,
    rows: np.ndarray,
    spectrograms: dict[int, np.ndarray],
    context: list[list],
    agreement: dict[str, list[dict]],
) -> list[dict]:
    """The chunk entries of the tokens ``rows`` (rows of the map file): spectrogram (F, T),
    every map the file has of them on its cells (scaled to its largest absolute value), the
    phones around them and their agreement figures per map."""
    seg = maps.segments
    position = {m: {int(r): k for k, r in enumerate(maps.rows(m))} for m in maps.methods}
    out = []
    for r in rows:
        r = int(r)
        entry_maps = {}
        for m in maps.methods:
            k = position[m].get(r)
            if k is None:
                continue
            for which in maps.which(m):
                cells = np.asarray(maps.cells(m, which)[k], dtype=float)
                scale = float(np.max(np.abs(cells))) if cells.size else 0.0
                scaled = cells / scale if scale > 0 else cells
                entry_maps[f"{m}:{which}"] = {"cells": half_b64(scaled), "scale": scale}
        out.append(
            {
                "row": r,
                "spectrogram": half_b64(spectrograms[int(seg["segment_index"].iloc[r])]),
                "maps": entry_maps,
                "phones": context[r],
                "agreement": agreement.get(str(seg["phone_id"].iloc[r]), []),
            }
        )
    return out


def representative_row(maps: MapFile, formants: pd.DataFrame) -> int:
    """The token the explorer opens on: a correctly classified token of the class with the most
    test tokens (one that every method has maps of, where there is one), the one nearest its
    class's mean (z-scored F1, F2) where the formants are measured, else the one with the median
    probability of its class."""
    seg = maps.segments
    if seg.empty:
        return 0
    label = int(seg["label"].value_counts().idxmax())
    every = np.zeros(len(seg), dtype=bool)  # the tokens that every method has maps of
    every[maps.common_rows()] = True
    for want in ((seg["label"] == label) & seg["correct"] & every,
                 (seg["label"] == label) & seg["correct"], seg["label"] == label):  # fmt: skip
        own = seg.index[want]
        if len(own):
            break
    fm = join(seg.loc[own], formants, ["f1_hz", "f2_hz"], how="left")[["f1_hz", "f2_hz"]]
    fm = fm.set_axis(own).dropna()
    if len(fm) >= 2:
        z = (fm - fm.mean()) / fm.std().replace(0, 1)
        return int(z.pow(2).sum(axis=1).idxmin())
    p = pd.Series(maps.probabilities[own, label], index=own)
    return int((p - p.median()).abs().idxmin())


def _agreement_by_token(agreement: pd.DataFrame) -> dict[str, list[dict]]:
    if agreement.empty or "phone_id" not in agreement:
        return {}
    out: dict[str, list[dict]] = {}
    for row in agreement.itertuples(index=False):
        entry = {"key": f"{row.method}:{row.cam}"}
        for col in AGREEMENT_COLUMNS:
            v = float(getattr(row, col))
            entry[col] = round(v, 3) if np.isfinite(v) else None
        out.setdefault(str(row.phone_id), []).append(entry)
    return out


def script(call: str, *args) -> str:
    """A data file: one call of the page's loader with JSON arguments."""
    return f"SpectrocamExplorer.{call}(" + ",".join(json.dumps(a) for a in args) + ");\n"


def _lines(measured: dict, reference: dict, classes: list[str]) -> dict:
    return {
        c: {
            "measured": _rounded(measured.get(c, []), 1),
            "reference": _rounded(reference.get(c, []), 1),
        }
        for c in classes
    }


def _class_spectra(sums: np.ndarray, labels: pd.Series, names: list[str]) -> dict[str, list]:
    """Per class with tokens: the mean of its tokens' phone spectra (dB), as the figure of the
    summary page draws it (:func:`spectrocam.report.paper.phone_spectrum`)."""
    counts = np.bincount(labels, minlength=len(names))
    return {n: _rounded(sums[k] / counts[k], 2) for k, n in enumerate(names) if counts[k]}


def write_experiment(
    folder: str | Path,
    page_dir: str | Path,
    data: ExperimentData,
    phones: pd.DataFrame,
    formants: pd.DataFrame,
    clips: pd.DataFrame,
    lines: tuple[dict, dict],
    cfg: ExplorerConfig,
) -> tuple[dict, dict]:
    """Write ``data/<name>.js`` and its chunks under ``folder``; links to the sound are made
    relative to ``page_dir`` (the explorer's final folder). Returns the files' sizes."""
    folder = Path(folder)
    maps = MapFile(data.maps)
    seg = maps.segments
    table = token_table(maps, formants, data.agreement)
    context = context_phones(phones, seg, cfg.audio_context_s)
    per_token = _agreement_by_token(data.agreement)
    chunk_dir = folder / "data" / data.name
    chunk_dir.mkdir(parents=True, exist_ok=True)
    array_bytes, top = 0, []
    spectra = np.zeros((len(maps.class_names), len(maps.freqs_hz)))
    n_chunks = (len(seg) + cfg.chunk_tokens - 1) // cfg.chunk_tokens
    for k in logged(range(n_chunks), f"{data.name} explorer data", unit="chunk"):
        rows = np.arange(k * cfg.chunk_tokens, min(len(seg), (k + 1) * cfg.chunk_tokens))
        spectrograms = read_spectrograms(data.segments, seg["segment_index"].to_numpy()[rows])
        top += [float(np.percentile(s, 99.5)) for s in spectrograms.values()]
        for r in seg.iloc[rows].itertuples(index=False):
            s = spectrograms[int(r.segment_index)].astype(float)
            spectra[r.label] += phone_spectrum(
                s, maps.times_s, r.window_centre_s, r.start_s, r.end_s
            )
        text = script(
            "chunk", data.name, k, token_arrays(maps, rows, spectrograms, context, per_token)
        )
        (chunk_dir / f"{k}.js").write_text(text, encoding="utf-8")
        array_bytes += len(text.encode())
    used = set(seg["utt_id"])
    meta = {
        "name": data.name,
        "description": data.description,
        "class_names": maps.class_names,
        "classes": data.classes,
        "freqs_hz": _rounded(maps.freqs_hz, 3),
        "times_s": _rounded(maps.times_s, 6),
        "db_range": [round(max(top, default=0.0) - 80.0, 1), round(max(top, default=0.0), 1)],
        "maps": map_entries(maps),
        "profiles": profile_entries(maps),
        "lines": _lines(*lines, maps.class_names),
        "chunk_tokens": cfg.chunk_tokens,
        "n_chunks": n_chunks,
        "audio_context_s": cfg.audio_context_s,
        "audio": {u: a for u, a in audio_sources(clips, page_dir).items() if u in used},
        "model_epoch": int(maps.attrs.get("model_epoch", 0)),
        "representative": representative_row(maps, formants),
        "colours": class_colours(maps.class_names),
        "spectra": _class_spectra(spectra, seg["label"], maps.class_names),
        "table": table,
    }
    text = script("experiment", data.name, meta)
    (folder / "data" / f"{data.name}.js").write_text(text, encoding="utf-8")
    table_bytes = len(text.encode())
    return meta, {
        "tokens": len(seg),
        "clips": len(used),
        "table_bytes": table_bytes,
        "array_bytes": array_bytes,
        "chunks": n_chunks,
        "bytes_per_token": round((table_bytes + array_bytes) / max(len(seg), 1)),
    }
