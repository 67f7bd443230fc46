"""Statistics: bootstrap confidence intervals that resample whole clusters (utterances)."""

from __future__ import annotations

import numpy as np

__all__ = ["cluster_bootstrap_ci", "cluster_bootstrap", "holm"]


def cluster_bootstrap_ci(
    values,
    clusters=None,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Mean of ``values`` and its percentile bootstrap interval, resampling clusters.

    Segments of one utterance are not independent, so whole clusters (``clusters[i]`` is the
    cluster of ``values[i]``; by default each value is its own) are drawn with replacement and
    the mean is taken over all values of the drawn clusters. NaN values are left out. Returns
    ``(mean, low, high)``; all NaN when no value is left, and ``low == high == mean`` with one
    cluster.
    """
    values = np.asarray(values, dtype=float)
    clusters = np.arange(len(values)) if clusters is None else np.asarray(clusters)
    keep = np.isfinite(values)
    values, clusters = values[keep], clusters[keep]
    if not len(values):
        return float("nan"), float("nan"), float("nan")
    _, inverse = np.unique(clusters, return_inverse=True)
    sums = np.bincount(inverse, weights=values)
    counts = np.bincount(inverse).astype(float)
    mean = float(sums.sum() / counts.sum())
    k = len(sums)
    if k < 2:
        return mean, mean, mean
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(k, np.full(k, 1.0 / k), size=n_boot).astype(float)
    boot = (draws @ sums) / (draws @ counts)
    alpha = (1 - level) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    return mean, float(low), float(high)


def cluster_bootstrap(
    statistic,
    clusters,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Any ``statistic(indices)`` of the items (0 .. N-1) and its percentile bootstrap interval,
    resampling whole clusters with replacement (``clusters[i]``: the cluster of item ``i``).
    Returns ``(value on all items, low, high)``; ``low == high == value`` with one cluster."""
    clusters = np.asarray(clusters)
    value = float(statistic(np.arange(len(clusters))))
    labels, inverse = np.unique(clusters, return_inverse=True)
    if len(labels) < 2:
        return value, value, value
    members = [np.flatnonzero(inverse == k) for k in range(len(labels))]
    rng = np.random.default_rng(seed)
    boot = np.empty(n_boot)
    for b in range(n_boot):
        drawn = rng.integers(0, len(labels), len(labels))
        boot[b] = statistic(np.concatenate([members[k] for k in drawn]))
    alpha = (1 - level) / 2
    low, high = np.nanquantile(boot, [alpha, 1 - alpha])
    return value, float(low), float(high)


def holm(pvalues) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values (NaN stays NaN, not counted)."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    order = finite[np.argsort(p[finite], kind="stable")]
    m = len(order)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out
