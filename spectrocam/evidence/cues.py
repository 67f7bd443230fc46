"""The cues a statistic looks for: per token, a named frequency interval for each cue.

Both statements of the verdict ask where the evidence lies against a set of *cues*, each an
interval ``[low, high]`` in Hz per token:

- a vowel experiment's cues are the token's own formants: ``F1``, ``F2``, ``F3``, each the
  interval ``[F_k - w, F_k + w]`` around the measured formant (``w``: ``agreement.window_hz``);
  a formant Praat left undefined is NaN and has no interval;
- an experiment listed in ``evidence.cues`` has fixed regions instead, the same for every token
  (``voicing_4k``: the low-frequency voicing bar below 500 Hz, and the high-frequency frication
  above 2.5 kHz), since F1-F3 are not what tells voiced from unvoiced sounds.

:func:`cue_intervals` gives them as a dict cue -> (N, 2) array, in the order of the tokens.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from spectrocam.keys import join

__all__ = ["FORMANT_CUES", "FORMANT_COLUMNS", "cue_intervals", "cue_names", "in_interval"]

FORMANT_CUES = ("F1", "F2", "F3")
FORMANT_COLUMNS = ("f1_hz", "f2_hz", "f3_hz")


def cue_names(experiment: str, regions: Mapping[str, Mapping]) -> list[str]:
    """The cue names of ``experiment``: its fixed regions (``evidence.cues``) or F1-F3."""
    return list(regions[experiment]) if experiment in regions else list(FORMANT_CUES)


def cue_intervals(
    tokens: pd.DataFrame,
    experiment: str,
    regions: Mapping[str, Mapping],
    formants: pd.DataFrame | None,
    half_width_hz: float,
) -> dict[str, np.ndarray]:
    """Per cue, an (N, 2) array of ``[low, high]`` Hz for each of ``tokens`` (rows with a
    ``phone_id``): the fixed regions of ``regions[experiment]``, else the formant intervals
    ``F_k +/- half_width_hz`` from ``formants`` (NaN where a token has no such formant)."""
    n = len(tokens)
    if experiment in regions:
        return {
            name: np.tile(np.asarray(bounds, dtype=float), (n, 1))
            for name, bounds in regions[experiment].items()
        }
    if formants is None:
        raise ValueError(f"{experiment}: formant cues need the formant table")
    merged = join(tokens[["phone_id"]], formants, list(FORMANT_COLUMNS), how="left")
    out = {}
    for name, column in zip(FORMANT_CUES, FORMANT_COLUMNS, strict=True):
        f = merged[column].to_numpy(float)
        out[name] = np.stack([f - half_width_hz, f + half_width_hz], axis=1)
    return out


def in_interval(freqs_hz: np.ndarray, intervals: np.ndarray) -> np.ndarray:
    """(N, F) True where frequency ``freqs_hz[f]`` lies in token n's ``[low, high]`` (never for
    a NaN interval)."""
    f = np.asarray(freqs_hz, dtype=float)[None, :]
    lo, hi = intervals[:, :1], intervals[:, 1:]
    with np.errstate(invalid="ignore"):
        return (f >= lo) & (f <= hi)
