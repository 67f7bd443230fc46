"""Compare two phone-level alignments (phone tables, see :mod:`spectrocam.align.phone_table`).

Boundary accuracy
    For each utterance the two phone sequences (stress digits stripped) are aligned with a
    Needleman-Wunsch / edit-distance alignment (match 0, substitution 1, insertion or deletion 1;
    among alignments of equal edit distance the one whose paired phones lie closest in time is
    chosen). Every reference phone contributes two boundaries, its start and its end. A boundary is
    *matched within tol* when the reference phone is paired with a hypothesis phone of the same
    label and the corresponding hypothesis boundary lies within ``tol`` seconds of it. Boundaries
    of reference phones left unpaired or paired with another label are misses, and so are all
    boundaries of utterances that only the reference has. Shares are pooled over all boundaries of
    all utterances.

Offsets
    The signed difference hypothesis - reference (seconds) of the boundaries of all same-label
    pairs: its median shows a systematic shift of one aligner against the other.

Vowel intervals
    For each vowel class (by default IY, AE, AA, AO, UW, each its own class) a reference interval is
    *found* when a hypothesis interval of the same class in the same utterance overlaps it (overlap
    > 0); its IoU is the intersection over union with the best-overlapping (highest IoU) such
    hypothesis interval. All times are in seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

from spectrocam.phones import strip_stress

__all__ = ["DEFAULT_VOWEL_CLASSES", "align_sequences", "compare_alignments", "format_report"]

DEFAULT_VOWEL_CLASSES: dict[str, set[str]] = {v: {v} for v in ("IY", "AE", "AA", "AO", "UW")}

# Tie-break weight per second of midpoint distance between paired phones. Small enough that the
# sum over any utterance (< 1e4 pairs, distance clipped to 1 s) never outweighs one edit.
_TIME_WEIGHT = 1e-5


def align_sequences(
    ref_labels: list[str],
    hyp_labels: list[str],
    ref_mid_s: np.ndarray | None = None,
    hyp_mid_s: np.ndarray | None = None,
) -> list[tuple[int | None, int | None]]:
    """Needleman-Wunsch alignment of two label sequences.

    Returns the path as ``(ref index or None, hyp index or None)`` pairs in order (``None`` marks
    an insertion or deletion). Costs: match 0, substitution 1, insertion/deletion 1. When the phone
    midpoints (seconds) are given, equal-cost alignments are broken in favour of pairing phones
    that lie close in time.
    """
    n, m = len(ref_labels), len(hyp_labels)
    ref_codes, hyp_codes = _codes(ref_labels, hyp_labels)
    sub = (ref_codes[:, None] != hyp_codes[None, :]).astype(np.float64)
    if ref_mid_s is not None and hyp_mid_s is not None and n and m:
        dt = np.abs(np.asarray(ref_mid_s, float)[:, None] - np.asarray(hyp_mid_s, float)[None, :])
        sub += _TIME_WEIGHT * np.minimum(dt, 1.0)
    gap = 1.0
    cost = np.empty((n + 1, m + 1))
    cost[0] = np.arange(m + 1) * gap
    cols = np.arange(m + 1) * gap
    for i in range(1, n + 1):
        prev = cost[i - 1]
        row = np.empty(m + 1)
        row[0] = i * gap
        row[1:] = np.minimum(prev[:-1] + sub[i - 1], prev[1:] + gap)
        # Horizontal moves (insertions) along the row: row[j] = min_k<=j row[k] + (j - k) * gap.
        cost[i] = np.minimum.accumulate(row - cols) + cols
    path: list[tuple[int | None, int | None]] = []
    i, j = n, m
    while i > 0 or j > 0:
        here = cost[i, j]
        if i > 0 and j > 0 and math.isclose(here, cost[i - 1, j - 1] + sub[i - 1, j - 1]):
            path.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif i > 0 and math.isclose(here, cost[i - 1, j] + gap):
            path.append((i - 1, None))
            i -= 1
        else:
            path.append((None, j - 1))
            j -= 1
    path.reverse()
    return path


def _codes(a: list[str], b: list[str]) -> tuple[np.ndarray, np.ndarray]:
    vocab: dict[str, int] = {}
    ca = np.array([vocab.setdefault(x, len(vocab)) for x in a], dtype=np.int64)
    cb = np.array([vocab.setdefault(x, len(vocab)) for x in b], dtype=np.int64)
    return ca, cb


def _sorted_utterances(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    if table.empty:
        return {}
    table = table.sort_values(["utt_id", "start_s", "end_s"], kind="stable")
    return {str(u): g for u, g in table.groupby("utt_id", sort=False)}


def _best_iou(ref: tuple[float, float], hyps: np.ndarray) -> float | None:
    """Highest IoU of ``ref`` with overlapping intervals ``hyps`` (k x 2), or None if none."""
    if hyps.size == 0:
        return None
    inter = np.minimum(hyps[:, 1], ref[1]) - np.maximum(hyps[:, 0], ref[0])
    overlapping = inter > 0
    if not overlapping.any():
        return None
    union = np.maximum(hyps[:, 1], ref[1]) - np.minimum(hyps[:, 0], ref[0])
    return float(np.max(inter[overlapping] / union[overlapping]))


def compare_alignments(
    reference: pd.DataFrame,
    hypothesis: pd.DataFrame,
    tolerances_s: tuple[float, ...] = (0.01, 0.02, 0.05),
    vowel_classes: dict[str, set[str]] | None = None,
) -> dict:
    """Compare a hypothesis phone table with a reference one (both with columns ``utt_id``,
    ``phone``, ``start_s``, ``end_s``; times in seconds). See the module docstring for the rules.

    Returns a JSON-ready dict::

        {"utterances": {"reference", "hypothesis", "compared", "only_in_reference",
                        "only_in_hypothesis"},
         "phones": {"reference", "hypothesis", "label_matched"},
         "boundaries": {"n": ..., "within": [{"tol_s", "matched", "share"}, ...]},
         "offset_s": {"n", "median", "median_start", "median_end", "mean_abs"},
         "vowels": {class: {"n", "found", "found_share", "iou_mean", "iou_mean_all"}}}

    ``share`` is matched / n over all reference boundaries; ``iou_mean`` averages over found
    intervals, ``iou_mean_all`` over all (0 when not found). Offsets are in seconds. A figure
    without any case to compute it from (no boundaries, no vowel of a class) is ``None``.
    """
    if vowel_classes is None:
        vowel_classes = DEFAULT_VOWEL_CLASSES
    phone_class = {p: name for name, phones in vowel_classes.items() for p in phones}
    tolerances = np.asarray(tolerances_s, dtype=float)
    refs = _sorted_utterances(reference)
    hyps = _sorted_utterances(hypothesis)

    tally = _Tally(
        matched=np.zeros(len(tolerances), dtype=np.int64),
        vowel_iou={name: [] for name in vowel_classes},
    )
    for utt_id, ref in refs.items():
        ref_phones, hyp_phones = _utterance_phones(ref), _utterance_phones(hyps.get(utt_id))
        tally.n_boundaries += 2 * len(ref_phones.labels)
        _match_boundaries(tally, ref_phones, hyp_phones, tolerances)
        _match_vowels(tally, ref_phones, hyp_phones, phone_class)

    return {
        "utterances": _utterance_summary(refs, hyps),
        "phones": {
            "reference": int(len(reference)),
            "hypothesis": int(len(hypothesis)),
            "label_matched": tally.label_matched,
        },
        "boundaries": _boundary_summary(tolerances, tally.matched, tally.n_boundaries),
        "offset_s": _offset_summary(tally.offsets_start, tally.offsets_end),
        "vowels": _vowel_summary(tally.vowel_iou),
    }


class _Phones(NamedTuple):
    """One utterance's phones in time order: stress-free labels, start and end times (seconds)."""

    labels: list[str]
    start_s: np.ndarray
    end_s: np.ndarray


