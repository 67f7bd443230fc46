#!/usr/bin/env python
"""Throughput of our batched CAM methods next to pytorch-grad-cam's, same model, batch, machine.

    python scripts/benchmark_cams.py --arch resnet101 --rows 186 --frames 11 --batch 32

builds the model (random weights unless ``--model best.pt``: the cost of the gradient methods
does not depend on them; Score-CAM's does, a little, as it shares the passes of constant and
proportional channels), times each method of :mod:`spectrocam.explain.methods` and the same method
of pytorch-grad-cam (a test-only dependency, installed by ``make test``) on one batch, and prints
segments per second and their ratio, all measured in this one run. ``all gradient methods`` is
ours computing Grad-CAM, Grad-CAM++, HiResCAM and LayerCAM from one forward and backward pass,
against pytorch-grad-cam computing them one after the other.

Score-CAM is timed on ``--score-batch`` segments (it needs a forward pass per channel and
segment): ours and theirs over every channel of the stage (like with like), ours in bfloat16
where the hardware computes it natively, and ours on the ``--score-channels`` most active
channels of each segment (what ``explain.score_cam_channels`` does; pytorch-grad-cam has no
such option, so its ratio is to theirs over all channels). For each of these the error against
our exact (all channels, float32) maps is printed: the mean over segments of the Pearson
correlation of the maps, of the share of the non-negative map's mass that lies in other cells
(total variation distance of the normalised non-negative maps, 0: the same, 1: disjoint) and of
how often the peak frequency row (of the map averaged over time) is the same one.
"""

from __future__ import annotations

import argparse
import time
from types import SimpleNamespace

import numpy as np
import torch

from spectrocam.explain.methods import GRADIENT_METHODS, explain_batch
from spectrocam.machine import cpu_model
from spectrocam.model.device import autocast_dtype
from spectrocam.model.network import build_model, load_model, stage_module


def timed(fn, repeats: int, warmup=None) -> float:
    (warmup or fn)()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def map_errors(approx: torch.Tensor, exact: torch.Tensor) -> tuple[float, float, float]:
    """(correlation, share of mass elsewhere, same peak row), each a mean over segments."""
    a, e = approx.flatten(1).double(), exact.flatten(1).double()
    ac, ec = a - a.mean(1, keepdim=True), e - e.mean(1, keepdim=True)
    r = (ac * ec).sum(1) / (ac.norm(dim=1) * ec.norm(dim=1)).clamp(min=1e-300)
    pa, pe = a.clamp(min=0), e.clamp(min=0)
    pa, pe = pa / pa.sum(1, keepdim=True).clamp(min=1e-300), pe / pe.sum(1, keepdim=True)
    tv = 0.5 * (pa - pe).abs().sum(1)
    peak = approx.mean(-1).argmax(-1) == exact.mean(-1).argmax(-1)
    return float(r.mean()), float(tv.mean()), float(peak.double().mean())


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", default="resnet101")
    parser.add_argument("--freq-stride", type=int, default=32)
    parser.add_argument("--time-stride", type=int, default=32)
    parser.add_argument("--rows", type=int, default=186, help="frequency rows of a segment")
    parser.add_argument("--frames", type=int, default=21)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--score-batch", type=int, default=2, help="segments for Score-CAM")
    parser.add_argument(
        "--score-pass-batch", type=int, default=256, help="our masked inputs per forward pass"
    )
    parser.add_argument(
        "--theirs-pass-batch", type=int, default=64, help="pytorch-grad-cam's (its batch_size)"
    )
    parser.add_argument("--score-channels", type=int, nargs="*", default=[8, 32, 128])
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--stage", default="layer4")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--methods", nargs="+", default=[*GRADIENT_METHODS, "scorecam"])
    parser.add_argument("--model", help="a trained best.pt instead of random weights")
    parser.add_argument("--store", help="segments/<experiment>.h5: its first segments as input")
    return parser.parse_args()


def their_methods() -> tuple[dict, type]:
    """pytorch-grad-cam's classes of our methods, and its class target."""
    import pytorch_grad_cam as pgc
    import pytorch_grad_cam.score_cam
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    # pytorch-grad-cam's Score-CAM draws a progress bar per segment: leave it out of its time
    pytorch_grad_cam.score_cam.tqdm = SimpleNamespace(tqdm=lambda iterable, *a, **k: iterable)
    theirs = {
        "gradcam": pgc.GradCAM,
        "gradcam++": pgc.GradCAMPlusPlus,
        "hirescam": pgc.HiResCAM,
        "layercam": pgc.LayerCAM,
        "scorecam": pgc.ScoreCAM,
    }
    return theirs, ClassifierOutputTarget


