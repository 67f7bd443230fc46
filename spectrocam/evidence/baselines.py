"""Frequency profiles that involve no network, scored exactly as a map's profile is.

A map that follows the loud bands of a vowel puts mass on its formants without saying anything
about the network: formants are where the energy is. Beside every map's agreement stand these
profiles, on the same segments, frames and cells:

- ``spectrum``: the segment's own power spectrum (linear power, mean over the vowel's frames);
- ``envelope``: its spectral envelope, cepstrally smoothed (the log spectrum's first
  :data:`ENVELOPE_QUEFRENCIES` cepstral coefficients, back to power);
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
    "ENVELOPE_QUEFRENCIES",
    "PRIOR_OFFSET_HZ",
    "spectrum_profiles",
    "envelope_profiles",
    "prior_profiles",
    "class_mean_profiles",
    "pool_to_cells",
]

BASELINES = ("spectrum", "envelope", "prior", "class_mean")
ENVELOPE_QUEFRENCIES = 30
PRIOR_OFFSET_HZ = 200.0


def spectrum_profiles(
    spectrograms_db: np.ndarray,
    times_s: np.ndarray,
    centres_s: np.ndarray,
    starts_s: np.ndarray,
    ends_s: np.ndarray,
) -> np.ndarray:
    """(N, F, T) spectrograms in dB -> (N, F) mean linear power over each vowel's own frames."""
    out = np.zeros(spectrograms_db.shape[:2])
    for i, spec in enumerate(spectrograms_db):
        frames = vowel_frames(times_s, centres_s[i], starts_s[i], ends_s[i])
        out[i] = (10.0 ** (np.asarray(spec[:, frames], dtype=float) / 10.0)).mean(axis=1)
    return out


def envelope_profiles(power: np.ndarray, n_keep: int = ENVELOPE_QUEFRENCIES) -> np.ndarray:
    """(N, F) power spectra -> (N, F) cepstrally smoothed envelopes (power)."""
    log = np.log(np.maximum(power, 1e-30))
    cepstrum = np.fft.rfft(log, axis=1)
    cepstrum[:, n_keep:] = 0
    return np.exp(np.fft.irfft(cepstrum, n=power.shape[1], axis=1))


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
