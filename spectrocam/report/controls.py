"""The summary page's views of the controls: test figures per token subset (words unseen in
training, stressed content words), the causal call at each Praat ceiling, and the experiment
without context beside the one that keeps it."""

from __future__ import annotations

import pandas as pd

from spectrocam.report.sensitivity import ceiling_cells
from spectrocam.report.tables import ci, fmt, html_table

__all__ = [
    "CONTEXT_NOTE",
    "subsets_view",
    "subsets_html",
    "occlusion_ceilings_view",
    "occlusion_ceilings_html",
    "context_comparison",
]


def _interval(v) -> str:
    """``value [low, high]`` of a ``[value, low, high]`` list (``–`` for none)."""
    return f"{fmt(v[0])} [{fmt(v[1])}, {fmt(v[2])}]" if v else "–"


def subsets_view(metrics: dict) -> pd.DataFrame:
    """Test accuracy and macro-F1 (95 % intervals over utterances) on all test tokens and on
    each token subset of ``metrics["subsets"]``, with its n."""
    rows = [("all test tokens", {"n": metrics["n"], **metrics.get("intervals", {})})]
    rows += list(metrics.get("subsets", {}).items())
    out = []
    for name, r in rows:
        cells = {"tokens": name, "n": int(r["n"]), "utterances": r.get("n_utterances", "")}
        for key, label in (("accuracy", "accuracy"), ("macro_f1", "macro-F1")):
            cells[label] = _interval(r.get(key))
        out.append(cells)
    return pd.DataFrame(out)


def subsets_html(metrics: dict) -> str:
    if not metrics.get("subsets"):
        return ""
    return (
        "<h4>Test figures on token subsets</h4>"
        + html_table(subsets_view(metrics))
        + "<p class='note'><i>words unseen in training</i>: the test tokens whose word type no "
        "training token of this experiment has (what <code>split_words: disjoint</code> keeps): "
        "accuracy there is not a lexicon lookup. The model was selected on validation tokens "
        "that include seen words. Intervals: 95 %, resampling utterances.</p>"
    )


def occlusion_ceilings_view(table: pd.DataFrame) -> pd.DataFrame:
    """One row per formant and half-width, one column per Praat ceiling: the paired drop of
    log p (formant band - its matched controls) with its interval and call, the n paired and
    how many ceilings agree with the headline's call."""
    rows = []
    ceilings = list(dict.fromkeys(table.ceiling))
    for (formant, hw), block in table.groupby(["formant", "half_width_hz"], sort=True):
        cells = block.set_index("ceiling")
        row: dict = {"formant": formant, "half-width Hz": hw}
        row |= ceiling_cells(
            cells,
            ceilings,
            lambda r: f"{ci(r, 'drop_logp_diff')} {r['call']} (n {int(r['n_paired'])})",
        )
        row["holds"] = f"{int(cells['holds'].sum())} of {len(cells)}"
        rows.append(row)
    return pd.DataFrame(rows)


def occlusion_ceilings_html(table: pd.DataFrame) -> str:
    if table.empty:
        return ""
    return (
        "<h3>Does the causal test hold at other Praat ceilings? (drop of log p, formant band - "
        "its matched controls)</h3>"
        + html_table(occlusion_ceilings_view(table))
        + "<p class='note'>The band occlusion of the causal tests at the headline half-width, "
        "redone with the formants measured at each ceiling (<i>configured</i>: the formants "
        "rule's; a ceiling whose formants are the configured ones shares its figures; the "
        "causal table above varies the half-width). A positive drop means the "
        "classifier needs the formant band more than the rows 2-3 band widths beside it. n: "
        "vowels paired with at least one control.</p>"
    )


def context_comparison(experiments: list) -> pd.DataFrame:
    """Each experiment with ``context: isolate`` beside the experiments with the same classes,
    band and token filters that keep the context (``definition``: :class:`spectrocam.segments.build.
    Experiment`'s fields): test n and accuracy (on all tokens and on words unseen in
    training) and the CAM's map statement against the shuffled-labels model (any cue)."""
    rows = []

    def key(d):  # the same tokens: every setting of the definition but its name and context
        return sorted((k, str(v)) for k, v in d.items() if k not in ("name", "context"))

    for iso in experiments:
        if iso.definition.get("context") != "isolate":
            continue
        kept = [
            r
            for r in experiments
            if (r.definition.get("context") or "keep") == "keep"
            and key(r.definition) == key(iso.definition)
        ]
        for r in [*kept, iso]:
            m = r.metrics
            unseen = m.get("subsets", {}).get("words unseen in training", {})
            cam = r.contrasts[(r.contrasts["cue"] == "any")] if len(r.contrasts) else r.contrasts
            cam = cam[cam["method"] == "cam"] if len(cam) else cam
            rows.append(
                {
                    "experiment": r.name,
                    "context": r.definition.get("context") or "keep",
                    "test n": m["n"],
                    "accuracy": _interval(m.get("intervals", {}).get("accuracy")),
                    "unseen words: n": unseen.get("n", "–"),
                    "unseen words: accuracy": _interval(unseen.get("accuracy")),
                    "CAM AUC of F1-F3 minus shuffled labels (n)": (
                        f"{cam.iloc[0]['difference']:+.3f} [{cam.iloc[0]['low']:+.3f}, "
                        f"{cam.iloc[0]['high']:+.3f}] ({int(cam.iloc[0]['n_tokens'])})"
                        if len(cam)
                        else "–"
                    ),
                }
            )
    return pd.DataFrame(rows)


CONTEXT_NOTE = (
    "<p class='note'>The context control: the isolated experiment has the same vowels as the one "
    "above it, with every frame whose analysis window reaches outside the vowel's own interval "
    "set to the floor (<code>context: isolate</code>), so the network sees the vowel alone. "
    "Accuracy that falls when the context is gone was carried by the neighbouring phones. The "
    "test sets are the same tokens; intervals resample utterances; first training seed.</p>"
)
