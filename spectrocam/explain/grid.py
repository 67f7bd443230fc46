"""Feature cells and the spectrogram grid: where a map's cells lie, and a map's profile.

A map has one value per feature cell of a network stage. Cell ``i`` of a ResNet whose
convolutions are padded by half their kernel is centred on input row (or frame) ``i * stride``;
each row and frame of the spectrogram takes the value of the cell it lies nearest to
(:func:`cell_index`, :func:`to_grid`), so no resolution is invented: a map on the grid is
constant over the rows of one cell.

A map's *profile* over frequency is its non-negative part averaged over the map's *cells*
whose centre lies inside the phone's interval (:func:`vowel_cells`; the cell nearest the
phone's midpoint when none does, so a phone shorter than a cell gets one). Averaging over the
phone's frames instead would count a cell whose centre lies outside the phone (it spans the
neighbours too) as soon as one of its frames does. How many cells a profile averages is
:func:`vowel_cells`' length. At a time stride of 32 a cell is 160 ms at a 5 ms hop (two over a
0.3 s window, one or two per vowel, each covering the neighbours too); at 8, 40 ms.

Pure numpy: the jobs that only read maps do not import torch.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "cell_index",
    "to_grid",
    "vowel_frames",
    "cell_times",
    "vowel_cells",
    "cam_profile",
    "cell_profiles",
]


def cell_index(n_input: int, n_cells: int, stride: int) -> np.ndarray:
    """For each of ``n_input`` input rows (or frames), the feature cell it lies nearest to.

    Cell ``i`` is centred on input position ``i * stride``; positions half-way go to the lower cell.
    """
    idx = np.floor((np.arange(n_input) + (stride - 1) / 2) / stride).astype(int)
    return np.clip(idx, 0, n_cells - 1)


def to_grid(cells: np.ndarray, row_cell: np.ndarray, frame_cell: np.ndarray) -> np.ndarray:
    """Maps of cells (..., f, t) -> maps on the input grid (..., F, T), nearest cell."""
    return cells[..., row_cell, :][..., frame_cell]


def vowel_frames(times_s: np.ndarray, centre_s: float, start_s: float, end_s: float) -> np.ndarray:
    """Indices of the window's frames that lie inside the vowel (at least the nearest one)."""
    t = centre_s + np.asarray(times_s)
    inside = np.flatnonzero((t >= start_s) & (t <= end_s))
    if not len(inside):
        inside = np.array([int(np.argmin(np.abs(t - (start_s + end_s) / 2)))])
    return inside


def cell_times(times_s: np.ndarray, n_cells: int, stride: int) -> np.ndarray:
    """Centre time of each of ``n_cells`` time cells, relative to the window's centre: cell ``j``
    is centred on frame ``j * stride`` (on the frame grid ``times_s`` extended at its step)."""
    times_s = np.asarray(times_s, dtype=float)
    step = float(times_s[1] - times_s[0]) if len(times_s) > 1 else 0.0
    return times_s[0] + np.arange(n_cells) * stride * step


def vowel_cells(
    cell_times_s: np.ndarray, centre_s: float, start_s: float, end_s: float
) -> np.ndarray:
    """Indices of the time cells whose centre lies inside the phone ``[start_s, end_s]`` (times
    in the clip; cell times relative to the window centre ``centre_s``); the cell nearest the
    phone's midpoint when none does."""
    t = centre_s + np.asarray(cell_times_s)
    inside = np.flatnonzero((t >= start_s - 1e-9) & (t <= end_s + 1e-9))
    if not len(inside):
        inside = np.array([int(np.argmin(np.abs(t - (start_s + end_s) / 2)))])
    return inside


def cam_profile(cam: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """(F, T) map -> (F,) mean over ``frames`` of its non-negative part."""
    return np.clip(cam[:, frames], 0, None).mean(axis=1)


def cell_profiles(
    cells: np.ndarray,
    row_cell: np.ndarray,
    time_cells: list[np.ndarray],
) -> np.ndarray:
    """(N, f, t) maps on cells -> (N, F) profiles on the grid's rows: for each segment, the mean
    of the non-negative part over its ``time_cells[i]`` (:func:`vowel_cells`), taken onto the
    rows (a row's profile is its cell's, so it is computed once per cell)."""
    out = np.zeros((len(cells), len(row_cell)), dtype=np.float32)
    for i, c in enumerate(cells):
        out[i] = np.clip(c[:, time_cells[i]], 0, None).mean(axis=1)[row_cell]
    return out
