"""Expected failures that end a job with a one-line message (see :mod:`spectrocam.jobs`), for
the modules whose own imports are too heavy for every job to load."""

from __future__ import annotations

__all__ = ["TrainingError"]


class TrainingError(ValueError):
    """Training gave no usable model (for example, every epoch's predictions collapsed)."""
