"""Causal checks: does the classifier need the formant bands, and do the maps rank rows by what
the classifier needs?

*Band occlusion.* For a test vowel, the rows within +/- ``window_hz`` of its measured F1 (then F2,
then F3) are replaced, over the whole window, by the training set's mean spectrum on those rows.
The drop of the true class's probability (and whether the prediction stays right) is compared
with the same occlusion of equally wide bands placed at random where they overlap no formant's
band. The ratio of the mean drops (formant / random) is > 1 when the formants matter more than
other bands of the same width.

*Deletion curves.* Rows are replaced by the training mean in the order a map ranks them (its
profile, most important first; ties broken at random) and, as a control, in random order; the
true class's probability is recorded after each step. The area between the random curve and
the method's curve (fractions of rows on the x axis) is the method's *faithfulness*: positive
when the rows it ranks first are the rows the classifier needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from spectrocam.config import Section
from spectrocam.keys import join
from spectrocam.maps import MapFile
from spectrocam.stats import cluster_bootstrap_ci

__all__ = [
    "CausalConfig",
    "causal_segments",
    "map_deletion_orders",
    "random_bands",
    "occlusion_masks",
    "occlusion_drops",
    "deletion_orders",
    "deletion_curves",
    "curve_area",
    "training_mean_spectrum",
    "run_causal_tests",
    "summarise_occlusion",
    "summarise_deletion",
]


@dataclass(frozen=True)
class CausalConfig(Section):
    """The ``causal`` section."""

    SECTIONS = ("causal",)

    random_bands: int = 3
    deletion_steps: int = 10
    max_segments: int | None = None
    bootstrap: int = 2000
    seed: int = 0


def causal_segments(
    maps: MapFile, formants: pd.DataFrame, max_segments: int | None, seed: int
) -> pd.DataFrame:
    """The test vowels with formants that every method of ``maps`` has maps of (at most
    ``max_segments``, a seeded random subset), in the file's order: their row in the map file
    (``row``), store index, utterance and F1-F3."""
    seg = maps.segments.iloc[maps.common_rows()].assign(row=maps.common_rows())
    merged = join(seg, formants, ["f1_hz", "f2_hz", "f3_hz"])
    merged = merged[merged[["f1_hz", "f2_hz", "f3_hz"]].notna().any(axis=1)]
    if max_segments and len(merged) > max_segments:
        merged = merged.sample(max_segments, random_state=seed).sort_values("row")
    return merged.reset_index(drop=True)


def map_deletion_orders(
    maps: MapFile, rows: np.ndarray, rng: np.random.Generator
) -> list[dict[str, np.ndarray]]:
    """:func:`deletion_orders` of every method's true-class profile, for the map file's
    ``rows``."""
    profiles = {m: maps.profiles(m, "true", rows) for m in maps.methods}
    return [deletion_orders({m: p[k] for m, p in profiles.items()}, rng) for k in range(len(rows))]


def random_bands(
    freqs_hz: np.ndarray,
    formants_hz: Sequence[float],
    window_hz: float,
    n: int,
    rng: np.random.Generator,
) -> list[float]:
    """Centres of ``n`` bands of +/- ``window_hz`` inside the axis whose rows overlap no
    formant's band (fewer when the axis has no room)."""
    freqs_hz = np.asarray(freqs_hz)
    lo, hi = freqs_hz[0] + window_hz, freqs_hz[-1] - window_hz
    candidates = freqs_hz[(freqs_hz >= lo) & (freqs_hz <= hi)]
    defined = [f for f in formants_hz if np.isfinite(f)]
    ok = np.ones(len(candidates), dtype=bool)
    for f in defined:
        ok &= np.abs(candidates - f) > 2 * window_hz
    pool = candidates[ok]
    if not len(pool):
        return []
    return list(rng.choice(pool, size=min(n, len(pool)), replace=False))


def occlusion_masks(freqs_hz: np.ndarray, centres_hz: Sequence[float], window_hz: float):
    """(len(centres), F) boolean rows to occlude for each band centre."""
    freqs_hz = np.asarray(freqs_hz)
    return np.abs(freqs_hz[None, :] - np.asarray(centres_hz, dtype=float)[:, None]) <= window_hz


@torch.no_grad()
def _probabilities(model, x: torch.Tensor, labels: torch.Tensor, batch_size: int, dtype=None):
    from spectrocam.device import autocast

    out = []
    for lo in range(0, len(x), batch_size):
        with autocast(x.device, dtype):
            logits = model(x[lo : lo + batch_size])
        out.append(torch.softmax(logits.float(), 1))
    probs = torch.cat(out)
    return probs.gather(1, labels[:, None])[:, 0], probs.argmax(1) == labels


