"""Causal checks: does the classifier need the formant bands, and do the maps rank rows by what
the classifier needs?

*Band occlusion with matched controls.* For a test vowel and each half-width of
``half_widths_hz`` (``agreement.window_hz``, the headline, is always among them), the band of
each measured formant (F1, F2, F3) is occluded, and so is each of its *own* matched controls:
the same number of rows, centred 2-3 band widths (``control_offsets``) below and above it,
inside the experiment's axis and clear of every formant band of the segment. The fill is the
segment's local floor, ``min(x, low percentile of the rows around the band, per frame)``, so an
occlusion never adds energy; its change in dB is reported. Placement, fill and what happens when
no control fits: :mod:`spectrocam.evidence.occlusion`.

The drops of the true class's probability (``drop_p``), of its log-probability (``drop_logp``,
which a confident model's saturated softmax does not hide) and of correctness (``drop_correct``:
1 when the occlusion made a right prediction wrong) are summarised per formant and half-width:
the mean drop of the formant band, of its controls (the mean of a segment's controls first),
and their paired difference (formant - controls, per segment) with a bootstrap interval that
resamples utterances (:func:`spectrocam.stats.cluster_bootstrap_ci`). The difference is > 0
when the classifier needs the formant more than the rows just beside it.

*Deletion curves.* Rows are removed (filled with each frame's floor over the segment's rows) in
the order a map ranks them (its profile, most important first; ties broken at random) and in
three baseline orders: random, by energy (loudest rows first) and low to high frequency; the
true class's probability is recorded after each step. The area between the random curve and an
order's curve (fractions of rows on the x axis) is its *faithfulness*: positive when the rows it
ranks first are the rows the classifier needs. The energy and low-to-high baselines say whether
a map does better than orderings that know nothing of the model.

Every perturbation of a group of segments (occlusions at every half-width, every deletion step
of every order) goes through the model in one stream of batches of at most the inference batch
size (:func:`spectrocam.evidence.occlusion.score_perturbations`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from spectrocam.config import ConfigError, Section
from spectrocam.evidence.occlusion import (
    band_rows,
    deletion_masks,
    deletion_orders,
    fill_change_db,
    local_floor,
    matched_controls,
    occupied_rows,
    score_perturbations,
    signal_orders,
)
from spectrocam.evidence.sensitivity import call
from spectrocam.explain.maps import MapFile
from spectrocam.keys import join
from spectrocam.stats import cluster_bootstrap_ci

__all__ = [
    "CausalConfig",
    "causal_segments",
    "map_deletion_orders",
    "half_widths",
    "segment_perturbations",
    "run_causal_tests",
    "curve_area",
    "summarise_occlusion",
    "summarise_deletion",
    "occlusion_ceilings",
]

FORMANTS = ("F1", "F2", "F3")


@dataclass(frozen=True)
class CausalConfig(Section):
    """The ``causal`` section."""

    SECTIONS = ("causal",)

    half_widths_hz: tuple[float, ...] = (75.0, 150.0, 300.0)
    control_offsets: tuple[float, ...] = (2.0, 3.0)
    fill_percentile: float = 10.0
    deletion_steps: int = 10
    max_segments: int | None = None
    bootstrap: int = 2000
    seed: int = 0


def half_widths(cfg: CausalConfig, window_hz: float) -> list[float]:
    """The half-widths to occlude: ``cfg.half_widths_hz`` and the headline ``window_hz``."""
    widths = sorted({float(w) for w in cfg.half_widths_hz} | {float(window_hz)})
    if widths[0] <= 0 or not cfg.control_offsets or min(cfg.control_offsets) < 1:
        raise ConfigError(
            "causal: every half-width must be > 0 Hz and every control offset at least 1 band "
            "width (a control must not overlap its own formant band)"
        )
    return widths


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
    """:func:`~spectrocam.evidence.occlusion.deletion_orders` of every method's true-class
    profile, for the map file's ``rows``."""
    profiles = {m: maps.profiles(m, "true", rows) for m in maps.methods}
    return [deletion_orders({m: p[k] for m, p in profiles.items()}, rng) for k in range(len(rows))]


