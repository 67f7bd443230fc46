"""Band occlusion on every test token: the data of the verdict's causal statement.

For a token ``x`` (F rows x T frames, dB) and a half-width ``w``, the bands are

- the *tiles*: centres every ``w`` Hz from the axis's first row to its last, each band the rows
  within ``w`` of its centre (so they overlap by half and cover the axis twice), the same for
  every token;
- the *cue bands*: the rows inside each of the token's cue intervals
  (:mod:`spectrocam.evidence.cues`: ``F_k +/- w`` for a formant, a fixed region otherwise).

Each band is occluded with the local floor (:func:`local_floor`): its cells become ``min(x,
floor_t)``, ``floor_t`` the ``causal.fill_percentile`` of the rows around the band (the band and one
band width on either side) in frame ``t``, so no cell ever gains energy. Recorded per token and
band: ``removed_db``, the dB the occlusion removed summed over the band's cells (>= 0), and the
model's log-probabilities of every class after it (``logp_<class>``; the unperturbed token's are on
the token's row ``band == "none"``). A band *overlaps* cue ``k`` when its centre lies inside the
cue's interval (for a formant: the formant lies within ``w`` of the centre), ``overlap_<cue>``; a
band that covers part of a cue's interval without its centre is marked not ``clear`` and is neither
cue nor control in the fit.

:func:`score_bands` runs every band of every token through the model in dense batches of
``batch_size`` perturbations (the unperturbed pass is one of them, made once per token), in
inference mode and channels-last memory order (float32; 3x the contiguous layout's passes per
second on one AVX2 core for the demo's ResNet-18).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import torch

__all__ = [
    "local_floor",
    "tile_centres",
    "token_bands",
    "perturbed_logprobs",
    "score_bands",
    "add_overlaps",
]


def local_floor(x: np.ndarray, rows: np.ndarray | None, percentile: float) -> np.ndarray:
    """The fill of an occlusion of ``rows`` of one segment ``x`` (F, T), per frame (T,): the
    ``percentile`` of the rows around the band (the band and one band width on either side); of
    all rows when ``rows`` is None (deletion curves)."""
    if rows is None:
        return np.percentile(x, percentile, axis=0).astype(np.float32)
    n = len(rows)
    lo, hi = max(0, rows[0] - n), min(x.shape[0], rows[-1] + n + 1)
    return np.percentile(x[lo:hi], percentile, axis=0).astype(np.float32)


def tile_centres(freqs_hz: np.ndarray, half_width_hz: float) -> np.ndarray:
    """Band centres every ``half_width_hz`` from the first row's frequency to the last's."""
    lo, hi = float(freqs_hz[0]), float(freqs_hz[-1])
    return lo + half_width_hz * np.arange(int(np.floor((hi - lo) / half_width_hz + 1e-9)) + 1)


def token_bands(
    freqs_hz: np.ndarray, half_width_hz: float, cues: Mapping[str, np.ndarray], tiles: bool = True
) -> list[tuple[str, float, float, float, np.ndarray]]:
    """One token's bands as ``(band, centre_hz, low_hz, high_hz, rows)``: every tile
    (``tile``; none when ``tiles`` is False), then each cue with rows on the axis
    (``cue:<name>``; ``cues``: name -> the token's ``[low, high]``)."""
    f = np.asarray(freqs_hz, dtype=float)
    out = []
    for c in tile_centres(f, half_width_hz) if tiles else []:
        rows = np.flatnonzero(np.abs(f - c) <= half_width_hz)
        if len(rows):
            out.append(("tile", float(c), c - half_width_hz, c + half_width_hz, rows))
    for name, (lo, hi) in cues.items():
        rows = np.flatnonzero((f >= lo) & (f <= hi)) if np.isfinite([lo, hi]).all() else []
        if len(rows):
            out.append((f"cue:{name}", (lo + hi) / 2, float(lo), float(hi), np.asarray(rows)))
    return out


def perturbed_logprobs(
    model,
    x: torch.Tensor,
    segment: np.ndarray,
    masks: np.ndarray,
    fills: np.ndarray,
    batch_size: int,
    dtype: torch.dtype | None = None,
) -> np.ndarray:  # pragma: no mutate block
    """(V, C) log-softmax of each perturbation ``v``: segment ``segment[v]`` of ``x`` (G, 1, F,
    T, on the model's device) with the rows ``masks[v]`` set to ``min(x, fills[v])``; a
    perturbation whose mask is all False is the segment itself."""
    from spectrocam.model.device import autocast

    device = x.device
    out = []
    with torch.inference_mode():
        for lo in range(0, len(segment), batch_size):
            seg = torch.from_numpy(np.asarray(segment[lo : lo + batch_size])).to(device)
            m = torch.from_numpy(np.asarray(masks[lo : lo + batch_size])).to(device)
            f = torch.from_numpy(np.asarray(fills[lo : lo + batch_size], np.float32)).to(device)
            xs = x[seg, 0]
            xs = torch.where(m[:, :, None], torch.minimum(xs, f[:, None, :]), xs)
            xs = xs[:, None].contiguous(memory_format=torch.channels_last)
            with autocast(device, dtype):
                logits = model(xs)
            out.append(torch.log_softmax(logits.float(), 1).cpu())
    return torch.cat(out).numpy() if out else np.zeros((0, 0), dtype=np.float32)


def _token_perturbations(x: np.ndarray, bands, percentile: float):
    """Masks (B + 1, F), fills (B + 1, T) and dB removed (B + 1,) of one token: first the
    token itself (no row), then each band."""
    n_rows, n_frames = x.shape
    masks = np.zeros((len(bands) + 1, n_rows), bool)
    fills = np.zeros((len(bands) + 1, n_frames), np.float32)
    removed = np.zeros(len(bands) + 1)
    for b, (*_, rows) in enumerate(bands, start=1):
        fill = local_floor(x, rows, percentile)
        masks[b, rows] = True
        fills[b] = fill
        removed[b] = float(np.sum(x[rows] - np.minimum(x[rows], fill[None, :])))
    return masks, fills, removed


def score_bands(
    model,
    reader,
    indices: np.ndarray,
    cues: Mapping[str, np.ndarray],
    half_width_hz: float,
    percentile: float,
    batch_size: int,
    device,
    dtype: torch.dtype | None = None,
    group: int = 32,
    progress: Callable[[int], None] | None = None,
    tiles: bool = True,
) -> pd.DataFrame:  # pragma: no mutate block
    """Every band of every token ``indices`` (store indices; ``cues``: name -> (N, 2) intervals
    in the same order) scored by ``model``: one row per token and band (the token itself first,
    ``band == "none"``) with ``token`` (position in ``indices``), ``segment_index``, ``band``,
    ``centre_hz``, ``low_hz``, ``high_hz``, ``n_rows``, ``removed_db`` and ``logp_<class>``.
    Tokens are read ``group`` at a time; ``tiles=False`` scores the cue bands alone."""
    names = list(reader.class_names)
    model = model.to(memory_format=torch.channels_last)
    frames, indices = [], np.asarray(indices)
    for lo in range(0, len(indices), group):
        chunk = indices[lo : lo + group]
        x = reader.batch(chunk)
        masks, fills, owner, rows = [], [], [], []
        for g, seg in enumerate(x[:, 0].numpy()):
            k = lo + g
            own = {c: v[k] for c, v in cues.items()}
            bands = token_bands(reader.freqs_hz, half_width_hz, own, tiles)
            m, f, removed = _token_perturbations(seg, bands, percentile)
            masks.append(m)
            fills.append(f)
            owner.append(np.full(len(m), g))
            described = [("none", np.nan, np.nan, np.nan, np.zeros(0, int)), *bands]
            for (band, centre, low, high, r), a in zip(described, removed, strict=True):
                rows.append((k, int(chunk[g]), band, centre, low, high, len(r), a))
        logp = perturbed_logprobs(
            model,
            x.to(device),
            np.concatenate(owner),
            np.concatenate(masks),
            np.concatenate(fills),
            batch_size,
            dtype,
        )
        frame = pd.DataFrame(
            rows,
            columns=[
                "token",
                "segment_index",
                "band",
                "centre_hz",
                "low_hz",
                "high_hz",
                "n_rows",
                "removed_db",
            ],
        )
        frame[[f"logp_{c}" for c in names]] = logp
        frames.append(frame)
        if progress:
            progress(len(chunk))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def add_overlaps(bands: pd.DataFrame, cues: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """``bands`` with, per cue, ``overlap_<cue>`` (the band's centre lies inside the token's
    interval of that cue; False on the token's own row), ``overlap_any`` (any cue) and ``clear``:
    the band overlaps every cue whose interval it touches (a band that covers part of a cue's
    interval without its centre inside is neither the cue nor a control, and the fit leaves it
    out)."""
    out = bands.copy()
    token = out["token"].to_numpy()
    centre = out["centre_hz"].to_numpy(float)
    low, high = out["low_hz"].to_numpy(float), out["high_hz"].to_numpy(float)
    any_cue = np.zeros(len(out), bool)
    partial = np.zeros(len(out), bool)
    with np.errstate(invalid="ignore"):
        for name, intervals in cues.items():
            lo, hi = intervals[token, 0], intervals[token, 1]
            hit = (centre >= lo) & (centre <= hi)
            out[f"overlap_{name}"] = hit
            any_cue |= hit
            partial |= (low <= hi) & (high >= lo) & ~hit
    out["overlap_any"] = any_cue
    out["clear"] = ~partial
    return out
