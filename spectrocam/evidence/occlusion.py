"""The perturbations of the causal tests: formant bands, their matched controls, a fill that never
adds energy, deletion orders, and one batched forward pass over every perturbation of several
segments.

*Formant band.* At half-width ``w``, the rows whose centre frequency is within ``w`` of the
measured formant (``|f_row - F| <= w``), clipped to the experiment's axis (the store's rows: 0-4
kHz for the 4k experiments). A formant with no row within ``w`` (above the axis) is *outside*:
counted, not scored.

*Matched controls.* For each formant and half-width its own controls: the formant band shifted
by ``round(k * n)`` rows down and up, for each ``k`` of ``control_offsets`` (band widths, default
2 and 3), where ``n`` is the band's number of rows. A control therefore has exactly the rows of
its formant band, and its centre lies ``k`` band widths from the formant. A shifted band is
dropped when it leaves the axis or shares a row with the band of any formant of that segment at
that half-width (the union of F1-F3's bands). A formant band whose every candidate is dropped
has no control: it is counted (``n_no_control`` of the summary) and left out of the paired
difference, never silently matched to a band elsewhere.

*Fill (local floor).* An occluded cell is set to ``min(x, floor_t)``: ``floor_t`` is, for each
frame ``t`` of that segment, the ``fill_percentile`` (default 10th) percentile of the segment's
rows around the band (the band and one band width on either side, clipped to the axis). Taking
the minimum means no cell ever gains energy; each occlusion reports the mean change of its
cells in dB (``delta_db``, <= 0) and of the band's energy (``energy_db``, 10 log10 of the ratio
of the summed power after to before). Deletion curves fill the same way with each frame's
percentile over all of the segment's rows.

*Deletion orders.* Rows are removed in the order of each map's profile (most important first),
and of three baselines: ``random``, ``energy`` (rows by their mean dB over the segment's frames,
loudest first) and ``low_to_high`` (row 0 first).

*Batching.* Every perturbation is a row mask (F,) and a fill (T,) of one segment; those of a
group of segments (occlusions at every half-width and every deletion step of every order) are
built on the fly in batches of at most ``batch_size`` and scored with ``torch.inference_mode``:
memory stays that of one batch, whatever the number of perturbations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

__all__ = [
    "band_rows",
    "occupied_rows",
    "matched_controls",
    "local_floor",
    "fill_change_db",
    "signal_orders",
    "deletion_orders",
    "deletion_masks",
    "score_perturbations",
]


def band_rows(freqs_hz: np.ndarray, centre_hz: float, half_width_hz: float) -> np.ndarray:
    """The rows within ``half_width_hz`` of ``centre_hz`` (empty when none, or ``centre_hz`` is
    not finite)."""
    if not np.isfinite(centre_hz):
        return np.zeros(0, dtype=int)
    return np.flatnonzero(np.abs(np.asarray(freqs_hz) - centre_hz) <= half_width_hz)


def occupied_rows(
    freqs_hz: np.ndarray, formants_hz: Sequence[float], half_width_hz: float
) -> np.ndarray:
    """(F,) True on the rows of any formant's band at ``half_width_hz``."""
    occupied = np.zeros(len(freqs_hz), dtype=bool)
    for f in formants_hz:
        occupied[band_rows(freqs_hz, f, half_width_hz)] = True
    return occupied


def matched_controls(
    band: np.ndarray, occupied: np.ndarray, offsets: Sequence[float]
) -> list[tuple[float, np.ndarray]]:
    """The matched controls of a formant ``band`` (its rows): ``(signed offset in band widths,
    rows)`` for each shift by ``round(k * len(band))`` rows down and up that stays on the axis
    (``len(occupied)`` rows) and shares no row with ``occupied``."""
    n_axis, n = len(occupied), len(band)
    controls = []
    if not n:
        return controls
    for k in offsets:
        shift = int(round(k * n))
        for sign in (-1, 1):
            rows = band + sign * shift
            if rows[0] < 0 or rows[-1] >= n_axis or occupied[rows].any():
                continue
            controls.append((sign * float(k), rows))
    return controls