@dataclass
class _Tally:
    """Running totals of :func:`compare_alignments` over the utterances (times in seconds)."""

    matched: np.ndarray  # reference boundaries matched within each tolerance
    vowel_iou: dict[str, list[float | None]]  # per vowel class: best IoU, None if not found
    n_boundaries: int = 0
    label_matched: int = 0
    offsets_start: list[float] = field(default_factory=list)
    offsets_end: list[float] = field(default_factory=list)


def _utterance_phones(utt: pd.DataFrame | None) -> _Phones:
    """Stress-free labels and start/end times (seconds) of one utterance's phones, in time
    order; empty when the utterance is missing (``None``)."""
    if utt is None:
        return _Phones([], np.zeros(0), np.zeros(0))
    labels = [strip_stress(p) for p in utt["phone"].astype(str)]
    return _Phones(labels, utt["start_s"].to_numpy(float), utt["end_s"].to_numpy(float))


def _match_boundaries(tally: _Tally, ref: _Phones, hyp: _Phones, tolerances: np.ndarray) -> None:
    """Pair one utterance's phones (:func:`align_sequences`) and add, for the same-label pairs,
    their count, their boundary offsets hyp - ref (seconds) and the reference boundaries matched
    within each tolerance (seconds) to ``tally``."""
    (r_lab, r_start, r_end), (h_lab, h_start, h_end) = ref, hyp
    if not h_lab:
        return
    path = align_sequences(r_lab, h_lab, (r_start + r_end) / 2, (h_start + h_end) / 2)
    pairs = [(i, j) for i, j in path if i is not None and j is not None]
    pairs = [(i, j) for i, j in pairs if r_lab[i] == h_lab[j]]
    tally.label_matched += len(pairs)
    if not pairs:
        return
    ri = np.array([p[0] for p in pairs])
    hj = np.array([p[1] for p in pairs])
    d_start = h_start[hj] - r_start[ri]
    d_end = h_end[hj] - r_end[ri]
    tally.offsets_start.extend(d_start.tolist())
    tally.offsets_end.extend(d_end.tolist())
    for d in (d_start, d_end):
        # Tiny slack: times on a 10 ms grid should not miss by float rounding.
        tally.matched += (np.abs(d)[None, :] <= tolerances[:, None] + 1e-9).sum(axis=1)


