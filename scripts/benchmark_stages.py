#!/usr/bin/env python
"""Each stage's wall and CPU time and throughput in a run, read from the run's own benchmark
files, and our training throughput against the study's way on the same segments and machine.

    python scripts/benchmark_stages.py results/demo [--experiment vowels_4k] [--steps 2]
        [--before OTHER_RUN] [--no-training]

Part 1 reads what every job measured of itself (the ``job resources:`` line at the end of its log:
wall and CPU seconds from the process's start, the part spent starting up, its largest memory) and
prints them per job kind; then ``RESULTS_DIR/benchmarks/**/*.tsv`` (Snakemake's benchmark files:
``s`` wall seconds, ``cpu_time``, ``max_rss`` MB) and counts the segments each job handled from the
run's outputs: a segment store's size (segments), the training segments of every epoch in
history.tsv (training, validation passes not counted), the rows of predictions.tsv (evaluation,
maps). Snakemake 9 samples CPU time and memory every 30 s from 15 s after the job starts (every 0.5
s before), so a longer job's CPU time can miss up to its last 30 s.

With ``--before OTHER_RUN`` it then prints both runs' benchmark files per job kind side by side
(wall and CPU seconds; the only measure a run from before the jobs measured themselves has).

Part 2 times training steps on ``--batch`` x (``--warmup`` + ``--steps``) segments of the run's
store, both ways, in this process: ours (the run's model: arch and strides from a best.pt under
models/, found by glob, or ``--arch``/``--freq-stride``/``--time-stride``/``--width``; float32
spectrograms read from the store, one channel at the store's own shape) and the study's (each
spectrogram rendered once, before timing, as an image: dB scaled to [0, 1], viridis colours,
256 x 256 pixels, JPEG quality 75; then per step: JPEG decoded, RandomResizedCrop 224,
RandomHorizontalFlip, ImageNet normalisation, and a step of torchvision's 3-channel
ResNet-101). Both use Adam and batch ``--batch``; it prints both throughputs (segments/s) and
their ratio.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from spectrocam.jobs import RESOURCES_LINE
from spectrocam.machine import cpu_model


def segment_counts(results: Path) -> dict[str, dict[str, int]]:
    """Per experiment, the segments of its store, training (all epochs) and evaluation."""
    import h5py

    counts: dict[str, dict[str, int]] = {}
    for store in sorted((results / "segments").glob("*.h5")):
        with h5py.File(store, "r") as h5:
            counts[store.stem] = {"segments": int(h5["spectrograms"].shape[0])}
    for exp, c in counts.items():
        histories = sorted((results / "models" / exp).glob("**/history.tsv"))
        if histories:
            c["models"] = int(
                sum(pd.read_csv(h, sep="\t")["train_segments"].sum() for h in histories)
            )
        predictions = sorted((results / "evaluation" / exp).glob("**/predictions.tsv"))
        if predictions:
            c["evaluation"] = c["maps"] = int(
                sum(len(pd.read_csv(p, sep="\t")) for p in predictions)
            )
    return counts


def stage_table(results: Path) -> pd.DataFrame:
    files = sorted((results / "benchmarks").glob("**/*.tsv"))
    if not files:
        raise SystemExit(f"no benchmark files under {results / 'benchmarks'}")
    counts = segment_counts(results)
    rows = []
    for f in files:
        bench = pd.read_csv(f, sep="\t")
        job = f.relative_to(results / "benchmarks").with_suffix("").as_posix()
        stage = job.split("/")[0]
        exps = [
            e for e in counts if e in job.split("/") or any(p.startswith(e) for p in job.split("/"))
        ]
        exp = max(exps, key=len) if exps else ""
        n = counts.get(exp, {}).get(stage)
        wall = float(bench["s"].mean())
        cpu = float(pd.to_numeric(bench["cpu_time"], errors="coerce").mean())
        rows.append(
            {
                "job": job,
                "wall_s": wall,
                "cpu_s": cpu,
                "max_rss_mb": float(pd.to_numeric(bench["max_rss"], errors="coerce").max()),
                "segments": n,
                "segments_per_s": n / wall if n and wall > 0 else None,
            }
        )
    return pd.DataFrame(rows)


def job_costs(results: Path) -> pd.DataFrame:
    """Every job's own measure of its cost (the ``job resources:`` line that
    :func:`spectrocam.jobs.job` logs at its end): per log file, the job kind (its log path with
    the experiment and model names as ``{e}`` and ``{m}``), wall and CPU seconds and the part of
    each spent starting up (imports), and its largest memory."""
    experiments = sorted((p.stem for p in (results / "segments").glob("*.h5")), key=len)[::-1]
    rows = []
    for log in sorted((results / "logs").glob("**/*.log")):
        found = RESOURCES_LINE.findall(log.read_text(encoding="utf-8", errors="replace"))
        if not found:
            continue
        kind = job_kind(log.relative_to(results / "logs").with_suffix("").as_posix(), experiments)
        wall, start, cpu, cpu_start, rss = map(float, found[-1])
        rows.append(
            {"kind": kind, "job": log.stem, "wall_s": wall, "startup_s": start, "cpu_s": cpu,
             "startup_cpu_s": cpu_start, "max_rss_mb": rss}
        )  # fmt: skip
    return pd.DataFrame(rows)


def print_job_kinds(costs: pd.DataFrame) -> None:
    """Per job kind: jobs, wall and CPU seconds in all, the start-up's share, the largest
    memory; then the run's totals."""
    if costs.empty:
        print("no job logged its resources (runs before the jobs measured themselves)")
        return
    g = costs.groupby("kind")
    table = pd.DataFrame(
        {
            "jobs": g.size(),
            "wall_s": g.wall_s.sum(),
            "cpu_s": g.cpu_s.sum(),
            "startup_cpu_s": g.startup_cpu_s.sum(),
            "max_rss_mb": g.max_rss_mb.max(),
        }
    ).sort_values("cpu_s", ascending=False)
    print(
        f"{'job kind':<42} {'jobs':>4} {'wall s':>8} {'CPU s':>8} {'start-up CPU s':>15} {'MB':>6}"
    )
    for kind, r in table.iterrows():
        print(
            f"{kind:<42} {int(r.jobs):>4} {r.wall_s:>8.1f} {r.cpu_s:>8.1f} "
            f"{r.startup_cpu_s:>15.1f} {r.max_rss_mb:>6.0f}"
        )
    print(
        f"{'all':<42} {int(table.jobs.sum()):>4} {table.wall_s.sum():>8.1f} "
        f"{table.cpu_s.sum():>8.1f} {table.startup_cpu_s.sum():>15.1f}\n"
        "(measured by each job itself from its start: CPU of the process and its children, "
        "start-up = the imports before the rule's body)"
    )