def occlusion_drops(
    model,
    x: torch.Tensor,
    label: int,
    masks: np.ndarray,
    mean_spectrum: torch.Tensor,
    batch_size: int = 64,
    dtype: torch.dtype | None = None,
) -> tuple[float, bool, np.ndarray, np.ndarray]:
    """The true class's probability and correctness of one segment ``x`` (1, F, T), and the
    drop of the probability and of correctness (1 - 0 = 1: an occlusion made it wrong) for
    each mask of rows."""
    if not len(masks):
        return float("nan"), False, np.zeros(0), np.zeros(0)
    variants = x.repeat(len(masks) + 1, 1, 1, 1)
    m = torch.from_numpy(np.asarray(masks)).to(x.device)
    fill = mean_spectrum.to(x.device)[None, None, :, None].expand_as(variants[1:])
    variants[1:] = torch.where(m[:, None, :, None], fill, variants[1:])
    labels = torch.full((len(variants),), int(label), device=x.device)
    prob, correct = _probabilities(model, variants, labels, batch_size, dtype)
    prob, correct = prob.cpu().numpy(), correct.cpu().numpy()
    return (
        float(prob[0]),
        bool(correct[0]),
        prob[0] - prob[1:],
        (correct[0].astype(float) - correct[1:].astype(float)),
    )


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


