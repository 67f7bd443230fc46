"""Each class's mean frequency profile of a method's maps."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from spectrocam.explain.maps import MapFile

__all__ = ["class_profiles"]


def class_profiles(
    maps: MapFile, method: str = "cam", which: str = "true", rows: Sequence[int] | None = None
) -> dict[str, np.ndarray]:
    """Per class (in label order): the mean over its segments of the profile of ``method``'s
    map of the ``which`` class, each profile scaled to sum 1; profiles that are nowhere positive
    are left out. ``rows`` (of the map file) restricts the segments, for example to those that
    every method has (:meth:`MapFile.common_rows`)."""
    own = maps.rows(method) if rows is None else np.asarray(rows, dtype=int)
    profiles = maps.profiles(method, which, rows)
    labels = maps.segments["label"].to_numpy()[own]
    grouped: dict[str, list[np.ndarray]] = {n: [] for n in maps.class_names}
    for label, profile in zip(labels, profiles, strict=True):
        if profile.sum() > 0:
            grouped[maps.class_names[int(label)]].append(profile / profile.sum())
    return {n: np.mean(p, axis=0) for n, p in grouped.items() if p}
