"""The aligner-independent phone table and its helpers.

Every alignment backend (MFA, pocketsphinx, existing TextGrids) produces the same table, one row
per aligned phone, silences left out:

=========  =====================================================================
phone_id   ``<utt_id>/<k>``: the k-th phone of the clip (from 0), the key of every
           later table (:mod:`spectrocam.keys`)
utt_id     clip id (``LJ001-0001``)
word       the word the phone belongs to, lower case (empty when the aligner gives none)
phone      ARPAbet phone, with its stress digit where the aligner gives one (``IY1``)
start_s    start of the phone, seconds from the start of the clip
end_s      end of the phone, seconds
=========  =====================================================================

Silences (``""``, ``sil``, ``sp``, ``SIL``) and out-of-vocabulary markers (``spn``) are not
phones: they are counted in the alignment summary, never put in the table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from spectrocam.align.textgrid import Interval, read_textgrid
from spectrocam.keys import add_phone_ids
from spectrocam.phones import ARPABET_PHONES, OOV_LABELS, SILENCE_LABELS, strip_stress

__all__ = [
    "PHONE_COLUMNS",
    "AlignmentCounts",
    "empty_phone_table",
    "phone_table",
    "phones_from_tiers",
    "phones_from_textgrids",
    "merge_counts",
]

ALIGNED_COLUMNS = ["utt_id", "word", "phone", "start_s", "end_s"]
PHONE_COLUMNS = ["phone_id", *ALIGNED_COLUMNS]


def empty_phone_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "phone_id": pd.Series(dtype=str),
            "utt_id": pd.Series(dtype=str),
            "word": pd.Series(dtype=str),
            "phone": pd.Series(dtype=str),
            "start_s": pd.Series(dtype=float),
            "end_s": pd.Series(dtype=float),
        }
    )


@dataclass
class AlignmentCounts:
    """What an alignment run kept and left out, summed over utterances."""

    utterances: int = 0
    aligned_utterances: int = 0
    phones: int = 0
    silences: int = 0
    oov_words: int = 0
    unknown_phones: int = 0
    clipped_intervals: int = 0
    unaligned: dict[str, str] = field(default_factory=dict)  # utt_id -> reason
    oov: dict[str, int] = field(default_factory=dict)  # word -> count

    def add_oov(self, word: str) -> None:
        self.oov_words += 1
        self.oov[word] = self.oov.get(word, 0) + 1

    def as_dict(self) -> dict:
        return {
            "utterances": self.utterances,
            "aligned_utterances": self.aligned_utterances,
            "unaligned_utterances": len(self.unaligned),
            "phones": self.phones,
            "silences": self.silences,
            "oov_words": self.oov_words,
            "unknown_phones": self.unknown_phones,
            "clipped_intervals": self.clipped_intervals,
            "unaligned": dict(sorted(self.unaligned.items())),
            "oov": dict(sorted(self.oov.items(), key=lambda kv: (-kv[1], kv[0]))),
        }


def _word_at(words: list[Interval], t_s: float) -> str:
    for w in words:
        if w.start_s <= t_s < w.end_s:
            return w.text.lower()
    return ""


def phones_from_tiers(
    utt_id: str,
    tiers: dict[str, list[Interval]],
    duration_s: float,
    counts: AlignmentCounts,
    phone_tier: str = "phones",
    word_tier: str = "words",
) -> list[tuple[str, str, str, float, float]]:
    """Rows of the phone table for one utterance's tiers, clipped to ``duration_s``.

    Silences and OOV markers are counted in ``counts`` and skipped; intervals that lie wholly
    past the end of the audio are dropped and counted as clipped.
    """
    if phone_tier not in tiers:
        raise KeyError(f"no tier named {phone_tier!r} (tiers: {', '.join(tiers) or 'none'})")
    words = tiers.get(word_tier, [])
    for w in words:
        if w.text in OOV_LABELS:
            counts.add_oov(w.text)
    rows = []
    for iv in tiers[phone_tier]:
        label = iv.text.strip()
        if label in SILENCE_LABELS:
            counts.silences += 1
            continue
        if label in OOV_LABELS:
            if not words:
                counts.add_oov("<unk>")
            continue
        start, end = iv.start_s, min(iv.end_s, duration_s)
        if end <= start:
            counts.clipped_intervals += 1
            continue
        if end < iv.end_s:
            counts.clipped_intervals += 1
        if strip_stress(label.upper()) not in ARPABET_PHONES:
            counts.unknown_phones += 1
            continue
        rows.append((utt_id, _word_at(words, (start + end) / 2), label.upper(), start, end))
    counts.phones += len(rows)
    return rows


def phones_from_textgrids(
    textgrid_dir: str | Path, clips: pd.DataFrame
) -> tuple[pd.DataFrame, AlignmentCounts]:
    """Phone table of the clips in ``clips`` (columns ``utt_id``, ``duration_s``) from a
    directory of ``<utt_id>.TextGrid`` files with ``words`` and ``phones`` tiers.

    A clip without a TextGrid, or with an unreadable one, is listed as unaligned.
    """
    textgrid_dir = Path(textgrid_dir)
    counts = AlignmentCounts()
    rows: list[tuple] = []
    for utt_id, duration_s in zip(clips["utt_id"], clips["duration_s"], strict=True):
        counts.utterances += 1
        path = textgrid_dir / f"{utt_id}.TextGrid"
        if not path.exists():
            counts.unaligned[utt_id] = "no TextGrid"
            continue
        try:
            utt_rows = phones_from_tiers(utt_id, read_textgrid(path), float(duration_s), counts)
        except (ValueError, KeyError) as exc:
            counts.unaligned[utt_id] = f"unreadable TextGrid: {exc}"
            continue
        if not utt_rows:
            counts.unaligned[utt_id] = "no phones in TextGrid"
            continue
        counts.aligned_utterances += 1
        rows.extend(utt_rows)
    return phone_table(rows), counts


def phone_table(rows: list[tuple]) -> pd.DataFrame:
    """The phone table of ``(utt_id, word, phone, start_s, end_s)`` rows, with its phone ids."""
    if not rows:
        return empty_phone_table()
    return add_phone_ids(pd.DataFrame(rows, columns=ALIGNED_COLUMNS))


def merge_counts(parts: list[dict]) -> dict:
    """Sum the ``AlignmentCounts.as_dict()`` summaries of several shards into one."""
    total = AlignmentCounts()
    for part in parts:
        total.utterances += part["utterances"]
        total.aligned_utterances += part["aligned_utterances"]
        total.phones += part["phones"]
        total.silences += part["silences"]
        total.oov_words += part["oov_words"]
        total.unknown_phones += part["unknown_phones"]
        total.clipped_intervals += part["clipped_intervals"]
        total.unaligned.update(part["unaligned"])
        for word, n in part["oov"].items():
            total.oov[word] = total.oov.get(word, 0) + n
    return total.as_dict()
