"""How well a CAM agrees with the formants of its vowel.

Per segment, the CAM's frequency profile is the non-negative part of the map on the spectrogram
grid, averaged over the map's time cells whose centre lies inside the vowel (the cell nearest its
midpoint when none does; ``n_cells`` says how many, ``n_frames`` how many spectrogram frames the
vowel spans). For each of F1, F2, F3 (and for their union, ``any``) the *share* is the part of the
profile's mass within +/- ``window_hz`` of the measured formant, and the *chance* share is what a
flat profile would put there (the band's share of the rows). Their ratio is 1 when the map
ignores the formants. The profile's *peak* is the centre of the rows at its maximum; it "hits"
when it lies within +/- ``window_hz`` of any formant, and its chance is the share of the possible
peak positions (one per feature cell) that would hit.

Summaries per class give the mean ratio to chance and the peak-hit share, each with a bootstrap
95 % interval that resamples utterances, for all, correctly classified and misclassified
segments separately.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spectrocam.config import Section
from spectrocam.explain.grid import vowel_frames
from spectrocam.explain.maps import MapFile
from spectrocam.keys import join
from spectrocam.phones import strip_stress
from spectrocam.stats import cluster_bootstrap_ci

__all__ = [
    "FORMANTS",
    "FORMANT_HZ",
    "AgreementConfig",
    "profile_agreement",
    "segment_agreement",
    "null_by_method",
    "summarise_agreement",
    "permutation_null",
    "band_shares",
    "within_class_orders",
]

FORMANTS = ("F1", "F2", "F3")
FORMANT_HZ = ("f1_hz", "f2_hz", "f3_hz")


@dataclass(frozen=True)
class AgreementConfig(Section):
    """The ``agreement`` section."""

    SECTIONS = ("agreement",)

    window_hz: float = 150.0
    bootstrap: int = 2000
    permutations: int = 1000
    seed: int = 0


def _peak_positions(freqs_hz: np.ndarray, row_cell: np.ndarray) -> np.ndarray:
    """Centre frequency of the rows of each cell: where a profile's peak can lie."""
    return np.array([freqs_hz[row_cell == c].mean() for c in np.unique(row_cell)])


def profile_agreement(
    profile: np.ndarray,
    freqs_hz: np.ndarray,
    formants_hz: Mapping[str, float],
    window_hz: float,
    peak_positions_hz: np.ndarray | None = None,
) -> dict:
    """Shares, chance shares and peak hit of one profile; NaN where a formant is undefined."""
    freqs_hz = np.asarray(freqs_hz, dtype=float)
    positions = freqs_hz if peak_positions_hz is None else np.asarray(peak_positions_hz)
    total = float(profile.sum())
    out: dict = {}
    union = np.zeros(len(freqs_hz), dtype=bool)
    near_positions = np.zeros(len(positions), dtype=bool)
    defined = [f for f in FORMANTS if np.isfinite(formants_hz.get(f, np.nan))]
    for name in FORMANTS:
        f = formants_hz.get(name, np.nan)
        if name not in defined or total <= 0:
            out[f"share_{name}"] = out[f"chance_{name}"] = float("nan")
            continue
        band = np.abs(freqs_hz - f) <= window_hz
        union |= band
        near_positions |= np.abs(positions - f) <= window_hz
        out[f"share_{name}"] = float(profile[band].sum() / total)
        out[f"chance_{name}"] = float(band.mean())
    if defined and total > 0:
        out["share_any"] = float(profile[union].sum() / total)
        out["chance_any"] = float(union.mean())
        top = np.flatnonzero(profile >= profile.max() * (1 - 1e-6))
        peak = float(freqs_hz[top].mean())
        out["peak_hz"] = peak
        out["peak_hit"] = float(any(abs(peak - formants_hz[f]) <= window_hz for f in defined))
        out["peak_chance"] = float(near_positions.mean())
    else:
        for k in ("share_any", "chance_any", "peak_hz", "peak_hit", "peak_chance"):
            out[k] = float("nan")
    for name in (*FORMANTS, "any"):
        share, chance = out[f"share_{name}"], out[f"chance_{name}"]
        out[f"ratio_{name}"] = share / chance if chance and np.isfinite(chance) else float("nan")
    return out