def segment_perturbations(
    x: np.ndarray,
    freqs_hz: np.ndarray,
    formants_hz,
    widths: list[float],
    offsets,
    percentile: float,
    orders: dict[str, np.ndarray],
    steps: int,
):
    """Every perturbation of one segment ``x`` (F, T, dB): ``(occlusions, masks, fills,
    deletions)``. ``masks`` (V, F) and ``fills`` (V, T) start with the unperturbed segment (no
    row), then one per occlusion (``occlusions``: a dict per band, in the same order; a formant
    with no row on the axis gets a row of kind ``outside`` and no perturbation), then
    ``steps - 1`` per deletion order (``deletions``: the order names, in that order), and last
    the segment with every row removed (the last step of every order; none when ``orders`` is
    empty: occlusions only)."""
    n_rows, n_frames = x.shape
    masks, fills, occlusions = [np.zeros(n_rows, bool)], [np.zeros(n_frames, np.float32)], []
    for w in widths:
        occupied = occupied_rows(freqs_hz, formants_hz, w)
        for name, f in zip(FORMANTS, formants_hz, strict=True):
            if not np.isfinite(f):
                continue
            band = band_rows(freqs_hz, f, w)
            base = {"half_width_hz": w, "formant": name, "formant_hz": float(f)}
            if not len(band):
                occlusions.append(base | {"kind": "outside", "offset": 0.0, "n_rows": 0})
                continue
            controls = matched_controls(band, occupied, offsets)
            for kind, offset, rows in [("formant", 0.0, band)] + [
                ("control", k, r) for k, r in controls
            ]:
                fill = local_floor(x, rows, percentile)
                delta, energy = fill_change_db(x, rows, fill)
                mask = np.zeros(n_rows, bool)
                mask[rows] = True
                masks.append(mask)
                fills.append(fill)
                occlusions.append(
                    base
                    | {
                        "kind": kind,
                        "offset": offset,
                        "n_controls": len(controls),
                        "centre_hz": float(freqs_hz[rows].mean()),
                        "n_rows": len(rows),
                        "delta_db": delta,
                        "energy_db": energy,
                    }
                )
    if orders:
        floor = local_floor(x, None, percentile)
        for order in orders.values():  # the last step (every row removed) is shared by all
            masks.extend(deletion_masks(order, steps)[1][:-1])
            fills.extend([floor] * (steps - 1))
        masks.append(np.ones(n_rows, bool))
        fills.append(floor)
    return occlusions, np.array(masks), np.array(fills), list(orders)


def run_causal_tests(
    model,
    reader,
    indices: np.ndarray,
    formants_hz: np.ndarray,
    orders_by_segment: list[dict[str, np.ndarray]],
    cfg: CausalConfig,
    widths: list[float],
    device,
    batch_size: int = 64,
    progress=None,
    dtype: torch.dtype | None = None,
    deletion: bool = True,
):
    """Band occlusion with matched controls and deletion curves for the segments ``indices``,
    ``batch_size`` segments at a time, all of their perturbations in one stream of batches
    (``progress(k)`` is called with the number of segments each group finished).

    ``formants_hz`` (N, 3) holds each segment's F1-F3; ``orders_by_segment`` each segment's row
    orders per method (:func:`map_deletion_orders`; the energy and low-to-high baselines are
    added here). Returns two row lists: occlusions and deletion areas (empty, and
    ``orders_by_segment`` unused, with ``deletion=False``: the occlusions alone, as the ceiling
    sensitivity needs them)."""
    occlusions, deletions = [], []
    indices = np.asarray(indices)
    for lo in range(0, len(indices), batch_size):
        group = indices[lo : lo + batch_size]
        x = reader.batch(group)
        parts = [
            segment_perturbations(
                seg,
                reader.freqs_hz,
                formants_hz[lo + g],
                widths,
                cfg.control_offsets,
                cfg.fill_percentile,
                orders_by_segment[lo + g] | signal_orders(seg) if deletion else {},
                cfg.deletion_steps,
            )
            for g, seg in enumerate(x[:, 0].numpy())
        ]
        sizes = [len(p[1]) for p in parts]
        logp, correct = score_perturbations(
            model,
            x.to(device),
            reader.labels[group],
            np.repeat(np.arange(len(group)), sizes),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
            batch_size,
            dtype,
        )
        ends = np.cumsum(sizes)
        for g, (occ, _, _, names) in enumerate(parts):
            span = slice(ends[g] - sizes[g], ends[g])
            occ_rows, del_rows = _segment_rows(
                lo + g, int(group[g]), occ, names, logp[span], correct[span], cfg.deletion_steps
            )
            occlusions.extend(occ_rows)
            deletions.extend(del_rows)
        if progress:
            progress(len(group))
    return occlusions, deletions


