"""Log-power STFT spectrograms on an exact, documented grid.

Frame ``k`` of a clip is centred on sample ``k * hop_samples``, i.e. at ``k * hop_s_exact``
seconds, where ``hop_samples = round(hop_s * sample_rate_hz)`` and ``hop_s_exact = hop_samples /
sample_rate_hz``. The window (``win_samples = round(win_s * sample_rate_hz)`` samples) is
zero-padded to ``n_fft``; row ``i`` of the spectrogram is the frequency ``i * sample_rate_hz /
n_fft`` Hz (a linear axis). Values are ``10 * log10(|X|^2 / sum(w^2))`` dB, never below
``floor_db``; the audio before the start and after the end of the clip counts as silence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spectrocam.config import Section

__all__ = [
    "StftParams",
    "SpectrogramConfig",
    "log_power_spectrogram",
    "band_rows",
    "context_frames",
    "cut_windows",
]


@dataclass(frozen=True)
class StftParams:
    """STFT settings; times in seconds, frequencies in Hz."""

    sample_rate_hz: int
    win_s: float = 0.025
    hop_s: float = 0.005
    n_fft: int = 1024
    window: str = "hann"
    floor_db: float = -100.0

    @property
    def win_samples(self) -> int:
        return int(round(self.win_s * self.sample_rate_hz))

    @property
    def hop_samples(self) -> int:
        return max(1, int(round(self.hop_s * self.sample_rate_hz)))

    @property
    def hop_s_exact(self) -> float:
        return self.hop_samples / self.sample_rate_hz

    def freqs_hz(self) -> np.ndarray:
        """Centre frequency of every FFT row, Hz, shape (n_fft // 2 + 1,)."""
        return np.arange(self.n_fft // 2 + 1) * (self.sample_rate_hz / self.n_fft)

    def window_samples(self) -> np.ndarray:
        n = self.win_samples
        if self.window == "hann":
            return np.hanning(n + 1)[:-1]  # periodic
        if self.window == "hamming":
            return np.hamming(n + 1)[:-1]
        if self.window == "blackman":
            return np.blackman(n + 1)[:-1]
        raise ValueError(f"unknown window {self.window!r}")


def log_power_spectrogram(audio: np.ndarray, params: StftParams) -> np.ndarray:
    """Spectrogram of a mono clip, dB, float32, shape (n_fft // 2 + 1, n_frames).

    ``n_frames = 1 + (len(audio) - 1) // hop_samples``: one frame per hop whose centre lies
    inside the clip.
    """
    audio = np.asarray(audio, dtype=np.float64)
    if audio.ndim != 1 or audio.size == 0:
        raise ValueError("audio must be a non-empty 1-D array")
    if params.n_fft < params.win_samples:
        raise ValueError(f"n_fft {params.n_fft} < window length {params.win_samples} samples")
    win = params.window_samples()
    half = params.win_samples // 2
    padded = np.pad(audio, (half, params.win_samples))
    n_frames = 1 + (audio.size - 1) // params.hop_samples
    frames = np.lib.stride_tricks.sliding_window_view(padded, params.win_samples)
    frames = frames[:: params.hop_samples][:n_frames]
    spectrum = np.fft.rfft(frames * win, n=params.n_fft, axis=1)
    power = (spectrum.real**2 + spectrum.imag**2) / np.sum(win**2)
    floor = 10.0 ** (params.floor_db / 10.0)
    db = 10.0 * np.log10(np.maximum(power, floor))
    return db.T.astype(np.float32)


def band_rows(freqs_hz: np.ndarray, fmin_hz: float, fmax_hz: float) -> slice:
    """Rows whose frequency lies in [fmin_hz, fmax_hz] (inclusive), as a slice."""
    idx = np.flatnonzero((freqs_hz >= fmin_hz - 1e-9) & (freqs_hz <= fmax_hz + 1e-9))
    if idx.size == 0:
        raise ValueError(f"no FFT row between {fmin_hz} and {fmax_hz} Hz")
    return slice(int(idx[0]), int(idx[-1]) + 1)


def context_frames(context_s: float, hop_s_exact: float) -> int:
    """Odd number of frames of a window of ``context_s`` seconds: 2 * round(context_s/2/hop) + 1."""
    return 2 * int(round(context_s / 2 / hop_s_exact)) + 1


def cut_windows(
    spec: np.ndarray, centres_s: np.ndarray, hop_s_exact: float, n_frames: int, floor_db: float
) -> tuple[np.ndarray, np.ndarray]:
    """Fixed-size windows of ``n_frames`` frames centred on the frame nearest each centre.

    Returns ``(windows (N, F, n_frames), window_centre_s (N,))`` where ``window_centre_s`` is the
    time of each window's middle frame; frame ``j`` of a window lies at
    ``window_centre_s + (j - n_frames // 2) * hop_s_exact``. Frames outside the clip hold
    ``floor_db``.
    """
    half = n_frames // 2
    centre_idx = np.rint(np.asarray(centres_s, dtype=np.float64) / hop_s_exact).astype(np.int64)
    frame_idx = centre_idx[:, None] + np.arange(-half, half + 1)[None, :]  # (N, T)
    outside = (frame_idx < 0) | (frame_idx >= spec.shape[1])
    windows = spec[:, np.clip(frame_idx, 0, spec.shape[1] - 1)]  # (F, N, T)
    windows = np.ascontiguousarray(np.transpose(windows, (1, 0, 2)))
    windows[np.broadcast_to(outside[:, None, :], windows.shape)] = floor_db
    return windows, centre_idx * hop_s_exact


@dataclass(frozen=True)
class SpectrogramConfig(Section):
    """The ``spectrogram`` section: how segments are cut and stored."""

    SECTIONS = ("spectrogram",)

    window: str = "hann"
    win_s: float = 0.025
    hop_s: float = 0.005
    n_fft: int = 1024
    context_s: float = 0.3
    floor_db: float = -100.0
    dtype: str = "float32"

    def stft(self, sample_rate_hz: int) -> StftParams:
        """The STFT settings at ``sample_rate_hz``."""
        return StftParams(
            sample_rate_hz, self.win_s, self.hop_s, self.n_fft, self.window, self.floor_db
        )