def main() -> None:
    args = parse_args()
    theirs, ClassifierOutputTarget = their_methods()  # noqa: N806
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(0)
    if args.model:
        model, _ = load_model(args.model, device)
        args.arch, args.freq_stride, args.time_stride = model.arch, *model.stage_strides["layer4"]
        args.classes = model.n_classes
    else:
        model = build_model(args.arch, args.classes, args.freq_stride, args.time_stride)
    model = model.to(device).eval()
    layer = stage_module(model, args.stage)
    store = None
    if args.store:
        from spectrocam.segments.store import SegmentReader

        store = SegmentReader(args.store)
        args.rows, args.frames = store.shape

    def inputs(n: int) -> tuple[torch.Tensor, list[int]]:
        if store is None:
            return torch.randn(n, 1, args.rows, args.frames, device=device), [
                i % args.classes for i in range(n)
            ]
        return store.batch(np.arange(n)).to(device), [int(c) for c in store.labels[:n]]

    where = cpu_model() if device.type == "cpu" else torch.cuda.get_device_name()
    print(
        f"{args.arch} (strides {args.freq_stride} x {args.time_stride}), {args.stage}, input "
        f"{args.rows} x {args.frames}, {'trained: ' + args.model if args.model else 'random'}"
        f" weights, {device} ({where}), {args.threads} threads"
    )
    print(f"{'method':<38} {'ours seg/s':>11} {'pytorch-grad-cam seg/s':>23} {'ratio':>7}")

    def row(name: str, n: int, ours_fn, theirs_fn, t_theirs=None, warmup=None) -> float:
        t_ours = timed(ours_fn, args.repeats, warmup)
        t_theirs = t_theirs or timed(theirs_fn, args.repeats, warmup)
        print(
            f"{name:<38} {n / t_ours:>11.3g} {n / t_theirs:>23.3g} {t_theirs / t_ours:>6.2f}x",
            flush=True,
        )
        return t_theirs

    for method in args.methods:
        if method == "scorecam":
            score_rows(args, model, layer, inputs, theirs["scorecam"], ClassifierOutputTarget, row)
            continue
        x, classes = inputs(args.batch)
        targets = [ClassifierOutputTarget(c) for c in classes]
        cam = theirs[method](model=model, target_layers=[layer])
        row(
            method,
            args.batch,
            lambda m=method, x=x, c=classes: explain_batch(model, x, c, [m], args.stage),
            lambda cam=cam, x=x, t=targets: cam(input_tensor=x, targets=t),
        )
    grads = [m for m in args.methods if m in GRADIENT_METHODS]
    if len(grads) > 1:
        x, classes = inputs(args.batch)
        targets = [ClassifierOutputTarget(c) for c in classes]
        cams = [theirs[m](model=model, target_layers=[layer]) for m in grads]
        row(
            "all gradient methods",
            args.batch,
            lambda: explain_batch(model, x, classes, grads, args.stage),
            lambda: [cam(input_tensor=x, targets=targets) for cam in cams],
        )


def score_rows(args, model, layer, inputs, score_cam_cls, target_cls, row) -> None:
    """Score-CAM: ours exact against theirs (all channels), then ours in bfloat16 and on the top
    channels, with their error against our exact maps."""
    n = args.score_batch
    x, classes = inputs(n)
    cam = score_cam_cls(model=model, target_layers=[layer])
    cam.batch_size = args.theirs_pass_batch
    device = x.device
    results: dict[str, torch.Tensor] = {}

    def ours(label, channels=None, dtype=None):
        def run():
            results[label] = explain_batch(
                model,
                x,
                classes,
                ["scorecam"],
                args.stage,
                score_batch_size=args.score_pass_batch,
                score_channels=channels,
                score_dtype=dtype,
            )[1]["scorecam"]

        return run

    # warm up the forward pass at both batch sizes with a cheap top-8 run
    warm = ours("warm-up", channels=8)
    t_theirs = row(
        "scorecam, all channels, f32",
        n,
        ours("exact"),
        lambda: cam(input_tensor=x, targets=[target_cls(c) for c in classes]),
        warmup=warm,
    )
    variants = []
    bf16 = autocast_dtype("auto", device)
    if bf16 is not None:
        variants.append(("scorecam, all channels, bf16", None, bf16))
    variants += [(f"scorecam, top {k} channels, f32", k, None) for k in args.score_channels]
    for label, channels, dtype in variants:
        row(label, n, ours(label, channels, dtype), None, t_theirs=t_theirs, warmup=warm)
    print(
        f"(masked inputs per forward pass: ours {args.score_pass_batch}, pytorch-grad-cam's "
        f"{args.theirs_pass_batch}; it has no channel subset nor bfloat16: those rows' ratios are "
        "to its Score-CAM over all channels in float32)"
    )
    print(f"\nerror against our exact Score-CAM (all channels, float32), {n} segments:")
    print(f"{'variant':<38} {'correlation':>11} {'mass elsewhere':>15} {'same peak row':>14}")
    for label, _, _ in variants:
        r, tv, peak = map_errors(results[label], results["exact"])
        print(f"{label:<38} {r:>11.4f} {tv:>15.4f} {peak:>14.2f}")


if __name__ == "__main__":
    main()