def print_stages(table: pd.DataFrame) -> None:
    print(f"{'job':<40} {'wall s':>9} {'CPU s':>9} {'max RSS MB':>11} {'segments':>9} {'seg/s':>8}")
    for r in table.itertuples():
        seg = f"{int(r.segments):,}" if pd.notna(r.segments) else "-"
        rate = f"{r.segments_per_s:.3g}" if pd.notna(r.segments_per_s) else "-"
        cpu = f"{r.cpu_s:.1f}" if pd.notna(r.cpu_s) else "-"
        print(f"{r.job:<40} {r.wall_s:>9.1f} {cpu:>9} {r.max_rss_mb:>11.0f} {seg:>9} {rate:>8}")
    print(
        f"{'all':<40} {table.wall_s.sum():>9.1f} {table.cpu_s.sum():>9.1f}\n"
        "(Snakemake 9 samples CPU time and memory every 0.5 s for a job's first 15 s, then every "
        "30 s: a longer job's CPU time can miss up to its last 30 s, and its processes that ended "
        "between two samples. Segments: the store's size for "
        "segments/, the training segments of all epochs for models/ (its wall time includes the "
        "validation passes), the test segments for evaluation/ and maps/.)"
    )


def job_kind(job: str, experiments: list[str]) -> str:
    """A job's path with its experiment and model names as ``{e}`` and ``{m}``."""
    for e in sorted(experiments, key=len)[::-1]:
        job = job.replace(e, "{e}")
    return re.sub(r"seed\d+|shuffled", "{m}", job)


