#!/usr/bin/env python
"""Throughput of our batched CAM methods next to pytorch-grad-cam's, same model, batch, machine.

    python scripts/benchmark_cams.py --arch resnet101 --rows 186 --frames 21 --batch 32

builds the model (random weights: the cost does not depend on them), times each method of
:mod:`spectrocam.methods` and the same method of pytorch-grad-cam (a test-only dependency,
installed by ``make test``) on one batch, and prints segments per second and their ratio, all
measured in this one run. ``all gradient methods`` is ours computing Grad-CAM, Grad-CAM++,
HiResCAM and LayerCAM from one forward and backward pass, against pytorch-grad-cam computing
them one after the other. Score-CAM is timed on ``--score-batch`` segments (it needs a forward
pass per channel and segment).
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from spectrocam.methods import GRADIENT_METHODS, explain_batch
from spectrocam.model import build_model, stage_module


def timed(fn, repeats: int) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", default="resnet101")
    parser.add_argument("--freq-stride", type=int, default=32)
    parser.add_argument("--time-stride", type=int, default=32)
    parser.add_argument("--rows", type=int, default=186, help="frequency rows of a segment")
    parser.add_argument("--frames", type=int, default=21)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--score-batch", type=int, default=2)
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--stage", default="layer4")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--methods", nargs="+", default=[*GRADIENT_METHODS, "scorecam"])
    args = parser.parse_args()

    os.environ.setdefault("TQDM_DISABLE", "1")  # pytorch-grad-cam's Score-CAM progress bars
    import pytorch_grad_cam as pgc
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    theirs = {
        "gradcam": pgc.GradCAM,
        "gradcam++": pgc.GradCAMPlusPlus,
        "hirescam": pgc.HiResCAM,
        "layercam": pgc.LayerCAM,
        "scorecam": pgc.ScoreCAM,
    }
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(0)
    model = build_model(args.arch, args.classes, args.freq_stride, args.time_stride)
    model = model.to(device).eval()
    layer = stage_module(model, args.stage)
    print(
        f"{args.arch} (strides {args.freq_stride} x {args.time_stride}), {args.stage}, input "
        f"{args.rows} x {args.frames}, batch {args.batch}, {device}, {args.threads} threads"
    )
    print(f"{'method':<22} {'ours seg/s':>11} {'pytorch-grad-cam seg/s':>23} {'ratio':>7}")

    def row(name: str, n: int, ours_fn, theirs_fn) -> None:
        t_ours, t_theirs = timed(ours_fn, args.repeats), timed(theirs_fn, args.repeats)
        print(
            f"{name:<22} {n / t_ours:>11.3g} {n / t_theirs:>23.3g} {t_theirs / t_ours:>6.2f}x",
            flush=True,
        )

    for method in args.methods:
        n = args.score_batch if method == "scorecam" else args.batch
        x = torch.randn(n, 1, args.rows, args.frames, device=device)
        classes = [i % args.classes for i in range(n)]
        targets = [ClassifierOutputTarget(c) for c in classes]
        cam = theirs[method](model=model, target_layers=[layer])
        if method == "scorecam":
            cam.batch_size = 64
        row(
            method,
            n,
            lambda m=method, x=x, c=classes: explain_batch(
                model, x, c, [m], args.stage, score_batch_size=64
            ),
            lambda cam=cam, x=x, t=targets: cam(input_tensor=x, targets=t),
        )
    grads = [m for m in args.methods if m in GRADIENT_METHODS]
    if len(grads) > 1:
        x = torch.randn(args.batch, 1, args.rows, args.frames, device=device)
        classes = [i % args.classes for i in range(args.batch)]
        targets = [ClassifierOutputTarget(c) for c in classes]
        cams = [theirs[m](model=model, target_layers=[layer]) for m in grads]
        row(
            "all gradient methods",
            args.batch,
            lambda: explain_batch(model, x, classes, grads, args.stage),
            lambda: [cam(input_tensor=x, targets=targets) for cam in cams],
        )


if __name__ == "__main__":
    main()
