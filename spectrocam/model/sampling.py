"""Which segments a step sees, and under which labels.

:func:`balanced_epoch` draws a class-balanced epoch; :func:`capped_epoch` takes every segment
(at most so many of a class) and :func:`class_weights` balances its loss instead;
:func:`shuffled_labels` makes the labels of the sanity check's model trained on shuffled labels;
:func:`subset_per_class` picks the test segments of the slow explanation methods.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["balanced_epoch", "capped_epoch", "class_weights", "shuffled_labels", "subset_per_class"]


def balanced_epoch(
    labels: np.ndarray, n_classes: int, rng: np.random.Generator, per_class: int | None = None
) -> np.ndarray:
    """A shuffled epoch with the same number of positions from each class present.

    ``per_class`` defaults to the smallest class's size; a class with fewer segments than that
    is drawn with replacement, the others without.
    """
    labels = np.asarray(labels)
    pools = [np.flatnonzero(labels == c) for c in range(n_classes)]
    pools = [p for p in pools if len(p)]
    n = per_class or min(len(p) for p in pools)
    chosen = [rng.choice(p, size=n, replace=len(p) < n) for p in pools]
    return rng.permutation(np.concatenate(chosen))


def capped_epoch(
    labels: np.ndarray, n_classes: int, rng: np.random.Generator, cap: int | None = None
) -> np.ndarray:
    """A shuffled epoch of every position, except that a class with more than ``cap`` gives a
    draw of ``cap`` of them (without replacement); None: no cap."""
    labels = np.asarray(labels)
    pools = [np.flatnonzero(labels == c) for c in range(n_classes)]
    chosen = [p if cap is None or len(p) <= cap else rng.choice(p, cap, False) for p in pools]
    return rng.permutation(np.concatenate(chosen))


def class_weights(labels: np.ndarray, n_classes: int, cap: int | None = None) -> np.ndarray:
    """Per-class loss weights ``n / (k * n_c)`` for an epoch of :func:`capped_epoch` (``n_c``
    segments of class ``c`` in it: its count, at most ``cap``; ``n`` their sum; ``k`` classes
    present; 0 for a class absent): every class's segments weigh ``n / k`` in all, so each class
    counts as much, and the weights of the epoch's ``n`` segments sum to ``n`` (a mean weight of
    1: the loss keeps its scale)."""
    counts = np.bincount(np.asarray(labels, dtype=int), minlength=n_classes).astype(float)
    if cap is not None:
        counts = np.minimum(counts, cap)
    present = counts > 0
    weights = np.zeros(n_classes)
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights


def shuffled_labels(labels: np.ndarray, idx: Mapping[str, np.ndarray], seed: int) -> np.ndarray:
    """The store's labels with those of the train split permuted among themselves, and those of
    the validation split among themselves (a seeded draw): class counts stay, and nothing of
    which segment is which class reaches the model (Adebayo et al. 2018's label randomisation
    test). Test labels are left as they are."""
    out = np.asarray(labels).copy()
    rng = np.random.default_rng([seed, 2])
    for split in ("train", "validation"):
        out[idx[split]] = rng.permutation(out[idx[split]])
    return out


def subset_per_class(labels: np.ndarray, max_per_class: int | None, seed: int) -> np.ndarray:
    """Positions of a seeded random subset of at most ``max_per_class`` segments of each class,
    in order; all positions when ``max_per_class`` is None."""
    labels = np.asarray(labels)
    if not max_per_class:
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    keep: list[int] = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        keep += list(rng.choice(members, min(len(members), max_per_class), False))
    return np.sort(np.array(keep, dtype=int))