def local_floor(x: np.ndarray, rows: np.ndarray | None, percentile: float) -> np.ndarray:
    """The fill of an occlusion of ``rows`` of one segment ``x`` (F, T), per frame (T,): the
    ``percentile`` of the rows around the band (the band and one band width on either side); of
    all rows when ``rows`` is None (deletion curves)."""
    if rows is None:
        return np.percentile(x, percentile, axis=0).astype(np.float32)
    n = len(rows)
    lo, hi = max(0, rows[0] - n), min(x.shape[0], rows[-1] + n + 1)
    return np.percentile(x[lo:hi], percentile, axis=0).astype(np.float32)


def fill_change_db(x: np.ndarray, rows: np.ndarray, fill: np.ndarray) -> tuple[float, float]:
    """Of filling ``rows`` of ``x`` (F, T, dB) with ``min(x, fill)``: the mean change of the
    cells in dB and the change of the band's energy in dB (both <= 0)."""
    before = x[rows].astype(float)
    after = np.minimum(before, fill[None, :])
    # energies relative to the band's loudest cell, so that 10 ** (dB / 10) never overflows
    top = before.max()
    energy = 10 * np.log10(np.sum(10 ** ((after - top) / 10)) / np.sum(10 ** ((before - top) / 10)))
    return float(np.mean(after - before)), float(energy)


def signal_orders(x: np.ndarray) -> dict[str, np.ndarray]:
    """The deletion baselines that depend on the segment ``x`` (F, T): ``energy`` (rows by their
    mean dB, loudest first; ties by row) and ``low_to_high`` (row 0 first)."""
    return {
        "energy": np.argsort(-x.mean(axis=1), kind="stable"),
        "low_to_high": np.arange(x.shape[0]),
    }


def deletion_orders(
    profiles: Mapping[str, np.ndarray], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """For each map's profile (F,), the rows from most to least important (random among
    ties), plus ``"random"``: a random order."""
    n = len(next(iter(profiles.values())))
    orders = {}
    for name, profile in profiles.items():
        jitter = rng.permutation(n)  # random tie-breaking
        orders[name] = np.lexsort((jitter, -np.asarray(profile, dtype=float)))
    orders["random"] = rng.permutation(n)
    return orders


def deletion_masks(order: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Fractions of rows removed (``steps + 1`` points, 0 .. 1) and the row masks
    (``steps``, F) of the points after the first (nothing removed)."""
    n_rows = len(order)
    fractions = np.linspace(0, 1, steps + 1)
    counts = np.round(fractions * n_rows).astype(int)
    masks = np.zeros((steps, n_rows), dtype=bool)
    for j, c in enumerate(counts[1:]):
        masks[j, order[:c]] = True
    return fractions, masks


def score_perturbations(
    model,
    x: torch.Tensor,
    labels: np.ndarray,
    segment: np.ndarray,
    masks: np.ndarray,
    fills: np.ndarray,
    batch_size: int,
    dtype: torch.dtype | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Log-probability of the true class and correctness of each perturbation ``v``: segment
    ``segment[v]`` of ``x`` (G, 1, F, T, on the model's device) with the rows ``masks[v]`` (F,)
    set to ``min(x, fills[v])`` (fills (V, T)); ``labels`` (G,) are the true classes. All
    perturbations, of every segment, go through the model in batches of ``batch_size``."""
    from spectrocam.model.device import autocast

    device = x.device
    logps, correct = [], []
    with torch.inference_mode():
        for lo in range(0, len(segment), batch_size):
            seg = torch.from_numpy(np.asarray(segment[lo : lo + batch_size])).to(device)
            m = torch.from_numpy(np.asarray(masks[lo : lo + batch_size])).to(device)
            f = torch.from_numpy(np.asarray(fills[lo : lo + batch_size], np.float32)).to(device)
            xs = x[seg, 0]
            xs = torch.where(m[:, :, None], torch.minimum(xs, f[:, None, :]), xs)
            with autocast(device, dtype):
                logits = model(xs[:, None])
            logp = torch.log_softmax(logits.float(), 1)
            y = torch.from_numpy(np.asarray(labels))[seg.cpu()].to(device)
            logps.append(logp.gather(1, y[:, None])[:, 0].cpu())
            correct.append((logp.argmax(1) == y).cpu())
    return torch.cat(logps).numpy(), torch.cat(correct).numpy()
