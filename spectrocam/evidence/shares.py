"""Evidence that a map follows the formants beyond what the segment's own energy explains.

Per test vowel, every map's profile and every baseline's (:mod:`spectrocam.evidence.baselines`) are
scored by the same function: the *share* of the profile's mass within +/- ``window_hz`` of the
measured F1, F2, F3 and of their union (``any``). The headline statistic is paired: per segment,
the map's share minus the segment's own spectrum's share, averaged over segments with a
bootstrap interval that resamples utterances. Shares and differences, never ratios capped by
the band's width.

:func:`energy_null` asks whether that could be the energy alone. The formants are permuted among
the vowels of the same class (so the bands move to where other tokens of the class have their
formants), which gives pairs (spectrum share, map share) for bands that are *not* the token's
formants; a curve fitted to those pairs says how much share a map gets from the spectrum's share
alone. The statistic is the mean of (map share - curve(spectrum share)) on the token's own
formants; its null is the same mean for each permutation. A map that is any increasing function
of the spectrum lies on the curve for its own formants as for the others', and does not beat the
null; a map that finds a token's formants where the energy does not point to them does.

:func:`subset_summary` gives the paired summary on every token, then on the subsets of
:data:`TOKEN_SUBSETS` (stressed content words; rhotic contexts, the vowel before R), each row
with its own n, from the token attributes of the segment store (:mod:`spectrocam.segments.tokens`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from spectrocam.evidence.agreement import band_shares, within_class_orders
from spectrocam.evidence.baselines import (
    BASELINES,
    class_mean_profiles,
    envelope_profiles,
    pool_to_cells,
    prior_profiles,
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
    "energy_null",
    "null_table",
]

BANDS = ("F1", "F2", "F3", "any")
FORMANT_HZ = ["f1_hz", "f2_hz", "f3_hz"]


def _sources(maps: MapFile, method: str, rows: np.ndarray, power: dict) -> dict[str, np.ndarray]:
    """The method's profiles on ``rows`` and every baseline's, pooled onto its cells."""
    profiles = maps.profiles(method, "true", rows)
    row_cell = maps.cell_grid(method)[0]
    spectrum = np.stack([power[int(r)] for r in rows]) if len(rows) else profiles * 0
    labels = maps.segments["label"].to_numpy()[rows]
    baselines = {
        "spectrum": spectrum,
        "envelope": envelope_profiles(spectrum),
        "prior": prior_profiles(maps.freqs_hz, len(rows)),
        "class_mean": class_mean_profiles(np.clip(profiles, 0, None), labels),
    }
    return {method: profiles} | {k: pool_to_cells(v, row_cell) for k, v in baselines.items()}


def evidence_table(
    maps: MapFile, spectrograms_db: np.ndarray, formants: pd.DataFrame, window_hz: float
) -> tuple[pd.DataFrame, dict]:
    """Per vowel with formants, method and source (the method itself or a baseline): the shares
    of F1, F2, F3 and their union. ``spectrograms_db``: (N, F, T) of the map file's segments.
    Also returns, per method, the (profiles, spectrum profiles, formants, labels) that
    :func:`energy_null` needs."""
    seg = join(maps.segments, formants, FORMANT_HZ, how="left")
    fm = seg[FORMANT_HZ].to_numpy(float)
    vowel = np.isfinite(fm).any(axis=1)
    vowels = np.flatnonzero(vowel)  # the spectra of the other segments are never scored
    power_of_vowels = spectrum_profiles(
        spectrograms_db[vowels],
        maps.times_s,
        seg.window_centre_s.to_numpy()[vowels],
        seg.start_s.to_numpy()[vowels],
        seg.end_s.to_numpy()[vowels],
    )
    power = dict(zip(vowels.tolist(), power_of_vowels, strict=True))
    frames, for_null = [], {}
    for method in maps.methods:
        rows = np.array([r for r in maps.rows(method) if vowel[r]], dtype=int)
        sources = _sources(maps, method, rows, power)
        for source, profiles in sources.items():
            shares = band_shares(profiles, maps.freqs_hz, fm[rows], window_hz)
            frame = seg.iloc[rows][["phone_id", "utt_id", "class_name", "correct"]].copy()
            frame.insert(0, "source", source)
            frame.insert(0, "method", method)
            frame[[f"share_{b}" for b in BANDS]] = shares
            frame["n_cells"] = maps.n_cells(method, rows)  # time cells of the method's profile
            frames.append(frame)
        labels = seg["label"].to_numpy()[rows]
        for_null[method] = (sources[method], sources["spectrum"], fm[rows], labels)
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return table, for_null


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


def _calibration(e: np.ndarray, s: np.ndarray, bins: int = 20):
    """A curve s ~ g(e) through the means of quantile bins of e, extended linearly past the
    first and last bins (so that a map equal to the spectrum has g(e) = e everywhere)."""
    ok = np.isfinite(e) & np.isfinite(s)
    e, s = e[ok], s[ok]
    edges = np.unique(np.quantile(e, np.linspace(0, 1, bins + 1)))
    which = np.clip(np.searchsorted(edges, e, side="right") - 1, 0, max(len(edges) - 2, 0))
    xs = np.array([e[which == b].mean() for b in np.unique(which)])
    ys = np.array([s[which == b].mean() for b in np.unique(which)])
    if len(xs) < 2:
        return lambda v: np.full(np.shape(v), ys[0] if len(ys) else np.nan)

    def curve(v):
        v = np.asarray(v, dtype=float)
        out = np.interp(v, xs, ys)
        lo, hi = v < xs[0], v > xs[-1]
        out[lo] = ys[0] + (v[lo] - xs[0]) * (ys[1] - ys[0]) / (xs[1] - xs[0])
        out[hi] = ys[-1] + (v[hi] - xs[-1]) * (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
        return out

    return curve


def energy_null(
    profiles: np.ndarray,
    spectrum: np.ndarray,
    formants_hz: np.ndarray,
    groups: np.ndarray,
    freqs_hz: np.ndarray,
    window_hz: float,
    n_perm: int = 1000,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """Per band: the observed mean of (map share - curve(spectrum share)) on the tokens' own
    formants, its mean under within-class permutations of the formants, and the one-sided
    p-value ``(1 + #{null >= observed}) / (1 + n_perm)``."""
    s_obs = band_shares(profiles, freqs_hz, formants_hz, window_hz)
    e_obs = band_shares(spectrum, freqs_hz, formants_hz, window_hz)
    s_null = np.empty((n_perm, *s_obs.shape))
    e_null = np.empty_like(s_null)
    for p, order in enumerate(within_class_orders(groups, n_perm, seed)):
        s_null[p] = band_shares(profiles, freqs_hz, formants_hz[order], window_hz)
        e_null[p] = band_shares(spectrum, freqs_hz, formants_hz[order], window_hz)
    out = {}
    for k, band in enumerate(BANDS):
        n = int(np.isfinite(s_obs[:, k]).sum())
        if not n:
            out[band] = {"n": 0, "observed": np.nan, "null_mean": np.nan, "p": np.nan}
            continue
        curve = _calibration(e_null[..., k].ravel(), s_null[..., k].ravel())
        observed = float(np.nanmean(s_obs[:, k] - curve(e_obs[:, k])))
        null = np.array(
            [np.nanmean(s_null[p, :, k] - curve(e_null[p, :, k])) for p in range(n_perm)]
        )
        out[band] = {
            "n": n,
            "observed": observed,
            "null_mean": float(np.mean(null)),
            "p": float((1 + np.sum(null >= observed - 1e-12)) / (1 + n_perm)),
        }
    return out


def null_table(for_null: dict, freqs_hz, window_hz: float, n_perm: int, seed: int) -> pd.DataFrame:
    """:func:`energy_null` of every method, as rows (method, band, n, observed, null_mean, p)."""
    rows = []
    for method, (profiles, spectrum, formants_hz, labels) in for_null.items():
        if not len(profiles):
            continue
        result = energy_null(
            profiles, spectrum, formants_hz, labels, freqs_hz, window_hz, n_perm, seed
        )
        rows += [{"method": method, "band": band, **v} for band, v in result.items()]
    return pd.DataFrame(rows)
