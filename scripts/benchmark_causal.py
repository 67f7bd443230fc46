#!/usr/bin/env python
"""Passes per second of the causal statement's band occlusion: the previous implementation
against today's, same model, tokens, bands and thread count, measured in one run.

    ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 \\
        python scripts/benchmark_causal.py results/demo --experiment vowels_4k --tokens 64

reads the first seed's model and segment store of a finished run, builds every band of
``--tokens`` test tokens at ``--half-width`` (the tiles and the F1-F3 bands of the causal
statement, :mod:`spectrocam.evidence.band_occlusion`) and scores them:

- ``previous``: the scoring loop as it was before the causal statement (the perturbed inputs in
  PyTorch's default contiguous memory order, batches of ``--batch``);
- ``today``: :func:`spectrocam.evidence.band_occlusion.perturbed_logprobs`, the same inputs in
  channels-last order, at ``--batch`` and at each of ``--batches``.

Each is timed ``--repeats`` times after a warm-up; the best time is printed with passes (forward
passes of one perturbed token) per second, and the largest difference of their log-probabilities
(both float32). Prints the CPU model and the oneDNN / ATen ISA limits in effect.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch

from spectrocam.evidence.band_occlusion import _token_perturbations, perturbed_logprobs, token_bands
from spectrocam.evidence.cues import formant_intervals
from spectrocam.explain.maps import MapFile
from spectrocam.io import read_table
from spectrocam.keys import join
from spectrocam.machine import cpu_model
from spectrocam.model.network import load_model
from spectrocam.segments.store import SegmentReader


def previous(model, x, segment, masks, fills, batch_size):
    """The scoring loop before the causal statement: contiguous inputs, log-softmax of all."""
    out = []
    with torch.inference_mode():
        for lo in range(0, len(segment), batch_size):
            seg = torch.from_numpy(np.asarray(segment[lo : lo + batch_size]))
            m = torch.from_numpy(np.asarray(masks[lo : lo + batch_size]))
            f = torch.from_numpy(np.asarray(fills[lo : lo + batch_size], np.float32))
            xs = x[seg, 0]
            xs = torch.where(m[:, :, None], torch.minimum(xs, f[:, None, :]), xs)
            out.append(torch.log_softmax(model(xs[:, None]).float(), 1))
    return torch.cat(out).numpy()


def best_time(fn, repeats: int) -> tuple[float, np.ndarray]:
    result = fn()  # warm-up (and oneDNN's first-call kernels)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a finished run's folder, e.g. results/demo")
    parser.add_argument("--experiment", default="vowels_4k")
    parser.add_argument("--model", default="seed0")
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--half-width", type=float, default=150.0)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--batches", type=int, nargs="*", default=[128, 256])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    exp = args.experiment
    model, _ = load_model(args.run / "models" / exp / args.model / "best.pt")
    model.eval()
    maps = MapFile(args.run / "maps" / exp / f"{args.model}.h5")
    formants = read_table(args.run / "formants" / "formants.tsv")
    tokens = join(maps.segments, formants, ["f1_hz", "f2_hz", "f3_hz"], how="left")
    tokens = tokens[tokens[["f1_hz", "f2_hz", "f3_hz"]].notna().any(axis=1)].head(args.tokens)
    cues = formant_intervals(tokens[["f1_hz", "f2_hz", "f3_hz"]].to_numpy(float), args.half_width)
    with SegmentReader(args.run / "segments" / f"{exp}.h5") as reader:
        x = reader.batch(tokens.segment_index.to_numpy())
        freqs = reader.freqs_hz
    masks, fills, owner = [], [], []
    for g, seg in enumerate(x[:, 0].numpy()):
        bands = token_bands(freqs, args.half_width, {c: v[g] for c, v in cues.items()})
        m, f, _ = _token_perturbations(seg, bands, 10.0)
        masks.append(m)
        fills.append(f)
        owner.append(np.full(len(m), g))
    masks, fills, owner = np.concatenate(masks), np.concatenate(fills), np.concatenate(owner)
    n = len(owner)
    isa = {k: os.environ.get(k, "unset") for k in ("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY")}
    print(f"CPU: {cpu_model()}; {args.threads} thread(s); {isa}")
    print(f"{exp}, {args.model}: {len(tokens)} tokens, {n} passes of {tuple(x.shape[2:])} inputs")
    t_old, old = best_time(
        lambda: previous(model, x, owner, masks, fills, args.batch), args.repeats
    )
    print(f"previous (contiguous, batch {args.batch}): {n / t_old:8.1f} passes/s")
    model = model.to(memory_format=torch.channels_last)  # as score_bands does
    for batch in [args.batch, *args.batches]:
        t, new = best_time(
            lambda b=batch: perturbed_logprobs(model, x, owner, masks, fills, b), args.repeats
        )
        diff = float(np.abs(new - old).max())
        print(
            f"today (channels-last, batch {batch}): {n / t:8.1f} passes/s, "
            f"{t_old / t:.2f}x the previous; largest log-probability difference {diff:.2g}"
        )


if __name__ == "__main__":
    main()
