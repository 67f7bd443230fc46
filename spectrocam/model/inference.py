"""A trained model and the segments of each split, for the jobs after training (test figures,
maps, sanity and causal tests), and batched predictions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from spectrocam.io import read_text_table
from spectrocam.model.device import autocast, choose_device
from spectrocam.model.network import load_model
from spectrocam.segments.store import SegmentReader, split_indices

__all__ = ["trained_model", "trained_model_and_splits", "predict"]


def trained_model_and_splits(
    model_path: str | Path,
    store_path: str | Path,
    splits_path: str | Path,
    device: str = "auto",
    threads: int = 1,
):
    """For the jobs after training: ``(model, meta, device, indices of each split)``."""
    chosen = choose_device(device, threads)
    model, meta = load_model(model_path, chosen)
    splits = read_text_table(splits_path)
    return model, meta, chosen, split_indices(store_path, splits)


@torch.inference_mode()
def predict(
    model: nn.Module,
    reader: SegmentReader,
    indices: np.ndarray,
    batch_size: int,
    device: torch.device,
    dtype: torch.dtype | None = None,
) -> np.ndarray:
    """Logits (N, C) of the segments ``indices``, in that order."""
    model.eval()
    out = []
    for lo in range(0, len(indices), batch_size):
        x = reader.batch(indices[lo : lo + batch_size]).to(device)
        with autocast(device, dtype):
            out.append(model(x).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, model.n_classes), dtype=np.float32)


def trained_model(smk: Any):
    """For a rule after training (inputs ``model``, ``segments``, ``splits``; param
    ``inference``, :class:`spectrocam.model.device.InferenceConfig`): ``(model, meta, device,
    indices of each split)``, on the configuration's threads (training.threads), not the
    scheduler's, so that the figures do not depend on where the job ran."""
    return trained_model_and_splits(
        smk.input.model,
        smk.input.segments,
        smk.input.splits,
        smk.params.inference["device"],
        smk.params.inference["threads"],
    )
