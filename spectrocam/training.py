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

import hashlib
import json
import logging
import random
import shutil
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import torch
from torch import nn

from spectrocam.device import autocast, autocast_dtype, choose_device
from spectrocam.metrics import classification_metrics
from spectrocam.model import build_model, load_model
from spectrocam.store import SegmentReader, split_indices

__all__ = [
    "TrainConfig",
    "balanced_epoch",
    "predict",
    "train",
    "trained_model_and_splits",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
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
    extra: Mapping = field(default_factory=dict)

    @classmethod
    def from_config(cls, model: Mapping, training: Mapping) -> TrainConfig:
        return cls(
            arch=model["arch"],
            weights=model["weights"],
            freq_stride=int(model["freq_stride"]),
            time_stride=int(model["time_stride"]),
            precision=training["precision"],
            lr=float(training["lr"]),
            batch_size=int(training["batch_size"]),
            epochs=int(training["epochs"]),
            balance=training["balance"],
            samples_per_class=training["samples_per_class"],
            seed=int(training["seed"]),
            device=training["device"],
            eval_batch_size=int(training["eval_batch_size"]),
        )


def trained_model_and_splits(
    model_path: str | Path,
    store_path: str | Path,
    splits_path: str | Path,
    device: str = "auto",
    threads: int = 1,
):
    """For the jobs after training: ``(model, meta, device, indices of each split)``."""
    chosen = choose_device(device, threads)
    model, meta = load_model(model_path, chosen)
    splits = pd.read_csv(splits_path, sep="\t", keep_default_na=False)
    return model, meta, chosen, split_indices(store_path, splits)


def balanced_epoch(
    labels: np.ndarray, n_classes: int, rng: np.random.Generator, per_class: int | None = None
) -> np.ndarray:
    """A shuffled epoch with the same number of positions from each class present.

    ``per_class`` defaults to the smallest class's size; a class with fewer segments than that
    is drawn with replacement, the others without.
    """
    labels = np.asarray(labels)
    pools = [np.flatnonzero(labels == c) for c in range(n_classes)]
    pools = [p for p in pools if len(p)]
    n = per_class or min(len(p) for p in pools)
    chosen = [rng.choice(p, size=n, replace=len(p) < n) for p in pools]
    return rng.permutation(np.concatenate(chosen))


@torch.no_grad()
def predict(
    model: nn.Module,
    reader: SegmentReader,
    indices: np.ndarray,
    batch_size: int,
    device: torch.device,
    dtype: torch.dtype | None = None,
) -> np.ndarray:
    """Logits (N, C) of the segments ``indices``, in that order."""
    model.eval()
    out = []
    for lo in range(0, len(indices), batch_size):
        x = reader.batch(indices[lo : lo + batch_size]).to(device)
        with autocast(device, dtype):
            out.append(model(x).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, model.n_classes), dtype=np.float32)


def _input_stats(reader: SegmentReader, indices: np.ndarray, seed: int) -> tuple[float, float]:
    """Mean and standard deviation of the training spectrograms (from up to 2,000 segments)."""
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(indices, size=min(len(indices), 2000), replace=False))
    values = np.concatenate(
        [reader.batch(sample[i : i + 256]).numpy().ravel() for i in range(0, len(sample), 256)]
    )
    return float(values.mean()), float(values.std() or 1.0)


