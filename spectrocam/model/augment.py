"""Training-time changes of a batch that keep every row at its frequency.

A spectrogram's rows are exact frequencies (Hz), and the explanations are read in Hz: an
augmentation that rescaled or shifted the frequency axis would teach the network that a formant
may lie elsewhere. These two change time and level only.

- :func:`shift_time`: each segment's frames move by a whole number of frames drawn from
  ``-max_frames..max_frames`` (the window centred up to that many hops away from the vowel's
  middle); the frames that enter at an edge repeat the edge frame. Every output column is one of
  the input's columns, whole: no row is moved, mixed or interpolated.
- :func:`change_gain`: each segment gets one level change drawn uniformly from
  ``[-max_db, max_db]`` dB, added to every cell above the store's floor (a gain multiplies the
  power, so it adds in dB), the result floored at the floor again; cells at the floor stay there
  (an isolated vowel's outside frames stay silent).

:func:`augment` applies both with draws from a numpy generator, so that an epoch's changes are
reproducible from its seed.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["augment", "change_gain", "shift_time"]


def shift_time(x: torch.Tensor, shifts) -> torch.Tensor:
    """(B, C, F, T) spectrograms with segment ``i``'s frames moved ``shifts[i]`` frames later
    (negative: earlier); frames that enter at an edge repeat the edge frame."""
    shifts = torch.as_tensor(np.asarray(shifts), dtype=torch.long, device=x.device)
    n_frames = x.shape[-1]
    source = torch.arange(n_frames, device=x.device)[None, :] - shifts[:, None]
    source = source.clamp(0, n_frames - 1)  # (B, T): the input frame of each output frame
    return torch.gather(x, -1, source[:, None, None, :].expand_as(x))


def change_gain(x: torch.Tensor, gains_db, floor_db: float) -> torch.Tensor:
    """(B, C, F, T) spectrograms in dB with ``gains_db[i]`` added to segment ``i``'s cells above
    ``floor_db``, floored at ``floor_db``; cells at or below the floor unchanged."""
    gains = torch.as_tensor(np.asarray(gains_db), dtype=x.dtype, device=x.device)
    raised = (x + gains.view(-1, *([1] * (x.dim() - 1)))).clamp_min(floor_db)
    return torch.where(x > floor_db, raised, x)


def augment(
    x: torch.Tensor,
    rng: np.random.Generator,
    time_shift_frames: int = 0,
    gain_db: float = 0.0,
    floor_db: float = float("-inf"),
) -> torch.Tensor:
    """``x`` with a random time shift of up to ``time_shift_frames`` frames and a random gain of
    up to ``gain_db`` dB per segment (none when both are 0: ``x`` itself)."""
    n = x.shape[0]
    if time_shift_frames:
        x = shift_time(x, rng.integers(-time_shift_frames, time_shift_frames + 1, size=n))
    if gain_db:
        x = change_gain(x, rng.uniform(-gain_db, gain_db, size=n), floor_db)
    return x