def _match_vowels(tally: _Tally, ref: _Phones, hyp: _Phones, phone_class: dict[str, str]) -> None:
    """Append to ``tally.vowel_iou`` the best IoU (None: not found) of each reference vowel
    interval of one utterance with the hypothesis intervals of its class (times in seconds)."""
    (r_lab, r_start, r_end), (h_lab, h_start, h_end) = ref, hyp
    h_class = np.array([phone_class.get(p, "") for p in h_lab], dtype=object)
    for k, lab in enumerate(r_lab):
        cls = phone_class.get(lab)
        if cls is None:
            continue
        sel = h_class == cls if len(h_lab) else np.zeros(0, bool)
        cand = np.stack([h_start[sel], h_end[sel]], axis=1) if sel.any() else np.zeros((0, 2))
        tally.vowel_iou[cls].append(_best_iou((r_start[k], r_end[k]), cand))


def _share(k: int | float, n: int) -> float | None:
    """``k / n`` as a float, ``None`` when there is nothing to share (``n`` = 0)."""
    return float(k) / n if n else None


def _median(x: list[float] | np.ndarray) -> float | None:
    """Median of ``x`` (in its units), ``None`` when ``x`` is empty."""
    return float(np.median(x)) if len(x) else None


def _utterance_summary(refs: dict[str, pd.DataFrame], hyps: dict[str, pd.DataFrame]) -> dict:
    """The ``utterances`` part of the result: utterance counts on each side and in both."""
    only_ref = sorted(set(refs) - set(hyps))
    only_hyp = sorted(set(hyps) - set(refs))
    return {
        "reference": len(refs),
        "hypothesis": len(hyps),
        "compared": len(refs) - len(only_ref),
        "only_in_reference": len(only_ref),
        "only_in_hypothesis": len(only_hyp),
        "only_in_reference_ids": only_ref,
    }


