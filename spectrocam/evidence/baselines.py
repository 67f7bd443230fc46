"""Frequency profiles that involve no network, scored exactly as a map's profile is.

A map that follows the loud bands of a vowel puts mass on its formants without saying anything
about the network: formants are where the energy is. Beside every map's agreement stand these
profiles, on the same segments, frames and cells:

- ``spectrum``: the segment's own spectrum (the mean dB over the vowel's frames), on the scale of
  ``agreement.spectrum_power`` (:func:`scaled`): ``db``, the dB spectrum the network is fed
  (above its lowest row), or linear power to a power ``g``. The share it gets depends on that
  choice (a vowel's linear power sits mostly in F1, its dB spectrum is nearly flat), so it is a
  description, never the verdict's reference;
- ``envelope``: its spectral envelope, cepstrally smoothed: the dB spectrum's quefrencies below
  :data:`ENVELOPE_QUEFRENCY_S` (2.5 ms, ``floor(axis span Hz x 0.0025)`` coefficients: 10 on a
  0-4 kHz axis, 27 on 0-11 kHz), which drops the harmonics of any voice above 400 Hz of F0 and
  keeps the formant peaks; on the same scale;
- ``prior``: a fixed low-frequency prior ``1 / (f + 200 Hz)``, the same for every segment;
- ``class_mean``: the mean profile of the method's maps over the *other* test segments of the
  segment's class (is the map specific to its token, or only to its class?).

Each profile is averaged over the rows of every feature cell of the method it is compared with
(:func:`pool_to_cells`), so that it is no finer than the map.
"""

from __future__ import annotations

import numpy as np

from spectrocam.explain.grid import vowel_frames

__all__ = [
    "BASELINES",
    "ENVELOPE_QUEFRENCY_S",
    "PRIOR_OFFSET_HZ",
    "scaled",
    "spectrum_profiles",
    "envelope_profiles",
    "prior_profiles",
    "class_mean_profiles",
    "pool_to_cells",
]

BASELINES = ("spectrum", "envelope", "prior", "class_mean")
ENVELOPE_QUEFRENCY_S = 0.0025
PRIOR_OFFSET_HZ = 200.0


def spectrum_profiles(
    spectrograms_db: np.ndarray,
    times_s: np.ndarray,
    centres_s: np.ndarray,
    starts_s: np.ndarray,
    ends_s: np.ndarray,
) -> np.ndarray:
    """(N, F, T) spectrograms in dB -> (N, F) mean dB over each vowel's own frames."""
    out = np.zeros(spectrograms_db.shape[:2])
    for i, spec in enumerate(spectrograms_db):
        frames = vowel_frames(times_s, centres_s[i], starts_s[i], ends_s[i])
        out[i] = np.asarray(spec[:, frames], dtype=float).mean(axis=1)
    return out


def scaled(profiles_db: np.ndarray, power: str | float = "db") -> np.ndarray:
    """(N, F) spectra in dB on the scale a share is taken of: ``"db"``, each minus its lowest
    row (non-negative, the network's own input), or a number ``g``: linear power to ``g``."""
    db = np.asarray(profiles_db, dtype=float)
    if isinstance(power, str):
        if power != "db":
            raise ValueError(f"spectrum power must be db or a number, not {power!r}")
        return db - db.min(axis=1, keepdims=True)
    # relative to each profile's loudest row, so that 10 ** (dB / 10) never overflows
    return 10.0 ** (float(power) * (db - db.max(axis=1, keepdims=True)) / 10.0)


def envelope_profiles(profiles_db: np.ndarray, span_hz: float) -> np.ndarray:
    """(N, F) spectra in dB over an axis of ``span_hz`` -> their envelopes in dB: quefrencies
    below :data:`ENVELOPE_QUEFRENCY_S` kept (``floor(span_hz x 0.0025)`` cepstral coefficients,
    at least 1)."""
    n_keep = max(1, int(np.floor(span_hz * ENVELOPE_QUEFRENCY_S)))
    cepstrum = np.fft.rfft(np.asarray(profiles_db, dtype=float), axis=1)
    cepstrum[:, n_keep:] = 0
    return np.fft.irfft(cepstrum, n=profiles_db.shape[1], axis=1)


def prior_profiles(freqs_hz: np.ndarray, n: int) -> np.ndarray:
    """(N, F): the same ``1 / (f + 200 Hz)`` for every segment."""
    return np.tile(1.0 / (np.asarray(freqs_hz, dtype=float) + PRIOR_OFFSET_HZ), (n, 1))


def class_mean_profiles(profiles: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(N, F): for each segment, the mean of the other segments' profiles of its class (each
    scaled to sum 1; zeros where the class has no other segment)."""
    totals = profiles.sum(axis=1, keepdims=True)
    unit = np.divide(profiles, totals, out=np.zeros_like(profiles, dtype=float), where=totals > 0)
    out = np.zeros_like(unit)
    for c in np.unique(labels):
        rows = np.flatnonzero(labels == c)
        if len(rows) < 2:
            continue
        total = unit[rows].sum(axis=0)
        out[rows] = (total[None, :] - unit[rows]) / (len(rows) - 1)
    return out


def pool_to_cells(profiles: np.ndarray, row_cell: np.ndarray) -> np.ndarray:
    """(N, F) profiles -> each row replaced by the mean of its cell's rows (same shape)."""
    cells = np.unique(row_cell)
    out = np.empty_like(profiles, dtype=float)
    for c in cells:
        rows = row_cell == c
        out[:, rows] = profiles[:, rows].mean(axis=1, keepdims=True)
    return out
