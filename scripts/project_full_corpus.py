#!/usr/bin/env python
"""Each stage's time and memory on the full corpus under config/config.yaml, projected from a
demo run's measured unit costs, on 2 CPU cores and on one GPU.

    python scripts/project_full_corpus.py results/demo [--config config/config.yaml] \\
        [--gpu-tflops 250]

The demo run's own benchmark files give each job's wall time and peak memory
(:func:`benchmark_stages.stage_table`). Its fixed start-up (Python and the imports: measured
here, in a fresh interpreter, for a job that imports torch and one that does not) is taken off;
what is left is divided by the job's work:

- *network jobs* (train, test_model, maps, sanity, causal): by the FLOPs the job ran, counted
  with torch's FlopCounterMode for the run's model at the run's shapes (training segments of
  every epoch and the validation passes; the test predictions; CAM on every test segment and
  the gradient methods and Score-CAM's masks on the maps' subset; the randomised cascade; the
  occlusions and deletion steps), which gives the rate the job sustained (GFLOP/s). The full
  study's FLOPs, counted the same way for config.yaml's model and shapes, are divided by that
  rate (CPU) and by ``--gpu-tflops`` (GPU: an assumed sustained rate, printed as one; nothing
  here has run on a GPU);
- *per-clip jobs* (corpus validation, pocketsphinx alignment, formants, the ceilings): by the
  run's clips, times the full corpus's 13,100;
- *segment stores*: by the run's segments, times the full corpus's, times the ratio of frames;
- *light jobs on maps* (evidence, sensitivity; the rules without a benchmark file, agreement,
  errors and the reports, are left out): by the test segments times the CAM's cells, times the
  full study's.

Memory: network jobs keep the measured peak, plus the training rule's in-memory train and
validation segments (float16) at full size; light jobs on maps grow with test segments times
cells (they read every map grid) and are scaled so. The full corpus's segment counts are those
of docs/speed.md and scripts/benchmark_training.py (about 79,000 vowels, 243,000 voicing segments).
Every figure is a projection from one run on one machine, printed with its CPU model.

Beside each stage: what its rule asks the scheduler for under ``--config`` (``resources.<rule>``:
memory, for training plus its share of the projected train and validation segments, and run time
per job), and whether the projected job fits it (the network stages' hours on one GPU, the
others' on their threads).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmark_stages import stage_table  # noqa: E402

from spectrocam.machine import cpu_model  # noqa: E402

FULL_CLIPS = 13_100
# Full-corpus segment counts (benchmark_training.FULL_TEST_SEGMENTS, divided by the test share)
FULL_SEGMENTS = {"vowels": 79_000, "voicing": 243_000}
# bytes of a test segment's maps per CAM cell: float32, the true and the predicted class's, of
# each of six methods (what the light rules read of a map file)
GRID_BYTES = 4 * 2 * 6
NETWORK = ("models", "evaluation", "maps", "sanity", "causal")
PER_CLIP = ("corpus", "alignment", "formants")
# the rule whose request (resources.<rule> of the configuration) each row's jobs make
RULE = {
    "models": "train",
    "evaluation": "test_model",
    "corpus": "validate_corpus",
    "alignment": "align_pocketsphinx",
} | {stage: stage for stage in NETWORK[2:] + PER_CLIP[2:] + ("segments",)}


def startup_s(module: str) -> float:
    """Seconds a fresh interpreter takes to import ``module`` (the best of three)."""
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
        best = min(best, time.perf_counter() - start)
    return float(best)


def flops(arch: str, classes: int, fs: int, ts: int, rows: int, frames: int) -> dict[str, float]:
    """FLOPs per segment (:func:`benchmark_training.flops_per_segment`): ``train`` (forward and
    backward), ``infer`` (forward), ``grad`` (forward and backward: a gradient map)."""
    from types import SimpleNamespace

    from benchmark_training import flops_per_segment

    spec = SimpleNamespace(
        arch=arch, classes=classes, freq_stride=fs, time_stride=ts, rows=rows, frames=frames
    )
    train, infer = flops_per_segment(spec)
    return {"train": train, "infer": infer, "grad": train}


def last_channels(arch: str) -> int:
    return 512 if arch in ("resnet18", "resnet34") else 2048


def experiment_shape(config: dict, exp: dict) -> tuple[int, int]:
    from spectrocam.segments.spectrogram import context_frames

    spec, sr = config["spectrogram"], config["corpus"]["sample_rate_hz"]
    frames = context_frames(spec["context_s"], round(spec["hop_s"] * sr) / sr)
    freqs = np.arange(spec["n_fft"] // 2 + 1) * sr / spec["n_fft"]
    rows = int(((freqs >= exp["fmin_hz"] - 1e-9) & (freqs <= exp["fmax_hz"] + 1e-9)).sum())
    return rows, frames


def work(config: dict, exp: dict, counts: dict) -> dict[str, float]:
    """FLOPs of one job of each network stage of an experiment (``counts``: its segments per
    split, test segments in the maps' subset and in the causal tests): training, test and maps
    per model, the sanity cascade and the causal tests once per experiment."""
    model, training = config["model"], config["training"]
    rows, frames = experiment_shape(config, exp)
    f = flops(
        model["arch"], len(exp["classes"]), model["freq_stride"], model["time_stride"], rows, frames
    )
    explain, sanity = config["explain"], config["sanity"]
    channels = explain.get("score_cam_channels") or last_channels(model["arch"])
    methods = explain["methods"]
    # the gradient methods share one forward and backward pass per class map (the true and the
    # predicted class's); CAM comes from the forward pass of the predictions
    gradient = any(m in methods for m in ("gradcam", "gradcam++", "hirescam", "layercam"))
    # an epoch: its training steps, the BatchNorm re-estimation (train-mode forward passes on
    # at most as many segments) and the validation
    recalibration = min(training.get("bn_recalibration", 256) or 0, counts["train_epoch"])
    per_epoch = (
        counts["train_epoch"] * f["train"]
        + (recalibration + counts["validation_epoch"]) * f["infer"]
    )
    subset = counts["maps_subset"]
    maps = counts["test"] * f["infer"] + subset * (
        2 * gradient * f["grad"] + ("scorecam" in methods) * (channels + 1) * f["infer"]
    )
    # every method but Score-CAM again at each step of the cascade, on the subset
    cascade = len(sanity["steps"]) * subset * 2 * f["grad"]
    # occlusions (their number per segment and half-width as measured in the demo) at every
    # half-width, again at the headline half-width for each other ceiling; deletions: steps - 1
    # per order (methods and 3 baselines), the unperturbed and the emptied segment
    causal = config["causal"]
    widths = len(set(causal["half_widths_hz"]) | {config["agreement"]["window_hz"]})
    reruns = max(0, len(config["sensitivity"]["ceilings_hz"]) - 1)
    per_segment = (
        counts["occlusions_per_width"] * (widths + reruns)
        + (causal["deletion_steps"] - 1) * (len(methods) + 3)
        + 2
    )
    return {
        "models": training["epochs"] * per_epoch,
        "evaluation": counts["test"] * f["infer"],
        "maps": maps,
        "sanity": cascade,
        "causal": counts["causal"] * per_segment * f["infer"],
        "bytes_train": (counts["train_epoch"] + counts["validation_epoch"]) * rows * frames * 2,
    }


def demo_counts(results: Path, exp: str, config: dict) -> dict[str, float]:
    """What the demo run's jobs of ``exp`` handled, per model, from its outputs."""
    import h5py

    from spectrocam.explain.maps import MapFile

    histories = sorted((results / "models" / exp).glob("*/history.tsv"))
    h = pd.read_csv(histories[0], sep="\t")
    tests = sorted((results / "evaluation" / exp).glob("*/predictions.tsv"))
    test = len(pd.read_csv(tests[0], sep="\t"))
    maps = MapFile(next((results / "maps" / exp).glob("*.h5")))
    subset = max(len(maps.rows(m)) for m in maps.methods if m != "cam")
    occ = pd.read_csv(results / "causal" / f"{exp}_occlusion.tsv", sep="\t")
    causal = occ["row"].nunique()
    scored = occ[occ.kind != "outside"]
    per_width = len(scored) / max(1, causal) / max(1, scored.half_width_hz.nunique())
    with h5py.File(results / "segments" / f"{exp}.h5", "r") as h5:
        n = int(h5["spectrograms"].shape[0])
    max_val = config["training"].get("max_validation")
    return {
        "segments": n,
        "train_epoch": float(h["train_segments"].mean()),
        "validation_epoch": float(
            min(max_val or np.inf, config["splits"]["fractions"]["validation"] * n)
        ),
        "test": test,
        "maps_subset": subset,
        "causal": causal,
        "occlusions_per_width": per_width,
        "cells": int(np.prod(maps.cells("cam").shape[1:])),
        "models": len(histories),
    }


def full_counts(
    config: dict, exp_name: str, exp: dict, occlusions_per_width: float
) -> dict[str, float]:
    kind = "voicing" if "voiced" in exp["classes"] else "vowels"
    n = FULL_SEGMENTS[kind]
    fr = config["splits"]["fractions"]
    per_class = config["explain"]["max_per_class"] or np.inf
    test = n * fr["test"]
    causal_max = config["causal"].get("max_segments") or np.inf
    return {
        "segments": n,
        "train_epoch": n * fr["train"],  # an upper bound: balancing draws fewer
        "validation_epoch": n * fr["validation"],
        "test": test,
        "maps_subset": min(test, per_class * len(exp["classes"])),
        # the test vowels with formants (voicing_4k's voiced class is the same vowels)
        "causal": min(FULL_SEGMENTS["vowels"] * fr["test"], causal_max),
        "models": len(config["training"]["seeds"]) + bool(config["sanity"]["shuffled_labels"]),
        "occlusions_per_width": occlusions_per_width,
    }


def cells_of(config: dict, exp: dict) -> int:
    rows, frames = experiment_shape(config, exp)
    m = config["model"]
    return int(np.ceil(rows / m["freq_stride"]) * np.ceil(frames / m["time_stride"]))


def project(args) -> tuple[pd.DataFrame, float, float, int]:
    results = Path(args.results)
    with open(results / "config.yaml" if (results / "config.yaml").exists() else args.demo) as f:
        demo = yaml.safe_load(f)
    with open(args.config) as f:
        full = yaml.safe_load(f)
    heavy, light = startup_s("spectrocam.model.training"), startup_s("pandas")
    jobs = stage_table(results)
    jobs["stage"] = jobs.job.str.split("/").str[0]
    jobs["experiment"] = [
        next((e for e in sorted(demo["experiments"], key=len, reverse=True) if e in j), "")
        for j in jobs.job
    ]
    clips = len(pd.read_csv(results / "corpus" / "clips.tsv", sep="\t"))
    rows = []
    for exp_name, exp in full["experiments"].items():
        if not exp.get("enabled", True) or exp_name not in demo["experiments"]:
            continue
        d_exp = demo["experiments"][exp_name]
        dc = demo_counts(results, exp_name, demo)
        fc = full_counts(full, exp_name, exp, dc["occlusions_per_width"])
        d_work, f_work = work(demo, d_exp, dc), work(full, exp, fc)
        grids = (fc["test"] * cells_of(full, exp) - dc["test"] * dc["cells"]) * GRID_BYTES
        for stage in NETWORK:
            mine = jobs[(jobs.stage == stage) & (jobs.experiment == exp_name)]
            if mine.empty:
                continue
            variable = float((mine.wall_s - heavy).clip(lower=0.1).mean())
            rate = d_work[stage] / variable  # FLOP/s the demo's jobs sustained
            jobs_full = fc["models"] if stage in ("models", "evaluation", "maps") else 1
            flop = f_work[stage]
            memory = float(mine.max_rss_mb.max())
            if stage == "models":
                memory += (f_work["bytes_train"] - d_work["bytes_train"]) / 2**20
            rows.append(
                {
                    "stage": stage,
                    "experiment": exp_name,
                    "jobs": jobs_full,
                    "demo s per job": float(mine.wall_s.mean()),
                    "demo GFLOP/s": rate / 1e9,
                    "full TFLOP per job": flop / 1e12,
                    "CPU core-h": jobs_full * (heavy + flop / rate) / 3600,
                    "GPU h": jobs_full * (heavy + flop / (args.gpu_tflops * 1e12)) / 3600,
                    "memory MB": memory,
                    # the train and validation segments: a lower bound of the store's size
                    "input MB": f_work["bytes_train"] / 2**20 if stage == "models" else 0.0,
                }
            )
        cells_ratio = (fc["test"] * cells_of(full, exp)) / (dc["test"] * dc["cells"])
        for stage in ("evidence", "agreement", "sensitivity", "errors"):
            mine = jobs[(jobs.stage == stage) & (jobs.experiment == exp_name)]
            if mine.empty:
                continue
            n_jobs = fc["models"] if stage == "evidence" else 1
            variable = float((mine.wall_s - light).clip(lower=0.1).mean())
            hours = n_jobs * (light + variable * cells_ratio) / 3600
            rows.append(
                {
                    "stage": stage,
                    "experiment": exp_name,
                    "jobs": n_jobs,
                    "demo s per job": float(mine.wall_s.mean()),
                    "CPU core-h": hours,
                    "GPU h": hours,  # not a network: the GPU does not help
                    "memory MB": float(mine.max_rss_mb.max()) + max(0.0, grids) / 2**20,
                }
            )
        store = jobs[(jobs.stage == "segments") & (jobs.experiment == exp_name)]
        if len(store):
            frames = experiment_shape(full, exp)[1] / experiment_shape(demo, d_exp)[1]
            scale = fc["segments"] / dc["segments"] * frames
            hours = (light + float((store.wall_s - light).clip(lower=0.1).mean()) * scale) / 3600
            rows.append(
                {
                    "stage": "segments",
                    "experiment": exp_name,
                    "jobs": 1,
                    "demo s per job": float(store.wall_s.mean()),
                    "CPU core-h": hours,
                    "GPU h": hours,
                    "memory MB": float(store.max_rss_mb.max()),
                }
            )
    for stage in PER_CLIP:
        mine = jobs[jobs.stage == stage]
        if mine.empty:
            continue
        total = float((mine.wall_s - light).clip(lower=0.1).sum()) * FULL_CLIPS / clips
        hours = (len(mine) * light + total) / 3600
        rows.append(
            {
                "stage": stage,
                "experiment": "(all)",
                "jobs": len(mine),
                "demo s per job": float(mine.wall_s.mean()),
                "CPU core-h": hours,
                "GPU h": hours,
                "memory MB": float(mine.max_rss_mb.max()),
            }
        )
    return pd.DataFrame(rows), heavy, light, clips


def with_requests(table: pd.DataFrame, config_path: str) -> pd.DataFrame:
    """Each row's request under the configuration (memory, run time per job) beside the
    projection, and whether a job fits it: its memory, and its hours on one GPU (network stages,
    whose run times are sized for one) or on its threads."""
    from spectrocam.config import validate_config
    from spectrocam.resources import stage_resources

    with open(config_path) as f:
        config = validate_config(yaml.safe_load(f))
    table = table.copy()
    asks_mb, asks_h, fits = [], [], []
    for row in table.to_dict("records"):
        wanted = stage_resources(config, RULE.get(row["stage"], row["stage"]))
        input_mb = row.get("input MB", 0.0)
        mb = wanted.memory(0.0 if np.isnan(input_mb) else input_mb)
        if wanted.network:
            hours = row["GPU h"] / row["jobs"]
        else:
            hours = row["CPU core-h"] / row["jobs"] / wanted.threads
        asks_mb.append(mb)
        asks_h.append(wanted.runtime / 60)
        fits.append("yes" if row["memory MB"] <= mb and hours <= wanted.runtime / 60 else "NO")
    table["asks MB"], table["asks h per job"], table["fits"] = asks_mb, asks_h, fits
    return table.drop(columns=["input MB"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", help="a demo run's results folder (results/demo)")
    parser.add_argument("--config", default="config/config.yaml", help="the full study's")
    parser.add_argument("--demo", default="config/demo.yaml", help="the run's configuration")
    parser.add_argument(
        "--gpu-tflops",
        type=float,
        default=250.0,
        help="assumed sustained rate of one GPU (an assumption, printed as one)",
    )
    args = parser.parse_args()
    table, heavy, light, clips = project(args)
    table = with_requests(table, args.config)
    print(
        f"measured on {cpu_model()}; demo run {args.results} ({clips} clips); start-up of a "
        f"job: {heavy:.1f} s with torch, {light:.1f} s without (taken off, then added back per "
        f"job); GPU: an assumed sustained {args.gpu_tflops:g} TFLOP/s (not a measurement)"
    )
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(3).to_string(index=False))
    cpu, gpu = table["CPU core-h"].sum(), table["GPU h"].sum()
    print(
        f"all: {cpu:,.0f} CPU core-hours ({cpu / 2:,.0f} h on 2 cores at best), {gpu:,.1f} h "
        "with the network stages on one GPU (the rest on its host's CPU, one core)"
    )
    print(
        "(alignment: pocketsphinx, as the demo ran it; config.yaml's MFA was not measured. "
        "Training: every training segment in every epoch, an upper bound.)"
    )
    misfits = table[table.fits != "yes"]
    print(
        "every job fits what its rule asks for (resources.<rule>; network jobs' hours on one GPU)"
        if misfits.empty
        else f"jobs that do not fit what their rule asks for: {', '.join(misfits.stage)}"
    )


if __name__ == "__main__":
    main()
