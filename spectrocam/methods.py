"""Class activation map methods, batched: CAM, Grad-CAM, Grad-CAM++, HiResCAM, LayerCAM and
Score-CAM, all from the maps ``A`` (B, K, f, t) of one stage of the network.

Every method returns, per segment, a signed map on that stage's cells (the non-negative part is
what the methods show; we keep the sign so that nothing is lost). With ``y`` the logit of the
class and ``G = dy/dA``:

=========  =====================================================================================
cam        ``sum_k w[c,k] A_k`` with the last layer's weights (last stage only; Zhou et al. 2016)
gradcam    ``sum_k mean(G_k) A_k`` (Selvaraju et al. 2017)
gradcam++  ``sum_k (sum_ij relu(G_kij) a_kij) A_k``, ``a = G^2 / (2 G^2 + sum(A_k) G^3)``, a = 0
           where G = 0 (Chattopadhyay et al. 2018, eq. 19, as pytorch-grad-cam computes it)
hirescam   ``sum_k G_k * A_k`` element-wise (Draelos & Carin 2020)
layercam   ``sum_k relu(G_k) * A_k`` element-wise (Jiang et al. 2021)
scorecam   ``sum_k softmax_k(s_k) A_k``: ``s_k`` is the logit of the input masked by ``A_k``
           upsampled bilinearly to the input and scaled to [0, 1] (Wang et al. 2020)
=========  =====================================================================================

Score-CAM masks the *standardised* input (the model standardises internally), so a masked-out
region takes the training set's mean level rather than 0 dB. It needs one forward pass per
channel and segment; ``score_channels`` limits it to the most active channels of each segment.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import h5py
import numpy as np
import torch
import torch.nn.functional as F

from spectrocam.model import SpectroResNet
from spectrocam.store import SegmentReader

log = logging.getLogger(__name__)

__all__ = ["METHODS", "GRADIENT_METHODS", "STAGES", "stage_module", "explain_batch"]

METHODS = ("cam", "gradcam", "gradcam++", "hirescam", "layercam", "scorecam")
GRADIENT_METHODS = ("gradcam", "gradcam++", "hirescam", "layercam")
STAGES = {"layer1": 4, "layer2": 5, "layer3": 6, "layer4": 7}


def stage_module(model: SpectroResNet, stage: str) -> torch.nn.Module:
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {', '.join(STAGES)}, not {stage!r}")
    return model.body[STAGES[stage]]


def _gradient_map(method: str, acts: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
    if method == "gradcam":
        return (grads.mean(dim=(2, 3), keepdim=True) * acts).sum(1)
    if method == "gradcam++":
        g2 = grads.pow(2)
        g3 = g2 * grads
        sum_acts = acts.sum(dim=(2, 3), keepdim=True)
        aij = g2 / (2 * g2 + sum_acts * g3 + 1e-6)
        aij = torch.where(grads != 0, aij, torch.zeros_like(aij))
        weights = (grads.clamp(min=0) * aij).sum(dim=(2, 3), keepdim=True)
        return (weights * acts).sum(1)
    if method == "hirescam":
        return (grads * acts).sum(1)
    if method == "layercam":
        return (grads.clamp(min=0) * acts).sum(1)
    raise ValueError(f"unknown gradient method {method!r}")


@torch.no_grad()
def _score_cam(
    model: SpectroResNet,
    x: torch.Tensor,
    acts: torch.Tensor,
    classes: torch.Tensor,
    batch_size: int,
    channels: int | None,
) -> torch.Tensor:
    n, k = acts.shape[:2]
    up = F.interpolate(acts, size=x.shape[-2:], mode="bilinear", align_corners=True)
    flat = up.flatten(2)
    lo, hi = flat.min(-1).values[..., None, None], flat.max(-1).values[..., None, None]
    masks = (up - lo) / (hi - lo + 1e-8)
    mean, std = model.input_mean, model.input_std
    maps = torch.zeros(n, *acts.shape[2:], device=acts.device, dtype=acts.dtype)
    for i in range(n):
        chosen = (
            torch.arange(k, device=acts.device)
            if channels is None or channels >= k
            else acts[i].mean(dim=(1, 2)).topk(channels).indices
        )
        z = (x[i] - mean) / std  # standardised, as the model sees it
        scores = []
        for lo_k in range(0, len(chosen), batch_size):
            sel = chosen[lo_k : lo_k + batch_size]
            masked = z[None] * masks[i, sel, None]  # (b, 1, F, T)
            logits = model(masked * std + mean)
            scores.append(logits[:, classes[i]])
        weights = torch.softmax(torch.cat(scores), dim=0)
        maps[i] = (weights[:, None, None] * acts[i, chosen]).sum(0)
    return maps


def explain_batch(
    model: SpectroResNet,
    x: torch.Tensor,
    classes: torch.Tensor | Sequence[int],
    methods: Sequence[str] = METHODS,
    stage: str = "layer4",
    score_batch_size: int = 64,
    score_channels: int | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Logits (B, C) and each method's maps (B, f, t) for the classes ``classes`` (one per
    segment), from one forward pass (and one backward pass for the gradient methods)."""
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown CAM method(s) {unknown}; choose from {', '.join(METHODS)}")
    if "cam" in methods and stage != "layer4":
        raise ValueError("CAM is defined on the last stage (layer4) only")
    model.eval()
    classes = torch.as_tensor(classes, device=x.device, dtype=torch.long)
    captured: dict[str, torch.Tensor] = {}
    handle = stage_module(model, stage).register_forward_hook(
        lambda module, inputs, output: captured.__setitem__("acts", output)
    )
    want_grads = any(m in GRADIENT_METHODS for m in methods)
    try:
        with torch.set_grad_enabled(want_grads):
            logits, last = model.forward_with_features(x)
            acts = captured["acts"]
            grads = None
            if want_grads:
                score = logits.gather(1, classes[:, None]).sum()
                (grads,) = torch.autograd.grad(score, acts)
    finally:
        handle.remove()
    out: dict[str, torch.Tensor] = {}
    acts_d = acts.detach()
    for method in methods:
        if method == "cam":
            w = model.fc.weight[classes]  # (B, K)
            out[method] = torch.einsum("bk,bkft->bft", w, last.detach())
        elif method in GRADIENT_METHODS:
            out[method] = _gradient_map(method, acts_d, grads)
        else:
            out[method] = _score_cam(model, x, acts_d, classes, score_batch_size, score_channels)
    return logits.detach(), {k: v.detach() for k, v in out.items()}


