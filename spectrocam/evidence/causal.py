"""The causal statement of the verdict, end to end: does the classifier need the cues beyond the
energy an occlusion removes?

On every test token with cues (or a seeded subset, ``causal.max_segments``), for each half-width
``w`` of :func:`half_widths`: every band that tiles the axis and each cue's own band is occluded
(:mod:`spectrocam.evidence.band_occlusion`), and the drops of log p are fitted against the dB
removed with token effects (:mod:`spectrocam.evidence.needs`): ``beta_k`` per cue and for any cue,
in the log p form at every half-width and in the discriminative (log-odds against each
competitor) form at the headline half-width (``agreement.window_hz``).

:func:`needs_at_ceilings` asks whether the answer holds when Praat's ceiling moves the formants:
the tiles are the same bands whatever the formants, so only the cue bands are occluded again
(where the formants moved) and the fit is redone with the overlaps of the moved formants; each
ceiling's ``call`` (``above``: interval above 0, ``below``, ``unclear``) is set beside the
configured ceiling's (``holds``).

The deletion curves (:mod:`spectrocam.evidence.deletion`) are map evidence run on the same
model, on ``causal.deletion_segments`` tokens that every method has maps of.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spectrocam.config import ConfigError, Section
from spectrocam.evidence.band_occlusion import add_overlaps, score_bands
from spectrocam.evidence.needs import needs_table, pair_table
from spectrocam.evidence.sensitivity import call

__all__ = [
    "CausalConfig",
    "half_widths",
    "causal_tokens",
    "run_needs",
    "needs_at_ceilings",
]


@dataclass(frozen=True)
class CausalConfig(Section):
    """The ``causal`` section (``max_segments`` resolved for one experiment by the rule)."""

    SECTIONS = ("causal",)

    half_widths_hz: tuple[float, ...] = (75.0, 150.0, 300.0)
    fill_percentile: float = 10.0
    energy_pieces: int = 30
    max_segments: int | None = None
    deletion_steps: int = 10
    deletion_segments: int | None = None
    bootstrap: int = 2000
    seed: int = 0


def half_widths(cfg: CausalConfig, window_hz: float) -> list[float]:
    """The half-widths to occlude: ``cfg.half_widths_hz`` and the headline ``window_hz``."""
    widths = sorted({float(w) for w in cfg.half_widths_hz} | {float(window_hz)})
    if widths[0] <= 0:
        raise ConfigError("causal: every half-width must be > 0 Hz")
    return widths


def causal_tokens(
    tokens: pd.DataFrame, cues: Mapping[str, np.ndarray], max_segments: int | None, seed: int
) -> np.ndarray:
    """Positions in ``tokens`` of those with at least one cue interval (at most
    ``max_segments``, a seeded random subset), in order."""
    finite = np.zeros(len(tokens), bool)
    for intervals in cues.values():
        finite |= np.isfinite(intervals).all(axis=1)
    chosen = np.flatnonzero(finite)
    if max_segments and len(chosen) > max_segments:
        chosen = np.sort(np.random.default_rng(seed).choice(chosen, max_segments, replace=False))
    return chosen


def _fit(bands, tokens, cues, reader, labels, cfg, cluster, pairs: bool):  # pragma: no mutate block
    args = (bands, tokens, list(cues), list(reader.class_names), labels, cluster)
    kw = {"n_pieces": cfg.energy_pieces, "n_boot": cfg.bootstrap, "seed": cfg.seed}
    needs = needs_table(*args, **kw)
    return needs, pair_table(*args, **kw) if pairs else None


def run_needs(
    model,
    reader,
    tokens: pd.DataFrame,
    cues: Mapping[str, np.ndarray],
    cfg: CausalConfig,
    widths: list[float],
    headline_hz: float,
    cluster: str,
    device,
    batch_size: int = 64,
    dtype=None,
    progress: Callable[[int], None] | None = None,
):  # pragma: no mutate block
    """Statement 1 of ``tokens`` (one row per token: ``segment_index``, ``utt_id``, ``word``;
    ``cues``: name -> (N, 2) intervals in their order) at every half-width of ``widths``.
    Returns ``(bands, needs, pairs)``: every band's row (with ``half_width_hz``), the log p fits
    per half-width and cue (``half_width_hz``, ``headline``), and the discriminative fits at
    ``headline_hz``."""
    labels = np.asarray(reader.labels)[tokens["segment_index"].to_numpy()]
    all_bands, fits, pairs = [], [], pd.DataFrame()
    for w in widths:
        bands = score_bands(
            model,
            reader,
            tokens["segment_index"].to_numpy(),
            cues,
            w,
            cfg.fill_percentile,
            batch_size,
            device,
            dtype,
            progress=progress,
        )
        bands = add_overlaps(bands, cues)
        headline = bool(np.isclose(w, headline_hz))
        needs, p = _fit(bands, tokens, cues, reader, labels, cfg, cluster, headline)
        fits.append(needs.assign(half_width_hz=w, headline=headline))
        if headline:
            pairs = p.assign(half_width_hz=w)
        all_bands.append(bands.assign(half_width_hz=w))
    bands = pd.concat(all_bands, ignore_index=True)
    return bands, _first(pd.concat(fits, ignore_index=True)), _first(pairs)


def _first(table: pd.DataFrame) -> pd.DataFrame:  # pragma: no mutate block
    front = [c for c in ("half_width_hz", "headline", "true_class", "competitor") if c in table]
    return table[front + [c for c in table.columns if c not in front]]


def needs_at_ceilings(
    model,
    reader,
    tokens: pd.DataFrame,
    bands: pd.DataFrame,
    cues_at: Mapping[str, Mapping[str, np.ndarray]],
    headline: pd.DataFrame,
    cfg: CausalConfig,
    headline_hz: float,
    cluster: str,
    device,
    batch_size: int = 64,
    dtype=None,
    configured: Mapping[str, np.ndarray] | None = None,
) -> pd.DataFrame:  # pragma: no mutate block
    """The headline fit (``headline``: the log p fit at ``headline_hz``, configured ceiling)
    redone with the formants of each ceiling of ``cues_at`` (label -> cue intervals): the tiles
    of ``bands`` (at ``headline_hz``) are kept, the cue bands occluded again; a ceiling whose
    cues are the ``configured`` ones shares the headline's fit. Rows per ceiling and cue with
    the fit's columns, ``call`` and ``holds`` (the call is the configured one's)."""
    labels = np.asarray(reader.labels)[tokens["segment_index"].to_numpy()]
    base = bands[np.isclose(bands["half_width_hz"], headline_hz)]
    tiles = base[base["band"].isin(["none", "tile"])].drop(columns="half_width_hz")
    tiles = tiles[[c for c in tiles.columns if not c.startswith("overlap_") and c != "clear"]]
    parts = [headline.assign(ceiling="configured")]
    for label, cues in cues_at.items():
        if configured is not None and all(
            np.array_equal(cues[q], configured[q], equal_nan=True) for q in cues
        ):
            parts.append(headline.assign(ceiling=label))
            continue
        scored = score_bands(
            model,
            reader,
            tokens["segment_index"].to_numpy(),
            cues,
            headline_hz,
            cfg.fill_percentile,
            batch_size,
            device,
            dtype,
            tiles=False,
        )
        moved = pd.concat([tiles, scored[scored["band"] != "none"]], ignore_index=True)
        moved = add_overlaps(moved.sort_values(["token"], kind="stable"), cues)
        needs, _ = _fit(moved, tokens, cues, reader, labels, cfg, cluster, False)
        parts.append(needs.assign(ceiling=label))
    table = pd.concat(parts, ignore_index=True)
    table["call"] = [
        call(lo, hi) if n else "no tokens"
        for lo, hi, n in zip(table["low"], table["high"], table["n_tokens"], strict=True)
    ]
    reference = table[table["ceiling"] == "configured"].set_index("cue")["call"]
    table["holds"] = (table["cue"].map(reference) == table["call"]).astype(bool)
    front = ["ceiling", "cue", "call", "holds"]
    return table[front + [c for c in table.columns if c not in front]]
