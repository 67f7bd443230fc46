"""The summary page's views of the verdict's two statements: the verdict itself, the causal fits
(per half-width, per class pair, per Praat ceiling), the rank contrasts per method against each
control, and the class templates' peaks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from spectrocam.report.sensitivity import ceiling_cells
from spectrocam.report.tables import fmt, html_table

__all__ = [
    "VERDICT_NOTE",
    "verdict_section",
    "needs_view",
    "pairs_view",
    "needs_ceilings_view",
    "contrasts_view",
    "template_peaks_view",
    "statements_html",
]


def interval(r, key: str = "beta") -> str:
    """``+0.123 [+0.045, +0.201]`` of a row with ``key``, ``low`` and ``high``."""
    v = r[key]
    if v is None or not np.isfinite(v):
        return "–"
    return f"{v:+.3f} [{r['low']:+.3f}, {r['high']:+.3f}]"


VERDICT_NOTE = (
    "<p class='note'>How to read it. <b>{s1}</b>: every band of ±{window:g} Hz that tiles the "
    "axis, and each cue's own band (F1-F3 ±{window:g} Hz; the voicing experiment's cues are the "
    "voicing bar below 500 Hz and the frication above 2.5 kHz), occluded on every test token "
    "(its cells lowered to the local floor, never raised); beta is how much more the first "
    "seed's log p of the true class drops when the band covers a cue than when a band elsewhere "
    "removes the same dB (a piecewise-linear curve of the dB removed, per class, with token "
    "effects). <b>{s2}</b>: per token, the AUC of the method's cells on the cues against its "
    "other cells inside the phone (0.5: no preference), the first seed's maps minus the same "
    "method's maps of the model trained on shuffled labels and of the model with every weight "
    "randomised: same input, architecture and smoothing, so that what the input alone explains "
    "cancels. Yes needs the interval above 0 and Holm's p below {alpha:g} in the headline "
    "family ({family} tests: these three per experiment; every other test, each cue, method, "
    "seed and randomisation step, is in tests.tsv, Holm-adjusted in its own families). Intervals: "
    "95 %, cluster bootstrap over {cluster}; p: sign flips of whole clusters (maps) or the "
    "bootstrap's normal approximation (causal). What the table does not show: how large an "
    "effect is in the network's terms (see the per-cue and per-pair fits below), whether the "
    "maps of other methods agree (below, per experiment), the other seeds' causal fits (the "
    "causal statement is the first seed's), and whether the cues are read as phoneticians read "
    "them (the class templates' peaks).</p>"
)


def verdict_section(
    verdict: pd.DataFrame, tests: pd.DataFrame, window_hz: float, alpha: float, cluster: str
) -> str:
    """The verdict table, first on the page, with how to read it."""
    family = int((tests["family"] == "headline").sum()) if "family" in tests else 0
    note = VERDICT_NOTE.format(
        s1="needs the cues beyond the energy",
        s2="maps point at the cues beyond the controls",
        window=window_hz,
        alpha=alpha,
        family=family,
        cluster="utterances" if cluster == "utterance" else "utterance x word type",
    )
    return html_table(verdict) + note


def needs_view(needs: pd.DataFrame) -> pd.DataFrame:
    """One row per half-width, one column per cue: beta [interval] (p)."""
    rows = []
    for hw, block in needs.groupby("half_width_hz", sort=True):
        row: dict = {"half-width Hz": hw, "tokens": int(block["n_tokens"].max())}
        for r in block.itertuples():
            row[r.cue] = f"{interval(r._asdict())} (p {fmt(r.p, 2)})"
        rows.append(row)
    return pd.DataFrame(rows)


def pairs_view(pairs: pd.DataFrame) -> pd.DataFrame:
    """One row per true class and competitor, one column per cue: beta [interval]."""
    if pairs.empty:
        return pairs
    out = pairs.pivot_table(
        index=["true_class", "competitor"],
        columns="cue",
        values="beta",
        aggfunc="first",
        sort=False,
    )
    for (y, c), block in pairs.groupby(["true_class", "competitor"], sort=False):
        for r in block.to_dict("records"):
            out.loc[(y, c), r["cue"]] = interval(r)
    return out.reset_index()


def needs_ceilings_view(table: pd.DataFrame) -> pd.DataFrame:
    """One row per cue, one column per Praat ceiling: beta [interval] and its call."""
    rows = []
    ceilings = list(dict.fromkeys(table.ceiling))
    marked = table.assign(headline=table.ceiling == "configured")
    for cue, block in marked.groupby("cue", sort=False):
        cells = block.set_index("ceiling")
        row: dict = {"cue": cue}
        row |= ceiling_cells(cells, ceilings, lambda r: f"{interval(r)} {r['call']}")
        row["holds"] = f"{int(cells['holds'].sum())} of {len(cells)}"
        rows.append(row)
    return pd.DataFrame(rows)


def contrasts_view(shuffled: pd.DataFrame, randomised: pd.DataFrame, cue: str = "any"):
    """Per distinct method: the AUC of the cue cells, and its difference from the
    shuffled-labels model and from each randomisation step (interval, n)."""
    rows = []
    for r in shuffled[shuffled.cue == cue].to_dict("records"):
        same = str(r.get("same_maps") or "")
        row = {
            "method": r["method"]
            + (f" (= {same.replace(' ', ', ')})" if same and same != "nan" else ""),
            "tokens": int(r["n_tokens"]),
            "AUC": fmt(r.get("auc_trained", np.nan), 3),
            "minus shuffled labels": (
                f"{interval(r, 'difference')} (p {fmt(r.get('p', np.nan), 2)})"
            ),
        }
        steps = pd.DataFrame()
        if len(randomised):
            steps = randomised[(randomised.cue == cue) & (randomised.method == r["method"])]
        for s in steps.to_dict("records"):
            row[f"minus randomised ({s['step']})"] = interval(s, "difference")
        rows.append(row)
    return pd.DataFrame(rows)


def template_peaks_view(peaks: dict[str, pd.DataFrame], method: str = "cam") -> pd.DataFrame:
    """Per class: the peak frequency of the class-contrastive template of each model's maps of
    ``method`` (``peaks``: model -> template peak table), beside the class's mean formants."""
    out = None
    for model, table in peaks.items():
        t = table[table["method"] == method] if "method" in table else table
        if "model" in t:
            t = t[t["model"] == model] if (t["model"] == model).any() else t
        t = t.set_index("class_name")
        col = t["peak_hz"].rename(f"peak Hz, {model}")
        out = col.to_frame() if out is None else out.join(col, how="outer")
        for f in ("f1_hz", "f2_hz", "f3_hz"):
            if f in t and f"mean {f[:2].upper()} Hz" not in out:
                out[f"mean {f[:2].upper()} Hz"] = t[f]
    return pd.DataFrame() if out is None else out.reset_index()