def compute_method_maps(
    model: SpectroResNet,
    store_path,
    indices,
    out_path,
    methods: Sequence[str],
    device: torch.device,
    stages: dict[str, str] | None = None,
    batch_size: int = 32,
    score_channels: int | None = None,
    attrs: dict | None = None,
    progress_every_s: float = 30.0,
) -> None:
    """Maps of every method for the true class of the store's segments ``indices``, written to
    ``out_path`` (HDF5): per method a dataset (N, f, t) of cells with its stage, stride and Hz
    per cell as attributes, and the segments' index, label, prediction and true-class
    probability."""
    stages = {m: (stages or {}).get(m, "layer4") for m in methods}
    out_path = Path(out_path)
    tmp = out_path.with_name(out_path.name + ".tmp")
    indices = np.asarray(indices, dtype=int)
    n = len(indices)
    model.eval().to(device)
    with SegmentReader(store_path) as reader, h5py.File(tmp, "w") as h5:
        hz_per_row = float(reader.freqs_hz[1] - reader.freqs_hz[0])
        s_per_frame = float(reader.times_s[1] - reader.times_s[0])
        labels = reader.labels[indices]
        h5["segment_index"], h5["labels"] = indices, labels.astype(np.int16)
        h5["freqs_hz"], h5["times_s"] = reader.freqs_hz, reader.times_s
        predicted = np.zeros(n, dtype=np.int16)
        p_true = np.zeros(n, dtype=np.float32)
        started = last = time.monotonic()
        by_stage: dict[str, list[str]] = {}
        for m in methods:
            by_stage.setdefault(stages[m], []).append(m)
        for lo in range(0, n, batch_size):
            hi = min(n, lo + batch_size)
            x = reader.batch(indices[lo:hi]).to(device)
            y = torch.from_numpy(labels[lo:hi]).to(device)
            for stage, group in by_stage.items():
                logits, maps = explain_batch(
                    model, x, y, group, stage, score_channels=score_channels
                )
                for m in group:
                    cells = maps[m].float().cpu().numpy()
                    if m not in h5:
                        ds = h5.create_dataset(m, (n, *cells.shape[1:]), dtype=np.float32)
                        f_stride, t_stride = model.stage_strides[stage]
                        ds.attrs.update(
                            {
                                "stage": stage,
                                "freq_stride": f_stride,
                                "time_stride": t_stride,
                                "hz_per_cell": hz_per_row * f_stride,
                            }
                        )
                    h5[m][lo:hi] = cells
            probs = torch.softmax(logits.float(), 1)
            predicted[lo:hi] = probs.argmax(1).cpu().numpy()
            p_true[lo:hi] = probs.gather(1, y[:, None])[:, 0].cpu().numpy()
            if time.monotonic() - last >= progress_every_s:
                last = time.monotonic()
                log.info("maps: %d/%d segments (%.2f segments/s)", hi, n, hi / (last - started))
        h5["predicted"], h5["p_true"] = predicted, p_true
        h5.attrs.update(
            {
                "methods": list(methods),
                "hz_per_row": hz_per_row,
                "s_per_frame": s_per_frame,
                **dict(attrs or {}),
            }
        )
    tmp.replace(out_path)
