#!/usr/bin/env python
"""Training recipes compared on a finished run's segment stores and splits: per experiment and
seed, the training time on one thread, the epochs, the epoch kept, and validation and test
accuracy.

    ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 python scripts/benchmark_recipes.py \\
        results/demo --config config/demo.yaml --jobs 2 \\
        [--recipe NAME:key=value,key=value ...] [--experiments vowels_4k ...] [--seeds 0 1] \\
        [--shuffled] [--out recipes.tsv]

A recipe is the configuration's ``model`` and ``training`` sections with some keys changed
(values read as YAML). Two are built in: ``config`` (the configuration as it is) and
``previous`` (the demo's recipe before issue 21: ResNet-18 of width 64, 4 epochs of 56
segments per class, lr 1e-3, constant). Each model trains through the pipeline's own
:func:`spectrocam.model.training.train` (model selection on the validation split only) in a
temporary directory, on one thread (``training.threads`` of the demo), ``--jobs`` of them side
by side as the demo runs them (the recipes of one model one after the other, so that with two
jobs they run together and share whatever else loads the machine); then the kept model predicts
the test split. ``train s`` is the
wall time of ``train()`` (the store read into memory, training, validation, checkpoints);
``cpu s`` the CPU time of that process meanwhile (the better figure when other jobs share the
machine). Time with ``ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2`` to stand for the AVX2
machines the demo's budget is set on; the script prints both and the CPU model. Where the run
has ``evaluation/<experiment>/references.json`` it prints the formant LDA's test accuracy
beside the networks'. The test split is only scored, never used to choose: choose recipes by
validation accuracy.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
import yaml

from spectrocam.machine import cpu_model

# no live progress bars from the side-by-side jobs (tqdm reads this when it is imported)
os.environ.setdefault("TQDM_DISABLE", "1")

PREVIOUS = {
    "arch": "resnet18",
    "weights": "scratch",
    "freq_stride": 8,
    "time_stride": 32,
    "width": 64,
    "lr": 0.001,
    "schedule": "constant",
    "epochs": 4,
    "balance": "undersample",
    "samples_per_class": 56,
    "time_shift_frames": 0,
    "gain_db": 0,
}
ISA = ("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, help="a run's results directory (results/demo)")
    parser.add_argument("--config", default="config/demo.yaml")
    parser.add_argument(
        "--recipe",
        action="append",
        default=None,
        help="NAME:key=value,... over the config's model and training keys; the built-in "
        "names config and previous need no keys (default: config and previous)",
    )
    parser.add_argument(
        "--experiments",
        nargs="+",
        default=["vowels_4k", "vowels_full", "vowels_4k_isolated", "voicing_4k"],
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=None, help="default: the config's")
    parser.add_argument("--shuffled", action="store_true", help="also the shuffled-labels model")
    parser.add_argument("--jobs", type=int, default=1, help="one-thread trainings side by side")
    parser.add_argument("--out", type=Path, default=None, help="also write the table here (TSV)")
    return parser.parse_args()


def recipes(specs: list[str] | None) -> dict[str, dict]:
    """Recipe name -> changed keys (values parsed as YAML)."""
    out: dict[str, dict] = {}
    for spec in specs or ["config", "previous"]:
        name, _, body = spec.partition(":")
        changes = dict(PREVIOUS) if name == "previous" else {}
        for item in filter(None, body.split(",")):
            key, _, value = item.partition("=")
            changes[key.strip()] = yaml.safe_load(value)
        out[name] = changes
    return out


def train_and_test(task: dict) -> dict:
    """Train one model of ``task`` in a temporary directory; its figures."""
    import numpy as np
    import torch

    from spectrocam.io import read_text_table
    from spectrocam.model.inference import predict
    from spectrocam.model.metrics import classification_metrics
    from spectrocam.model.network import load_model
    from spectrocam.model.training import TrainConfig, train
    from spectrocam.segments.store import SegmentReader, split_indices

    torch.set_num_threads(1)
    store = task["results"] / "segments" / f"{task['experiment']}.h5"
    splits = read_text_table(task["results"] / "splits" / "splits.tsv")
    cfg = TrainConfig.from_config(task["training"] | {"seed": task["seed"]})
    with tempfile.TemporaryDirectory() as tmp:
        wall, cpu = time.perf_counter(), time.process_time()
        result = train(
            cfg,
            store,
            splits,
            Path(tmp) / "checkpoint",
            Path(tmp) / "best.pt",
            Path(tmp) / "history.tsv",
            threads=1,
            shuffle_labels=task["shuffled"],
        )
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        model, meta = load_model(Path(tmp) / "best.pt")
    test = split_indices(store, splits)["test"]
    with SegmentReader(store) as reader:
        logits = predict(model, reader, test, cfg.eval_batch_size, torch.device("cpu"))
        labels = reader.labels[test]
    metrics = classification_metrics(labels, logits.argmax(1), reader.class_names)
    history = pd.DataFrame(result["history"])
    kept = history.set_index("epoch").loc[result["best"]["epoch"]]
    return {
        "recipe": task["recipe"],
        "experiment": task["experiment"],
        "model": "shuffled" if task["shuffled"] else f"seed{task['seed']}",
        "train_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "epochs": cfg.epochs,
        "train_segments": int(history.train_segments.sum()),
        "kept_epoch": int(result["best"]["epoch"]),
        "val_accuracy": round(float(kept.val_accuracy), 3),
        "val_macro_f1": round(float(kept.val_macro_f1), 3),
        "test_accuracy": round(float(metrics["accuracy"]), 3),
        "test_macro_f1": round(float(metrics["macro_f1"]), 3),
        "test_n": int(np.asarray(labels).size),
    }


def lda_accuracy(results: Path, experiment: str) -> float | None:
    path = results / "evaluation" / experiment / "references.json"
    if not path.exists():
        return None
    rows = json.loads(path.read_text())
    rows = rows.get("rows", rows) if isinstance(rows, dict) else rows
    for row in rows:
        if str(row.get("classifier", "")).startswith("formants"):
            acc = row["accuracy"]
            return float(acc[0] if isinstance(acc, list) else acc)
    return None


def main() -> None:
    args = parse_args()
    from spectrocam.config import validate_config

    with open(args.config) as f:
        config = validate_config(yaml.safe_load(f))
    seeds = args.seeds or config["training"]["seeds"]
    base = config["model"] | config["training"]
    tasks = [
        {
            "recipe": name,
            "training": base | changes,
            "experiment": exp,
            "seed": seed,
            "shuffled": shuffled,
            "results": args.results,
        }
        # the recipes of one model next to each other: run side by side, they share the
        # machine's load, and their times compare
        for exp in args.experiments
        for seed, shuffled in [(s, False) for s in seeds] + ([(seeds[0], True)] * args.shuffled)
        for name, changes in recipes(args.recipe).items()
    ]
    isa = ", ".join(f"{k}={os.environ.get(k, '(unset)')}" for k in ISA)
    print(f"{cpu_model()}; one thread per model, {args.jobs} side by side; {isa}")
    for name, changes in recipes(args.recipe).items():
        print(f"recipe {name}: {changes or 'the configuration as it is'}")
    rows = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for row in pool.map(train_and_test, tasks):
            rows.append(row)
            print("  ".join(f"{k} {v}" for k, v in row.items()), flush=True)
    # one recipe's rows together, in the order given
    table = pd.concat([t for _, t in pd.DataFrame(rows).groupby("recipe", sort=False)])
    table["lda_test_accuracy"] = [lda_accuracy(args.results, e) for e in table.experiment]
    print(table.to_string(index=False))
    summary = table[table.model != "shuffled"].groupby(["recipe", "experiment"], sort=False)
    print("\nmean over seeds")
    print(summary[["train_s", "cpu_s", "val_accuracy", "test_accuracy"]].mean().round(3))
    print("\nper model, mean over experiments and seeds (the shuffled model's too)")
    print(table.groupby("recipe", sort=False)[["train_s", "cpu_s"]].mean().round(1))
    if args.out:
        table.to_csv(args.out, sep="\t", index=False)


if __name__ == "__main__":
    main()
