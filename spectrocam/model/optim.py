"""The optimiser and its learning-rate schedule.

Adam at ``lr`` throughout (``schedule="constant"``), or a one-cycle schedule
(``schedule="onecycle"``, Smith & Topin 2019, torch's :class:`~torch.optim.lr_scheduler.OneCycleLR`
with its defaults): over the first 30 % of the run's optimiser steps the learning rate rises
from ``lr / 25`` to ``lr`` (the stated maximum) while Adam's beta1 falls from 0.95 to 0.85, then
both return along a cosine, the learning rate to ``lr / 25e4`` at the last step. The schedule is
stepped once per batch and spans ``epochs x`` batches per epoch, so it depends on ``epochs``: a
one-cycle run is not continued with more epochs (its checkpoint's fingerprint includes them).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["SCHEDULES", "make_optimiser"]

SCHEDULES = ("constant", "onecycle")


def make_optimiser(
    model: nn.Module, lr: float, schedule: str, epochs: int, steps_per_epoch: int
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler | None]:
    """Adam on ``model``'s parameters and its scheduler (None for a constant rate)."""
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    if schedule == "constant":
        return optimiser, None
    if schedule != "onecycle":
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, not {schedule!r}")
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=lr, total_steps=max(1, epochs * steps_per_epoch)
    )
    return optimiser, scheduler