def kinds_from_benchmarks(results: Path, table: pd.DataFrame) -> pd.DataFrame:
    """Per job kind, from the run's :func:`stage_table` of Snakemake's benchmark files (a run
    before the jobs measured themselves has only these): jobs, wall seconds (exact) and CPU
    seconds (sampled: a lower bound)."""
    experiments = [p.stem for p in (results / "segments").glob("*.h5")]
    table["kind"] = [job_kind(j, experiments) for j in table.job]
    g = table.groupby("kind")
    return pd.DataFrame({"jobs": g.size(), "wall_s": g.wall_s.sum(), "cpu_s": g.cpu_s.sum()})


def print_before_after(before: Path, after: Path, after_table: pd.DataFrame) -> None:
    """The stage table of two runs side by side, per job kind, from their benchmark files
    (``after_table``: the later run's :func:`stage_table`, already read)."""
    b = kinds_from_benchmarks(before, stage_table(before))
    a = kinds_from_benchmarks(after, after_table)
    both = b.join(a, how="outer", lsuffix="_before", rsuffix="_after").fillna(0)
    both = both.sort_values("wall_s_before", ascending=False)
    print(f"before: {before}; after: {after} (Snakemake's benchmark files of each)")
    print(
        f"{'job kind':<34} {'jobs':>9} {'wall s before':>14} {'after':>8} "
        f"{'CPU s before':>13} {'after':>8}"
    )
    for kind, r in both.iterrows():
        jobs = f"{int(r.jobs_before)}/{int(r.jobs_after)}"
        print(
            f"{kind:<34} {jobs:>9} {r.wall_s_before:>14.1f} {r.wall_s_after:>8.1f} "
            f"{r.cpu_s_before:>13.1f} {r.cpu_s_after:>8.1f}"
        )
    total = both.sum()
    jobs = f"{int(total.jobs_before)}/{int(total.jobs_after)}"
    print(
        f"{'all':<34} {jobs:>9} {total.wall_s_before:>14.1f} {total.wall_s_after:>8.1f} "
        f"{total.cpu_s_before:>13.1f} {total.cpu_s_after:>8.1f}\n"
        "(jobs before/after; wall seconds are Snakemake's exact ones, CPU seconds its samples, "
        "which miss up to the last 30 s of a job longer than 15 s: a lower bound, lower for the "
        "longer jobs. Jobs of the rules without a benchmark file are not in it.)"
    )


def find_model(results: Path, experiment: str) -> Path | None:
    found = sorted((results / "models" / experiment).glob("**/best.pt"))
    return found[0] if found else None


def render_study_jpegs(spectrograms: np.ndarray, floor_db: float) -> list[bytes]:
    """Each (F, T) dB spectrogram as the study's JPEG (low frequencies at the bottom)."""
    from matplotlib import colormaps
    from PIL import Image

    cmap = colormaps["viridis"]
    out = []
    for s in spectrograms:
        top = max(float(s.max()), floor_db + 1e-6)
        unit = np.clip((s[::-1] - floor_db) / (top - floor_db), 0, 1)
        rgb = (cmap(unit)[..., :3] * 255).astype(np.uint8)
        image = Image.fromarray(rgb).resize((256, 256), Image.BILINEAR)
        buf = io.BytesIO()
        image.save(buf, format="JPEG", quality=75)
        out.append(buf.getvalue())
    return out


def time_steps(step, batches, warmup: int) -> float:
    """Segments per second of ``step(batch)`` over ``batches`` (after ``warmup`` of them)."""
    for b in batches[:warmup]:
        step(b)
    start = time.perf_counter()
    for b in batches[warmup:]:
        step(b)
    return sum(len(b) for b in batches[warmup:]) / (time.perf_counter() - start)


def _time_ours(reader, labels, batches, warmup: int, spec: tuple) -> float:
    """Our training steps: float32 spectrograms read from the store, the run's model."""
    import torch

    from spectrocam.model.network import build_model

    model = build_model(*spec).to(memory_format=torch.channels_last).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step(b):
        x = reader.batch(b).contiguous(memory_format=torch.channels_last)
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), labels[b]).backward()
        opt.step()

    return time_steps(step, batches, warmup)


