"""The summary page's view of the sensitivity checks: the map statement per half-width and ceiling
(``sensitivity/<experiment>.tsv``) and how far the ceiling moves the formants
(``formants/ceilings_moves.tsv``)."""

from __future__ import annotations

import pandas as pd

__all__ = [
    "SENSITIVITY_NOTE",
    "sensitivity_view",
    "ceiling_cells",
    "ceiling_moves_view",
    "cells_sentence",
]

SENSITIVITY_NOTE = (
    "<p class='note'>How to read it: each cell is the verdict's map statement (per test vowel, "
    "the AUC of the map's cells within ± the half-width of the measured F1-F3 against its other "
    "cells, first seed minus the shuffled-labels model; mean and 95 % interval over clusters) "
    "recomputed with that half-width and with the formants measured at that Praat ceiling "
    "(<i>configured</i>: the formants rule's; the headline is the one at ±{window:g} Hz). "
    "<i>holds</i> counts the settings whose call (interval above 0, below 0, or holding 0) is "
    "the headline's: a verdict that holds in every setting does not hang on the choice of the "
    "band or of the ceiling. "
    "The number of vowels can differ between ceilings (a formant undefined at one ceiling).</p>"
)


def sensitivity_view(table: pd.DataFrame, cue: str = "any") -> pd.DataFrame:
    """One row per method and half-width, one column per ceiling (``difference [low, high]``),
    and how many of the row's settings agree with the headline's call."""
    rows = []
    g = table[table.cue == cue]
    ceilings = list(dict.fromkeys(g.ceiling))
    for (method, hw), block in g.groupby(["method", "half_width_hz"], sort=False):
        cells = block.set_index("ceiling")
        row: dict = {"method": method, "half-width Hz": hw}
        row |= ceiling_cells(cells, ceilings, lambda r: _ci(r) + f" {r['call']}")
        row["n tokens"] = int(cells["n_tokens"].max())
        row["holds"] = f"{int(cells['holds'].sum())} of {len(cells)}"
        rows.append(row)
    return pd.DataFrame(rows)


def _ci(r) -> str:
    return f"{r['difference']:+.3f} [{r['low']:+.3f}, {r['high']:+.3f}]"


def ceiling_cells(cells: pd.DataFrame, ceilings: list, text) -> dict:
    """One cell per ceiling of a row of ``cells`` (indexed by ceiling): ``text(row)``, marked
    ``(headline)`` on the headline's, ``–`` where the ceiling has no row."""
    out = {}
    for c in ceilings:
        if c not in cells.index:
            out[c] = "–"
            continue
        r = cells.loc[c]
        out[c] = f"{text(r)} (headline)" if r["headline"] else text(r)
    return out


def ceiling_moves_view(moves: pd.DataFrame) -> pd.DataFrame:
    """Per ceiling and formant, the share of vowels whose formant moves out of each band."""
    out = moves.pivot_table(
        index=["ceiling_hz", "formant"], columns="half_width_hz", values="share_moved", sort=False
    )
    out.columns = [f"share moved > {c:g}" for c in out.columns]  # not "Hz": shares, not Hz
    n = moves.groupby(["ceiling_hz", "formant"], sort=False)["n"].first()
    return out.assign(n=n).reset_index()


def cells_sentence(agreement: pd.DataFrame) -> str:
    """How many time cells the true-class CAM's profiles average, from the agreement summary."""
    if agreement.empty or "n_cells_median" not in agreement:
        return ""
    rows = agreement[
        (agreement.get("method", "cam") == "cam")
        & (agreement.cam == "true")
        & (agreement.class_name == "(all)")
        & (agreement.outcome == "all")
    ]
    if rows.empty:
        return ""
    r = rows.iloc[0]
    return (
        f" A profile averages the CAM's time cells whose centre lies inside the vowel: median "
        f"{r['n_cells_median']:g}, least {int(r['n_cells_min'])} (the nearest one when none does)."
    )
