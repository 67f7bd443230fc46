"""Does a map rank a token's cue cells above its other cells, more than a control model's does?

Formants are where a vowel's energy is, so a map that follows the energy ranks them high without
saying anything about the network; and a share of map mass depends on the exponent of the
spectrum it is compared with. Both cancel when the same method's maps of the same tokens are
compared between the trained model and a control model (shuffled labels, randomised weights):
they share the input, the architecture and the method's smoothing, not what was learnt.

**Per token** (:func:`token_aucs`), on the method's own cells: every (frequency cell, time cell)
pair whose time cell lies inside the phone (the cells of :meth:`MapFile.time_cells`). A cell is *in
cue k* when its frequency cell's centre (Hz, :func:`cell_centres_hz`) lies in the token's interval
``[lo_k, hi_k]`` Hz (:mod:`spectrocam.evidence.cues`: ``F_k +/- window_hz`` for the formants, an
undefined formant having no cell, or fixed regions such as the voicing bar). *Negative* cells are in
no cue. ``AUC_k`` is the probability that a cell of cue k outranks a negative cell, ties counting
one half (Mann-Whitney U over ``n_pos * n_neg``); ``any`` takes the union of the cues. NaN without a
positive or a negative cell. The map's signed values are ranked as they are, so any increasing
function of a map has the same AUC and a map that is negative everywhere still has one.

**The contrast** (:func:`rank_contrasts`): per cue, the mean over tokens of
``AUC(trained) - AUC(control)``, paired by ``phone_id``, with a 95 % cluster-bootstrap interval
and a two-sided cluster sign-flip p-value (:mod:`spectrocam.stats`); clusters are utterances, or
utterance x word type (:func:`spectrocam.evidence.cues.token_clusters`).

**Methods counted once** (:func:`identical_method_groups`): at a global-average-pooled last
stage CAM, Grad-CAM and HiResCAM give one map up to a positive factor per token, so their AUCs
are equal; groups are found from the AUCs, never assumed.

Class-contrastive templates of the same maps are :mod:`spectrocam.evidence.templates`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from spectrocam.evidence.cues import token_clusters
from spectrocam.explain.grid import cell_times
from spectrocam.explain.maps import MapFile
from spectrocam.keys import PHONE_ID, join
from spectrocam.stats import cluster_bootstrap_ci, cluster_sign_flip

__all__ = [
    "TOKEN_COLUMNS",
    "cell_centres_hz",
    "inside_masks",
    "token_aucs",
    "auc_table",
    "method_cells",
    "map_file_aucs",
    "auc_tables",
    "table_cues",
    "rank_contrasts",
    "identical_method_groups",
    "identical_map_groups",
]

TOKEN_COLUMNS = ("phone_id", "utt_id", "class_name", "word")
_CHUNK_VALUES = 4_000_000  # values per chunk of tokens in token_aucs


def cell_centres_hz(freqs_hz: np.ndarray, n_cells: int, stride: int) -> np.ndarray:
    """Centre (Hz) of each of ``n_cells`` frequency cells of ``stride`` rows: cell ``i`` is
    centred on row ``i * stride`` of the grid ``freqs_hz`` (extended at its step), as time cells
    are on frames (:func:`spectrocam.explain.grid.cell_times`)."""
    return cell_times(freqs_hz, n_cells, stride)


def inside_masks(time_cells: Sequence[np.ndarray], n_time: int) -> np.ndarray:
    """Lists of time-cell indices (:meth:`MapFile.time_cells`) -> (N, n_time) boolean masks."""
    mask = np.zeros((len(time_cells), n_time), dtype=bool)
    for i, cells in enumerate(time_cells):
        mask[i, np.asarray(cells, dtype=int)] = True
    return mask


def _cue_cells(cell_hz: np.ndarray, intervals: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """(N, K + 1, f): the frequency cells of each cue and, last, of their union."""
    cell_hz = np.asarray(cell_hz, dtype=float)
    cues = [
        (cell_hz[None, :] >= np.asarray(v, float)[:, :1])
        & (cell_hz[None, :] <= np.asarray(v, float)[:, 1:])
        for v in intervals.values()
    ]
    cues = np.stack(cues, 1) if cues else np.zeros((n, 0, len(cell_hz)), dtype=bool)
    return np.concatenate([cues, cues.any(1, keepdims=True)], 1)


def _negatives_below(values: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """(B, C) values and negative-cell masks -> for every cell, the number of negative cells of
    its row with a smaller value plus half the number with an equal one."""
    b, c = values.shape
    order = np.argsort(values, axis=1, kind="stable")
    v = np.take_along_axis(values, order, 1)
    seen = np.zeros((b, c + 1))  # seen[:, j]: negatives among the first j sorted cells
    seen[:, 1:] = np.cumsum(np.take_along_axis(negative, order, 1), axis=1)
    at = np.arange(c)
    new = np.ones((b, c), dtype=bool)
    new[:, 1:] = v[:, 1:] != v[:, :-1]
    last = np.ones((b, c), dtype=bool)
    last[:, :-1] = new[:, 1:]
    start = np.maximum.accumulate(np.where(new, at, 0), axis=1)  # first cell of its tie group
    end = np.minimum.accumulate(np.where(last, at, c)[:, ::-1], axis=1)[:, ::-1]  # last cell
    below = np.take_along_axis(seen, start, 1)
    tied = np.take_along_axis(seen, end + 1, 1) - below
    out = np.empty((b, c))
    np.put_along_axis(out, order, below + tied / 2, 1)
    return out


def token_aucs(
    maps: np.ndarray,
    cell_hz: np.ndarray,
    inside: np.ndarray,
    intervals: Mapping[str, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Per token, the AUC of each cue's cells against the negative cells, and of their union.

    ``maps``: (N, f, t) signed values on cells; ``cell_hz``: (f,) frequency-cell centres in Hz;
    ``inside``: (N, t) time cells inside the phone; ``intervals``: per cue an (N, 2) array of
    (lo, hi) in Hz. Cells without a finite value are left out. Returns ``(aucs, n_cells)``:
    (N, K + 1) AUCs (cues in order, then ``any``; NaN without a positive or a negative cell)
    and (N,) the number of cells ranked.
    """
    maps = np.asarray(maps, dtype=float)
    n, f, t = maps.shape
    groups = _cue_cells(cell_hz, intervals, n)  # (N, K + 1, f)
    aucs = np.full((n, groups.shape[1]), np.nan)
    n_cells = np.zeros(n, dtype=np.int64)
    step = max(1, _CHUNK_VALUES // (f * t * groups.shape[1]))
    for lo in range(0, n, step):
        part = slice(lo, lo + step)
        values = maps[part]
        used = np.asarray(inside[part], dtype=bool)[:, None, :] & np.isfinite(values)
        negative = used & ~groups[part, -1][:, :, None]
        b = len(values)
        score = _negatives_below(
            np.where(used, values, np.inf).reshape(b, -1), negative.reshape(b, -1)
        )
        positive = (groups[part][:, :, :, None] & used[:, None]).reshape(b, groups.shape[1], -1)
        n_pos = positive.sum(-1)
        n_neg = negative.reshape(b, -1).sum(-1)[:, None]
        total = (positive * score[:, None, :]).sum(-1)
        ok = (n_pos > 0) & (n_neg > 0)
        aucs[part] = np.where(ok, total / np.maximum(n_pos * n_neg, 1), np.nan)
        n_cells[part] = used.reshape(b, -1).sum(-1)
    return aucs, n_cells


def auc_table(
    tokens: pd.DataFrame,
    maps: np.ndarray,
    cell_hz: np.ndarray,
    inside: np.ndarray,
    intervals: Mapping[str, np.ndarray],
) -> pd.DataFrame:
    """:func:`token_aucs` as a table: the columns of :data:`TOKEN_COLUMNS` that ``tokens``
    (one row per map, in order) has, ``n_cells`` (cells ranked), ``auc_<cue>`` and ``auc_any``."""
    aucs, n_cells = token_aucs(maps, cell_hz, inside, intervals)
    out = tokens[[c for c in TOKEN_COLUMNS if c in tokens]].reset_index(drop=True)
    out["n_cells"] = n_cells
    for k, name in enumerate([*intervals, "any"]):
        out[f"auc_{name}"] = aucs[:, k]
    return out


def method_cells(maps: MapFile, method: str, rows, which: str):  # pragma: no mutate block
    """``method``'s maps of the map file's ``rows`` (default: all it has) as the arrays that the
    statistics take: ``(rows, maps (n, f, t), frequency-cell centres in Hz (f,), inside-phone
    time-cell masks (n, t))``."""
    rows = maps.rows(method) if rows is None else np.asarray(rows, dtype=np.int64)
    cells = maps.cells(method, which)[maps.positions(method, rows)]
    stride = int(maps.method_attrs(method)["freq_stride"])
    cell_hz = cell_centres_hz(maps.freqs_hz, cells.shape[1], stride)
    inside = inside_masks(maps.time_cells(method, rows), cells.shape[2])
    return rows, cells, cell_hz, inside


def map_file_aucs(
    maps: MapFile,
    method: str,
    intervals: Mapping[str, np.ndarray],
    rows=None,
    which: str = "true",
) -> pd.DataFrame:  # pragma: no mutate block
    """:func:`auc_table` of ``method``'s maps of the map file's ``rows`` (default: all the method
    has), ``intervals`` given for those rows in that order."""
    rows, cells, cell_hz, inside = method_cells(maps, method, rows, which)
    return auc_table(maps.segments.iloc[rows], cells, cell_hz, inside, intervals)


def auc_tables(
    maps: MapFile,
    cues_of: Callable[[pd.DataFrame], Mapping[str, np.ndarray]],
    methods: Sequence[str] | None = None,
) -> dict[str, pd.DataFrame]:  # pragma: no mutate block
    """Per method (default: all of the file's), :func:`map_file_aucs` of every token it has maps
    of; ``cues_of(tokens)`` gives the cue intervals of a table of tokens, in its order."""
    out = {}
    for method in methods or maps.methods:
        rows = maps.rows(method)
        out[method] = map_file_aucs(maps, method, cues_of(maps.segments.iloc[rows]), rows)
    return out


def table_cues(table: pd.DataFrame) -> list[str]:
    """The cues of an AUC table (its ``auc_`` columns, ``any`` last)."""
    names = [c[4:] for c in table.columns if c.startswith("auc_") and c != "auc_any"]
    return names + (["any"] if "auc_any" in table else [])


def rank_contrasts(
    trained: pd.DataFrame,
    control: pd.DataFrame,
    cues: Sequence[str] | None = None,
    cluster: str = "utterance",
    n_boot: int = 2000,
    n_flips: int = 10000,
    seed: int = 0,
) -> pd.DataFrame:
    """Per cue (default: every cue of ``trained``, ``any`` last): the mean over tokens of
    ``AUC(trained) - AUC(control)``, two AUC tables of one method paired by ``phone_id``.

    Columns: ``cue``, ``n_tokens`` (tokens in both with a finite difference), ``n_clusters``,
    ``n_left_out`` (tokens in both whose difference is NaN), ``auc_trained``, ``auc_control``
    (their means over the same tokens), ``difference``, ``low``, ``high`` (95 % bootstrap
    interval resampling ``cluster``s, :func:`token_clusters`) and ``p`` (two-sided cluster
    sign-flip test, :func:`spectrocam.stats.cluster_sign_flip`)."""
    cues = list(table_cues(trained) if cues is None else cues)
    clusters = token_clusters(trained, cluster)
    ours = trained.assign(_cluster=clusters)
    theirs = control[[PHONE_ID, *[f"auc_{c}" for c in cues]]]
    paired = join(ours, theirs.rename(columns=lambda c: f"control_{c}" if c != PHONE_ID else c))
    rows = []
    for cue in cues:
        a = paired[f"auc_{cue}"].to_numpy(float)
        b = paired[f"control_auc_{cue}"].to_numpy(float)
        diff = a - b
        ok = np.isfinite(diff)
        groups = paired["_cluster"].to_numpy()[ok]
        mean, low, high = cluster_bootstrap_ci(diff[ok], groups, n_boot, 0.95, seed)
        _, p = cluster_sign_flip(diff[ok], groups, n_flips, seed)
        rows.append(
            {
                "cue": cue,
                "n_tokens": int(ok.sum()),
                "n_clusters": int(len(np.unique(groups))),
                "n_left_out": int((~ok).sum()),
                "auc_trained": float(a[ok].mean()) if ok.any() else np.nan,
                "auc_control": float(b[ok].mean()) if ok.any() else np.nan,
                "difference": mean,
                "low": low,
                "high": high,
                "p": p,
            }
        )
    return pd.DataFrame(rows)


def _same_aucs(a: pd.DataFrame, b: pd.DataFrame, atol: float) -> bool:
    """Whether two AUC tables agree within ``atol`` on their common tokens and cues (NaN where
    the other is NaN); False without a common token."""
    columns = [c for c in a.columns if c.startswith("auc_") and c in b.columns]
    both = a[[PHONE_ID, *columns]].merge(b[[PHONE_ID, *columns]], on=PHONE_ID, validate="1:1")
    if not len(both) or not columns:
        return False
    x = both[[f"{c}_x" for c in columns]].to_numpy(float)
    y = both[[f"{c}_y" for c in columns]].to_numpy(float)
    return bool(np.all((np.isnan(x) & np.isnan(y)) | (np.abs(x - y) <= atol)))


def identical_method_groups(
    tables_by_method: Mapping[str, pd.DataFrame], atol: float = 1e-9
) -> list[list[str]]:
    """Methods whose per-token AUCs (every ``auc_`` column, on their common tokens) agree within
    ``atol``, grouped; each group is led by its first method in the mapping's order (the map
    file's, which is the registry's), and a method joins the first group whose leader it
    matches. Groups in order of their leaders."""
    groups: list[list[str]] = []
    for method, table in tables_by_method.items():
        for group in groups:
            if _same_aucs(tables_by_method[group[0]], table, atol):
                group.append(method)
                break
        else:
            groups.append([method])
    return groups


def identical_map_groups(
    maps: MapFile, methods: Sequence[str] | None = None, tol: float = 1e-5
):  # pragma: no mutate block
    """Methods whose true-class maps are one map up to a positive factor per token (correlation
    above ``1 - tol`` on every common token: float rounding can reorder near-ties, which would
    split :func:`identical_method_groups`), grouped as that function groups them."""
    methods = list(methods or maps.methods)
    flat = {}
    for m in methods:
        rows, cells = maps.rows(m), np.asarray(maps.cells(m, "true"), float)
        flat[m] = dict(zip(rows.tolist(), cells.reshape(len(rows), -1), strict=True))

    def same(a: str, b: str) -> bool:
        common = sorted(set(flat[a]) & set(flat[b]))
        if not common or flat[a][common[0]].shape != flat[b][common[0]].shape:
            return False
        x = np.stack([flat[a][r] for r in common])
        y = np.stack([flat[b][r] for r in common])
        x, y = x - x.mean(1, keepdims=True), y - y.mean(1, keepdims=True)
        denom = np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1)
        corr = np.where(denom > 0, (x * y).sum(1) / np.where(denom > 0, denom, 1), 1.0)
        return bool((corr > 1 - tol).all())

    groups: list[list[str]] = []
    for m in methods:
        for group in groups:
            if same(group[0], m):
                group.append(m)
                break
        else:
            groups.append([m])
    return groups
