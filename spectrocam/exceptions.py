"""Expected failures: bad input or an unusable result, which end a job with a one-line message
(:func:`spectrocam.jobs.job`) instead of a traceback. Every stage's own error class derives from
:class:`ExpectedError`, so that the ground floor's job wrapper needs to import no stage."""

from __future__ import annotations

__all__ = ["ExpectedError", "TrainingError"]


class ExpectedError(Exception):
    """An error of the input or of the data, not a bug: the job ends with its message alone."""


class TrainingError(ExpectedError, ValueError):
    """Training gave no usable model (for example, every epoch's predictions collapsed)."""
