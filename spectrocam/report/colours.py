"""One fixed colour per class, shared by the report's figures and the explorer, so that a class
has the same colour wherever it is drawn and whatever order the data list it in."""

from __future__ import annotations

import zlib
from collections.abc import Iterable

__all__ = ["PALETTE", "CLASS_COLOURS", "class_colour", "class_colours"]

# Tableau's ten colours and their light twins (matplotlib's tab20 order).
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
    "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
)  # fmt: skip
# The study's five vowels first (IY blue, AE orange, AA green, AO red, UW purple), then the
# other ARPAbet vowels, then the voicing experiment's classes.
CLASS_COLOURS = {
    "IY": PALETTE[0], "AE": PALETTE[1], "AA": PALETTE[2], "AO": PALETTE[3], "UW": PALETTE[4],
    "AH": PALETTE[5], "EH": PALETTE[6], "IH": PALETTE[7], "ER": PALETTE[8], "UH": PALETTE[9],
    "EY": PALETTE[10], "OW": PALETTE[11], "AW": PALETTE[12], "AY": PALETTE[14],
    "OY": PALETTE[15], "voiced": PALETTE[0], "unvoiced": PALETTE[1],
}  # fmt: skip


def class_colour(name: str) -> str:
    """The class's colour: its own where it has one, else one of :data:`PALETTE` chosen by a
    checksum of its name (the same in every run)."""
    if name in CLASS_COLOURS:
        return CLASS_COLOURS[name]
    return PALETTE[zlib.crc32(str(name).encode("utf-8")) % len(PALETTE)]


def class_colours(names: Iterable[str]) -> dict[str, str]:
    return {n: class_colour(n) for n in names}
