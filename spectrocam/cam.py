"""Class activation maps (Zhou et al., 2016) for the test segments, on the spectrogram grid.

For class ``c`` the CAM is ``M_c = sum_k w[c, k] * A_k``: the last stage's feature maps ``A``
weighted by the final layer's weights of ``c``. Since the network averages ``A`` over its cells
before the final layer, the mean of ``M_c`` plus the bias of ``c`` is exactly the logit of ``c``:
maps and predictions come from the same forward pass.

A map has one value per feature cell. It is put onto the spectrogram's exact grid (the store's
``freqs_hz`` and ``times_s``) by giving each row and frame the value of the cell it lies nearest
to (:func:`spectrocam.model.cell_index`), so no resolution is invented: the map is constant over
the rows of a cell, and the file says how many Hz one cell spans.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path

import h5py
import numpy as np
import torch

from spectrocam.model import SpectroResNet, cell_index
from spectrocam.store import FLOAT_FIELDS, STRING_FIELDS, SegmentReader

__all__ = ["class_activation_maps", "to_grid", "compute_test_cams", "read_cams"]

log = logging.getLogger(__name__)
_STR = h5py.string_dtype(encoding="utf-8")


def class_activation_maps(
    model: SpectroResNet, x: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits (B, C) and the CAMs of every class (B, C, f, t), from one forward pass."""
    logits, maps = model.forward_with_features(x)
    cams = torch.einsum("ck,bkft->bcft", model.fc.weight, maps)
    return logits, cams


def to_grid(cells: np.ndarray, row_cell: np.ndarray, frame_cell: np.ndarray) -> np.ndarray:
    """Maps of cells (..., f, t) -> maps on the input grid (..., F, T), nearest cell."""
    return cells[..., row_cell, :][..., frame_cell]


@torch.no_grad()
def compute_test_cams(
    model: SpectroResNet,
    store_path: str | Path,
    indices: np.ndarray,
    out_path: str | Path,
    device: torch.device,
    batch_size: int = 64,
    attrs: Mapping | None = None,
    progress_every_s: float = 30.0,
) -> dict[str, np.ndarray]:
    """Predict the segments ``indices`` of a store and write their CAMs to ``out_path``.

    Returns the labels, predictions and probabilities. The file holds, per segment, the CAM of
    the predicted and of the true class on the spectrogram grid (``cam_predicted``, ``cam_true``,
    (N, F, T)) and on the cells (``cells_predicted``, ``cells_true``, (N, f, t)), with the
    segment's fields, its index in the store, its label, prediction and class probabilities.
    """
    model.eval().to(device)
    indices = np.asarray(indices, dtype=int)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".tmp")
    n = len(indices)
    with SegmentReader(store_path) as reader, h5py.File(store_path, "r") as store:
        n_rows, n_frames = reader.shape
        n_classes = len(reader.class_names)
        probe = model.features(
            reader.batch(indices[:1]).to(device)
            if n
            else torch.zeros(1, 1, n_rows, n_frames, device=device)
        )
        f_cells, t_cells = probe.shape[2:]
        sf, st = model.freq_stride, model.time_stride
        row_cell = cell_index(n_rows, f_cells, sf)
        frame_cell = cell_index(n_frames, t_cells, st)
        freqs, times = reader.freqs_hz, reader.times_s
        hz_per_row = float(freqs[1] - freqs[0]) if len(freqs) > 1 else float("nan")
        labels = reader.labels[indices]
        predicted = np.zeros(n, dtype=int)
        probs = np.zeros((n, n_classes), dtype=np.float32)
        with h5py.File(tmp, "w") as h5:
            grid_opts = {"chunks": (1, n_rows, n_frames), "compression": "gzip"} if n else {}
            for name in ("cam_predicted", "cam_true"):
                h5.create_dataset(name, (n, n_rows, n_frames), dtype=np.float32, **grid_opts)
            for name in ("cells_predicted", "cells_true"):
                h5.create_dataset(name, (n, f_cells, t_cells), dtype=np.float32)
            h5["segment_index"] = indices
            h5["labels"] = labels.astype(np.int16)
            for name in STRING_FIELDS:
                h5.create_dataset(
                    name, data=store[name].asstr()[:][indices].astype(object), dtype=_STR
                )
            for name in FLOAT_FIELDS:
                h5[name] = store[name][:][indices]
            h5.create_dataset(
                "class_names", data=np.array(reader.class_names, dtype=object), dtype=_STR
            )
            h5["freqs_hz"], h5["times_s"] = freqs, times
            h5["row_cell"], h5["frame_cell"] = row_cell, frame_cell
            h5["cell_freqs_hz"] = freqs[np.minimum(np.arange(f_cells) * sf, n_rows - 1)]
            h5["cell_times_s"] = times[np.minimum(np.arange(t_cells) * st, n_frames - 1)]
            h5.attrs.update(
                {
                    "method": "CAM (Zhou et al. 2016): sum_k w[c,k] A_k of the last stage",
                    "freq_stride": sf,
                    "time_stride": st,
                    "hz_per_row": hz_per_row,
                    "hz_per_cell": hz_per_row * sf,
                    "s_per_cell": float(times[1] - times[0]) * st if len(times) > 1 else np.nan,
                    "grid": "each row/frame takes the value of its nearest cell (row_cell, "
                    "frame_cell); no interpolation",
                    **dict(attrs or {}),
                }
            )
            started = last = time.monotonic()
            for lo in range(0, n, batch_size):
                hi = min(n, lo + batch_size)
                x = reader.batch(indices[lo:hi]).to(device)
                logits, cams = class_activation_maps(model, x)
                pred = logits.argmax(1)
                true = torch.from_numpy(labels[lo:hi]).to(device)
                rows = torch.arange(hi - lo, device=device)
                cells_pred = cams[rows, pred].float().cpu().numpy()
                cells_true = cams[rows, true].float().cpu().numpy()
                h5["cells_predicted"][lo:hi] = cells_pred
                h5["cells_true"][lo:hi] = cells_true
                h5["cam_predicted"][lo:hi] = to_grid(cells_pred, row_cell, frame_cell)
                h5["cam_true"][lo:hi] = to_grid(cells_true, row_cell, frame_cell)
                predicted[lo:hi] = pred.cpu().numpy()
                probs[lo:hi] = torch.softmax(logits.float(), 1).cpu().numpy()
                if time.monotonic() - last >= progress_every_s:
                    last = time.monotonic()
                    log.info("CAMs: %d/%d segments", hi, n)
            h5["predicted"] = predicted.astype(np.int16)
            h5["probabilities"] = probs
        tmp.replace(out_path)
    log.info(
        "CAMs of %d segments in %.1f s: %d x %d cells, %.1f Hz per cell",
        n,
        time.monotonic() - started,
        f_cells,
        t_cells,
        hz_per_row * sf,
    )
    return {"labels": labels, "predicted": predicted, "probabilities": probs}


def read_cams(path: str | Path, maps: bool = True) -> dict:
    """A CAM file in memory (``maps=False`` leaves out the (N, F, T) grids)."""
    with h5py.File(path, "r") as h5:
        out = {k: h5.attrs[k] for k in h5.attrs}
        for name, ds in h5.items():
            if name.startswith("cam_") and not maps:
                continue
            out[name] = ds.asstr()[:] if ds.dtype.kind == "O" else ds[:]
    return out
