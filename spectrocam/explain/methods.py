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
channel and segment, less those it can share: every constant channel (mask zero: the input
becomes the training mean) of every segment shares one, channels whose maps are equal up to scale
and offset share one, and the passes go in large batches across segments (optionally in
bfloat16). ``score_channels`` limits it to the most active channels of each segment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from spectrocam.config import Section
from spectrocam.explain.maps import WHICH, MapWriter
from spectrocam.model.device import autocast
from spectrocam.model.network import SpectroResNet, stage_module
from spectrocam.progress import logged
from spectrocam.segments.store import SegmentReader

_log = logging.getLogger("spectrocam")

__all__ = [
    "Method",
    "METHODS",
    "METHOD_NAMES",
    "GRADIENT_METHODS",
    "ExplainConfig",
    "explain_batch",
    "compute_maps",
]


def _cam(model: SpectroResNet, last: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
    return torch.einsum("bk,bkft->bft", model.fc.weight[classes], last)


def _gradcam(acts: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
    return (grads.mean(dim=(2, 3), keepdim=True) * acts).sum(1)


def _gradcam_plus_plus(acts: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
    g2 = grads.pow(2)
    g3 = g2 * grads
    sum_acts = acts.sum(dim=(2, 3), keepdim=True)
    aij = g2 / (2 * g2 + sum_acts * g3 + 1e-6)
    aij = torch.where(grads != 0, aij, torch.zeros_like(aij))
    weights = (grads.clamp(min=0) * aij).sum(dim=(2, 3), keepdim=True)
    return (weights * acts).sum(1)


def _hirescam(acts: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
    return (grads * acts).sum(1)


def _layercam(acts: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
    return (grads.clamp(min=0) * acts).sum(1)


@dataclass(frozen=True)
class Method:
    """A CAM method: ``kind`` says what its function takes.

    - ``weights``: ``fn(model, last_stage_maps, classes)``, last stage only (CAM);
    - ``gradient``: ``fn(acts, grads)``, the chosen stage's maps and the gradient of the class's
      logit with respect to them, both (B, K, f, t);
    - ``score``: Score-CAM's forward passes over masked inputs (:func:`_score_cam`).
    """

    description: str
    kind: str
    fn: Callable | None = None


def _unit_masks(cells: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Score-CAM's masks: maps (b, f, t) upsampled bilinearly to ``size`` and scaled to [0, 1],
    each on its own."""
    up = F.interpolate(cells[:, None], size=size, mode="bilinear", align_corners=True)[:, 0]
    flat = up.flatten(1)
    lo, hi = flat.min(-1).values[:, None, None], flat.max(-1).values[:, None, None]
    return (up - lo) / (hi - lo + 1e-8)


def _distinct_masks(cells: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For one segment's maps (c, f, t): one channel per distinct mask, and for each channel
    the position of its mask among those (-1: a constant map, whose mask is zero). Maps equal
    up to scale and offset (to 2^-20 of their range) share a mask: their upsampled, rescaled
    masks differ by float rounding only."""
    flat = cells.flatten(1)
    lo, hi = flat.min(-1).values[:, None], flat.max(-1).values[:, None]
    live = hi[:, 0] > lo[:, 0]
    inverse = torch.full((len(flat),), -1, dtype=torch.long, device=cells.device)
    live_at = torch.nonzero(live)[:, 0]
    if not len(live_at):
        return live_at, inverse
    key = torch.round((flat[live] - lo[live]) / (hi[live] - lo[live]) * 2**20).long()
    _, inv = torch.unique(key, dim=0, return_inverse=True)
    first = torch.full((int(inv.max()) + 1,), len(inv), dtype=torch.long, device=cells.device)
    first.scatter_reduce_(0, inv, torch.arange(len(inv), device=cells.device), "amin")
    inverse[live_at] = inv
    return live_at[first], inverse


def _finite_logits(model, masked, std, mean, dtype, redone: list[int]) -> torch.Tensor:
    """Float32 logits of the standardised inputs ``masked``, autocast to ``dtype``. oneDNN's
    bfloat16 kernels (torch 2.9, CPU) now and then gave NaN logits for masked inputs here: those
    passes again in float32 (counted in ``redone[0]``)."""
    with autocast(masked.device, dtype):
        out = model(masked * std + mean).float()
    bad = ~torch.isfinite(out).all(1)
    if dtype is not None and bad.any():
        out[bad] = model(masked[bad] * std + mean).float()
        redone[0] += int(bad.sum())
    return out


@torch.inference_mode()
def _score_cam(
    model: SpectroResNet,
    x: torch.Tensor,
    acts: torch.Tensor,
    classes: torch.Tensor,
    batch_size: int,
    channels: int | None,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Score-CAM of the ``channels`` most active channels of each segment (all when None) in
    one forward pass per distinct mask: every constant map (mask zero) of every segment shares
    one pass, maps equal up to scale and offset share one, and the rest go ``batch_size`` at a
    time across segments, autocast to ``dtype`` (None: float32)."""
    n, k = acts.shape[:2]
    rows = torch.arange(n, device=acts.device)
    chosen = (
        torch.arange(k, device=acts.device).expand(n, k)
        if channels is None or channels >= k
        else acts.mean(dim=(2, 3)).topk(channels, dim=1).indices
    )
    picked = acts[rows[:, None], chosen]  # (n, c, f, t)
    mean, std = model.input_mean, model.input_std
    z = (x - mean) / std  # standardised, as the model sees it
    found = [_distinct_masks(picked[i]) for i in range(n)]
    work = torch.cat([torch.stack([torch.full_like(r, i), r], 1) for i, (r, _) in enumerate(found)])
    starts = np.cumsum([0] + [len(r) for r, _ in found])
    scores = torch.zeros(len(work) + 1, device=acts.device)  # + 1: a slot for the zero masks
    zero = torch.zeros(n, device=acts.device)
    redone = [0]
    if any((inverse < 0).any() for _, inverse in found):
        # the zero mask: the masked input is the training mean, whatever the segment
        zero = _finite_logits(model, torch.zeros_like(x[:1]), std, mean, dtype, redone)
        zero = zero[0, classes]
    for lo in range(0, len(work), batch_size):
        seg, ch = work[lo : lo + batch_size].unbind(1)
        masked = z[seg] * _unit_masks(picked[seg, ch], tuple(x.shape[-2:]))[:, None]
        out = _finite_logits(model, masked, std, mean, dtype, redone)
        scores[lo : lo + len(seg)] = out.gather(1, classes[seg][:, None])[:, 0]
    if redone[0]:
        _log.warning(
            "Score-CAM: %d of %d bfloat16 passes were not finite: redone in float32",
            redone[0],
            len(work),
        )
    maps = torch.zeros(n, *acts.shape[2:], device=acts.device, dtype=acts.dtype)
    for i, (_, inverse) in enumerate(found):
        at = torch.where(inverse >= 0, int(starts[i]) + inverse, len(work))
        s = torch.where(inverse >= 0, scores[at], zero[i])
        weights = torch.softmax(s, dim=0).to(acts.dtype)
        maps[i] = (weights[:, None, None] * picked[i]).sum(0)
    return maps


# The registry: a new gradient method is a function above and one line here.
METHODS: dict[str, Method] = {
    "cam": Method("CAM (Zhou et al. 2016): sum_k w[c,k] A_k of the last stage", "weights", _cam),
    "gradcam": Method("Grad-CAM (Selvaraju et al. 2017)", "gradient", _gradcam),
    "gradcam++": Method("Grad-CAM++ (Chattopadhyay et al. 2018)", "gradient", _gradcam_plus_plus),
    "hirescam": Method("HiResCAM (Draelos & Carin 2020)", "gradient", _hirescam),
    "layercam": Method("LayerCAM (Jiang et al. 2021)", "gradient", _layercam),
    "scorecam": Method("Score-CAM (Wang et al. 2020)", "score"),
}
METHOD_NAMES = tuple(METHODS)
GRADIENT_METHODS = tuple(m for m, spec in METHODS.items() if spec.kind == "gradient")


@dataclass(frozen=True)
class ExplainConfig(Section):
    """The ``explain`` section: which methods, on which stage, for which test segments."""

    SECTIONS = ("explain",)

    methods: tuple[str, ...] = METHOD_NAMES
    stage: str = "layer4"
    batch_size: int = 32
    max_per_class: int | None = None
    seed: int = 0
    score_cam_channels: int | None = None


def explain_batch(
    model: SpectroResNet,
    x: torch.Tensor,
    classes: torch.Tensor | Sequence[int],
    methods: Sequence[str] = METHOD_NAMES,
    stage: str = "layer4",
    score_batch_size: int = 64,
    score_channels: int | None = None,
    score_dtype: torch.dtype | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Logits (B, C) and each method's maps (B, f, t) for the classes ``classes`` (one per
    segment), from one forward pass (and one backward pass for the gradient methods); Score-CAM
    runs its masked forward passes ``score_batch_size`` at a time, autocast to ``score_dtype``
    (None: float32; :func:`spectrocam.model.device.autocast_dtype`)."""
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown CAM method(s) {unknown}; choose from {', '.join(METHODS)}")
    if any(METHODS[m].kind == "weights" for m in methods) and stage != "layer4":
        raise ValueError("CAM is defined on the last stage (layer4) only")
    model.eval()
    classes = torch.as_tensor(classes, device=x.device, dtype=torch.long)
    captured: dict[str, torch.Tensor] = {}
    handle = stage_module(model, stage).register_forward_hook(
        lambda module, inputs, output: captured.__setitem__("acts", output)
    )
    want_grads = any(METHODS[m].kind == "gradient" for m in methods)
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
        spec = METHODS[method]
        if spec.kind == "weights":
            out[method] = spec.fn(model, last.detach(), classes)
        elif spec.kind == "gradient":
            out[method] = spec.fn(acts_d, grads)
        else:
            out[method] = _score_cam(
                model, x, acts_d, classes, score_batch_size, score_channels, score_dtype
            )
    return logits.detach(), {k: v.detach() for k, v in out.items()}


def _batches(n: int, batch_size: int):
    return [(lo, min(n, lo + batch_size)) for lo in range(0, n, batch_size)]


def compute_maps(
    model: SpectroResNet,
    reader: SegmentReader,
    segments: pd.DataFrame,
    probabilities: np.ndarray,
    out_path: str | Path,
    methods: Sequence[str],
    device: torch.device,
    stage: str = "layer4",
    subset: np.ndarray | None = None,
    batch_size: int = 32,
    score_channels: int | None = None,
    attrs: dict | None = None,
    score_dtype: torch.dtype | None = None,
) -> None:
    """Write the map file (:mod:`spectrocam.explain.maps`) of the test ``segments`` (store fields
    with ``segment_index``, ``label`` and ``predicted``, from the evaluation).

    CAM, from one forward pass per batch, for the true and the predicted class of every segment;
    each other method for the true class of the rows ``subset`` (default: all), on ``stage``.
    """
    model.eval().to(device)
    n = len(segments)
    subset = np.arange(n) if subset is None else np.asarray(subset, dtype=int)
    index = segments["segment_index"].to_numpy()
    labels, predicted = segments["label"].to_numpy(), segments["predicted"].to_numpy()
    weights_methods = [m for m in methods if METHODS[m].kind == "weights"]
    others = [m for m in methods if METHODS[m].kind != "weights"]
    with MapWriter(
        out_path,
        segments,
        probabilities,
        reader.class_names,
        reader.freqs_hz,
        reader.times_s,
        attrs,
    ) as out:
        for m in weights_methods:
            _write_weights_method(
                model, reader, index, (labels, predicted), out, m, device, batch_size
            )
        if others:
            _write_other_methods(
                model,
                reader,
                index[subset],
                labels[subset],
                subset,
                out,
                others,
                device,
                stage,
                batch_size,
                (score_channels, score_dtype),
            )


def _probe_cells(model: SpectroResNet, reader: SegmentReader, stage: str, device) -> tuple:
    captured: dict[str, torch.Tensor] = {}
    handle = stage_module(model, stage).register_forward_hook(
        lambda module, inputs, output: captured.__setitem__("acts", output)
    )
    try:
        with torch.inference_mode():
            model(torch.zeros(1, 1, *reader.shape, device=device))
    finally:
        handle.remove()
    return tuple(captured["acts"].shape[2:])


@torch.no_grad()
def _write_weights_method(model, reader, index, classes, out, method, device, batch):
    """A last-stage method (CAM) for the true and the predicted class of every segment."""
    cells = _probe_cells(model, reader, "layer4", device)
    rows = np.arange(len(index))
    out.add_method(
        method,
        rows,
        cells,
        model.stage_strides["layer4"],
        "layer4",
        WHICH,
        METHODS[method].description,
    )
    fn = METHODS[method].fn
    for lo, hi in logged(_batches(len(index), batch), f"{method} maps", unit="batch"):
        _, last = model.forward_with_features(reader.batch(index[lo:hi]).to(device))
        for which, of_which in zip(WHICH, classes, strict=True):
            c = torch.as_tensor(of_which[lo:hi], device=device, dtype=torch.long)
            maps = fn(model, last, c)
            out.write(method, which, lo, maps.float().cpu().numpy())


def _write_other_methods(
    model, reader, index, labels, rows, out, methods, device, stage, batch, score
):
    """Gradient methods and Score-CAM for the true class of the segments ``rows``."""
    cells = _probe_cells(model, reader, stage, device)
    for m in methods:
        out.add_method(
            m, rows, cells, model.stage_strides[stage], stage, ("true",), METHODS[m].description
        )
    for lo, hi in logged(_batches(len(index), batch), f"maps on {stage}", unit="batch"):
        x = reader.batch(index[lo:hi]).to(device)
        _, maps = explain_batch(
            model, x, labels[lo:hi], methods, stage, score_channels=score[0], score_dtype=score[1]
        )
        for m in methods:
            out.write(m, "true", lo, maps[m].float().cpu().numpy())
