"""Do the verdicts hold when the formant bands change? The headline statistic, recomputed.

The headline of :mod:`spectrocam.evidence.shares` is paired: per test vowel, the share of a map's
profile within +/- ``agreement.window_hz`` of the measured F1, F2, F3 (and their union, ``any``)
minus the same share of the vowel's own power spectrum (pooled onto the map's cells), averaged
with a 95 % bootstrap interval that resamples utterances. Both choices behind the bands are
arbitrary within reason: the half-width (``sensitivity.half_widths_hz``) and Praat's formant
ceiling, which moves F2 and F3 of many tokens by more than a band (``sensitivity.ceilings_hz``;
the formants at each come from the ``formant_ceilings`` rule, :func:`spectrocam.segments.formants.
measure_ceilings`). :func:`sensitivity_table` recomputes the statistic for every method,
half-width and ceiling (``configured``: the formants rule's own, per speaker) on the same
profiles, and says whether each agrees with the headline (configured ceiling, configured
half-width): ``above`` (interval above 0), ``below`` (under 0) or ``unclear`` (it holds 0;
``no vowels`` where no vowel has the formant), and ``holds`` when that call is the headline's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spectrocam.config import Section
from spectrocam.evidence.agreement import FORMANT_HZ, band_shares
from spectrocam.evidence.baselines import pool_to_cells, spectrum_profiles
from spectrocam.explain.maps import MapFile
from spectrocam.keys import join
from spectrocam.segments.formants import ceiling_columns
from spectrocam.stats import cluster_bootstrap_ci

__all__ = [
    "BANDS",
    "CONFIGURED",
    "SensitivityConfig",
    "formant_sets",
    "call",
    "sensitivity_table",
]

BANDS = ("F1", "F2", "F3", "any")
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


def _paired(maps: MapFile, method: str, rows: np.ndarray, power: Mapping[int, np.ndarray]):
    """The method's true-class profiles on ``rows`` and the spectra pooled onto its cells."""
    profiles = maps.profiles(method, "true", rows)
    spectrum = np.stack([power[int(r)] for r in rows]) if len(rows) else profiles * 0
    return profiles, pool_to_cells(spectrum, maps.cell_grid(method)[0])


def sensitivity_table(
    maps: MapFile,
    spectrograms_db: np.ndarray,
    sets: Mapping[str, pd.DataFrame],
    half_widths_hz: Sequence[float],
    headline_hz: float,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Per method, band, half-width and formant set (:func:`formant_sets`): ``n_segments``,
    ``n_utterances``, the mean shares of the map and of the spectrum, their paired difference
    with its interval, its :func:`call`, ``headline`` (the configured set at ``headline_hz``)
    and ``holds`` (the call is the headline's). ``spectrograms_db``: (N, F, T) of the map
    file's segments. The vowels are those of the configured set with a defined formant."""
    widths = sorted({float(w) for w in half_widths_hz} | {float(headline_hz)})
    seg = maps.segments
    fm = {k: join(seg, v, list(FORMANT_HZ), how="left")[list(FORMANT_HZ)] for k, v in sets.items()}
    vowels = np.flatnonzero(np.isfinite(fm[CONFIGURED].to_numpy(float)).any(axis=1))
    power = spectrum_profiles(
        spectrograms_db[vowels],
        maps.times_s,
        *(seg[c].to_numpy()[vowels] for c in ("window_centre_s", "start_s", "end_s")),
    )
    power = dict(zip(vowels.tolist(), power, strict=True))
    out = []
    for method in maps.methods:
        rows = np.array([r for r in maps.rows(method) if r in power], dtype=int)
        profiles, spectrum = _paired(maps, method, rows, power)
        utt = seg["utt_id"].to_numpy()[rows]
        for label, table in fm.items():
            f = table.to_numpy(float)[rows]
            for hw in widths:
                own = band_shares(profiles, maps.freqs_hz, f, hw)
                base = band_shares(spectrum, maps.freqs_hz, f, hw)
                for k, band in enumerate(BANDS):
                    diff = own[:, k] - base[:, k]
                    ok = np.isfinite(diff)
                    mean, low, high = cluster_bootstrap_ci(diff, utt, n_boot, 0.95, seed)
                    out.append(
                        {
                            "method": method,
                            "band": band,
                            "half_width_hz": hw,
                            "ceiling": label,
                            "n_segments": int(ok.sum()),
                            "n_utterances": int(len(set(utt[ok]))),
                            "share": float(np.nanmean(own[:, k])) if ok.any() else np.nan,
                            "share_spectrum": float(np.nanmean(base[:, k])) if ok.any() else np.nan,
                            "minus_spectrum": mean,
                            "minus_spectrum_low": low,
                            "minus_spectrum_high": high,
                            "call": call(low, high) if ok.any() else "no vowels",
                        }
                    )
    return _against_headline(pd.DataFrame(out), float(headline_hz))


def _against_headline(table: pd.DataFrame, headline_hz: float) -> pd.DataFrame:
    if table.empty:
        return table
    table["headline"] = (table.ceiling == CONFIGURED) & np.isclose(table.half_width_hz, headline_hz)
    calls = table[table.headline].set_index(["method", "band"])["call"]
    reference = pd.Series(list(zip(table.method, table.band, strict=True))).map(calls)
    table["holds"] = (table["call"].to_numpy() == reference.to_numpy()).astype(bool)
    return table
