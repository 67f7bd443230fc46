"""Train/validation/test splits that keep a sentence (and, where possible, a chapter) whole.

LJSpeech ids are ``LJ<chapter>-<sentence>``; the chapter (``LJ001``) is a book. Groups (chapters
or utterances) are shuffled with the seed and each is given, in turn, to the split that is
furthest below its target share of utterances, so the assignment is deterministic and every
utterance of a group lands on one side.

A word-disjoint experiment (``split_words: disjoint``) keeps that assignment and drops, from
validation and test, every token whose word type (lower case) is also the word of one of the
experiment's training tokens, and every held-out token without a word: its held-out accuracy
is then on words the network never heard in training, not a lexicon lookup. Training keeps all
its tokens; the dropped ones are counted in the experiment's class balance (``dropped``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from spectrocam.config import Section

__all__ = [
    "SPLITS",
    "SplitConfig",
    "chapter_of",
    "assign_splits",
    "segment_splits",
    "shared_word_types",
    "unseen_words",
    "class_balance",
]

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class SplitConfig(Section):
    """The ``splits`` section."""

    SECTIONS = ("splits",)

    seed: int = 0
    fractions: Mapping[str, float] = field(
        default_factory=lambda: {"train": 0.7, "validation": 0.15, "test": 0.15}
    )
    group_by: str = "auto"
    min_chapters: int = 10
    min_speakers: int = 10


_CHAPTERED = re.compile(r"^(.+)-\d+$")


def chapter_of(utt_id: str) -> str | None:
    """``"LJ001-0042"`` -> ``"LJ001"``: the part before the last dash when what follows is a
    number; None for an id without one (it has no chapter)."""
    m = _CHAPTERED.match(utt_id)
    return m.group(1) if m else None


def _unit(group_by: str, n_speakers: int, chapters: list, min_chapters: int, min_speakers: int):
    n_chapters = len(set(chapters)) if None not in chapters else 0
    if group_by == "auto":
        if n_speakers >= min_speakers:
            return "speaker"
        return "chapter" if n_chapters >= min_chapters else "utterance"
    if group_by not in ("speaker", "chapter", "utterance"):
        raise ValueError(f"group_by must be auto, speaker, chapter or utterance, not {group_by!r}")
    if group_by == "chapter" and None in chapters:
        raise ValueError("group_by chapter: some clip ids have no chapter (<chapter>-<number>)")
    return group_by


def _greedy(sizes: pd.Series, targets: dict[str, float], seed: int) -> dict:
    """Each group (shuffled with ``seed``) to the split furthest below its target share."""
    order = np.random.default_rng(seed).permutation(len(sizes))
    counts = dict.fromkeys(SPLITS, 0)
    total = int(sizes.sum())
    assigned = {}
    open_splits = [s for s in SPLITS if targets[s] > 0]
    for i in order:
        group, size = sizes.index[i], int(sizes.iloc[i])
        # The split whose share is furthest below its target; ties go to the earlier split.
        split = max(open_splits, key=lambda s: (targets[s] - counts[s] / total) / targets[s])
        assigned[group] = split
        counts[split] += size
    return assigned


def assign_splits(
    utt_ids: list[str] | pd.Series,
    fractions: Mapping[str, float],
    seed: int = 0,
    group_by: str = "auto",
    min_chapters: int = 10,
    speakers: Mapping[str, str] | None = None,
    min_speakers: int = 10,
) -> tuple[pd.DataFrame, str]:
    """Assign every utterance to a split.

    Returns ``(table, unit)``: the table has columns ``utt_id, speaker, chapter, split`` (sorted
    by utt_id) and ``unit`` says what was kept whole (``"speaker"``, ``"chapter"`` or
    ``"utterance"``). ``group_by="auto"`` keeps speakers whole when there are at least
    ``min_speakers``, else chapters when every id has one and there are at least
    ``min_chapters``, else utterances. With several speakers but fewer than that, each
    speaker's groups are assigned on their own, so that every split holds each speaker in its
    share (``speakers``: utterance -> speaker; default one speaker).
    """
    ids = sorted(set(map(str, utt_ids)))
    if not ids:
        raise ValueError("no utterances to split")
    speaker = [str((speakers or {}).get(u, "")) for u in ids]
    chapters = [chapter_of(u) for u in ids]
    n_speakers = len(set(speaker))
    unit = _unit(group_by, n_speakers, chapters, min_chapters, min_speakers)
    groups = {"speaker": speaker, "chapter": chapters, "utterance": ids}[unit]
    needed = len([s for s in SPLITS if fractions.get(s, 0) > 0])
    if len(set(groups)) < needed:
        raise ValueError(
            f"only {len(set(groups))} {unit}s: too few to keep each {unit} whole across the splits"
        )
    targets = {s: float(fractions.get(s, 0.0)) for s in SPLITS}
    frame = pd.DataFrame({"group": groups, "speaker": speaker})
    strata = [frame] if unit == "speaker" else [g for _, g in frame.groupby("speaker")]
    assigned: dict = {}
    for stratum in strata:
        assigned |= _greedy(stratum["group"].value_counts().sort_index(), targets, seed)
    table = pd.DataFrame(
        {
            "utt_id": ids,
            "speaker": speaker,
            "chapter": [c or "" for c in chapters],
            "split": [assigned[g] for g in groups],
        }
    )
    return table, unit


def segment_splits(
    segments: pd.DataFrame, splits: pd.DataFrame, words: str = "shared"
) -> pd.Series:
    """Each segment's split (``segments`` needs ``utt_id`` and ``word``), by its utterance in
    ``splits``, ``unassigned`` for an utterance without one; with ``words="disjoint"``, a
    validation or test token whose word type is a training token's word, or that has no word,
    is ``dropped``."""
    if words not in ("shared", "disjoint"):
        raise ValueError(f"split_words must be shared or disjoint, not {words!r}")
    split_of = dict(zip(splits["utt_id"], splits["split"], strict=True))
    split = segments["utt_id"].map(split_of).fillna("unassigned").astype(str)
    if words == "disjoint":
        split = split.where(
            ~(split.isin(["validation", "test"]) & ~unseen_words(segments, split)), "dropped"
        )
    return split


def unseen_words(segments: pd.DataFrame, split: pd.Series) -> pd.Series:
    """True for a segment whose word type (lower case) is the word of no training segment
    (``split``: each segment's split), False for one without a word: the held-out tokens that a
    word-disjoint split (``split_words: disjoint``) keeps, whatever the experiment's own split."""
    word = _word_types(segments)
    seen = set(word[split == "train"])
    return ~word.isin(seen) & (word != "")


def _word_types(segments: pd.DataFrame) -> pd.Series:
    return segments["word"].fillna("").astype(str).str.strip().str.lower()


def shared_word_types(segments: pd.DataFrame, split: pd.Series) -> dict[str, set[str]]:
    """Per held-out split, the word types its segments share with the training segments
    (``split``: each segment's split, as :func:`segment_splits` gives it)."""
    word = _word_types(segments)
    train = set(word[split == "train"])
    return {s: set(word[split == s]) & train for s in ("validation", "test")}


def class_balance(
    segments: pd.DataFrame,
    splits: pd.DataFrame,
    class_names: list[str],
    words: str = "shared",
) -> pd.DataFrame:
    """Segments per split and class (with each class's share of its split).

    ``segments`` needs ``utt_id`` and ``class_name`` (and ``word`` for ``words="disjoint"``:
    :func:`segment_splits`); segments of utterances without a split are counted under
    ``unassigned``, and the held-out tokens a word-disjoint split drops under ``dropped``, so
    that none disappears.
    """
    merged = segments.copy()
    merged["split"] = segment_splits(segments, splits, words)
    counts = (
        merged.groupby(["split", "class_name"])
        .size()
        .unstack(fill_value=0)
        .reindex(columns=class_names, fill_value=0)
    )
    order = [s for s in (*SPLITS, "dropped", "unassigned") if s in counts.index]
    counts = counts.reindex(order)
    rows = []
    for split, row in counts.iterrows():
        n = int(row.sum())
        for cls in class_names:
            rows.append(
                {
                    "split": split,
                    "class_name": cls,
                    "n_segments": int(row[cls]),
                    "share_of_split": row[cls] / n if n else 0.0,
                }
            )
    return pd.DataFrame(rows)
