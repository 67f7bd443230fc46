#!/usr/bin/env python
"""The GPU path, proved where a GPU is at hand: training throughput on CUDA against this
machine's CPU, the full study's projected time, and the end-to-end test's study on CUDA.

    python scripts/gpu_check.py [--workdir DIR] [--steps 20] [--no-study]    (make gpu-check)

1. ``scripts/benchmark_training.py`` on the study's network and input (ResNet-101,
   ``freq_stride`` 4, ``time_stride`` 8, 513 x 61, batch 32): on CUDA with bfloat16 autocast
   where the GPU computes it, channels_last and cudnn.benchmark (the training path's settings),
   then on all of this machine's CPU cores in float32 (a few small steps: a CPU trains it at a
   fraction of a segment per second); it prints both throughputs, their ratio, and the full
   study's training and evaluation time projected from the GPU's.
2. The end-to-end test's configuration (tests/test_workflow.py's ``write_config``: 40 clips,
   ResNet-18 for one epoch, two seeds and the shuffled labels of three experiments) with
   ``training.device: cuda`` and ``precision: auto``, from empty results to the summary page: its
   wall time, and each experiment's test accuracy, the models having been trained on the GPU
   (read back from the training logs).

Without a CUDA device it says so and exits with status 2: nothing is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

STUDY_SHAPE = ["--arch", "resnet101", "--freq-stride", "4", "--time-stride", "8",
               "--rows", "513", "--frames", "61"]  # fmt: skip
RATE = re.compile(r"^(training|inference)\s+([\d.e+]+) samples/s", re.M)


def benchmark(device: str, args: list[str]) -> tuple[str, dict[str, float]]:
    cmd = [sys.executable, str(REPO / "scripts" / "benchmark_training.py"), "--device", device]
    proc = subprocess.run(
        [*cmd, *STUDY_SHAPE, *args], capture_output=True, text=True, cwd=REPO, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark on {device} failed:\n{proc.stderr[-3000:]}")
    return proc.stdout, {kind: float(rate) for kind, rate in RATE.findall(proc.stdout)}


def study_on_cuda(work: Path) -> None:
    from tests.conftest import TEXTGRIDS, require_shared
    from tests.test_workflow import EXPERIMENTS, WIDE_SLICE, write_config

    require_shared()
    config = write_config(
        work,
        clips=WIDE_SLICE,
        alignment=TEXTGRIDS,
        training={"device": "cuda", "precision": "auto", "gpus": 1},
    )
    cmd = [
        sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
        "--directory", str(work), "--configfile", str(config), "--cores", "all",
    ]  # fmt: skip
    start = time.monotonic()
    with open(work / "study.log", "w") as log:
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        raise RuntimeError(f"the study on CUDA failed: {work / 'study.log'}")
    out = work / "results" / "test"
    print(f"\nthe end-to-end study on CUDA: {wall / 60:.1f} min from empty results ({work})")
    for name in EXPERIMENTS:
        metrics = json.loads((out / f"evaluation/{name}/seed0/metrics.json").read_text())
        log = (out / f"logs/models/{name}/seed0_train.log").read_text()
        device = "cuda" if " on cuda " in log else "NOT on cuda (see its training log)"
        print(f"  {name}: test accuracy {metrics['accuracy']:.3f}, trained on {device}")
    assert (out / "report" / "index.html").is_file()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, help="the study's directory (default: temp)")
    parser.add_argument("--steps", type=int, default=20, help="timed GPU training steps")
    parser.add_argument("--cpu-steps", type=int, default=2, help="timed CPU steps of 8")
    parser.add_argument("--no-study", action="store_true", help="the benchmark only")
    args = parser.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print("gpu-check: no CUDA device is visible here: nothing measured. Run `make gpu-check`")
        print("on a machine with an NVIDIA GPU (the environment's torch has CUDA).")
        return 2
    gpu_out, gpu = benchmark(
        "cuda",
        ["--batch", "32", "--precision", "auto", "--channels-last",
         "--steps", str(args.steps), "--warmup", "3"],
    )  # fmt: skip
    print(gpu_out)
    cpu_out, cpu = benchmark(
        "cpu",
        ["--batch", "8", "--eval-batch", "8", "--steps", str(args.cpu_steps), "--warmup", "1",
         "--threads", str(os.cpu_count())],
    )  # fmt: skip
    print(cpu_out.split("\nprojection")[0])
    for kind in ("training", "inference"):
        print(
            f"{kind}: {gpu[kind]:.3g} samples/s on the GPU, {cpu[kind]:.3g} on "
            f"{os.cpu_count()} CPU cores: {gpu[kind] / cpu[kind]:.0f} times"
        )
    if not args.no_study:
        work = (args.workdir or Path(tempfile.mkdtemp(prefix="spectrocam-gpu-check-"))).resolve()
        work.mkdir(parents=True, exist_ok=True)
        study_on_cuda(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
