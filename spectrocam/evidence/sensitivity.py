"""Do the verdict's statements hold when the formant bands change? Recomputed at other bands.

Two choices behind a formant's band are arbitrary within reason: its half-width
(``sensitivity.half_widths_hz``) and Praat's formant ceiling, which moves F2 and F3 of many
tokens by more than a band (``sensitivity.ceilings_hz``; the formants at each come from the
``formant_ceilings`` rule, :func:`spectrocam.segments.formants.measure_ceilings`).
:func:`sensitivity_table` recomputes the map statement (:mod:`spectrocam.evidence.ranks`: the
mean per-vowel AUC of the cue cells, trained model minus the shuffled-labels model, same method
and cells) for every distinct method, half-width and ceiling (``configured``: the formants
rule's own, per speaker), and says whether each agrees with the headline (configured ceiling,
configured half-width): ``above`` (interval above 0), ``below`` (under 0) or ``unclear`` (it
holds 0; ``no vowels`` where no vowel has the formant), and ``holds`` when that call is the
headline's. The causal statement's sensitivity to the ceiling is
:func:`spectrocam.evidence.causal.needs_at_ceilings`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spectrocam.config import Section
from spectrocam.evidence.cues import FORMANT_HZ, formant_intervals
from spectrocam.evidence.ranks import map_file_aucs, rank_contrasts
from spectrocam.explain.maps import MapFile
from spectrocam.keys import join
from spectrocam.segments.formants import ceiling_columns

__all__ = [
    "CONFIGURED",
    "SensitivityConfig",
    "formant_sets",
    "call",
    "sensitivity_table",
]

CONFIGURED = "configured"


@dataclass(frozen=True)
class SensitivityConfig(Section):
    """The ``sensitivity`` section."""

    SECTIONS = ("sensitivity",)

    half_widths_hz: tuple[float, ...] = (75.0, 150.0, 300.0)
    ceilings_hz: tuple[float, ...] = (5000.0, 5500.0, 6000.0)


def formant_sets(
    formants: pd.DataFrame, ceilings: pd.DataFrame, ceilings_hz: Sequence[float]
) -> dict[str, pd.DataFrame]:
    """``{"configured": formants, "5000": ..., ...}``: tables of ``phone_id, f1_hz, f2_hz,
    f3_hz``, the configured ceiling's (the formants rule) and each of ``ceilings_hz``'s."""
    out = {CONFIGURED: formants[["phone_id", *FORMANT_HZ]]}
    for hz in ceilings_hz:
        columns = ceiling_columns(hz)
        missing = [c for c in columns if c not in ceilings]
        if missing:
            raise ValueError(
                f"the ceilings table has no {', '.join(missing)}: rerun formant_ceilings with "
                f"sensitivity.ceilings_hz holding {hz:g}"
            )
        renamed = ceilings[["phone_id", *columns]].rename(
            columns=dict(zip(columns, FORMANT_HZ, strict=True))
        )
        out[f"{hz:.0f}"] = renamed
    return out


def call(low: float, high: float) -> str:
    """``above`` / ``below`` when the interval excludes 0 on that side, else ``unclear``."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "unclear"
    return "above" if low > 0 else "below" if high < 0 else "unclear"


def sensitivity_table(
    trained: MapFile,
    control: MapFile,
    sets: Mapping[str, pd.DataFrame],
    half_widths_hz: Sequence[float],
    headline_hz: float,
    methods: Sequence[str] | None = None,
    cluster: str = "utterance",
    n_boot: int = 2000,
    n_flips: int = 20000,
    seed: int = 0,
) -> pd.DataFrame:
    """Per method (``methods``, default every one of ``trained``), cue, half-width and formant
    set (:func:`formant_sets`): the rank contrast of ``trained`` against ``control`` (rows of
    :func:`~spectrocam.evidence.ranks.rank_contrasts`), its :func:`call`, ``headline`` (the
    configured set at ``headline_hz``) and ``holds`` (the call is the headline's)."""
    widths = sorted({float(w) for w in half_widths_hz} | {float(headline_hz)})
    out = []
    for method in methods or trained.methods:
        for label, table in sets.items():
            for hw in widths:
                aucs = []
                for maps in (trained, control):
                    rows = maps.rows(method)
                    fm = join(maps.segments.iloc[rows], table, list(FORMANT_HZ), how="left")
                    intervals = formant_intervals(fm[list(FORMANT_HZ)].to_numpy(float), hw)
                    aucs.append(map_file_aucs(maps, method, intervals, rows))
                contrast = rank_contrasts(*aucs, None, cluster, n_boot, n_flips, seed)
                out.append(contrast.assign(method=method, half_width_hz=hw, ceiling=label))
    if not out:
        return pd.DataFrame()
    table = pd.concat(out, ignore_index=True)
    table["call"] = [
        call(lo, hi) if n else "no vowels"
        for lo, hi, n in zip(table["low"], table["high"], table["n_tokens"], strict=True)
    ]
    table["headline"] = (table.ceiling == CONFIGURED) & np.isclose(table.half_width_hz, headline_hz)
    calls = table[table.headline].set_index(["method", "cue"])["call"]
    reference = pd.Series(list(zip(table.method, table.cue, strict=True))).map(calls)
    table["holds"] = (table["call"].to_numpy() == reference.to_numpy()).astype(bool)
    front = ["method", "cue", "half_width_hz", "ceiling", "call", "holds", "headline"]
    return table[front + [c for c in table.columns if c not in front]]
