"""Eval-mode collapse of a from-scratch network with lagging BatchNorm statistics, and its cure."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import spectrocam.model.training as training
from spectrocam.exceptions import TrainingError
from spectrocam.model.batchnorm import collapse, recalibrate

from .test_training import config, run, write_store


class ArrayReader:
    def __init__(self, x: np.ndarray, labels: np.ndarray) -> None:
        self.x, self.labels = x, labels

    def batch(self, idx) -> torch.Tensor:
        return torch.from_numpy(self.x[np.asarray(idx)])


def lagging_model():
    """A tiny BatchNorm network trained for 40 steps on inputs far from 0 (as dB are): in
    training mode it is right on every segment, in eval mode its running statistics lag."""
    rng = np.random.default_rng(0)
    labels = np.arange(200) % 2
    x = rng.normal(0, 1, (200, 1, 16, 8)).astype(np.float32)
    x[labels == 1, :, 4:8] += 3.0
    x += 50.0
    reader = ArrayReader(x, labels)
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 2),
    )
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for step in range(40):
        idx = np.random.default_rng(step).choice(len(labels), 32, replace=False)
        optimiser.zero_grad()
        nn.functional.cross_entropy(
            model(reader.batch(idx)), torch.from_numpy(labels[idx])
        ).backward()
        optimiser.step()
    return model, reader


def predictions(model, reader):
    with torch.no_grad():
        return model(reader.batch(np.arange(len(reader.labels)))).argmax(1).numpy()


def test_lagging_statistics_collapse_predictions_and_recalibration_cures_it():
    model, reader = lagging_model()
    labels = reader.labels
    model.train()
    assert (predictions(model, reader) == labels).mean() == 1.0  # it has learned the task
    model.eval()
    before = predictions(model, reader)
    assert collapse(before, labels)["collapsed"] and (before == labels).mean() == 0.5
    used = recalibrate(model, reader, np.arange(200), torch.device("cpu"), 128, 32, seed=1)
    assert used == 128 and not model.training
    after = predictions(model, reader)
    assert not collapse(after, labels)["collapsed"] and (after == labels).mean() > 0.95
    assert all(m.momentum == 0.1 for m in model.modules() if isinstance(m, nn.BatchNorm2d))


def test_collapse_is_one_class_beyond_its_true_share():
    labels = np.array([0] * 90 + [1] * 10)
    assert not collapse(labels, labels)["collapsed"]  # 90 % is the truth, not a collapse
    assert collapse(np.zeros(100, int), labels, share=0.95)["collapsed"]
    assert collapse(np.zeros(100, int), labels)["top_share"] == 1.0
    assert not collapse(np.r_[np.zeros(94, int), np.ones(6, int)], labels)["collapsed"]


def test_a_collapsed_epoch_is_never_kept(tmp_path, monkeypatch):
    splits, _ = write_store(tmp_path / "toy.h5")
    history = run(tmp_path, config(epochs=2), splits)["history"]
    assert [h["collapsed"] for h in history] == [False, False]  # the toy task is learnt
    assert all("val_top_share" in h for h in history)
    monkeypatch.setattr(
        training, "collapse", lambda p, y, s: {"collapsed": True, "top_class": 0, "top_share": 1.0}
    )
    with pytest.raises(TrainingError, match="collapsed onto one class"):
        run(tmp_path, config(epochs=2), splits, name="collapsed")
    assert not (tmp_path / "collapsed" / "best.pt").exists()