def compare_training(args, results: Path) -> None:
    import torch
    import torchvision
    from PIL import Image
    from torchvision import transforms

    from spectrocam.segments.store import SegmentReader

    stores = sorted((results / "segments").glob("*.h5"))
    if not stores:
        raise SystemExit(f"no segment store under {results / 'segments'}")
    experiment = args.experiment or next(
        (s.stem for s in stores if find_model(results, s.stem)), stores[0].stem
    )
    store = results / "segments" / f"{experiment}.h5"
    arch, fs, ts, source = args.arch, args.freq_stride, args.time_stride, "arguments"
    width = args.width
    model_path = find_model(results, experiment)
    if model_path and not args.ignore_model:
        meta = torch.load(model_path, map_location="cpu", weights_only=False)["meta"]
        arch, fs, ts, source = meta["arch"], meta["freq_stride"], meta["time_stride"], model_path
        width = meta.get("width", 64)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    n = args.batch * (args.steps + args.warmup)
    with SegmentReader(store) as reader:
        if reader.data.shape[0] < n:
            raise SystemExit(f"{store} has {reader.data.shape[0]} segments, fewer than {n}")
        index = np.arange(n)
        classes = len(reader.class_names)
        labels = torch.from_numpy(reader.labels[index])
        floor = float(reader.h5.attrs.get("floor_db", -100.0))
        render_study_jpegs(reader.batch(index[:1])[:, 0].numpy(), floor)  # imports, warm-up
        start = time.perf_counter()
        jpegs = render_study_jpegs(reader.batch(index)[:, 0].numpy(), floor)
        render_s = time.perf_counter() - start
        print(
            f"\ntraining on {n} segments of {store} ({reader.shape[0]} x {reader.shape[1]}), "
            f"{cpu_model()}, {torch.get_num_threads()} threads, torch {torch.__version__}, "
            f"batch {args.batch}, {args.steps} timed steps after {args.warmup}"
        )
        batches = [index[lo : lo + args.batch] for lo in range(0, n, args.batch)]

        spec = (arch, classes, fs, ts, "scratch", None, width)
        rows, frames = reader.shape  # read while the store is open
        our_rate = _time_ours(reader, labels, batches, args.warmup, spec)
    study = torchvision.models.resnet101(weights=None, num_classes=classes)
    study = study.to(memory_format=torch.channels_last).train()
    opt = torch.optim.Adam(study.parameters(), lr=1e-4)
    augment = transforms.Compose(
        [
            transforms.RandomResizedCrop(224),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
        ]
    )

    def study_step(b):
        images = [augment(Image.open(io.BytesIO(jpegs[i])).convert("RGB")) for i in b]
        x = torch.stack(images).contiguous(memory_format=torch.channels_last)
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(study(x), labels[b]).backward()
        opt.step()

    study_rate = time_steps(study_step, batches, args.warmup)
    print(f"{'way':<62} {'segments/s':>10}")
    ours = f"ours: {arch} width {width}, strides {fs} x {ts}, 1 x {rows} x {frames}"
    print(f"{ours:<62} {our_rate:>10.3g}")
    print(
        f"{'the study: JPEG decoded + augmented, resnet101, 3 x 224 x 224':<62} {study_rate:>10.3g}"
    )
    print(
        f"ratio (ours / the study's): {our_rate / study_rate:.2f}; our model from {source}; "
        f"rendering the study's JPEGs beforehand: {n / render_s:.3g} segments/s (not in its rate)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", help="a run's results directory, e.g. results/demo")
    parser.add_argument("--experiment", help="whose store and model (default: one with a model)")
    parser.add_argument("--arch", default="resnet101", help="when the run has no model")
    parser.add_argument("--freq-stride", type=int, default=4)
    parser.add_argument("--time-stride", type=int, default=32)
    parser.add_argument("--width", type=int, default=64, help="model.width")
    parser.add_argument("--ignore-model", action="store_true", help="use the arguments")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-training", action="store_true", help="the stage table only")
    parser.add_argument(
        "--before", type=Path, help="an earlier run's results: its stage table beside this one's"
    )
    args = parser.parse_args()
    results = Path(args.results)
    isa = {k: os.environ.get(k, "unset") for k in ("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY")}
    print(f"run {results}, read on {cpu_model()} (this shell's ISA limits: {isa})")
    print_job_kinds(job_costs(results))
    print()
    stages = stage_table(results)
    print_stages(stages)
    if args.before:
        print()
        print_before_after(args.before, results, stages)
    if not args.no_training:
        compare_training(args, results)


if __name__ == "__main__":
    main()