def segment_agreement(
    maps: MapFile, formants: pd.DataFrame, window_hz: float
) -> pd.DataFrame:  # pragma: no mutate block
    """Agreement of every vowel segment of a map file with its measured formants (``formants``,
    joined on ``phone_id``): one row per segment, method and class whose map the file has
    (``method``; ``cam`` = true or predicted), in the file's segment order, then method order."""
    seg = join(maps.segments, formants, list(FORMANT_HZ), how="left")
    fm = seg[list(FORMANT_HZ)].to_numpy(float)
    vowel = np.isfinite(fm).any(axis=1)
    n_frames = [
        len(vowel_frames(maps.times_s, c, s, e))
        for c, s, e in zip(seg.window_centre_s, seg.start_s, seg.end_s, strict=True)
    ]
    base = pd.DataFrame(
        {
            "phone_id": seg.phone_id,
            "utt_id": seg.utt_id,
            "start_s": seg.start_s,
            "end_s": seg.end_s,
            "phone": seg.phone,
            "vowel": seg.phone.astype(str).map(strip_stress),
            "class_name": seg.class_name,
            "predicted": seg.predicted_name,
            "correct": seg.correct.astype(bool),
            "f1_hz": fm[:, 0],
            "f2_hz": fm[:, 1],
            "f3_hz": fm[:, 2],
            "n_frames": n_frames,
        }
    ).to_dict(orient="records")
    rows = []
    for order, m in enumerate(maps.methods):
        positions = _peak_positions(maps.freqs_hz, maps.cell_grid(m)[0])
        n_cells = maps.n_cells(m)
        for w, which in enumerate(maps.which(m)):
            profiles = maps.profiles(m, which)
            for k, profile, n in zip(maps.rows(m), profiles, n_cells, strict=True):
                if not vowel[k]:
                    continue
                agree = profile_agreement(
                    profile,
                    maps.freqs_hz,
                    dict(zip(FORMANTS, fm[k], strict=True)),
                    window_hz,
                    positions,
                )
                own = {"method": m, "cam": which, "n_cells": int(n)}
                rows.append(((k, order, w), base[k] | own | agree))
    return pd.DataFrame([row for _, row in sorted(rows, key=lambda r: r[0])])


def null_by_method(
    maps: MapFile, formants: pd.DataFrame, cfg: AgreementConfig
) -> list[dict[str, float]]:  # pragma: no mutate block
    """:func:`permutation_null` of every method's true-class maps on the vowels that every
    method has maps of (so that the methods are tested on the same segments)."""
    seg = join(maps.segments, formants, list(FORMANT_HZ), how="left")
    fm = seg[list(FORMANT_HZ)].to_numpy(float)
    common = maps.common_rows()
    used = common[np.isfinite(fm[common]).any(axis=1)]
    out = []
    for m in maps.methods:
        profiles = maps.profiles(m, "true", used)
        if not len(profiles):
            continue
        null = permutation_null(
            profiles,
            fm[used],
            seg["label"].to_numpy()[used],
            maps.freqs_hz,
            cfg.window_hz,
            cfg.permutations,
            cfg.seed,
        )
        out += [{"method": m, "formant": k, **v} for k, v in null.items()]
    return out


