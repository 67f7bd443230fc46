"""Read and write Praat TextGrid files (interval tiers only), with praatio (the library the
Montreal Forced Aligner writes its TextGrids with).

Both of Praat's text formats are read: the long ("ooTextFile" with ``xmin = ...`` lines) and the
short one (bare values, one per line), in UTF-8 or UTF-16. Times are in seconds. Point tiers are
skipped, since an alignment has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from praatio import textgrid as praat
from praatio.utilities import textgrid_io
from praatio.utilities.constants import INTERVAL_TIER

from spectrocam.exceptions import ExpectedError

__all__ = ["Interval", "TextGridError", "read_textgrid", "write_textgrid"]


@dataclass(frozen=True)
class Interval:
    """One labelled interval of a tier, ``start_s`` <= ``end_s``, in seconds."""

    start_s: float
    end_s: float
    text: str


class TextGridError(ExpectedError, ValueError):
    """A file is not a TextGrid this module can read."""


def _decode(path: Path) -> str:
    # praatio's own opener tries UTF-16 first, which can decode a UTF-8 file of even length
    # into nonsense without an error: the encoding is settled here, the parsing is praatio's
    raw = path.read_bytes()
    encodings = ("utf-16", "utf-8") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig",)
    for encoding in encodings:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TextGridError(f"{path}: not UTF-8 or UTF-16 text")


def read_textgrid(path: str | Path) -> dict[str, list[Interval]]:
    """Return the interval tiers of a TextGrid as ``{tier name: [Interval, ...]}`` in file order,
    empty intervals included.

    Raises :class:`TextGridError` naming the file when it is not a readable TextGrid.
    """
    path = Path(path)
    text = _decode(path)
    if 'Object class = "TextGrid"' not in text[:200]:
        raise TextGridError(f"{path}: not a Praat TextGrid (no 'Object class = \"TextGrid\"')")
    try:
        return _tiers(textgrid_io.parseTextgridStr(text, includeEmptyIntervals=True))
    except (IndexError, ValueError, KeyError, AttributeError) as exc:
        raise TextGridError(f"{path}: malformed TextGrid ({type(exc).__name__}: {exc})") from None


def _tiers(parsed: dict) -> dict[str, list[Interval]]:
    tiers: dict[str, list[Interval]] = {}
    for tier in parsed["tiers"]:
        if tier["class"] != INTERVAL_TIER:
            continue
        intervals = []
        for entry in tier["entries"]:  # praatio's parser leaves the times as text
            start, end, label = float(entry[0]), float(entry[1]), str(entry[2])
            if end < start:
                raise ValueError(f"interval ends before it starts ({start} > {end})")
            intervals.append(Interval(start, end, label.strip()))
        tiers[tier["name"]] = intervals
    return tiers


def write_textgrid(path: str | Path, tiers: dict[str, list[Interval]], xmax: float) -> None:
    """Write interval tiers as a long-format TextGrid spanning 0..``xmax`` seconds.

    Gaps between intervals are filled with empty intervals, as Praat requires.
    """
    grid = praat.Textgrid(0.0, xmax)
    for name, intervals in tiers.items():
        entries = [(iv.start_s, iv.end_s, iv.text) for iv in intervals]
        grid.addTier(praat.IntervalTier(name, entries, 0.0, xmax))
    grid.save(str(path), format="long_textgrid", includeBlankSpaces=True)