def _segment_rows(row, index, occ, names, logp, correct, steps):
    """The occlusion and deletion rows of one segment from its perturbations' scores (the first
    is the unperturbed segment)."""
    lp0, c0 = float(logp[0]), bool(correct[0])
    p0 = float(np.exp(lp0))
    occ_rows, k = [], 1
    for o in occ:
        r = {"row": row, "segment_index": index, "p_true": p0, "correct": c0} | o
        if o["kind"] == "outside":
            r |= {"drop_p": np.nan, "drop_logp": np.nan, "drop_correct": np.nan}
        else:
            r |= {
                "drop_p": p0 - float(np.exp(logp[k])),
                "drop_logp": lp0 - float(logp[k]),
                "drop_correct": float(c0) - float(correct[k]),
            }
            k += 1
        occ_rows.append(r)
    if not names:
        return occ_rows, []
    fractions = np.linspace(0, 1, steps + 1)
    n = steps - 1  # the points of one order between the first and the shared last
    curves = {
        name: np.concatenate([[p0], np.exp(logp[k + j * n : k + (j + 1) * n]), np.exp(logp[-1:])])
        for j, name in enumerate(names)
    }
    random_area = curve_area(fractions, curves["random"])
    del_rows = []
    for name, curve in curves.items():
        area = curve_area(fractions, curve)
        del_rows.append(
            {
                "row": row,
                "segment_index": index,
                "order": name,
                "area": area,
                "faithfulness": random_area - area,
                "curve": " ".join(f"{v:.4f}" for v in curve),
            }
        )
    return occ_rows, del_rows


def curve_area(fractions: np.ndarray, values: np.ndarray) -> float:
    """Area under a curve by the trapezoid rule."""
    return float(np.trapezoid(values, fractions))


DROPS = ("drop_p", "drop_logp", "drop_correct")
BASELINES = ("random", "energy", "low_to_high")


def summarise_occlusion(
    table: pd.DataFrame, n_boot: int, seed: int, headline_hz: float, level: float = 0.95
) -> pd.DataFrame:
    """Per half-width and formant: counts (formant bands scored, those paired with at least one
    control, controls, formants with no control, formants outside the axis), mean rows and dB
    change of the formant and control bands, and for each drop (p, log p, correct) the mean of
    the formant bands and of their controls over the paired segments and the paired difference
    (formant - mean of the segment's controls) with a bootstrap interval over utterances
    (``table`` needs ``utt_id``). ``headline`` marks the rows at ``headline_hz``."""
    rows = []
    for (w, name), g in table.groupby(["half_width_hz", "formant"], sort=True):
        f, c = g[g.kind == "formant"], g[g.kind == "control"]
        controls = c.groupby("row")[list(DROPS)].mean().add_suffix("_control")
        paired = f.set_index("row").join(controls, how="inner")
        row = {
            "half_width_hz": w,
            "headline": bool(np.isclose(w, headline_hz)),
            "formant": name,
            "n_segments": len(f),
            "n_paired": len(paired),
            "n_utterances": paired["utt_id"].nunique(),
            "n_controls": len(c),
            "n_no_control": int((f["n_controls"] == 0).sum()),
            "n_outside": int((g.kind == "outside").sum()),
            "rows_formant": float(f["n_rows"].mean()),
            "rows_control": float(c["n_rows"].mean()) if len(c) else np.nan,
        }
        for what in ("delta_db", "energy_db"):
            row[f"{what}_formant"] = float(f[what].mean())
            row[f"{what}_control"] = float(c[what].mean()) if len(c) else np.nan
        for what in DROPS:
            row[f"{what}_formant"] = float(paired[what].mean()) if len(paired) else np.nan
            row[f"{what}_control"] = (
                float(paired[f"{what}_control"].mean()) if len(paired) else np.nan
            )
            diff = paired[what] - paired[f"{what}_control"]
            mean, low, high = cluster_bootstrap_ci(diff, paired["utt_id"], n_boot, level, seed)
            row[f"{what}_diff"], row[f"{what}_diff_low"], row[f"{what}_diff_high"] = mean, low, high
        rows.append(row)
    return pd.DataFrame(rows)


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


def occlusion_ceilings(
    summaries: dict[str, pd.DataFrame], headline: str, headline_hz: float
) -> pd.DataFrame:
    """The occlusion summaries (:func:`summarise_occlusion`) of the formants measured at each
    Praat ceiling (``summaries``: ceiling label -> summary), stacked with a ``ceiling`` column,
    the ``call`` of the paired drop of log p (formant - matched controls: ``above`` when its
    interval lies above 0, ``below``, ``unclear``) and ``holds``: the call is that of the
    headline (ceiling ``headline`` at ``headline_hz``) for the same formant."""
    parts = [s.assign(ceiling=label) for label, s in summaries.items() if len(s)]
    if not parts:
        return pd.DataFrame()
    table = pd.concat(parts, ignore_index=True)
    table["call"] = [
        call(lo, hi) if n else "no vowels"
        for lo, hi, n in zip(
            table.drop_logp_diff_low, table.drop_logp_diff_high, table.n_paired, strict=True
        )
    ]
    table["headline"] = (table.ceiling == headline) & np.isclose(table.half_width_hz, headline_hz)
    reference = table[table.headline].set_index("formant")["call"]
    table["holds"] = (table.formant.map(reference) == table["call"]).astype(bool)
    first = ["ceiling", "half_width_hz", "formant", "n_paired", "n_utterances"]
    return table[first + [c for c in table.columns if c not in first]]