def summarise_agreement(
    table: pd.DataFrame, n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> pd.DataFrame:  # pragma: no mutate block
    """Per CAM (true/predicted class), class and outcome (all/correct/misclassified): n, mean
    share and chance, mean ratio to chance with CI per formant, the peak-hit share against its
    chance, with CI, and the median and least number of time cells a profile averages
    (``n_cells_median``, ``n_cells_min``). Bootstrap over utterances."""
    rows = []
    if table.empty:
        return pd.DataFrame(rows)
    if "method" not in table:
        table = table.assign(method="cam")
    for (method, cam), by_cam in table.groupby(["method", "cam"], sort=False):
        classes = [*sorted(by_cam["class_name"].unique()), "(all)"]
        for cls in classes:
            g_cls = by_cam if cls == "(all)" else by_cam[by_cam["class_name"] == cls]
            for outcome in ("all", "correct", "misclassified"):
                g = g_cls if outcome == "all" else g_cls[g_cls["correct"] == (outcome == "correct")]
                row: dict = {
                    "method": method,
                    "cam": cam,
                    "class_name": cls,
                    "outcome": outcome,
                    "n_segments": len(g),
                    "n_utterances": g["utt_id"].nunique(),
                }
                for name in (*FORMANTS, "any"):
                    ratio = g[f"ratio_{name}"].to_numpy(float)
                    mean, low, high = cluster_bootstrap_ci(ratio, g["utt_id"], n_boot, level, seed)
                    row[f"n_{name}"] = int(np.isfinite(ratio).sum())
                    row[f"share_{name}"] = float(g[f"share_{name}"].mean()) if len(g) else np.nan
                    row[f"chance_{name}"] = float(g[f"chance_{name}"].mean()) if len(g) else np.nan
                    row[f"ratio_{name}"], row[f"ratio_{name}_low"], row[f"ratio_{name}_high"] = (
                        mean,
                        low,
                        high,
                    )
                if "n_cells" in g:
                    row["n_cells_median"] = float(g["n_cells"].median()) if len(g) else np.nan
                    row["n_cells_min"] = int(g["n_cells"].min()) if len(g) else 0
                hit = g["peak_hit"].to_numpy(float) if len(g) else np.array([])
                mean, low, high = cluster_bootstrap_ci(hit, g["utt_id"], n_boot, level, seed)
                row["peak_hit"], row["peak_hit_low"], row["peak_hit_high"] = mean, low, high
                row["peak_chance"] = float(g["peak_chance"].mean()) if len(g) else np.nan
                rows.append(row)
    return pd.DataFrame(rows)


def band_shares(
    profiles: np.ndarray, freqs_hz: np.ndarray, formants_hz: np.ndarray, window_hz: float
) -> np.ndarray:
    """(N, 4) share of each profile's mass within the bands of its F1, F2, F3 and their union;
    NaN where the formant is undefined (the union: where all are) or the profile is all zero."""
    profiles = np.asarray(profiles, dtype=float)
    totals = profiles.sum(axis=1)
    unit = np.divide(
        profiles, totals[:, None], out=np.zeros_like(profiles), where=totals[:, None] > 0
    )
    out = np.full((len(unit), 4), np.nan)
    union = np.zeros(unit.shape, dtype=bool)
    freqs = np.asarray(freqs_hz, dtype=float)[None, :]
    for k in range(3):
        f = formants_hz[:, k]
        band = np.abs(freqs - np.nan_to_num(f, nan=-1e9)[:, None]) <= window_hz
        union |= band
        out[:, k] = np.where(np.isfinite(f), (unit * band).sum(axis=1), np.nan)
    out[:, 3] = np.where(np.isfinite(formants_hz).any(axis=1), (unit * union).sum(axis=1), np.nan)
    out[totals <= 0] = np.nan
    return out


def within_class_orders(groups: np.ndarray, n_perm: int, seed: int = 0):
    """``n_perm`` orders of the items that shuffle each group's members among themselves
    (seeded): ``values[order]`` gives every item another member's value of its group."""
    rng = np.random.default_rng(seed)
    members = [np.flatnonzero(groups == g) for g in np.unique(groups)]
    for _ in range(n_perm):
        order = np.arange(len(groups))
        for idx in members:
            order[idx] = rng.permutation(idx)
        yield order


def permutation_null(
    profiles: np.ndarray,
    formants_hz: np.ndarray,
    groups: np.ndarray,
    freqs_hz: np.ndarray,
    window_hz: float,
    n_perm: int = 1000,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """Is a map's mass nearer *its own* vowel's formants than those of other vowels of its class?

    ``profiles`` (N, F) are CAM profiles (non-negative; each is scaled to sum 1), ``formants_hz``
    (N, 3) the measured F1-F3, ``groups`` the class of each segment. The observed statistic is
    the mean share within the formant bands; the null shuffles the formant triplets among the
    segments of the same class, ``n_perm`` times. Returns, for F1, F2, F3 and ``any``: the
    observed mean, the null's mean and the one-sided p-value ``(1 + #{null >= observed}) /
    (1 + n_perm)``.
    """
    profiles = np.asarray(profiles, dtype=float)
    totals = profiles.sum(1, keepdims=True)
    keep = totals[:, 0] > 0
    profiles, formants_hz = profiles[keep] / totals[keep], np.asarray(formants_hz)[keep]
    groups = np.asarray(groups)[keep]
    freqs_hz = np.asarray(freqs_hz, dtype=float)
    observed = np.nanmean(band_shares(profiles, freqs_hz, formants_hz, window_hz), axis=0)
    null = np.empty((n_perm, 4))
    for p, order in enumerate(within_class_orders(groups, n_perm, seed)):
        null[p] = np.nanmean(band_shares(profiles, freqs_hz, formants_hz[order], window_hz), 0)
    names = (*FORMANTS, "any")
    return {
        name: {
            "n": int(keep.sum()),
            "observed": float(observed[k]),
            "null_mean": float(np.mean(null[:, k])),
            "p": float((1 + np.sum(null[:, k] >= observed[k] - 1e-12)) / (1 + n_perm)),
        }
        for k, name in enumerate(names)
    }
