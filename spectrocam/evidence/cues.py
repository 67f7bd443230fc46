"""The cues a statistic looks for (a named frequency interval per token) and the clusters its
intervals resample.

Both statements of the verdict ask where the evidence lies against a set of *cues*, each an
interval ``[low, high]`` in Hz per token:

- a vowel experiment's cues are the token's own formants: ``F1``, ``F2``, ``F3``, each the
  interval ``[F_k - w, F_k + w]`` around the measured formant (``w``: ``agreement.window_hz``;
  :func:`formant_intervals`); a formant Praat left undefined is NaN and has no interval;
- an experiment listed in ``evidence.cues`` has fixed regions instead, the same for every token
  (:func:`fixed_intervals`; ``voicing_4k``: :data:`VOICING_CUES`, the low-frequency voicing bar
  below 500 Hz and the high-frequency frication above 2.5 kHz), since F1-F3 are not what tells
  voiced from unvoiced sounds.

:func:`cue_intervals` gives an experiment's cues for a table of tokens as a dict cue -> (N, 2)
array, in the order of the tokens. Tokens of one utterance share its speaking rate, loudness and
neighbours, and tokens of one word type in one utterance even more: intervals resample whole
clusters (:func:`token_clusters`: utterances, or utterance x word type).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spectrocam.config import Section
from spectrocam.keys import join

__all__ = [
    "FORMANT_CUES",
    "FORMANT_HZ",
    "VOICING_CUES",
    "CLUSTERS",
    "EvidenceConfig",
    "formant_intervals",
    "fixed_intervals",
    "cue_intervals",
    "cue_names",
    "token_clusters",
]

FORMANT_CUES = ("F1", "F2", "F3")
FORMANT_HZ = ("f1_hz", "f2_hz", "f3_hz")
VOICING_CUES: dict[str, tuple[float, float]] = {
    "voicing_bar": (0.0, 500.0),
    "frication": (2500.0, 4000.0),
}
CLUSTERS = ("utterance", "utterance_word")


@dataclass(frozen=True)
class EvidenceConfig(Section):
    """The ``evidence`` section but its ``cues`` (a rule passes an experiment's own)."""

    SECTIONS = ("evidence",)

    cluster: str = "utterance"
    bootstrap: int = 2000
    sign_flips: int = 20000
    alpha: float = 0.05
    method: str = "cam"
    seed: int = 0


def formant_intervals(
    formants_hz: np.ndarray, window_hz: float, names: Sequence[str] = FORMANT_CUES
) -> dict[str, np.ndarray]:
    """(N, K) formants in Hz -> per name, the (N, 2) intervals ``F +/- window_hz`` (Hz); NaN
    where a formant is undefined (no cell lies in it)."""
    fm = np.asarray(formants_hz, dtype=float)
    return {
        name: np.stack([fm[:, k] - window_hz, fm[:, k] + window_hz], 1)
        for k, name in enumerate(names)
    }


def fixed_intervals(regions: Mapping[str, Sequence[float]], n: int) -> dict[str, np.ndarray]:
    """The same (lo, hi) Hz region per cue for each of ``n`` tokens (e.g. :data:`VOICING_CUES`)."""
    return {name: np.tile(np.asarray(r, dtype=float), (n, 1)) for name, r in regions.items()}


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
    if experiment in regions:
        return fixed_intervals(regions[experiment], len(tokens))
    if formants is None:
        raise ValueError(f"{experiment}: formant cues need the formant table")
    merged = join(tokens[["phone_id"]], formants, list(FORMANT_HZ), how="left")
    return formant_intervals(merged[list(FORMANT_HZ)].to_numpy(float), half_width_hz)


def token_clusters(table: pd.DataFrame, cluster: str = "utterance") -> np.ndarray:
    """Each token's cluster: its ``utt_id`` (``utterance``) or ``utt_id|word``
    (``utterance_word``, utterance x word type)."""
    if cluster not in CLUSTERS:
        raise ValueError(f"cluster must be one of {', '.join(CLUSTERS)}, not {cluster!r}")
    utt = table["utt_id"].astype(str)
    if cluster == "utterance":
        return utt.to_numpy()
    if "word" not in table:
        raise KeyError("utterance x word clusters need the tokens' word column")
    return (utt + "|" + table["word"].astype(str)).to_numpy()
