"""Deletion curves: do the maps rank rows by what the classifier needs?

Rows are removed (filled with each frame's floor over the segment's rows,
:func:`spectrocam.evidence.band_occlusion.local_floor`, which never adds energy) in the order a
map ranks them (its profile, most important first; ties broken at random) and in three baseline
orders: ``random``, ``energy`` (rows by their mean dB over the segment's frames, loudest first)
and ``low_to_high`` (row 0 first); the true class's probability is recorded after each of
``steps`` equal fractions. The area between the random curve and an order's curve (fractions of
rows on the x axis) is its *faithfulness*: positive when the rows it ranks first are the rows
the classifier needs. The energy and low-to-high baselines say whether a map does better than
orders that know nothing of the model.

Every deletion step of a group of segments goes through the model in one stream of batches
(:func:`spectrocam.evidence.band_occlusion.perturbed_logprobs`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from spectrocam.evidence.band_occlusion import local_floor, perturbed_logprobs
from spectrocam.explain.maps import MapFile
from spectrocam.stats import cluster_bootstrap_ci

__all__ = [
    "BASELINES",
    "signal_orders",
    "deletion_orders",
    "deletion_masks",
    "map_deletion_orders",
    "run_deletion",
    "curve_area",
    "summarise_deletion",
]

BASELINES = ("random", "energy", "low_to_high")


def signal_orders(x: np.ndarray) -> dict[str, np.ndarray]:
    """The deletion baselines that depend on the segment ``x`` (F, T): ``energy`` (rows by their
    mean dB, loudest first; ties by row) and ``low_to_high`` (row 0 first)."""
    return {
        "energy": np.argsort(-x.mean(axis=1), kind="stable"),
        "low_to_high": np.arange(x.shape[0]),
    }


def deletion_orders(
    profiles: Mapping[str, np.ndarray], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """For each map's profile (F,), the rows from most to least important (random among
    ties), plus ``"random"``: a random order."""
    n = len(next(iter(profiles.values())))
    orders = {}
    for name, profile in profiles.items():
        jitter = rng.permutation(n)  # random tie-breaking
        orders[name] = np.lexsort((jitter, -np.asarray(profile, dtype=float)))
    orders["random"] = rng.permutation(n)
    return orders


def deletion_masks(order: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Fractions of rows removed (``steps + 1`` points, 0 .. 1) and the row masks
    (``steps``, F) of the points after the first (nothing removed)."""
    n_rows = len(order)
    fractions = np.linspace(0, 1, steps + 1)
    counts = np.round(fractions * n_rows).astype(int)
    masks = np.zeros((steps, n_rows), dtype=bool)
    for j, c in enumerate(counts[1:]):
        masks[j, order[:c]] = True
    return fractions, masks


def map_deletion_orders(
    maps: MapFile, rows: np.ndarray, rng: np.random.Generator
) -> list[dict[str, np.ndarray]]:  # pragma: no mutate block
    """:func:`deletion_orders` of every method's true-class profile, for the map file's
    ``rows``."""
    profiles = {m: maps.profiles(m, "true", rows) for m in maps.methods}
    return [deletion_orders({m: p[k] for m, p in profiles.items()}, rng) for k in range(len(rows))]


def _segment_masks(
    x: np.ndarray, orders: Mapping[str, np.ndarray], steps: int, percentile
):  # pragma: no mutate block
    """Masks (V, F) and fills (V, T) of one segment: itself, ``steps - 1`` points of each order,
    and last every row removed (the last point of every order)."""
    n_rows, n_frames = x.shape
    floor = local_floor(x, None, percentile)
    masks = [np.zeros(n_rows, bool)]
    for order in orders.values():
        masks.extend(deletion_masks(order, steps)[1][:-1])
    masks.append(np.ones(n_rows, bool))
    fills = [np.zeros(n_frames, np.float32)] + [floor] * (len(masks) - 1)
    return np.array(masks), np.array(fills)


def run_deletion(
    model,
    reader,
    indices: np.ndarray,
    orders_by_segment: list[dict[str, np.ndarray]],
    steps: int,
    percentile: float,
    device,
    batch_size: int = 64,
    dtype=None,
    progress: Callable[[int], None] | None = None,
) -> list[dict]:  # pragma: no mutate block
    """Deletion curves of the segments ``indices`` (store indices), ``batch_size`` segments at a
    time: per segment and order (its ``orders_by_segment`` plus :func:`signal_orders`) a row with
    the area under the curve, its faithfulness (random area - area) and the curve."""
    out, indices = [], np.asarray(indices)
    fractions = np.linspace(0, 1, steps + 1)
    for lo in range(0, len(indices), batch_size):
        group = indices[lo : lo + batch_size]
        x = reader.batch(group)
        parts, owners = [], []
        for g, seg in enumerate(x[:, 0].numpy()):
            orders = orders_by_segment[lo + g] | signal_orders(seg)
            parts.append((list(orders), *_segment_masks(seg, orders, steps, percentile)))
            owners.append(np.full(len(parts[-1][1]), g))
        logp = perturbed_logprobs(
            model,
            x.to(device),
            np.concatenate(owners),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
            batch_size,
            dtype,
        )
        true = np.asarray(reader.labels)[group][np.concatenate(owners)]
        p_true = np.exp(logp[np.arange(len(logp)), true])
        ends = np.cumsum([len(o) for o in owners])
        for g, (names, *_) in enumerate(parts):
            p = p_true[ends[g] - len(owners[g]) : ends[g]]
            n = steps - 1  # the points of one order between the first and the shared last
            curves = {
                name: np.concatenate([p[:1], p[1 + j * n : 1 + (j + 1) * n], p[-1:]])
                for j, name in enumerate(names)
            }
            random_area = curve_area(fractions, curves["random"])
            for name, curve in curves.items():
                area = curve_area(fractions, curve)
                out.append(
                    {
                        "row": lo + g,
                        "segment_index": int(group[g]),
                        "order": name,
                        "area": area,
                        "faithfulness": random_area - area,
                        "curve": " ".join(f"{v:.4f}" for v in curve),
                    }
                )
        if progress:
            progress(len(group))
    return out


def curve_area(fractions: np.ndarray, values: np.ndarray) -> float:
    """Area under a curve by the trapezoid rule."""
    return float(np.trapezoid(values, fractions))


def summarise_deletion(table, n_boot: int, seed: int, level: float = 0.95):
    """Per order (each method, and the baselines random, energy and low to high): mean area
    under the deletion curve and mean faithfulness (random area - the order's area, per
    segment) with bootstrap intervals over utterances."""
    rows = []
    for name, g in table.groupby("order", sort=False):
        area = cluster_bootstrap_ci(g["area"], g["utt_id"], n_boot, level, seed)
        faith = cluster_bootstrap_ci(g["faithfulness"], g["utt_id"], n_boot, level, seed)
        rows.append(
            {
                "method": name,
                "kind": "baseline" if name in BASELINES else "map",
                "n_segments": len(g),
                "n_utterances": g.utt_id.nunique(),
                "area": area[0],
                "area_low": area[1],
                "area_high": area[2],
                "faithfulness": faith[0],
                "faithfulness_low": faith[1],
                "faithfulness_high": faith[2],
            }
        )
    return pd.DataFrame(rows)
