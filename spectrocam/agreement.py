"""How well a CAM agrees with the formants of its vowel.

Per segment, the CAM's frequency profile is the non-negative part of the map on the spectrogram
grid, averaged over the frames that lie inside the vowel (the frame nearest its midpoint when
none does). For each of F1, F2, F3 (and for their union, ``any``) the *share* is the part of the
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

import numpy as np
import pandas as pd

from spectrocam.alignment import strip_stress
from spectrocam.stats import cluster_bootstrap_ci

__all__ = [
    "FORMANTS",
    "vowel_frames",
    "cam_profile",
    "profile_agreement",
    "segment_agreement",
    "summarise_agreement",
]

FORMANTS = ("F1", "F2", "F3")


def vowel_frames(times_s: np.ndarray, centre_s: float, start_s: float, end_s: float) -> np.ndarray:
    """Indices of the window's frames that lie inside the vowel (at least the nearest one)."""
    t = centre_s + np.asarray(times_s)
    inside = np.flatnonzero((t >= start_s) & (t <= end_s))
    if not len(inside):
        inside = np.array([int(np.argmin(np.abs(t - (start_s + end_s) / 2)))])
    return inside


def cam_profile(cam: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """(F, T) map -> (F,) mean over ``frames`` of its non-negative part."""
    return np.clip(cam[:, frames], 0, None).mean(axis=1)


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
    cams: Mapping,
    formants: pd.DataFrame,
    window_hz: float,
    method_maps: Mapping[str, Mapping] | None = None,
) -> pd.DataFrame:
    """Agreement of every vowel segment of a CAM file (:func:`spectrocam.cam.read_cams`) with
    its measured formants, for the CAM of the true and of the predicted class (``method`` cam,
    ``cam`` true/predicted), and for the true class's map of every method of ``method_maps``:
    method -> ``{"cells": (N, f, t), "row_cell": (F,), "frame_cell": (T,)}``, its segments in the
    order of the CAM file."""
    key = pd.DataFrame(
        {
            "utt_id": cams["utt_id"],
            "start_s": np.round(cams["start_s"], 4),
            "end_s": np.round(cams["end_s"], 4),
        }
    )
    f = formants.assign(start_s=formants["start_s"].round(4), end_s=formants["end_s"].round(4))
    merged = key.merge(
        f[["utt_id", "start_s", "end_s", "f1_hz", "f2_hz", "f3_hz"]],
        on=["utt_id", "start_s", "end_s"],
        how="left",
        validate="many_to_one",
    )
    freqs, times = cams["freqs_hz"], cams["times_s"]
    positions = _peak_positions(freqs, cams["row_cell"])
    method_maps = dict(method_maps or {})
    method_positions = {
        m: _peak_positions(freqs, entry["row_cell"]) for m, entry in method_maps.items()
    }
    names = list(cams["class_names"])
    rows = []
    for i in range(len(key)):
        vowel = strip_stress(str(cams["phone"][i]))
        if not np.isfinite(merged.loc[i, ["f1_hz", "f2_hz", "f3_hz"]].to_numpy(float)).any():
            continue
        frames = vowel_frames(
            times, cams["window_centre_s"][i], cams["start_s"][i], cams["end_s"][i]
        )
        fm = {"F1": merged.at[i, "f1_hz"], "F2": merged.at[i, "f2_hz"], "F3": merged.at[i, "f3_hz"]}
        base = {
            "utt_id": cams["utt_id"][i],
            "start_s": cams["start_s"][i],
            "end_s": cams["end_s"][i],
            "phone": cams["phone"][i],
            "vowel": vowel,
            "class_name": names[int(cams["labels"][i])],
            "predicted": names[int(cams["predicted"][i])],
            "correct": bool(cams["labels"][i] == cams["predicted"][i]),
            "f1_hz": fm["F1"],
            "f2_hz": fm["F2"],
            "f3_hz": fm["F3"],
            "n_frames": len(frames),
        }
        for which in ("true", "predicted"):
            profile = cam_profile(cams[f"cam_{which}"][i], frames)
            rows.append(
                base
                | {"method": "cam", "cam": which}
                | profile_agreement(profile, freqs, fm, window_hz, positions)
            )
        for m, entry in method_maps.items():
            if np.isnan(entry["cells"][i]).all():
                continue  # no map of this method for this segment
            grid = entry["cells"][i][entry["row_cell"]][:, entry["frame_cell"]]
            rows.append(
                base
                | {"method": m, "cam": "true"}
                | profile_agreement(
                    cam_profile(grid, frames), freqs, fm, window_hz, method_positions[m]
                )
            )
    return pd.DataFrame(rows)


def summarise_agreement(
    table: pd.DataFrame, n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> pd.DataFrame:
    """Per CAM (true/predicted class), class and outcome (all/correct/misclassified): n, mean
    share and chance, mean ratio to chance with CI per formant, and the peak-hit share against
    its chance, with CI. Bootstrap over utterances."""
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
                hit = g["peak_hit"].to_numpy(float) if len(g) else np.array([])
                mean, low, high = cluster_bootstrap_ci(hit, g["utt_id"], n_boot, level, seed)
                row["peak_hit"], row["peak_hit_low"], row["peak_hit_high"] = mean, low, high
                row["peak_chance"] = float(g["peak_chance"].mean()) if len(g) else np.nan
                rows.append(row)
    return pd.DataFrame(rows)


def _band_shares(
    profiles: np.ndarray, freqs_hz: np.ndarray, formants_hz: np.ndarray, window_hz: float
) -> np.ndarray:
    """(N, 4) shares of each (normalised) profile within the bands of its F1, F2, F3 and of
    their union; NaN where a formant is undefined (and for the union, where all are)."""
    n = len(profiles)
    out = np.full((n, 4), np.nan)
    union = np.zeros(profiles.shape, dtype=bool)
    for k in range(3):
        f = formants_hz[:, k]
        band = np.abs(freqs_hz[None, :] - np.nan_to_num(f, nan=-1e9)[:, None]) <= window_hz
        union |= band
        share = (profiles * band).sum(1)
        out[:, k] = np.where(np.isfinite(f), share, np.nan)
    any_defined = np.isfinite(formants_hz).any(1)
    out[:, 3] = np.where(any_defined, (profiles * union).sum(1), np.nan)
    return out


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
    observed = np.nanmean(_band_shares(profiles, freqs_hz, formants_hz, window_hz), axis=0)
    rng = np.random.default_rng(seed)
    members = [np.flatnonzero(groups == g) for g in np.unique(groups)]
    null = np.empty((n_perm, 4))
    for p in range(n_perm):
        order = np.arange(len(groups))
        for idx in members:
            order[idx] = rng.permutation(idx)
        null[p] = np.nanmean(_band_shares(profiles, freqs_hz, formants_hz[order], window_hz), 0)
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
