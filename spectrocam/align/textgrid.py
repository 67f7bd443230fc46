"""Read and write Praat TextGrid files (interval tiers only).

Both of Praat's text formats are read: the long ("ooTextFile" with ``xmin = ...`` lines) and the
short one (bare values, one per line). Times are in seconds. Point tiers are skipped, since an
alignment has none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

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


# A token is a quoted string (Praat doubles a quote inside one) or any bare word or number.
_TOKEN = re.compile(r'"((?:[^"]|"")*)"|([^\s"]+)')
_FLAGS = {"<exists>", "<absent>"}


def _tokens(text: str) -> list[tuple[str, bool]]:
    """Split a TextGrid into (value, is_string) tokens, dropping the long format's labels."""
    out: list[tuple[str, bool]] = []
    for m in _TOKEN.finditer(text):
        if m.group(1) is not None:
            out.append((m.group(1).replace('""', '"'), True))
            continue
        word = m.group(2)
        # Long-format labels ("xmin", "=", "intervals", "[1]:", "item", "[]:") carry no value.
        if word in _FLAGS or _is_number(word):
            out.append((word, False))
    return out


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def read_textgrid(path: str | Path) -> dict[str, list[Interval]]:
    """Return the interval tiers of a TextGrid as ``{tier name: [Interval, ...]}`` in file order.

    Raises :class:`TextGridError` naming the file when it is not a readable TextGrid.
    """
    path = Path(path)
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise TextGridError(f"{path}: not UTF-8 or UTF-16 text")
    if 'Object class = "TextGrid"' not in text[:200]:
        raise TextGridError(f"{path}: not a Praat TextGrid (no 'Object class = \"TextGrid\"')")
    toks = _tokens(text.split('Object class = "TextGrid"', 1)[1])
    try:
        return _parse(toks)
    except (IndexError, ValueError) as exc:
        raise TextGridError(f"{path}: malformed TextGrid ({exc})") from None


def _parse(toks: list[tuple[str, bool]]) -> dict[str, list[Interval]]:
    pos = 0

    def take() -> tuple[str, bool]:
        nonlocal pos
        tok = toks[pos]
        pos += 1
        return tok

    def number() -> float:
        value, is_string = take()
        if is_string:
            raise ValueError(f"expected a number, found the string {value!r}")
        return float(value)

    number()  # xmin
    number()  # xmax
    flag, _ = take()
    if flag != "<exists>":
        return {}
    n_tiers = int(number())
    tiers: dict[str, list[Interval]] = {}
    for _ in range(n_tiers):
        tier_class, _ = take()
        name, _ = take()
        number()  # tier xmin
        number()  # tier xmax
        n_items = int(number())
        if tier_class == "IntervalTier":
            intervals = []
            for _ in range(n_items):
                start, end = number(), number()
                label, _ = take()
                if end < start:
                    raise ValueError(f"interval ends before it starts ({start} > {end})")
                intervals.append(Interval(start, end, label.strip()))
            tiers[name] = intervals
        elif tier_class == "TextTier":
            for _ in range(n_items):
                number()
                take()
        else:
            raise ValueError(f"unknown tier class {tier_class!r}")
    return tiers


def write_textgrid(path: str | Path, tiers: dict[str, list[Interval]], xmax: float) -> None:
    """Write interval tiers as a long-format TextGrid spanning 0..``xmax`` seconds.

    Gaps between intervals are filled with empty intervals, as Praat requires.
    """
    lines = [
        'File type = "ooTextFile"',
        'Object class = "TextGrid"',
        "",
        "xmin = 0",
        f"xmax = {xmax}",
        "tiers? <exists>",
        f"size = {len(tiers)}",
        "item []:",
    ]
    for i, (name, intervals) in enumerate(tiers.items(), start=1):
        filled: list[Interval] = []
        t = 0.0
        for iv in intervals:
            if iv.start_s > t + 1e-9:
                filled.append(Interval(t, iv.start_s, ""))
            filled.append(iv)
            t = iv.end_s
        if t < xmax - 1e-9:
            filled.append(Interval(t, xmax, ""))
        lines += [
            f"    item [{i}]:",
            '        class = "IntervalTier"',
            f'        name = "{name}"',
            "        xmin = 0",
            f"        xmax = {xmax}",
            f"        intervals: size = {len(filled)}",
        ]
        for j, iv in enumerate(filled, start=1):
            label = iv.text.replace('"', '""')
            lines += [
                f"        intervals [{j}]:",
                f"            xmin = {iv.start_s}",
                f"            xmax = {iv.end_s}",
                f'            text = "{label}"',
            ]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
