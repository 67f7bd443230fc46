"""Training one experiment's classifier, with a checkpoint every epoch and model selection on
the validation split only.

Every epoch draws a class-balanced training set (``balance="undersample"``: the same number of
segments from each class, by default as many as the smallest class has, drawn afresh each epoch
from a generator seeded with ``(seed, epoch)``), trains on it with Adam and scores the validation
split. The model with the best validation macro-F1 is kept; the test split is never read here.

A checkpoint (model, optimiser, epoch, history, best model so far and the RNG states) is written
after every epoch, under a temporary name and renamed. A job that is killed and started again
with the same settings continues after the last finished epoch (also when only ``epochs`` grew);
with different settings (another store, split or training option) it starts over and says so.
"""

from __future__ import annotations

import logging
import random
import shutil
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from spectrocam.config import Section
from spectrocam.exceptions import TrainingError
from spectrocam.io import atomic_path, write_table
from spectrocam.model.batchnorm import collapse, recalibrate
from spectrocam.model.checkpoint import fingerprint, rng_states, set_rng_states
from spectrocam.model.device import autocast, autocast_dtype, choose_device
from spectrocam.model.inference import predict
from spectrocam.model.metrics import classification_metrics
from spectrocam.model.network import build_model
from spectrocam.model.sampling import balanced_epoch, shuffled_labels
from spectrocam.progress import bar
from spectrocam.segments.store import MemorySegments, SegmentReader, split_indices

