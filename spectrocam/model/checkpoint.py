"""What a training checkpoint holds so that a killed job resumes exactly: a fingerprint of the
settings, data and splits it was made with, and every random generator's state."""

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

__all__ = ["fingerprint", "rng_states", "set_rng_states"]


def fingerprint(
    cfg, store: Path, idx: Mapping[str, np.ndarray], extra: Mapping | None = None
) -> str:
    """A hash of what makes a training run: its settings, its store and splits, and ``extra``
    (settings that are not config keys, such as training on shuffled labels)."""
    with h5py.File(store, "r") as h5:
        store_id = {k: str(v) for k, v in h5.attrs.items()} | {"shape": h5["spectrograms"].shape}
    data = {
        # More epochs continue a finished run; the device does not change the model.
        "config": asdict(cfg) | {"device": None, "epochs": None},
        "store": store_id,
        "splits": {k: hashlib.sha256(v.tobytes()).hexdigest() for k, v in idx.items()},
    }
    if extra:
        data["extra"] = dict(extra)
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


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