def statements_html(needs, pairs, ceilings, shuffled, randomised, peaks: dict, method: str) -> str:
    """The experiment's part of the page on the two statements."""
    parts = []
    if len(needs):
        parts.append(
            "<h3>Does the network need the cues beyond the energy? (beta: drop of log p)</h3>"
            + html_table(needs_view(needs))
        )
    if len(pairs):
        parts.append(
            "<h4>Per pair of classes (drop of the log-odds of the true class against one "
            "competitor)</h4>"
            + html_table(pairs_view(pairs))
            + "<p class='note'>F2 should matter most between front and back vowels (IY against "
            "UW, AO), F1 between open and close ones (AA, AE against IY, UW).</p>"
        )
    if len(ceilings):
        parts.append("<h4>At other Praat ceilings</h4>" + html_table(needs_ceilings_view(ceilings)))
    if len(shuffled):
        parts.append(
            "<h3>Do the maps point at the cues beyond the controls? (AUC of the cue cells)</h3>"
            + html_table(contrasts_view(shuffled, randomised))
        )
    view = template_peaks_view(peaks, method) if peaks else pd.DataFrame()
    if len(view):
        parts.append(
            f"<h4>Where each class's {method} map differs from the others' (template peaks)</h4>"
            + html_table(view)
            + "<p class='note'>The class-contrastive template: the class's mean map profile "
            "(z-scored per token) minus the mean of the other classes'; its peak beside the "
            "class's mean formants, for the trained, shuffled-labels and randomised models.</p>"
        )
    return "".join(parts)
