"""The report's tables: agreement, comparison of methods and headline figures, formatted."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from spectrocam.report.render import Markup, render

__all__ = [
    "KINDS",
    "column_kind",
    "fmt",
    "ci",
    "agreement_table",
    "agreement_headline",
    "comparison_table",
    "html_table",
]


KINDS = ("count", "hz", "seconds", "flag", "number")
_COUNT = re.compile(r"(^|[ _(])n($|[ _)])|support|undefined|count|segments|tokens|with formants")
_FLAGS = {"explained_by_formants", "correct", "short", "best"}


def column_kind(name) -> str:
    """How a column's numbers are written, from its name: ``count`` (n, support, undefined,
    ...: integers), ``hz`` (frequencies: whole Hz), ``seconds`` (``*_s``: ms precision),
    ``flag`` (yes/no) or ``number`` (fixed digits)."""
    name = str(name).lower()
    if name in _FLAGS:
        return "flag"
    if _COUNT.search(name):
        return "count"
    if "hz" in name:
        return "hz"
    return "seconds" if name.endswith("_s") else "number"


def fmt(value, digits: int = 2, kind: str = "number") -> str:
    """A number for a table, by its ``kind`` (:func:`column_kind`): counts as integers, Hz as
    whole numbers with thousands separators, seconds to the millisecond, flags as yes/no, other
    floats with fixed ``digits`` and integers as integers; "–" for a missing or infinite value."""
    if value is None or (isinstance(value, float | np.floating) and not np.isfinite(value)):
        return "–"
    if isinstance(value, bool | np.bool_) or (kind == "flag" and value in (0, 1)):
        return "yes" if value else "no"
    if not isinstance(value, int | float | np.integer | np.floating):
        return html.escape(str(value))
    if kind == "count":
        return f"{round(float(value)):,}"
    if kind == "hz":
        return f"{float(value):,.0f}"
    if kind == "seconds":
        return f"{float(value):.3f}"
    if isinstance(value, int | np.integer):
        return str(value)
    return f"{value:.{digits}f}"


def ci(row: Mapping, key: str) -> str:
    """``value [low, high]`` of ``row[key]`` and its ``_low``/``_high`` bounds."""
    if not np.isfinite(row[key]):
        return "–"
    low, high = row[key + "_low"], row[key + "_high"]
    if np.isinf(low) and np.isinf(high):
        # a ratio whose denominator is not distinguishable from 0
        return f"{fmt(row[key])} [unbounded]"
    return f"{fmt(row[key])} [{fmt(low)}, {fmt(high)}]"


def agreement_table(summary: pd.DataFrame, cam: str = "true") -> pd.DataFrame:
    """The agreement summary in the page's form: ratios to chance with their CIs."""
    rows = []
    if "method" in summary:
        summary = summary[summary["method"] == "cam"]
    for _, r in summary[summary["cam"] == cam].iterrows():
        rows.append(
            {
                "class": r["class_name"],
                "outcome": r["outcome"],
                "n (utt.)": f"{r['n_segments']} ({r['n_utterances']})",
                "F1 ratio": ci(r, "ratio_F1"),
                "F2 ratio": ci(r, "ratio_F2"),
                "F3 ratio": ci(r, "ratio_F3"),
                "F1-F3 ratio": ci(r, "ratio_any"),
                "peak on a formant": ci(r, "peak_hit"),
                "peak chance": fmt(r["peak_chance"]),
            }
        )
    return pd.DataFrame(rows)


def agreement_headline(summary: pd.DataFrame) -> dict:
    """The true-class CAM's figures over all classes (all/correct/misclassified)."""
    out = {}
    if summary.empty:
        return out
    if "method" in summary:
        summary = summary[summary["method"] == "cam"]
    sel = summary[(summary["cam"] == "true") & (summary["class_name"] == "(all)")]
    for _, row in sel.iterrows():
        out[row["outcome"]] = {
            k: (None if pd.isna(row[k]) else float(row[k]))
            for k in row.index
            if k.startswith(("ratio_", "peak_", "share_", "chance_", "n_"))
        }
    return out


def comparison_table(
    experiment: str,
    agreement: pd.DataFrame,
    null: pd.DataFrame,
    deletion: pd.DataFrame,
    contrasts: pd.DataFrame,
    hz_per_cell: Mapping[str, float],
) -> pd.DataFrame:
    """One row per method: agreement with the formants (true-class map, all test vowels),
    the agreement null's p, faithfulness against random, energy and low-to-high deletion, and
    the verdict's map statement (the AUC of the cue cells minus the shuffled-labels model's, on
    any cue; a method whose maps equal another's shows that one's figure)."""
    baselines = {}
    if len(deletion):
        baselines = {
            f"faithfulness of {r['method']} order": ci(r, "faithfulness")
            for _, r in deletion[deletion["method"].isin(["energy", "low_to_high"])].iterrows()
        }
    statement = {}
    if len(contrasts):
        for r in contrasts[contrasts["cue"] == "any"].to_dict("records"):
            same = [m for m in str(r.get("same_maps") or "").split() if m != "nan"]
            for m in [r["method"], *same]:
                statement[m] = (
                    f"{r['difference']:+.3f} [{r['low']:+.3f}, {r['high']:+.3f}] "
                    f"({int(r['n_tokens'])})" + (f" = {r['method']}" if m != r["method"] else "")
                )
    rows = []
    for method, hz in hz_per_cell.items():
        a = agreement[
            (agreement["method"] == method)
            & (agreement["cam"] == "true")
            & (agreement["class_name"] == "(all)")
            & (agreement["outcome"] == "all")
        ]
        nl = null[(null["method"] == method) & (null["formant"] == "any")] if len(null) else null
        d = deletion[deletion["method"] == method] if len(deletion) else deletion
        row = {"experiment": experiment, "method": method, "Hz per cell": f"{hz:.0f}"}
        if len(a):
            r = a.iloc[0]
            row |= {
                "n vowels": int(r["n_any"]),
                "F1 ratio": ci(r, "ratio_F1"),
                "F2 ratio": ci(r, "ratio_F2"),
                "F3 ratio": ci(r, "ratio_F3"),
                "peak on a formant": ci(r, "peak_hit"),
                "peak chance": fmt(r["peak_chance"]),
            }
        if len(nl):
            r = nl.iloc[0]
            row["own vs shuffled formants (share)"] = (
                f"{r['observed']:.3f} vs {r['null_mean']:.3f}, p = {r['p']:.3f} (n = {r['n']})"
            )
        if method in statement:
            row["AUC minus shuffled labels (n)"] = statement[method]
        if len(d):
            r = d.iloc[0]
            row["faithfulness (n)"] = f"{ci(r, 'faithfulness')} ({int(r['n_segments'])})"
        rows.append(row | baselines)
    return pd.DataFrame(rows)


def html_table(frame: pd.DataFrame, digits: int = 2) -> str:
    """A table with each column's numbers written by their kind (:func:`column_kind`: counts
    as integers, Hz as whole numbers, ...), other floats with ``digits`` digits; a cell that is
    :class:`Markup` (a link) is kept as it is. It scrolls inside its own box if it is wider than
    the page, never the page (the page's cells wrap, so that it seldom has to)."""
    kinds = [column_kind(c) for c in frame.columns]
    rows = [
        [
            v if isinstance(v, Markup) else Markup(fmt(v, digits, k))
            for v, k in zip(row, kinds, strict=True)
        ]
        for row in frame.itertuples(index=False)
    ]
    # a plain string, so that concatenating it with other HTML does not escape that HTML
    return str(render("table.html.j2", header=[str(c) for c in frame.columns], rows=rows))
