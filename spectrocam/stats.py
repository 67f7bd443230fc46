"""Statistics over clustered values (segments of one utterance are not independent): bootstrap
confidence intervals that resample whole clusters, a two-sided sign-flip test that flips whole
clusters, and Holm's adjustment (statsmodels')."""

from __future__ import annotations

import numpy as np

__all__ = ["cluster_bootstrap_ci", "cluster_bootstrap", "cluster_sign_flip", "holm"]


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


def _flip_counts(sums: np.ndarray, threshold: float, signs) -> int:
    """How many rows ``s`` of the matrices from ``signs`` have ``|s @ sums| >= threshold``."""
    return sum(int(np.sum(np.abs(s @ sums) >= threshold)) for s in signs)


def cluster_sign_flip(
    values,
    clusters=None,
    n_flips: int = 10000,
    seed: int = 0,
    exact: bool | None = None,
) -> tuple[float, float]:
    """Mean of ``values`` and the two-sided p-value of "its distribution is symmetric about 0",
    flipping the sign of all the values of a cluster together.

    Under the null every cluster's sum ``S_c`` is as likely to be ``-S_c``; the statistic is the
    mean ``T = sum_c S_c / N`` over the N values (NaN left out), and the p-value is the share of
    sign vectors ``s`` with ``|sum_c s_c S_c| / N >= |T|``. Monte-Carlo: ``n_flips`` random
    vectors (seeded, drawn in chunks), ``p = (1 + #) / (1 + n_flips)``; exact: all ``2^U`` vectors
    of the U clusters (the identity among them), ``p = # / 2^U``. ``exact=None`` enumerates when
    ``2^U <= n_flips`` (cheaper and exact). Returns ``(T, p)``; ``(nan, nan)`` with no value.
    """
    values = np.asarray(values, dtype=float)
    clusters = np.arange(len(values)) if clusters is None else np.asarray(clusters)
    keep = np.isfinite(values)
    values, clusters = values[keep], clusters[keep]
    if not len(values):
        return float("nan"), float("nan")
    _, inverse = np.unique(clusters, return_inverse=True)
    sums = np.bincount(inverse, weights=values)
    u = len(sums)
    observed = float(sums.sum() / len(values))
    # the identity flip must count however the sums are rounded
    threshold = abs(float(sums.sum())) - 1e-9 * float(np.abs(sums).sum())
    chunk = max(1, 2**22 // u)
    if exact is None:
        exact = u < 63 and 2**u <= n_flips
    if exact:
        if u > 30:
            raise ValueError(f"exact enumeration of 2^{u} sign flips is too large")
        bits = np.arange(u)

        def enumerated():
            for lo in range(0, 2**u, chunk):
                codes = np.arange(lo, min(lo + chunk, 2**u))[:, None]
                yield 1.0 - 2.0 * ((codes >> bits) & 1)

        return observed, _flip_counts(sums, threshold, enumerated()) / 2**u
    rng = np.random.default_rng(seed)

    def drawn():
        for lo in range(0, n_flips, chunk):
            yield 1.0 - 2.0 * rng.integers(0, 2, (min(chunk, n_flips - lo), u))

    return observed, (1 + _flip_counts(sums, threshold, drawn())) / (1 + n_flips)


def holm(pvalues) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values (statsmodels' ``multipletests``);
    NaN stays NaN and is not counted in the family."""
    from statsmodels.stats.multitest import multipletests  # a slow import: only where needed

    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.isfinite(p)
    if finite.any():
        out[finite] = multipletests(p[finite], method="holm")[1]
    return out
