"""Does the network need the cues beyond the energy an occlusion removes? The causal statement.

From the band occlusions of :mod:`spectrocam.evidence.band_occlusion`, per token ``i`` and band
``b``: the drop ``d_ib`` of the model's log-probability of the true class (``log p(x) - log
p(x_b)``) and the dB removed ``a_ib``. The fit is

    d_ib = alpha_i + s(a_ib) + sum_k beta_k 1[b overlaps cue k] + e_ib

with a fixed effect ``alpha_i`` per token (within-token demeaning), ``s`` a continuous
piecewise-linear function of the dB removed (knots at quantiles of ``a``, ``causal.energy_pieces``
pieces: bands are compared with the bands that remove about as much energy, a misfit at one
energy does not bend the curve at another, and a drop linear in the energy is fitted exactly),
and ``beta_k`` how much more the model needs cue ``k``
than a band that loses the same energy. ``beta_any`` comes from a second fit
with one indicator, the band overlaps any cue. The *discriminative* form replaces ``d`` by the
drop of the log-odds of the true class against one competitor ``c``, ``(log p_y - log p_c)(x) -
(log p_y - log p_c)(x_b)``, fitted on the tokens of each true class ``y`` and each ``c``: F2
should matter most between front and back vowels (IY against UW, AO), F1 between open and close
ones (AA, AE against IY, UW).

What it cannot do: tell a cue from its energy where no band over no cue removes as much dB as
the cue's bands do (the energy curve then takes the cue's effect, and beta leans towards 0, a
"no" that is not a finding). ``share_matched`` says, per cue, how many of its bands a band
elsewhere matches in dB removed.

Intervals: 95 % percentile intervals of a cluster bootstrap (the cluster is the utterance, or
utterance x word type), which resamples whole clusters and refits (from per-cluster cross
products, so a draw costs a small solve). p: two-sided, normal approximation with the bootstrap
standard error, ``2 (1 - Phi(|beta| / se))`` (no permutation floor).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from spectrocam.evidence.cues import token_clusters

__all__ = [
    "energy_basis",
    "fit_needs",
    "needs_table",
    "pair_table",
]


def energy_basis(a: np.ndarray, n_pieces: int) -> np.ndarray:
    """A continuous piecewise-linear basis of ``a``: ``a`` and ``max(a - k, 0)`` for the knots
    ``k`` at the inner quantiles that cut ``a`` into ``n_pieces`` equal parts. Local (a misfit at
    one energy does not bend the curve at another, as a cubic spline's does) and exact for a
    drop that is linear in the energy removed (as a step function of bins is not)."""
    a = np.asarray(a, dtype=float)
    knots = np.unique(np.percentile(a, np.linspace(0, 100, n_pieces + 1)[1:-1]))
    knots = knots[(knots > a.min()) & (knots < a.max())] if len(a) else knots
    return np.column_stack([a, *(np.clip(a - k, 0, None) for k in knots)])


def _demean(values: np.ndarray, token: np.ndarray) -> np.ndarray:
    """Each column minus its token's mean (the token fixed effects)."""
    _, inv, counts = np.unique(token, return_inverse=True, return_counts=True)
    sums = np.zeros((len(counts), values.shape[1]))
    np.add.at(sums, inv, values)
    return values - (sums / counts[:, None])[inv]


def _cross_products(x, y, cluster_index, n_clusters):
    """Per cluster, X'X (G, p, p) and X'y (G, p)."""
    xtx = np.zeros((n_clusters, x.shape[1], x.shape[1]))
    xty = np.zeros((n_clusters, x.shape[1]))
    np.add.at(xtx, cluster_index, x[:, :, None] * x[:, None, :])
    np.add.at(xty, cluster_index, x * y[:, None])
    return xtx, xty


def _stratum_fit(d, a, ov, token, cluster_index, n_clusters, n_pieces, weights):
    """One stratum's betas for each weight vector over clusters (W, K): NaN for a cue no band of
    the stratum overlaps (or every band does)."""
    k = ov.shape[1]
    usable = ov.any(axis=0) & ~ov.all(axis=0)
    out = np.full((len(weights), k), np.nan)
    if len(d) < 10 or not usable.any():
        return out, usable
    x = np.hstack([energy_basis(a, n_pieces), ov[:, usable]])
    xy = _demean(np.hstack([x, d[:, None]]), token)
    xtx, xty = _cross_products(xy[:, :-1], xy[:, -1], cluster_index, n_clusters)
    for j, w in enumerate(weights):
        beta = np.linalg.lstsq(np.tensordot(w, xtx, 1), w @ xty, rcond=None)[0]
        out[j, usable] = beta[-usable.sum() :]
    return out, usable


def fit_needs(
    d: np.ndarray,
    removed_db: np.ndarray,
    overlaps: np.ndarray,
    token: np.ndarray,
    cluster: np.ndarray,
    strata: np.ndarray | None = None,
    n_pieces: int = 30,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, np.ndarray | int]:
    """The fit of the module docstring: ``overlaps`` (n, K) indicators. With ``strata`` (the
    true class of each row's token) the model is fitted in each stratum (its own energy curve and
    token effects) and ``beta`` is the token-weighted mean of the strata's, so that a cue one
    class needs and another does not is averaged, not leaked into the energy bins. Returns
    ``beta`` (K,), ``low``, ``high`` (95 % cluster-bootstrap percentile intervals), ``p`` (K,),
    ``n_tokens``, ``n_clusters``, ``n_overlapping`` (K,) and ``share_matched`` (K,: the share of
    the cue's bands that a band over no cue matches in dB removed, :func:`_matched`). Rows with
    a non-finite ``d`` are left out; a cue no band overlaps gets NaN."""
    d, a = np.asarray(d, float), np.asarray(removed_db, float)
    ok = np.isfinite(d) & np.isfinite(a)
    d, a, ov = d[ok], a[ok], np.asarray(overlaps, float)[ok]
    token, cluster = np.asarray(token)[ok], np.asarray(cluster)[ok]
    strata = np.zeros(len(d), int) if strata is None else np.asarray(strata)[ok]
    groups, cluster_index = np.unique(cluster, return_inverse=True)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(len(groups), np.full(len(groups), 1 / len(groups)), size=n_boot)
    weights = np.vstack([np.ones(len(groups)), draws]).astype(float)
    total = np.zeros((len(weights), ov.shape[1]))
    mass = np.zeros(ov.shape[1])
    for s in np.unique(strata):
        m = strata == s
        betas, usable = _stratum_fit(
            d[m], a[m], ov[m], token[m], cluster_index[m], len(groups), n_pieces, weights
        )
        n_tok = len(np.unique(token[m]))
        total[:, usable] += n_tok * betas[:, usable]
        mass[usable] += n_tok
    with np.errstate(invalid="ignore", divide="ignore"):
        betas = total / mass
    est, boot = betas[0], betas[1:]
    low, high, se = np.full_like(est, np.nan), np.full_like(est, np.nan), np.full_like(est, np.nan)
    defined = np.isfinite(est)
    if n_boot > 1 and defined.any():
        b = boot[:, defined]
        se[defined] = np.nanstd(b, axis=0, ddof=1)
        low[defined], high[defined] = np.nanpercentile(b, [2.5, 97.5], axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(se > 0, np.abs(est) / se, np.inf)
    p = np.array(
        [math.erfc(v / math.sqrt(2)) if e else np.nan for v, e in zip(z, defined, strict=True)]
    )
    return {
        "beta": est,
        "low": low,
        "high": high,
        "p": p,
        "n_tokens": len(np.unique(token)),
        "n_clusters": len(groups),
        "n_overlapping": ov.sum(axis=0).astype(int),
        "share_matched": _matched(a, ov, strata),
    }


def _matched(a: np.ndarray, ov: np.ndarray, strata: np.ndarray) -> np.ndarray:
    """Per cue, the share of the bands over it whose dB removed some band over no cue of the
    same stratum reaches: where it is small, the energy curve cannot be told from the cue and
    beta is not identified (the fit then leans towards 0)."""
    out = np.full(ov.shape[1], np.nan)
    none = ~ov.any(axis=1)
    reach = np.full(len(a), -np.inf)
    for s in np.unique(strata):
        m = strata == s
        if (m & none).any():
            reach[m] = a[m & none].max()
    for k in range(ov.shape[1]):
        hit = ov[:, k] > 0
        if hit.any():
            out[k] = float(np.mean(a[hit] <= reach[hit]))
    return out


def _drops(bands: pd.DataFrame, score: np.ndarray) -> np.ndarray:
    """Per band row: the token's unperturbed ``score`` minus the band's (NaN on the token's own
    row)."""
    base = pd.Series(
        score[bands["band"].to_numpy() == "none"],
        index=bands.loc[bands["band"] == "none", "token"].to_numpy(),
    )
    d = base.reindex(bands["token"]).to_numpy() - score
    d[bands["band"].to_numpy() == "none"] = np.nan
    return d


def _rows(fits: list[tuple[str, dict]], names: list[str], extra: dict) -> list[dict]:
    rows = []
    for label, fit in fits:
        for j, name in enumerate(names):
            rows.append(
                extra
                | {
                    "cue": label if label else name,
                    "n_tokens": fit["n_tokens"],
                    "n_clusters": fit["n_clusters"],
                    "n_overlapping": int(fit["n_overlapping"][j]),
                    "share_matched": fit["share_matched"][j],
                    "beta": fit["beta"][j],
                    "low": fit["low"][j],
                    "high": fit["high"][j],
                    "p": fit["p"][j],
                }
            )
    return rows


def needs_table(
    bands: pd.DataFrame,
    tokens: pd.DataFrame,
    cue_names: list[str],
    class_names: list[str],
    labels: np.ndarray,
    cluster: str = "utterance",
    n_pieces: int = 30,
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Statement 1 on the drop of the true class's log-probability: one row per cue and ``any``
    (cue, n_tokens, n_clusters, n_overlapping, beta, low, high, p). ``bands``: rows of
    :func:`~spectrocam.evidence.band_occlusion.score_bands` with the overlaps of
    :func:`~spectrocam.evidence.band_occlusion.add_overlaps`; ``tokens``: one row per token (in
    ``token`` order) with ``utt_id`` (and ``word`` for ``utterance_word``); ``labels``: the
    tokens' true classes (indices into ``class_names``)."""
    lp = bands[[f"logp_{c}" for c in class_names]].to_numpy(float)
    true = np.asarray(labels)[bands["token"].to_numpy()]
    d = _drops(bands, lp[np.arange(len(lp)), true])
    rows = _fit_all(bands, d, tokens, labels, cue_names, cluster, n_pieces, n_boot, seed, {})
    return pd.DataFrame(rows)


def _fit_all(bands, d, tokens, labels, cue_names, cluster, n_pieces, n_boot, seed, extra):
    """The per-cue fit and the pooled (``any``) fit of drops ``d`` as table rows (list of
    dicts), strata the tokens' classes, on the bands that are cue or control (``clear``)."""
    keep = bands["clear"].to_numpy(bool)
    bands, d = bands[keep], d[keep]
    token = bands["token"].to_numpy()
    clusters = token_clusters(tokens, cluster)[token]
    a = bands["removed_db"].to_numpy(float)
    ov = bands[[f"overlap_{c}" for c in cue_names]].to_numpy(bool)
    strata = np.asarray(labels)[token]
    per_cue = fit_needs(d, a, ov, token, clusters, strata, n_pieces, n_boot, seed)
    pooled = bands[["overlap_any"]].to_numpy(bool)
    pooled = fit_needs(d, a, pooled, token, clusters, strata, n_pieces, n_boot, seed)
    return _rows([("", per_cue)], cue_names, extra) + _rows([("any", pooled)], ["any"], extra)


def pair_table(
    bands: pd.DataFrame,
    tokens: pd.DataFrame,
    cue_names: list[str],
    class_names: list[str],
    labels: np.ndarray,
    cluster: str = "utterance",
    n_pieces: int = 30,
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Statement 1 in its discriminative form: for each true class and each competitor, the
    fit on the drop of the log-odds ``log p_true - log p_competitor`` over that class's tokens;
    rows as :func:`needs_table` with ``true_class`` and ``competitor``."""
    lp = bands[[f"logp_{c}" for c in class_names]].to_numpy(float)
    token_class = np.asarray(labels)[bands["token"].to_numpy()]
    rows = []
    for y, true_name in enumerate(class_names):
        mine = token_class == y
        if not mine.any():
            continue
        for c, other in enumerate(class_names):
            if c == y:
                continue
            sub = bands[mine]
            d = _drops(sub, lp[mine, y] - lp[mine, c])
            extra = {"true_class": true_name, "competitor": other}
            rows += _fit_all(
                sub, d, tokens, labels, cue_names, cluster, n_pieces, n_boot, seed, extra
            )
    return pd.DataFrame(rows)