__all__ = [
    "TrainConfig",
    "predict",
    "train",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig(Section):
    """The keys of the ``model`` and ``training`` sections that training uses (not ``gpus``)."""

    SECTIONS = ("model", "training")
    EXTRA = ("seed",)  # one of training.seeds: the rule's model wildcard

    arch: str = "resnet101"
    weights: str = "imagenet"
    freq_stride: int = 32
    time_stride: int = 32
    precision: str = "float32"
    lr: float = 1e-4
    batch_size: int = 32
    epochs: int = 20
    balance: str = "undersample"
    samples_per_class: int | None = None
    seed: int = 0
    device: str = "auto"
    eval_batch_size: int = 64
    bn_recalibration: int = 256
    collapse_share: float = 0.95
    max_validation: int | None = None
    # torch's CPU threads, whatever the scheduler gave the job: the figures depend on them
    threads: int = 8


@dataclass
class TrainState:
    """What the steps of :func:`train` pass on: model, optimiser, epoch log, best, next epoch."""

    model: nn.Module
    optimiser: torch.optim.Optimizer
    history: list[dict]
    best: dict
    next_epoch: int


@dataclass(frozen=True)
class _Run:
    """What stays fixed while training (``amp``: the autocast dtype, None for float32)."""

    cfg: TrainConfig
    reader: MemorySegments
    idx: Mapping[str, np.ndarray]
    device: torch.device
    amp: torch.dtype | None
    checkpoint_dir: Path
    fingerprint: str


def _start_or_resume(run: _Run, weights_path: str | Path | None) -> TrainState:
    """The model and optimiser on the run's device: those of ``last.pt`` when it was made with
    the same settings and no more epochs, else new ones (the input standardised)."""
    cfg, reader, idx, last_path = run.cfg, run.reader, run.idx, run.checkpoint_dir / "last.pt"
    names = reader.class_names
    for split in ("train", "validation"):
        if not len(idx[split]):
            raise ValueError(f"the {split} split of {reader.path.name} has no segments")
    train_labels = reader.labels[idx["train"]]
    absent = [names[c] for c in range(len(names)) if not (train_labels == c).any()]
    if absent:
        raise ValueError(f"no training segments of class(es) {', '.join(absent)}")
    model = build_model(
        cfg.arch, len(names), cfg.freq_stride, cfg.time_stride, cfg.weights, weights_path
    )
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    no_best = {"epoch": 0, "macro_f1": -1.0, "loss": float("inf")}
    state = TrainState(model, optimiser, history=[], best=no_best, next_epoch=1)
    if last_path.exists():
        saved = torch.load(last_path, map_location="cpu", weights_only=False)
        if saved.get("fingerprint") == run.fingerprint and saved["epoch"] <= cfg.epochs:
            model.load_state_dict(saved["model"])
            optimiser.load_state_dict(saved["optimizer"])
            state.history, state.best = saved["history"], saved["best"]
            set_rng_states(saved["rng"])
            state.next_epoch = saved["epoch"] + 1
            log.info("resuming from the checkpoint of epoch %d/%d", saved["epoch"], cfg.epochs)
        else:
            log.info(
                "the checkpoint in %s was made with other settings: starting over", last_path.parent
            )
    if state.next_epoch == 1:
        _standardise_input(run, model)
    # channels_last lets oneDNN (CPU) and cuDNN pick their fastest convolutions.
    model.to(run.device, memory_format=torch.channels_last)
    for param_state in optimiser.state.values():
        for k, v in param_state.items():
            if torch.is_tensor(v):
                param_state[k] = v.to(run.device)
    return state


def _standardise_input(run: _Run, model: nn.Module) -> None:
    """Set the model's input mean and sd to those of (up to 2,000) training spectrograms."""
    train, rng = run.idx["train"], np.random.default_rng(run.cfg.seed)
    sample = np.sort(rng.choice(train, size=min(len(train), 2000), replace=False))
    values = np.concatenate(
        [run.reader.batch(sample[i : i + 256]).numpy().ravel() for i in range(0, len(sample), 256)]
    )
    mean, std = float(values.mean()), float(values.std() or 1.0)
    model.input_mean.fill_(mean)
    model.input_std.fill_(std)
    log.info("input standardised with the training mean %.2f dB and sd %.2f dB", mean, std)


def _epoch_order(run: _Run, epoch: int) -> np.ndarray:
    """The store indices that ``epoch`` trains on, in order, drawn from ``(seed, epoch)``."""
    cfg, train = run.cfg, run.idx["train"]
    rng = np.random.default_rng([cfg.seed, epoch])
    if cfg.balance == "undersample":
        labels, n_classes = run.reader.labels[train], len(run.reader.class_names)
        return train[balanced_epoch(labels, n_classes, rng, cfg.samples_per_class)]
    return rng.permutation(train)


def _train_one_epoch(run: _Run, state: TrainState, every_s: float) -> dict:
    """Train on epoch ``state.next_epoch``'s order: the epoch's training columns of the history."""
    cfg, reader, device, amp = run.cfg, run.reader, run.device, run.amp
    epoch, order = state.next_epoch, _epoch_order(run, state.next_epoch)
    model, optimiser = state.model, state.optimiser
    model.train()
    total, correct, seen = 0.0, 0, 0
    n_batches = (len(order) + cfg.batch_size - 1) // cfg.batch_size
    progress = bar(n_batches, f"epoch {epoch}/{cfg.epochs}", "batch", every_s)
    for b, lo in enumerate(range(0, len(order), cfg.batch_size), start=1):
        batch = order[lo : lo + cfg.batch_size]
        x = reader.batch(batch).to(device)
        y = torch.from_numpy(reader.labels[batch]).to(device)
        optimiser.zero_grad(set_to_none=True)
        with autocast(device, amp):
            logits = model(x)
            loss = nn.functional.cross_entropy(logits.float(), y)
        if not torch.isfinite(loss):
            hint = " (bfloat16: try training.precision float32)" if amp else ""
            raise FloatingPointError(f"epoch {epoch}, batch {b}: the loss is {float(loss)}{hint}")
        loss.backward()
        optimiser.step()
        total += loss.item() * len(batch)
        correct += int((logits.argmax(1) == y).sum())
        seen += len(batch)
        progress.set_postfix(loss=f"{total / seen:.3f}", refresh=False)
        progress.update()
    progress.close()
    return {"train_segments": seen, "train_loss": total / seen, "train_accuracy": correct / seen}


def _validate(run: _Run, model: nn.Module, epoch: int) -> dict:
    """BatchNorm statistics re-estimated on training segments, then loss, accuracy, macro-F1
    and the collapse check on the validation split: the history's validation columns."""
    cfg, reader, val_idx = run.cfg, run.reader, run.idx["validation"]
    recalibrate(
        model,
        reader,
        run.idx["train"],
        run.device,
        cfg.bn_recalibration,
        cfg.eval_batch_size,
        seed=[cfg.seed, epoch],
    )
    logits = predict(model, reader, val_idx, cfg.eval_batch_size, run.device, run.amp)
    labels = reader.labels[val_idx]
    loss = float(nn.functional.cross_entropy(torch.from_numpy(logits), torch.from_numpy(labels)))
    val = classification_metrics(labels, logits.argmax(1), reader.class_names)
    check = collapse(logits.argmax(1), labels, cfg.collapse_share)
    return {
        "val_loss": loss,
        "val_accuracy": val["accuracy"],
        "val_macro_f1": val["macro_f1"],
        "val_top_share": check["top_share"],
        "collapsed": check["collapsed"],
    }


def _save_best(run: _Run, model: nn.Module, row: Mapping, meta: Mapping | None) -> None:
    """``best.pt``: the model of the epoch ``row`` and what :func:`load_model` needs."""
    cfg = run.cfg
    saved = {
        "model": {k: v.cpu() for k, v in model.state_dict().items()},
        "meta": {
            "arch": cfg.arch,
            "freq_stride": cfg.freq_stride,
            "time_stride": cfg.time_stride,
            "class_names": run.reader.class_names,
            "epoch": row["epoch"],
            "val_macro_f1": row["val_macro_f1"],
            "val_accuracy": row["val_accuracy"],
            "input_shape": list(run.reader.shape),
            "precision": "bfloat16" if run.amp else "float32",
            "config": asdict(cfg),
            **dict(meta or {}),
        },
    }
    with atomic_path(run.checkpoint_dir / "best.pt") as tmp:
        torch.save(saved, tmp)


def _save_checkpoint(run: _Run, state: TrainState) -> None:
    """``last.pt``: all that a later job needs to continue (see :func:`_start_or_resume`)."""
    saved = {
        "epoch": state.next_epoch - 1,
        "model": state.model.state_dict(),
        "optimizer": state.optimiser.state_dict(),
        "history": state.history,
        "best": state.best,
        "rng": rng_states(),
        "fingerprint": run.fingerprint,
    }
    with atomic_path(run.checkpoint_dir / "last.pt") as tmp:
        torch.save(saved, tmp)


def _run_epoch(run: _Run, state: TrainState, every_s: float, meta: Mapping | None) -> None:
    """Train and validate epoch ``state.next_epoch``, keep it if best, checkpoint and log it."""
    epoch, best = state.next_epoch, state.best
    began = time.monotonic()
    row = {"epoch": epoch} | _train_one_epoch(run, state, every_s)
    row |= _validate(run, state.model, epoch)
    row |= {"seconds": time.monotonic() - began, "best": False}
    if row["collapsed"]:
        log.warning(
            "epoch %d: %.0f %% of the validation segments are called one class: collapsed, "
            "never kept",
            epoch,
            100 * row["val_top_share"],
        )
    elif (row["val_macro_f1"], -row["val_loss"]) > (best["macro_f1"], -best["loss"]):
        state.best = {"epoch": epoch, "macro_f1": row["val_macro_f1"], "loss": row["val_loss"]}
        row["best"] = True
        _save_best(run, state.model, row, meta)
    state.history.append(row)
    state.next_epoch = epoch + 1
    _save_checkpoint(run, state)
    log.info(
        "epoch %(epoch)d/%(epochs)d: train loss %(train_loss).3f acc %(train_accuracy).3f | "
        "validation loss %(val_loss).3f acc %(val_accuracy).3f macro-F1 %(val_macro_f1).3f"
        "%(mark)s | %(seconds).0f s",
        row | {"epochs": run.cfg.epochs, "mark": " (best)" if row["best"] else ""},
    )


def _write_outputs(run: _Run, state: TrainState, best_path, history_path) -> None:
    """Copy the kept best model to ``best_path``; write the epoch log to ``history_path``."""
    if not state.best["epoch"]:
        raise TrainingError(
            f"the predictions of every epoch (of {run.cfg.epochs}) collapsed onto one class: no "
            "model is kept. Train longer or on more segments per class, or lower training.lr."
        )
    with atomic_path(best_path) as tmp:
        shutil.copyfile(run.checkpoint_dir / "best.pt", tmp)
    write_table(pd.DataFrame(state.history), history_path)


def train(
    cfg: TrainConfig,
    store_path: str | Path,
    splits: pd.DataFrame,
    checkpoint_dir: str | Path,
    best_path: str | Path,
    history_path: str | Path,
    threads: int = 1,
    weights_path: str | Path | None = None,
    progress_every_s: float = 30.0,
    meta: Mapping | None = None,
    shuffle_labels: bool = False,
) -> dict:
    """Train, checkpointing into ``checkpoint_dir``; write the best model and the epoch log.
    ``shuffle_labels`` trains the sanity check's model on labels permuted within the train and
    within the validation split (:func:`shuffled_labels`); the test split is never read."""
    store_path, checkpoint_dir = Path(store_path), Path(checkpoint_dir)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    device = choose_device(cfg.device, threads)
    amp = autocast_dtype(cfg.precision, device)
    idx = split_indices(store_path, splits)
    if cfg.max_validation and len(idx["validation"]) > cfg.max_validation:
        # a fixed, seeded subset: every epoch is selected on the same segments
        rng = np.random.default_rng([cfg.seed, 1])
        idx["validation"] = np.sort(rng.choice(idx["validation"], cfg.max_validation, False))
    settings = fingerprint(
        cfg, store_path, idx, {"shuffle_labels": True} if shuffle_labels else None
    )
    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)

    with SegmentReader(store_path) as store:
        labels = shuffled_labels(store.labels, idx, cfg.seed) if shuffle_labels else None
        # train and validation segments read once, onto the device: no HDF5 in the hot loop
        reader = MemorySegments(store, np.union1d(idx["train"], idx["validation"]), device, labels)
        log.info(
            "%d segments in memory (%.0f MB)%s",
            len(reader.indices),
            reader.nbytes / 1e6,
            ", labels shuffled within the train and within the validation split"
            if shuffle_labels
            else "",
        )
        run = _Run(cfg, reader, idx, device, amp, checkpoint_dir, settings)
        state = _start_or_resume(run, weights_path)
        log.info(
            "%s on %s (%s): %d train / %d validation segments, shape %s, %s, %d epochs",
            cfg.arch,
            device,
            "bfloat16 mixed precision" if amp else "float32",
            len(idx["train"]),
            len(idx["validation"]),
            reader.shape,
            "class-balanced" if cfg.balance == "undersample" else "unbalanced",
            cfg.epochs,
        )
        while state.next_epoch <= cfg.epochs:
            _run_epoch(run, state, progress_every_s, meta)
    _write_outputs(run, state, best_path, history_path)
    best = state.best
    log.info("best model: epoch %d (validation macro-F1 %.3f)", best["epoch"], best["macro_f1"])
    return {"best": best, "history": state.history}
