"""Reference formants (Hillenbrand et al. 1995) and the measured means beside them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from spectrocam.phones import strip_stress

__all__ = [
    "HILLENBRAND_CODES",
    "REFERENCE_COLUMNS",
    "hillenbrand_women_means",
    "formant_comparison",
    "formant_lines",
]

# Hillenbrand et al.'s vowel codes -> ARPAbet (see the data's SOURCE.md).
HILLENBRAND_CODES = {
    "iy": "IY", "ih": "IH", "ei": "EY", "eh": "EH", "ae": "AE", "ah": "AA",
    "aw": "AO", "oa": "OW", "oo": "UH", "uw": "UW", "uh": "AH", "er": "ER",
}  # fmt: skip


def hillenbrand_women_means(path: str | Path) -> pd.DataFrame:
    """Adult women's mean steady-state F1-F3 per vowel (ARPAbet), from all_talkers.csv.

    Zeros and blanks mean "not measured" in that file and are left out.
    """
    data = pd.read_csv(path)
    women = data[data["type"] == "woman"].copy()
    if women.empty:
        raise ValueError(f"{path}: no rows of type 'woman'")
    cols = ["f1_steady", "f2_steady", "f3_steady"]
    women[cols] = women[cols].apply(pd.to_numeric, errors="coerce").replace(0, np.nan)
    women["vowel"] = women["vowel"].map(HILLENBRAND_CODES)
    means = women.dropna(subset=["vowel"]).groupby("vowel")[cols].agg(["mean", "count"])
    out = pd.DataFrame(
        {
            "vowel": means.index,
            "hillenbrand_f1_hz": means[("f1_steady", "mean")].to_numpy(),
            "hillenbrand_f2_hz": means[("f2_steady", "mean")].to_numpy(),
            "hillenbrand_f3_hz": means[("f3_steady", "mean")].to_numpy(),
            "hillenbrand_n": means[("f1_steady", "count")].to_numpy().astype(int),
        }
    )
    return out.reset_index(drop=True)


def formant_comparison(formants: pd.DataFrame, hillenbrand: pd.DataFrame | None) -> pd.DataFrame:
    """Measured means (and sds, NaN counts) per vowel beside Hillenbrand's women."""
    vowel = formants["phone"].astype(str).map(strip_stress)
    rows = []
    for name, g in formants.groupby(vowel):
        row = {"vowel": name, "n": len(g)}
        for k in (1, 2, 3):
            col = f"f{k}_hz"
            row[f"f{k}_mean_hz"] = g[col].mean()
            row[f"f{k}_sd_hz"] = g[col].std()
            row[f"f{k}_undefined"] = int(g[col].isna().sum())
        rows.append(row)
    table = pd.DataFrame(rows)
    if hillenbrand is not None and not table.empty:
        table = table.merge(hillenbrand, on="vowel", how="left")
    return table


REFERENCE_COLUMNS = ["hillenbrand_f1_hz", "hillenbrand_f2_hz", "hillenbrand_f3_hz"]
FORMANT_COLUMNS = ["f1_hz", "f2_hz", "f3_hz"]


def formant_lines(
    formants: pd.DataFrame,
    classes: Mapping[str, list[str]],
    reference: pd.DataFrame | None = None,
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """For the classes that are a single vowel: the measured mean F1-F3 and the reference's
    (``reference`` from :func:`hillenbrand_women_means`), as the figures draw them."""
    means = formants.groupby(formants["phone"].astype(str).map(strip_stress))[
        FORMANT_COLUMNS
    ].mean()
    ref = reference.set_index("vowel") if reference is not None else None
    measured, referenced = {}, {}
    for cls, phones in classes.items():
        if len(phones) != 1:
            continue
        if phones[0] in means.index:
            measured[cls] = means.loc[phones[0]].to_list()
        if ref is not None and phones[0] in ref.index:
            referenced[cls] = ref.loc[phones[0], REFERENCE_COLUMNS].to_list()
    return measured, referenced
