"""Healthy BatchNorm statistics, and a check that a model's predictions have not collapsed.

A ResNet trained from scratch for few optimiser steps can look well trained in training mode
(batch statistics) yet call every segment one class in eval mode: the running means and
variances of its BatchNorm layers lag the weights. In the demo, voicing_4k's validation
accuracy stayed at exactly the unvoiced share for three epochs while training accuracy rose to
0.94; re-estimating the statistics on 256 training segments raised it from 0.664 to 0.852.

:func:`recalibrate` re-estimates them from training segments (train-mode forward passes without
gradients, a cumulative average over the batches, nothing else changed) before every
validation and before a model is saved. :func:`collapse` tells when predictions have collapsed
onto one class, so that such an epoch is flagged and never kept.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["recalibrate", "collapse"]


@torch.no_grad()
def recalibrate(
    model: nn.Module,
    reader,
    indices: np.ndarray,
    device: torch.device,
    n_segments: int = 256,
    batch_size: int = 64,
    seed: int = 0,
) -> int:
    """Re-estimate every BatchNorm layer's running statistics from ``n_segments`` of the store's
    segments ``indices`` (a seeded sample, in batches); leave the model in eval mode. Returns
    how many segments were used (0: nothing done)."""
    layers = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not layers or not n_segments or not len(indices):
        model.eval()
        return 0
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(indices, size=min(n_segments, len(indices)), replace=False))
    momenta = [m.momentum for m in layers]
    for m in layers:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the batches
    model.train()
    try:
        for lo in range(0, len(sample), batch_size):
            model(reader.batch(sample[lo : lo + batch_size]).to(device))
    finally:
        for m, momentum in zip(layers, momenta, strict=True):
            m.momentum = momentum
        model.eval()
    return len(sample)


def collapse(predicted: np.ndarray, labels: np.ndarray, share: float = 0.95) -> dict:
    """Whether predictions collapsed onto one class: that class takes at least ``share`` of the
    predictions although its true share is below ``share``. Returns ``collapsed``,
    ``top_class`` (index) and ``top_share``."""
    predicted, labels = np.asarray(predicted), np.asarray(labels)
    if not len(predicted):
        return {"collapsed": False, "top_class": -1, "top_share": float("nan")}
    counts = np.bincount(predicted)
    top = int(counts.argmax())
    top_share = float(counts[top] / len(predicted))
    true_share = float(np.mean(labels == top))
    return {
        "collapsed": bool(top_share >= share and true_share < share),
        "top_class": top,
        "top_share": top_share,
    }