def deletion_curves(
    model,
    x: torch.Tensor,
    label: int,
    orders: Mapping[str, np.ndarray],
    mean_spectrum: torch.Tensor,
    steps: int = 10,
    batch_size: int = 64,
    dtype: torch.dtype | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Fractions of rows removed (0 .. 1, ``steps + 1`` points) and, per order, the true
    class's probability after each step."""
    n_rows = x.shape[-2]
    fractions = np.linspace(0, 1, steps + 1)
    counts = np.round(fractions * n_rows).astype(int)
    names = list(orders)
    masks = np.zeros((len(names), len(counts), n_rows), dtype=bool)
    for i, name in enumerate(names):
        for j, c in enumerate(counts):
            masks[i, j, orders[name][:c]] = True
    flat = masks.reshape(-1, n_rows)
    variants = x.repeat(len(flat), 1, 1, 1)
    m = torch.from_numpy(flat).to(x.device)
    fill = mean_spectrum.to(x.device)[None, None, :, None].expand_as(variants)
    variants = torch.where(m[:, None, :, None], fill, variants)
    labels = torch.full((len(variants),), int(label), device=x.device)
    prob, _ = _probabilities(model, variants, labels, batch_size, dtype)
    prob = prob.cpu().numpy().reshape(len(names), len(counts))
    return fractions, {name: prob[i] for i, name in enumerate(names)}


def curve_area(fractions: np.ndarray, values: np.ndarray) -> float:
    """Area under a curve by the trapezoid rule."""
    return float(np.trapezoid(values, fractions))


def training_mean_spectrum(reader, train_indices, chunk: int = 256) -> np.ndarray:
    """Mean over the training segments and their frames of every row (F,), in dB."""
    total, count = None, 0
    idx = np.sort(np.asarray(train_indices))
    for lo in range(0, len(idx), chunk):
        block = reader.batch(idx[lo : lo + chunk]).numpy()[:, 0]  # (b, F, T)
        s = block.sum(axis=(0, 2))
        total = s if total is None else total + s
        count += block.shape[0] * block.shape[2]
    return total / count


def run_causal_tests(
    model,
    reader,
    indices: np.ndarray,
    formants_hz: np.ndarray,
    orders_by_segment: list[dict[str, np.ndarray]],
    mean_spectrum: np.ndarray,
    window_hz: float,
    n_random: int,
    steps: int,
    seed: int,
    device,
    batch_size: int = 64,
    progress=None,
    dtype: torch.dtype | None = None,
):
    """Band occlusion and deletion curves for the segments ``indices``.

    ``formants_hz`` (N, 3) holds each segment's F1-F3; ``orders_by_segment`` each segment's row
    orders per method (from :func:`deletion_orders`). Returns two row lists: occlusions
    (segment, band kind, formant, centre, drops) and deletion areas (segment, order, area).
    """
    rng = np.random.default_rng(seed)
    freqs = reader.freqs_hz
    mean_t = torch.from_numpy(np.asarray(mean_spectrum, dtype=np.float32))
    occlusions, deletions = [], []
    for i, idx in enumerate(indices):
        x = reader.batch([idx]).to(device)
        label = int(reader.labels[idx])
        centres, kinds = [], []
        for k, f in enumerate(formants_hz[i]):
            if np.isfinite(f):
                centres.append(f)
                kinds.append(("formant", f"F{k + 1}"))
                for c in random_bands(freqs, formants_hz[i], window_hz, n_random, rng):
                    centres.append(c)
                    kinds.append(("random", f"F{k + 1}"))
        masks = occlusion_masks(freqs, centres, window_hz)
        p0, c0, dp, dc = occlusion_drops(model, x, label, masks, mean_t, batch_size, dtype)
        for (kind, name), centre, a, b in zip(kinds, centres, dp, dc, strict=True):
            occlusions.append(
                {
                    "row": i,
                    "segment_index": int(idx),
                    "kind": kind,
                    "formant": name,
                    "centre_hz": float(centre),
                    "p_true": p0,
                    "correct": c0,
                    "drop_p": float(a),
                    "drop_correct": float(b),
                }
            )
        fractions, curves = deletion_curves(
            model, x, label, orders_by_segment[i], mean_t, steps, batch_size, dtype
        )
        random_area = curve_area(fractions, curves["random"])
        for name, curve in curves.items():
            area = curve_area(fractions, curve)
            deletions.append(
                {
                    "row": i,
                    "segment_index": int(idx),
                    "order": name,
                    "area": area,
                    "faithfulness": random_area - area,
                    "curve": " ".join(f"{v:.4f}" for v in curve),
                }
            )
        if progress:
            progress(i + 1, len(indices))
    return occlusions, deletions


def summarise_occlusion(table, n_boot: int, seed: int, level: float = 0.95):
    """Per formant: mean drops for the formant band and the random bands, and the ratio of the
    mean drops with a bootstrap interval over utterances (``table`` needs ``utt_id``)."""
    rows = []
    for name, g in table.groupby("formant"):
        f = g[g.kind == "formant"]
        r = g[g.kind == "random"]
        row = {
            "formant": name,
            "n_segments": f["row"].nunique(),
            "n_utterances": f["utt_id"].nunique(),
            "n_random_bands": len(r),
        }
        for what in ("drop_p", "drop_correct"):
            row[f"{what}_formant"] = float(f[what].mean())
            row[f"{what}_random"] = float(r[what].mean())
            ratio, low, high = ratio_bootstrap(f, r, what, n_boot, seed, level)
            row[f"{what}_ratio"], row[f"{what}_ratio_low"], row[f"{what}_ratio_high"] = (
                ratio,
                low,
                high,
            )
            # The ratio is unstable when random bands barely matter (a denominator near 0):
            # the difference of the mean drops, with the same resampling, is not.
            diff, low, high = ratio_bootstrap(f, r, what, n_boot, seed, level, difference=True)
            row[f"{what}_diff"], row[f"{what}_diff_low"], row[f"{what}_diff_high"] = (
                diff,
                low,
                high,
            )
        rows.append(row)
    return pd.DataFrame(rows)


def ratio_bootstrap(
    num, den, column: str, n_boot: int, seed: int, level: float = 0.95, difference: bool = False
):
    """Ratio (or, with ``difference``, the difference) of the means of ``column`` in two
    tables, with a percentile interval from resampling utterances (the same drawn utterances
    for both tables).

    A ratio has no finite interval when its denominator's own interval reaches 0 (the ratio's
    resampled values then jump between large positive and negative numbers): the interval is
    then returned as (-inf, inf), which the report prints as unbounded."""
    utts = np.union1d(num["utt_id"].unique(), den["utt_id"].unique())
    index = {u: k for k, u in enumerate(utts)}
    ns = np.bincount(num["utt_id"].map(index), weights=num[column], minlength=len(utts))
    nc = np.bincount(num["utt_id"].map(index), minlength=len(utts)).astype(float)
    ds = np.bincount(den["utt_id"].map(index), weights=den[column], minlength=len(utts))
    dc = np.bincount(den["utt_id"].map(index), minlength=len(utts)).astype(float)

    def ratio(w):
        """Ratios (or differences) of the weighted means, for one weight vector or a
        (draws, utterances) matrix of them; also the denominators."""
        n = (w @ ns) / np.maximum(w @ nc, 1e-12)
        d = (w @ ds) / np.maximum(w @ dc, 1e-12)
        if difference:
            return n - d, d
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(d != 0, n / np.where(d != 0, d, 1), np.nan), d

    point = float(ratio(np.ones(len(utts)))[0])
    if len(utts) < 2 or not np.isfinite(point):
        return point, float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(len(utts), np.full(len(utts), 1 / len(utts)), size=n_boot)
    boot, dens = ratio(draws.astype(float))
    alpha = (1 - level) / 2
    if not difference:
        d_low, d_high = np.quantile(dens, [alpha, 1 - alpha])
        if d_low <= 0 <= d_high:
            return point, float("-inf"), float("inf")
    boot = boot[np.isfinite(boot)]
    low, high = np.quantile(boot, [alpha, 1 - alpha]) if len(boot) else (np.nan, np.nan)
    return point, float(low), float(high)


def summarise_deletion(table, n_boot: int, seed: int, level: float = 0.95):
    """Per order (method, and random): mean area under the deletion curve and mean
    faithfulness (random area - method area) with bootstrap intervals over utterances."""
    rows = []
    for name, g in table.groupby("order", sort=False):
        area = cluster_bootstrap_ci(g["area"], g["utt_id"], n_boot, level, seed)
        faith = cluster_bootstrap_ci(g["faithfulness"], g["utt_id"], n_boot, level, seed)
        rows.append(
            {
                "method": name,
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