def _fingerprint(cfg: TrainConfig, store: Path, idx: Mapping[str, np.ndarray]) -> str:
    with h5py.File(store, "r") as h5:
        store_id = {k: str(v) for k, v in h5.attrs.items()} | {"shape": h5["spectrograms"].shape}
    data = {
        # More epochs continue a finished run; the device does not change the model.
        "config": asdict(cfg) | {"device": None, "epochs": None},
        "store": store_id,
        "splits": {k: hashlib.sha256(v.tobytes()).hexdigest() for k, v in idx.items()},
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _save(obj: object, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    tmp.replace(path)


def _rng_states() -> dict:
    states = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def _set_rng_states(states: Mapping) -> None:
    random.setstate(states["python"])
    np.random.set_state(states["numpy"])
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


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
) -> dict:
    """Train, checkpointing into ``checkpoint_dir``; write the best model and the epoch log."""
    store_path, checkpoint_dir = Path(store_path), Path(checkpoint_dir)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    last_path, kept_best = checkpoint_dir / "last.pt", checkpoint_dir / "best.pt"
    device = choose_device(cfg.device, threads)
    idx = split_indices(store_path, splits)
    fingerprint = _fingerprint(cfg, store_path, idx)
    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)

    with SegmentReader(store_path) as reader:
        names = reader.class_names
        for split in ("train", "validation"):
            if not len(idx[split]):
                raise ValueError(f"the {split} split of {store_path.name} has no segments")
        train_labels = reader.labels[idx["train"]]
        absent = [names[c] for c in range(len(names)) if not (train_labels == c).any()]
        if absent:
            raise ValueError(f"no training segments of class(es) {', '.join(absent)}")
        model = build_model(
            cfg.arch, len(names), cfg.freq_stride, cfg.time_stride, cfg.weights, weights_path
        )
        optimiser = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        history: list[dict] = []
        best: dict = {"epoch": 0, "macro_f1": -1.0, "loss": float("inf")}
        start = 1
        if last_path.exists():
            saved = torch.load(last_path, map_location="cpu", weights_only=False)
            if saved.get("fingerprint") == fingerprint and saved["epoch"] <= cfg.epochs:
                model.load_state_dict(saved["model"])
                optimiser.load_state_dict(saved["optimizer"])
                history, best = saved["history"], saved["best"]
                _set_rng_states(saved["rng"])
                start = saved["epoch"] + 1
                log.info("resuming from the checkpoint of epoch %d/%d", saved["epoch"], cfg.epochs)
            else:
                log.info(
                    "the checkpoint in %s was made with other settings: starting over",
                    checkpoint_dir,
                )
        if start == 1:
            mean, std = _input_stats(reader, idx["train"], cfg.seed)
            model.input_mean.fill_(mean)
            model.input_std.fill_(std)
            log.info("input standardised with the training mean %.2f dB and sd %.2f dB", mean, std)
        # channels_last lets oneDNN (CPU) and cuDNN pick their fastest convolutions.
        model.to(device, memory_format=torch.channels_last)
        amp = autocast_dtype(cfg.precision, device)
        for state in optimiser.state.values():
            for k, v in state.items():
                if torch.is_tensor(v):
                    state[k] = v.to(device)
        loss_fn = nn.CrossEntropyLoss()
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
        for epoch in range(start, cfg.epochs + 1):
            began = time.monotonic()
            rng = np.random.default_rng([cfg.seed, epoch])
            if cfg.balance == "undersample":
                order = idx["train"][
                    balanced_epoch(train_labels, len(names), rng, cfg.samples_per_class)
                ]
            else:
                order = rng.permutation(idx["train"])
            model.train()
            total_loss, correct, seen, last = 0.0, 0, 0, time.monotonic()
            n_batches = (len(order) + cfg.batch_size - 1) // cfg.batch_size
            for b, lo in enumerate(range(0, len(order), cfg.batch_size), start=1):
                batch = order[lo : lo + cfg.batch_size]
                x = reader.batch(batch).to(device)
                y = torch.from_numpy(reader.labels[batch]).to(device)
                optimiser.zero_grad(set_to_none=True)
                with autocast(device, amp):
                    logits = model(x)
                    loss = loss_fn(logits.float(), y)
                if not torch.isfinite(loss):
                    raise FloatingPointError(
                        f"epoch {epoch}, batch {b}: the loss is {float(loss)}"
                        + (" (bfloat16: try training.precision float32)" if amp else "")
                    )
                loss.backward()
                optimiser.step()
                total_loss += loss.item() * len(batch)
                correct += int((logits.argmax(1) == y).sum())
                seen += len(batch)
                if time.monotonic() - last >= progress_every_s:
                    last = time.monotonic()
                    log.info(
                        "epoch %d/%d: batch %d/%d, loss %.3f, %.1f segments/s",
                        epoch,
                        cfg.epochs,
                        b,
                        n_batches,
                        total_loss / seen,
                        seen / (last - began),
                    )
            val_logits = predict(model, reader, idx["validation"], cfg.eval_batch_size, device, amp)
            val_labels = reader.labels[idx["validation"]]
            val_loss = float(loss_fn(torch.from_numpy(val_logits), torch.from_numpy(val_labels)))
            val = classification_metrics(val_labels, val_logits.argmax(1), names)
            row = {
                "epoch": epoch,
                "train_segments": seen,
                "train_loss": total_loss / seen,
                "train_accuracy": correct / seen,
                "val_loss": val_loss,
                "val_accuracy": val["accuracy"],
                "val_macro_f1": val["macro_f1"],
                "seconds": time.monotonic() - began,
                "best": False,
            }
            if (val["macro_f1"], -val_loss) > (best["macro_f1"], -best["loss"]):
                best = {"epoch": epoch, "macro_f1": val["macro_f1"], "loss": val_loss}
                row["best"] = True
                _save(
                    {
                        "model": {k: v.cpu() for k, v in model.state_dict().items()},
                        "meta": {
                            "arch": cfg.arch,
                            "freq_stride": cfg.freq_stride,
                            "time_stride": cfg.time_stride,
                            "class_names": names,
                            "epoch": epoch,
                            "val_macro_f1": val["macro_f1"],
                            "val_accuracy": val["accuracy"],
                            "input_shape": list(reader.shape),
                            "precision": "bfloat16" if amp else "float32",
                            "config": asdict(cfg),
                            **dict(meta or {}),
                        },
                    },
                    kept_best,
                )
            history.append(row)
            _save(
                {
                    "epoch": epoch,
                    "model": model.state_dict(),
                    "optimizer": optimiser.state_dict(),
                    "history": history,
                    "best": best,
                    "rng": _rng_states(),
                    "fingerprint": fingerprint,
                },
                last_path,
            )
            log.info(
                "epoch %d/%d: train loss %.3f acc %.3f | validation loss %.3f acc %.3f "
                "macro-F1 %.3f%s | %.0f s",
                epoch,
                cfg.epochs,
                row["train_loss"],
                row["train_accuracy"],
                val_loss,
                val["accuracy"],
                val["macro_f1"],
                " (best)" if row["best"] else "",
                row["seconds"],
            )
    best_path, history_path = Path(best_path), Path(history_path)
    best_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = best_path.with_name(best_path.name + ".tmp")
    shutil.copyfile(kept_best, tmp)
    tmp.replace(best_path)
    tmp = history_path.with_name(history_path.name + ".tmp")
    pd.DataFrame(history).to_csv(tmp, sep="\t", index=False)
    tmp.replace(history_path)
    log.info("best model: epoch %d (validation macro-F1 %.3f)", best["epoch"], best["macro_f1"])
    return {"best": best, "history": history}
