"""What a training checkpoint holds so that a killed job resumes exactly: a fingerprint of the
settings, data and splits it was made with, the model, optimiser and schedule, the epoch log,
and every random generator's state (:func:`save_last` writes it, :func:`restore` reads it)."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path

import h5py
import numpy as np
import torch

from spectrocam.io import atomic_path

__all__ = ["fingerprint", "restore", "rng_states", "save_last", "set_rng_states"]


def fingerprint(
    cfg, store: Path, idx: Mapping[str, np.ndarray], extra: Mapping | None = None
) -> str:
    """A hash of what makes a training run: its settings, its store and splits, and ``extra``
    (settings that are not config keys, such as training on shuffled labels)."""
    with h5py.File(store, "r") as h5:
        store_id = {k: str(v) for k, v in h5.attrs.items()} | {"shape": h5["spectrograms"].shape}
    data = {
        # More epochs continue a finished run (not one on a schedule that spans the epochs);
        # the device does not change the model.
        "config": asdict(cfg) | {"device": None, "epochs": cfg.epochs if _scheduled(cfg) else None},
        "store": store_id,
        "splits": {k: hashlib.sha256(v.tobytes()).hexdigest() for k, v in idx.items()},
    }
    if extra:
        data["extra"] = dict(extra)
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _scheduled(cfg) -> bool:
    """Whether the learning rate follows a schedule over the run's epochs."""
    return getattr(cfg, "schedule", "constant") != "constant"


def rng_states() -> dict:
    states = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: Mapping) -> None:
    random.setstate(states["python"])
    np.random.set_state(states["numpy"])
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def save_last(path: Path, state, fingerprint: str) -> None:
    """Write ``last.pt`` after epoch ``state.next_epoch - 1``: the training state (model,
    optimiser, scheduler or None, history, best, next epoch) and all a later job needs to go on."""
    saved = {
        "epoch": state.next_epoch - 1,
        "model": state.model.state_dict(),
        "optimizer": state.optimiser.state_dict(),
        "scheduler": state.scheduler.state_dict() if state.scheduler is not None else None,
        "history": state.history,
        "best": state.best,
        "rng": rng_states(),
        "fingerprint": fingerprint,
    }
    with atomic_path(path) as tmp:
        torch.save(saved, tmp)


def restore(saved: Mapping, state) -> None:
    """Put a loaded ``last.pt`` back into ``state`` and the random generators."""
    state.model.load_state_dict(saved["model"])
    state.optimiser.load_state_dict(saved["optimizer"])
    if state.scheduler is not None:
        state.scheduler.load_state_dict(saved["scheduler"])
    state.history, state.best = saved["history"], saved["best"]
    set_rng_states(saved["rng"])
    state.next_epoch = saved["epoch"] + 1