def _boundary_summary(tolerances: np.ndarray, matched: np.ndarray, n_boundaries: int) -> dict:
    """The ``boundaries`` part of the result: matched count and share per tolerance (seconds)."""
    return {
        "n": n_boundaries,
        "within": [
            {"tol_s": float(t), "matched": int(k), "share": _share(int(k), n_boundaries)}
            for t, k in zip(tolerances, matched, strict=True)
        ],
    }


def _offset_summary(offsets_start: list[float], offsets_end: list[float]) -> dict:
    """The ``offset_s`` part of the result: medians and mean absolute value of the offsets
    hyp - ref (seconds) of the same-label boundaries."""
    offsets = np.array(offsets_start + offsets_end)
    return {
        "n": int(offsets.size),
        "median": _median(offsets),
        "median_start": _median(offsets_start),
        "median_end": _median(offsets_end),
        "mean_abs": float(np.mean(np.abs(offsets))) if offsets.size else None,
    }


def _vowel_summary(vowel_iou: dict[str, list[float | None]]) -> dict:
    """The ``vowels`` part of the result: per class the reference intervals, how many (and what
    share) were found, and the mean IoU over the found ones and over all (unitless)."""
    vowels = {}
    for name, ious in vowel_iou.items():
        found = [x for x in ious if x is not None]
        vowels[name] = {
            "n": len(ious),
            "found": len(found),
            "found_share": _share(len(found), len(ious)),
            "iou_mean": float(np.mean(found)) if found else None,
            "iou_mean_all": _share(sum(found), len(ious)),
        }
    return vowels


def _pct(x: float | None) -> str:
    return "    n/a" if x is None else f"{100 * x:5.1f} %"


def _ms(x: float | None) -> str:
    return "n/a" if x is None else f"{1000 * x:+.1f} ms"


def format_report(result: dict, title: str | None = None) -> str:
    """A readable multi-line summary of a :func:`compare_alignments` result."""
    u, p, b, o = result["utterances"], result["phones"], result["boundaries"], result["offset_s"]
    lines = [title] if title else []
    lines += [
        f"utterances: reference {u['reference']}, hypothesis {u['hypothesis']}, "
        f"compared {u['compared']}, only in reference {u['only_in_reference']} "
        f"(counted as all-miss), only in hypothesis {u['only_in_hypothesis']} (ignored)",
        f"phones: reference {p['reference']}, hypothesis {p['hypothesis']}, "
        f"same-label pairs {p['label_matched']}",
        f"reference boundaries matched (n = {b['n']}):",
    ]
    for w in b["within"]:
        lines.append(f"  within {1000 * w['tol_s']:3.0f} ms  {_pct(w['share'])}  ({w['matched']})")
    if o["n"]:
        lines.append(
            f"offset hyp - ref, {o['n']} same-label boundaries: median {_ms(o['median'])} "
            f"(starts {_ms(o['median_start'])}, ends {_ms(o['median_end'])}), "
            f"mean |offset| {1000 * o['mean_abs']:.1f} ms"
        )
    else:
        lines.append("offset hyp - ref: no same-label boundaries")
    lines.append("vowel      n    found   IoU (found)  IoU (all)")
    for name, v in result["vowels"].items():
        iou = "  n/a" if v["iou_mean"] is None else f"{v['iou_mean']:.3f}"
        iou_all = "  n/a" if v["iou_mean_all"] is None else f"{v['iou_mean_all']:.3f}"
        found = _pct(v["found_share"])
        lines.append(f"  {name:5s} {v['n']:5d}  {found}     {iou}        {iou_all}")
    return "\n".join(lines)
