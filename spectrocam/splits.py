"""Train/validation/test splits that keep a sentence (and, where possible, a chapter) whole.

LJSpeech ids are ``LJ<chapter>-<sentence>``; the chapter (``LJ001``) is a book. Groups (chapters
or utterances) are shuffled with the seed and each is given, in turn, to the split that is
furthest below its target share of utterances, so the assignment is deterministic and every
utterance of a group lands on one side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from spectrocam.config import Section

__all__ = ["SPLITS", "SplitConfig", "chapter_of", "assign_splits", "class_balance"]

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


def chapter_of(utt_id: str) -> str:
    """``"LJ001-0042"`` -> ``"LJ001"``; an id without a dash is its own chapter."""
    return utt_id.split("-", 1)[0]


def assign_splits(
    utt_ids: list[str] | pd.Series,
    fractions: Mapping[str, float],
    seed: int = 0,
    group_by: str = "auto",
    min_chapters: int = 10,
) -> tuple[pd.DataFrame, str]:
    """Assign every utterance to a split.

    Returns ``(table, unit)``: the table has columns ``utt_id, chapter, split`` (sorted by
    utt_id) and ``unit`` says what was kept whole (``"chapter"`` or ``"utterance"``).
    ``group_by="auto"`` uses chapters when there are at least ``min_chapters`` of them.
    """
    ids = sorted(set(map(str, utt_ids)))
    if not ids:
        raise ValueError("no utterances to split")
    chapters = [chapter_of(u) for u in ids]
    n_chapters = len(set(chapters))
    if group_by == "auto":
        unit = "chapter" if n_chapters >= min_chapters else "utterance"
    elif group_by in ("chapter", "utterance"):
        unit = group_by
    else:
        raise ValueError(f"group_by must be auto, chapter or utterance, not {group_by!r}")
    if unit == "chapter" and n_chapters < len([s for s in SPLITS if fractions.get(s, 0) > 0]):
        raise ValueError(
            f"only {n_chapters} chapters: too few to keep chapters whole across the splits"
        )
    groups = chapters if unit == "chapter" else ids
    sizes = pd.Series(groups).value_counts().sort_index()
    order = np.random.default_rng(seed).permutation(len(sizes))
    targets = {s: float(fractions.get(s, 0.0)) for s in SPLITS}
    counts = dict.fromkeys(SPLITS, 0)
    assigned: dict[str, str] = {}
    total = len(ids)
    for i in order:
        group, size = sizes.index[i], int(sizes.iloc[i])
        open_splits = [s for s in SPLITS if targets[s] > 0]
        # The split whose share is furthest below its target; ties go to the earlier split.
        split = max(open_splits, key=lambda s: (targets[s] - counts[s] / total) / targets[s])
        assigned[group] = split
        counts[split] += size
    table = pd.DataFrame(
        {"utt_id": ids, "chapter": chapters, "split": [assigned[g] for g in groups]}
    )
    return table, unit


def class_balance(
    segments: pd.DataFrame, splits: pd.DataFrame, class_names: list[str]
) -> pd.DataFrame:
    """Segments per split and class (with each class's share of its split).

    ``segments`` needs ``utt_id`` and ``class_name``; segments of utterances without a split are
    counted under ``unassigned`` so that none disappears.
    """
    merged = segments.merge(splits[["utt_id", "split"]], on="utt_id", how="left")
    merged["split"] = merged["split"].fillna("unassigned")
    counts = (
        merged.groupby(["split", "class_name"])
        .size()
        .unstack(fill_value=0)
        .reindex(columns=class_names, fill_value=0)
    )
    order = [s for s in (*SPLITS, "unassigned") if s in counts.index]
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
