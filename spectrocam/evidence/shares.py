"""A description of the maps: their share of mass on the formants beside profiles that involve no
network. Not the verdict (see :mod:`spectrocam.evidence.ranks` and
:mod:`spectrocam.evidence.needs`).

Per test vowel, every map's profile and every baseline's (:mod:`spectrocam.evidence.baselines`) are
scored by the same function: the *share* of the profile's mass within +/- ``window_hz`` of the
measured F1, F2, F3 and of their union (``any``). The paired summary gives, per segment, the
map's share minus each baseline's share, averaged over segments with a bootstrap interval that
resamples utterances.

What it does not show: whether the network reads the formants. Formants are where a vowel's
energy is, and "map minus spectrum" depends on the scale of the spectrum it is set beside
(``agreement.spectrum_power``: a vowel's linear power sits mostly in F1, its dB spectrum is
nearly flat) and on how smooth the map is: a map of smooth bumps centred exactly on F1-F3 scores
below a sharper spectrum. It is kept as a description with its scale stated; the verdict's map
statement uses ranks against control models instead.

:func:`subset_summary` gives the paired summary on every token, then on the subsets of
:data:`TOKEN_SUBSETS` (stressed content words; rhotic contexts, the vowel before R), each row
with its own n, from the token attributes of the segment store (:mod:`spectrocam.segments.tokens`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from spectrocam.evidence.agreement import band_shares
from spectrocam.evidence.baselines import (
    BASELINES,
    class_mean_profiles,
    envelope_profiles,
    pool_to_cells,
    prior_profiles,
    scaled,
    spectrum_profiles,
)
from spectrocam.explain.maps import MapFile
from spectrocam.keys import join
from spectrocam.segments.tokens import TOKEN_SUBSETS
from spectrocam.stats import cluster_bootstrap_ci

__all__ = [
    "BANDS",
    "TOKEN_SUBSETS",
    "band_shares",
    "evidence_table",
    "paired_summary",
    "subset_summary",
]

BANDS = ("F1", "F2", "F3", "any")
FORMANT_HZ = ["f1_hz", "f2_hz", "f3_hz"]


def _sources(
    maps: MapFile, method: str, rows: np.ndarray, spectra_db: dict, power: str | float
) -> dict[str, np.ndarray]:
    """The method's profiles on ``rows`` and every baseline's, pooled onto its cells."""
    profiles = maps.profiles(method, "true", rows)
    row_cell = maps.cell_grid(method)[0]
    db = np.stack([spectra_db[int(r)] for r in rows]) if len(rows) else profiles * 0
    span_hz = float(maps.freqs_hz[-1] - maps.freqs_hz[0])
    labels = maps.segments["label"].to_numpy()[rows]
    baselines = {
        "spectrum": scaled(db, power),
        "envelope": scaled(envelope_profiles(db, span_hz), power),
        "prior": prior_profiles(maps.freqs_hz, len(rows)),
        "class_mean": class_mean_profiles(np.clip(profiles, 0, None), labels),
    }
    return {method: profiles} | {k: pool_to_cells(v, row_cell) for k, v in baselines.items()}


def evidence_table(
    maps: MapFile,
    spectrograms_db: np.ndarray,
    formants: pd.DataFrame,
    window_hz: float,
    spectrum_power: str | float = "db",
) -> pd.DataFrame:
    """Per vowel with formants, method and source (the method itself or a baseline): the shares
    of F1, F2, F3 and their union. ``spectrograms_db``: (N, F, T) of the map file's segments;
    ``spectrum_power``: the scale of the spectrum and envelope baselines
    (:func:`~spectrocam.evidence.baselines.scaled`)."""
    seg = join(maps.segments, formants, FORMANT_HZ, how="left")
    fm = seg[FORMANT_HZ].to_numpy(float)
    vowel = np.isfinite(fm).any(axis=1)
    vowels = np.flatnonzero(vowel)  # the spectra of the other segments are never scored
    db_of_vowels = spectrum_profiles(
        spectrograms_db[vowels],
        maps.times_s,
        seg.window_centre_s.to_numpy()[vowels],
        seg.start_s.to_numpy()[vowels],
        seg.end_s.to_numpy()[vowels],
    )
    spectra_db = dict(zip(vowels.tolist(), db_of_vowels, strict=True))
    frames = []
    for method in maps.methods:
        rows = np.array([r for r in maps.rows(method) if vowel[r]], dtype=int)
        sources = _sources(maps, method, rows, spectra_db, spectrum_power)
        for source, profiles in sources.items():
            shares = band_shares(profiles, maps.freqs_hz, fm[rows], window_hz)
            frame = seg.iloc[rows][["phone_id", "utt_id", "class_name", "correct"]].copy()
            frame.insert(0, "source", source)
            frame.insert(0, "method", method)
            frame[[f"share_{b}" for b in BANDS]] = shares
            frame["n_cells"] = maps.n_cells(method, rows)  # time cells of the method's profile
            frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def paired_summary(table: pd.DataFrame, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Per method and band: n, the mean share of the map and of each baseline, and the paired
    difference map - baseline with a 95 % interval over utterances."""
    rows = []
    for method, g in table.groupby("method", sort=False):
        own = g[g.source == method].set_index("phone_id")
        for band in BANDS:
            col = f"share_{band}"
            row = {"method": method, "band": band, "n_segments": int(own[col].notna().sum())}
            row["n_utterances"] = int(own.loc[own[col].notna(), "utt_id"].nunique())
            row["share"] = float(own[col].mean())
            if "n_cells" in own and len(own):
                row["n_cells_median"] = float(own["n_cells"].median())
                row["n_cells_min"] = int(own["n_cells"].min())
            for base in BASELINES:
                other = g[g.source == base].set_index("phone_id")[col].reindex(own.index)
                diff = (own[col] - other).to_numpy(float)
                mean, low, high = cluster_bootstrap_ci(diff, own["utt_id"], n_boot, 0.95, seed)
                row[f"share_{base}"] = float(other.mean())
                row |= {f"minus_{base}": mean, f"minus_{base}_low": low, f"minus_{base}_high": high}
            rows.append(row)
    return pd.DataFrame(rows)


def subset_summary(
    table: pd.DataFrame, tokens: pd.DataFrame, n_boot: int = 2000, seed: int = 0
) -> pd.DataFrame:
    """:func:`paired_summary` on all tokens (``tokens`` column ``all``), then on each of
    :data:`TOKEN_SUBSETS`, rows in that order. ``tokens``: the store's segment table
    (``phone_id`` and the token attributes, with ``unseen_word`` added from the splits); a
    subset whose attributes the table lacks gives no rows."""
    parts = [paired_summary(table, n_boot, seed).assign(tokens="all")]
    for name, (columns, chosen) in TOKEN_SUBSETS.items():
        if set(columns) <= set(tokens.columns):
            ids = set(tokens.loc[chosen(tokens), "phone_id"])
            part = paired_summary(table[table["phone_id"].isin(ids)], n_boot, seed)
            parts.append(part.assign(tokens=name))
    out = pd.concat(parts, ignore_index=True)
    return out[["tokens", *[c for c in out.columns if c != "tokens"]]]
