#!/usr/bin/env python
"""Training and inference throughput of our classifier on one device, and the full study's time
projected from it.

    python scripts/benchmark_training.py --device cpu            # small defaults, < 1 minute
    python scripts/benchmark_training.py --device cuda --arch resnet101 --freq-stride 4 \\
        --rows 186 --frames 61 --batch 32 --precision auto --channels-last --steps 20

Random spectrograms and labels are made once and kept in device memory (no data loading is
timed), then ``--steps`` training steps (forward, cross-entropy, backward, Adam step, as
training.py does them) and as many inference batches of ``--eval-batch`` are timed after
``--warmup`` untimed ones; it prints samples per second of each. The projection takes the
full corpus's segment counts (about 11,850 vowels_full and 36,500 voicing_4k test segments,
the test split being 15 %: about 79,000 and 243,000 in all; vowels_4k has the vowels_full
segments), the split fractions and epochs of ``--config``, and scales the measured time per
segment to each experiment's own shape by rows x frames (the convolutions' cost); each
experiment trains on 70 % for ``epochs`` epochs, validates on 15 % each epoch and tests on 15 %.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import yaml

from spectrocam.machine import cpu_model
from spectrocam.model.device import autocast, autocast_dtype
from spectrocam.model.network import build_model
from spectrocam.segments.spectrogram import context_frames

# Full-corpus segment counts: test segments from the issue, divided by the test fraction.
FULL_TEST_SEGMENTS = {"vowels_full": 11_850, "vowels_4k": 11_850, "voicing_4k": 36_500}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--arch", default="resnet18", help="the study's: resnet101")
    parser.add_argument("--freq-stride", type=int, default=32, help="the full config's: 4")
    parser.add_argument("--time-stride", type=int, default=32)
    parser.add_argument("--width", type=int, default=64, help="model.width (the demo's: 16)")
    parser.add_argument("--rows", type=int, default=186)
    parser.add_argument("--frames", type=int, default=11, help="the full config's: 61")
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--batch", type=int, default=16, help="the study's: 32")
    parser.add_argument("--eval-batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--precision", choices=["auto", "float32", "bfloat16"], default="float32")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument(
        "--sustained-tflops",
        type=float,
        default=None,
        help="also project from counted FLOPs at this sustained rate (an assumption, printed "
        "as one: e.g. 250 for one H100 in bfloat16 at about a quarter of its dense peak)",
    )
    return parser.parse_args()


def flops_per_segment(args) -> tuple[float, float]:
    """(training, inference) FLOPs per segment at the measured shape, counted by torch's
    FlopCounterMode on one forward (and backward) pass of a batch of 2 on the CPU."""
    from torch.utils.flop_counter import FlopCounterMode

    width = getattr(args, "width", 64)
    model = build_model(args.arch, args.classes, args.freq_stride, args.time_stride, width=width)
    x = torch.randn(2, 1, args.rows, args.frames)
    counts = []
    for train in (True, False):
        model.train(train)
        with FlopCounterMode(display=False) as counter:
            if train:
                model(x).sum().backward()
            else:
                with torch.no_grad():
                    model(x)
        counts.append(counter.get_total_flops() / 2)
    return counts[0], counts[1]


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def measure(args, device: torch.device) -> tuple[float, float]:
    """(training samples/s, inference samples/s)."""
    dtype = autocast_dtype(args.precision, device)
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    torch.manual_seed(0)
    model = build_model(
        args.arch, args.classes, args.freq_stride, args.time_stride, width=args.width
    )
    model = model.to(device, memory_format=fmt)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-4)
    shape = (args.rows, args.frames)
    x = torch.randn(args.batch, 1, *shape, device=device).contiguous(memory_format=fmt)
    y = torch.randint(0, args.classes, (args.batch,), device=device)
    xe = torch.randn(args.eval_batch, 1, *shape, device=device).contiguous(memory_format=fmt)

    def train_step():
        optimiser.zero_grad(set_to_none=True)
        with autocast(device, dtype):
            loss = torch.nn.functional.cross_entropy(model(x).float(), y)
        loss.backward()
        optimiser.step()

    @torch.inference_mode()
    def infer():
        with autocast(device, dtype):
            model(xe).float()

    rates = []
    for fn, n, train in ((train_step, args.batch, True), (infer, args.eval_batch, False)):
        model.train(train)
        for _ in range(args.warmup):
            fn()
        sync(device)
        start = time.perf_counter()
        for _ in range(args.steps):
            fn()
        sync(device)
        rates.append(n * args.steps / (time.perf_counter() - start))
    return rates[0], rates[1]


def experiment_shapes(config: dict) -> dict[str, tuple[int, int]]:
    """(rows, frames) of each enabled experiment of the config (as spectrogram.py makes them)."""
    spec = config["spectrogram"]
    sr = config["corpus"]["sample_rate_hz"]
    hop = round(spec["hop_s"] * sr) / sr
    frames = context_frames(spec["context_s"], hop)
    freqs = np.arange(spec["n_fft"] // 2 + 1) * sr / spec["n_fft"]
    out = {}
    for name, exp in config["experiments"].items():
        if exp.get("enabled", True) and name in FULL_TEST_SEGMENTS:
            rows = int(((freqs >= exp["fmin_hz"] - 1e-9) & (freqs <= exp["fmax_hz"] + 1e-9)).sum())
            out[name] = (rows, frames)
    return out


def project(args, train_rate: float, infer_rate: float) -> None:
    with open(args.config) as f:
        config = yaml.safe_load(f)
    epochs = config["training"]["epochs"]
    fr = config["splits"]["fractions"]
    measured = args.rows * args.frames
    print(
        f"\nprojection for {args.config}: {epochs} epochs, splits {fr}; time per segment scaled "
        f"from the measured {args.rows} x {args.frames} by each experiment's rows x frames"
    )
    print(
        f"{'experiment':<12} {'shape':>9} {'segments':>9} {'train h':>8} {'val+test h':>11} "
        f"{'total h':>8}"
    )
    total = 0.0
    for name, (rows, frames) in experiment_shapes(config).items():
        n = FULL_TEST_SEGMENTS[name] / fr["test"]
        scale = rows * frames / measured
        train_s = n * fr["train"] * epochs * scale / train_rate
        eval_s = n * (fr["validation"] * epochs + fr["test"]) * scale / infer_rate
        total += train_s + eval_s
        print(
            f"{name:<12} {f'{rows}x{frames}':>9} {n:>9.0f} {train_s / 3600:>8.2f} "
            f"{eval_s / 3600:>11.2f} {(train_s + eval_s) / 3600:>8.2f}"
        )
        print(
            f"  = {FULL_TEST_SEGMENTS[name]:,} test / {fr['test']} = {n:,.0f} segments; train "
            f"{n:,.0f} x {fr['train']} x {epochs} epochs x {scale:.2f} / {train_rate:.3g}/s; "
            f"validation {fr['validation']} x {epochs} + test {fr['test']}, / {infer_rate:.3g}/s"
        )
    print(f"{'all':<12} {'':>9} {'':>9} {'':>8} {'':>11} {total / 3600:>8.2f}")
    print("(training and inference only: no data loading, CAMs, Score-CAM or causal tests)")
    if args.sustained_tflops:
        train_flops, infer_flops = flops_per_segment(args)
        # the same segment counts, converted to seconds at the assumed rate instead of the
        # measured one
        tflops = args.sustained_tflops * 1e12
        gpu_train, gpu_infer = tflops / train_flops, tflops / infer_flops
        hours = total_at(config, epochs, fr, measured, gpu_train, gpu_infer) / 3600
        print(
            f"\ncounted: {train_flops / 1e9:.2f} GFLOP per training segment, "
            f"{infer_flops / 1e9:.2f} per inference segment at {args.rows} x {args.frames}; "
            f"at an assumed sustained {args.sustained_tflops:g} TFLOP/s that is "
            f"{gpu_train:,.0f} training and {gpu_infer:,.0f} inference segments/s, and the "
            f"same projection takes {hours:.2f} h (an assumption, not a measurement)"
        )


def total_at(config, epochs, fr, measured, train_rate, infer_rate) -> float:
    """Seconds of training and evaluation of every experiment at these rates (as project)."""
    total = 0.0
    for name, (rows, frames) in experiment_shapes(config).items():
        n = FULL_TEST_SEGMENTS[name] / fr["test"]
        scale = rows * frames / measured
        total += n * fr["train"] * epochs * scale / train_rate
        total += n * (fr["validation"] * epochs + fr["test"]) * scale / infer_rate
    return total


def main() -> None:
    args = parse_args()
    if args.device == "cuda":
        if not torch.cuda.is_available():
            raise SystemExit("--device cuda: no CUDA device is visible")
        torch.backends.cudnn.benchmark = True
        where = torch.cuda.get_device_name()
    else:
        torch.set_num_threads(args.threads)
        where = f"{cpu_model()}, {torch.get_num_threads()} threads"
    device = torch.device(args.device)
    dtype = autocast_dtype(args.precision, device)
    print(
        f"{args.arch} (width {args.width}, strides {args.freq_stride} x {args.time_stride}), "
        f"input {args.rows} x {args.frames}, batch {args.batch} (inference {args.eval_batch}), "
        f"{'bfloat16' if dtype else 'float32'}, "
        f"{'channels_last' if args.channels_last else 'contiguous'}, {device} ({where}), "
        f"torch {torch.__version__}"
    )
    train_rate, infer_rate = measure(args, device)
    print(f"training   {train_rate:8.3g} samples/s ({args.steps} steps after {args.warmup})")
    print(f"inference  {infer_rate:8.3g} samples/s")
    project(args, train_rate, infer_rate)


if __name__ == "__main__":
    main()
