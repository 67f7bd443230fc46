"""The summary page of a run (HTML) and its headline figures."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from spectrocam.io import write_text
from spectrocam.report.controls import CONTEXT_NOTE, context_comparison, subsets_html
from spectrocam.report.sensitivity import (
    SENSITIVITY_NOTE,
    ceiling_moves_view,
    cells_sentence,
    sensitivity_view,
)
from spectrocam.report.statements import statements_html, verdict_section
from spectrocam.report.tables import agreement_headline, agreement_table, ci, html_table

__all__ = [
    "ExperimentResults",
    "html_table",
    "figure_html",
    "write_summary_page",
    "summary_page",
]


# One column whatever the window: text and tables within 1,100 px, figures scaled to fit.
PAGE_STYLE = """
*{box-sizing:border-box}
body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.4;
color:#222}
.table{max-width:100%;overflow-x:auto;margin:.5em 0 1.2em}
table{border-collapse:collapse;font-size:.85em}
td,th{border:1px solid #ccc;padding:.25em .5em;text-align:right;vertical-align:top}
th{background:#f2f2f2} td:first-child,th:first-child{text-align:left}
figure{margin:.5em 0 1.5em} figcaption{color:#444;font-size:.9em;max-width:60em}
img{max-width:100%;height:auto;border:1px solid #ddd} .note{color:#555;font-size:.9em}
.explorer{background:#eef6ff;border:1px solid #bcd;padding:.5em 1em}
"""
CAPTIONS = Path(__file__).resolve().parents[2] / "workflow" / "report"


def figure_html(src: str, name: str, experiment: str, alt: str) -> str:
    """A figure with its caption: the text of ``workflow/report/<name>.rst``, the caption of
    the same figure in ``snakemake --report``."""
    text = (CAPTIONS / f"{name}.rst").read_text(encoding="utf-8")
    text = text.replace("{{ snakemake.wildcards.experiment }}", experiment)
    return (
        f"<figure><img src='{html.escape(src)}' alt='{html.escape(alt)}'>"
        f"<figcaption>{html.escape(' '.join(text.split()))}</figcaption></figure>"
    )


def write_summary_page(path: str | Path, sections: list[tuple[str, str]], title: str) -> None:
    """An HTML page from ``(heading, html body)`` sections, written whole or not at all."""
    path = Path(path)
    body = "".join(f"<h2>{html.escape(h)}</h2>\n{b}\n" for h, b in sections)
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title><style>{PAGE_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f"{body}</body></html>\n"
    )
    write_text(page, path)


@dataclass(frozen=True)
class ExperimentResults:
    """What the summary page shows of one experiment, read from its files."""

    name: str
    description: str
    metrics: dict
    agreement: pd.DataFrame  # agreement/<experiment>_summary.tsv
    comparison: pd.DataFrame  # report/<experiment>/comparison.tsv
    errors: pd.DataFrame  # errors/<experiment>.tsv
    error_summary: dict
    hz_per_cell: float  # of the CAM
    cells: tuple[int, int]  # the CAM's feature cells (frequency, time)
    sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)  # sensitivity/<exp>.tsv
    evidence: pd.DataFrame = field(default_factory=pd.DataFrame)  # the first seed's summary
    # the statements: causal/<experiment>_needs.tsv, _pairs.tsv, _needs_ceilings.tsv; the first
    # seed's contrasts against the shuffled-labels model and sanity/<experiment>_randomised.tsv;
    # template peaks per model (trained, shuffled labels, randomised)
    needs: pd.DataFrame = field(default_factory=pd.DataFrame)
    pairs: pd.DataFrame = field(default_factory=pd.DataFrame)
    needs_ceilings: pd.DataFrame = field(default_factory=pd.DataFrame)
    contrasts: pd.DataFrame = field(default_factory=pd.DataFrame)
    randomised: pd.DataFrame = field(default_factory=pd.DataFrame)
    peaks: dict = field(default_factory=dict)
    # the experiment's definition (spectrocam.segments.build.Experiment's fields: the comparisons)
    definition: dict = field(default_factory=dict)


FIGURES = ("confusion", "history", "profiles", "examples", "methods", "vowel_chart")


def _ci_text(block: dict, key: str) -> str:
    """:func:`spectrocam.report.tables.ci` of a headline block, which may lack the figure."""
    if not block or block.get(key) is None:
        return "–"
    return ci(block, key)


def experiment_headline(r: ExperimentResults) -> dict:
    """The experiment's headline figures (``summary.json``)."""
    return {
        "test_segments": r.metrics["n"],
        "accuracy": r.metrics["accuracy"],
        "macro_f1": r.metrics["macro_f1"],
        "balanced_accuracy": r.metrics["balanced_accuracy"],
        "model_epoch": r.metrics["model"]["epoch"],
        "hz_per_cam_cell": r.hz_per_cell,
        "cam_cells": list(r.cells),
        "agreement_true_class_cam": agreement_headline(r.agreement) if len(r.agreement) else {},
        "methods": r.comparison.drop(columns=["experiment"]).to_dict(orient="records"),
        "misclassifications": {k: v for k, v in r.error_summary.items() if k != "class_stats"},
    }


def experiment_row(r: ExperimentResults, headline: dict) -> dict:
    """The experiment's row of the page's first table."""
    allseg = headline["agreement_true_class_cam"].get("all", {})
    return {
        "experiment": r.name,
        "test n": r.metrics["n"],
        "accuracy": f"{r.metrics['accuracy']:.3f}",
        "macro-F1": f"{r.metrics['macro_f1']:.3f}",
        "balanced acc.": f"{r.metrics['balanced_accuracy']:.3f}",
        "Hz per CAM cell": f"{r.hz_per_cell:.0f}",
        "vowels with formants": allseg.get("n_any", 0),
        "CAM mass on F1-F3 / chance": _ci_text(allseg, "ratio_any"),
        "peak on a formant": _ci_text(allseg, "peak_hit"),
        "peak chance": f"{allseg['peak_chance']:.2f}" if allseg.get("peak_chance") else "–",
    }


def _error_text(r: ExperimentResults, shown: int) -> str:
    s = r.error_summary
    explained = s["share_explained"]
    return (
        f"<p>{s['misclassified']} misclassified test vowels with formants; "
        + (
            f"{s['explained_by_formants']} of the {s['with_distances']} with class statistics "
            f"({100 * explained:.0f} %) lie nearer (z-scored F1, F2) to the predicted "
            "class's training vowels than to their own class's" + _base_rates(s) + ". "
            if explained is not None
            else "the classes have no formant statistics to compare with. "
        )
        + f"The first {shown} are listed; all are in errors/{r.name}.tsv.</p>"
    )


def _base_rates(s: dict) -> str:
    wrong = s.get("errors_nearer_a_random_wrong_class")
    correct = s.get("correct_nearer_a_random_wrong_class")
    if wrong is None or not np.isfinite(wrong):
        return ""
    return (
        f"; base rates: a wrong class drawn at random lies nearer for {100 * wrong:.0f} % of "
        f"the errors and for {100 * correct:.0f} % of the correctly classified vowels"
    )


# The columns of errors/<experiment>.tsv that the page lists.
ERROR_COLUMNS = [
    "utt_id", "start_s", "duration_s", "word", "previous", "phone", "next", "true", "predicted",
    "p_true", "p_predicted", "f1_hz", "f2_hz", "explained_by_formants",
]  # fmt: skip


def methods_compared(comparison: pd.DataFrame) -> pd.DataFrame:
    """The comparison of methods with the methods as columns (it has more figures than
    methods), so that it fits the page."""
    table = comparison.drop(columns=["experiment"], errors="ignore").set_index("method")
    return table.T.rename_axis("figure").reset_index()


def experiment_body(r: ExperimentResults, window_hz: float, bootstrap: int) -> str:
    """The experiment's section of the page; its figures are ``<name>/<figure>.png``."""
    m = r.metrics
    per_class = pd.DataFrame([{"class": c, **v} for c, v in m["per_class"].items()])
    fig = {k: figure_html(f"{r.name}/{k}.png", k, r.name, k.replace("_", " ")) for k in FIGURES}
    shown = r.errors[[c for c in ERROR_COLUMNS if c in r.errors]].head(25)
    return (
        f"<p>{r.description} Test split: {m['n']} segments; kept model: epoch "
        f"{m['model']['epoch']} (validation macro-F1 {m['model']['val_macro_f1']:.3f}). "
        f"CAM: {r.cells[0]} x {r.cells[1]} cells, {r.hz_per_cell:.0f} Hz per cell."
        f"{cells_sentence(r.agreement)}</p>"
        f"<h3>Test metrics</h3>{html_table(per_class, 3)}"
        f"{subsets_html(m)}"
        f"{fig['confusion']}{fig['history']}"
        f"<h3>CAM profiles and formants</h3>{fig['profiles']}"
        f"<h3>Examples</h3>{fig['examples']}"
        "<h3>Agreement of the true-class CAM with the formants</h3>"
        + (
            html_table(agreement_table(r.agreement))
            if len(r.agreement)
            else "<p>No test segment of this experiment is a vowel with formants.</p>"
        )
        + statements_html(
            r.needs, r.pairs, r.needs_ceilings, r.contrasts, r.randomised, r.peaks, "cam"
        )
        + _sensitivity_html(r.sensitivity, window_hz)
        + _tokens_html(r.evidence)
        + "<h3>Methods compared</h3>"
        + html_table(methods_compared(r.comparison))
        + fig["methods"]
        + "<h3>Misclassifications</h3>"
        + fig["vowel_chart"]
        + _error_text(r, len(shown))
        + (html_table(shown, 3) if len(shown) else "")
        + "<p class='note'>Ratio: share of the CAM profile within ±"
        f"{window_hz:g} Hz of the formant over a flat profile's share "
        "(1 = chance). Peak: share of profiles whose maximum lies within the band of a "
        "formant, against the share of possible peak positions that would. Brackets: 95 % "
        f"bootstrap interval, {bootstrap} resamples of utterances.</p>"
    )


def _sensitivity_html(table: pd.DataFrame, window_hz: float) -> str:
    if table.empty:
        return ""
    return (
        "<h3>Does the map statement hold for other bands? (AUC of the F1-F3 cells, minus the "
        "shuffled-labels model)</h3>"
        + html_table(sensitivity_view(table))
        + SENSITIVITY_NOTE.format(window=window_hz)
    )


def tokens_view(evidence: pd.DataFrame) -> pd.DataFrame:
    """Per token subset and method: n and map - spectrum on F1-F3 with its interval."""
    rows = evidence[evidence["band"] == "any"]
    return pd.DataFrame(
        {
            "tokens": rows["tokens"],
            "method": rows["method"],
            "vowels": rows["n_segments"].astype(int),
            "map - spectrum": [ci(r, "minus_spectrum") for _, r in rows.iterrows()],
        }
    )


def _tokens_html(evidence: pd.DataFrame) -> str:
    if evidence.empty or "tokens" not in evidence or evidence["tokens"].nunique() < 2:
        return ""
    return (
        "<h3>A description: the map's share on F1-F3 minus the spectrum's, on all tokens, "
        "stressed content words, rhotic contexts and words unseen in training</h3>"
        + html_table(tokens_view(evidence))
        + "<p class='note'>Not the verdict: a share of map mass depends on the scale of the "
        f"spectrum it is set beside (here {_power(evidence)}; a vowel's linear power sits mostly "
        "in F1, its dB spectrum is nearly flat) and on how smooth the map is. First seed, on "
        "every test vowel, on those with primary stress in a content word, on those before R "
        "(rhotic contexts) and on those whose word no training token has. Each row has its n.</p>"
    )


def _power(evidence: pd.DataFrame) -> str:
    power = str(evidence["spectrum_power"].iloc[0]) if "spectrum_power" in evidence else "power"
    return "the dB spectrum the network is fed" if power == "db" else f"power to {power}"


def run_intro(settings: dict, splits: dict, alignment: dict, rows: list[dict]) -> str:
    """The page's first section: what ran, and one row per experiment."""
    model, training = settings["model"], settings["training"]
    return (
        f"<p>Run <b>{settings['run']}</b>: {alignment['aligned_utterances']} aligned clips of "
        f"{settings['corpus']} ({settings['backend']}), "
        f"{_speakers(splits)}; splits by {splits['unit']} {splits['utterances']}; model "
        f"{model['arch']} ({model['weights']} weights, strides {model['freq_stride']} rows x "
        f"{model['time_stride']} frames), {_count(training['epochs'], 'epoch')}, Adam lr "
        f"{training['lr']:g}, batch {training['batch_size']}.</p>"
        + EXPLORER_LINK
        + html_table(pd.DataFrame(rows))
    )


EXPLORER_LINK = (
    "<p class='explorer'><a href='explorer/index.html'><b>Open the explorer</b></a>: every test "
    "token of every experiment, with its spectrogram, maps, formants, probabilities and sound; "
    "filter, sort and search the tokens, and browse the errors.</p>"
)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _speakers(splits: dict) -> str:
    per_split = splits.get("speakers") or {}
    n = max(per_split.values(), default=1)
    return "one speaker" if n <= 1 else f"speakers per split {per_split}"


def alignment_note(agreement: dict) -> str:
    """The alignment's agreement with the reference TextGrids, in one sentence."""
    within = agreement["boundaries"]["within"]
    return (
        "<p>Alignment against the reference TextGrids: "
        + ", ".join(
            f"{100 * w['share']:.1f} % of boundaries within {1000 * w['tol_s']:.0f} ms"
            for w in within
            if w["share"] is not None
        )
        + ".</p>"
    )


def formant_section(
    formant_summary: dict, formants: pd.DataFrame, moves: pd.DataFrame | None = None
) -> str:
    return (
        f"<p>{formant_summary['n_vowels']} vowels measured; undefined: "
        + ", ".join(f"{k[:2].upper()} {v}" for k, v in formant_summary["nan"].items())
        + f"; {formant_summary['n_short']} vowels shorter than Praat's physical window.</p>"
        + html_table(formants, 0)
        + (
            "<p>Measured again at other Praat ceilings: the share of vowels whose formant "
            "moves by more than each half-width from the configured ceiling's value (out of "
            "its band).</p>" + html_table(ceiling_moves_view(moves), 2)
            if moves is not None and len(moves)
            else ""
        )
    )


def summary_page(
    settings: dict,
    experiments: list[ExperimentResults],
    splits: dict,
    alignment: dict,
    formant_summary: dict,
    formants: pd.DataFrame,
    alignment_agreement: dict | None = None,
    verdict: tuple[pd.DataFrame, pd.DataFrame] | None = None,
    ceiling_moves: pd.DataFrame | None = None,
) -> tuple[list[tuple[str, str]], dict]:
    """The page's ``(heading, html)`` sections and the run's headline figures.

    ``settings`` holds ``run``, ``corpus`` (its name), ``backend``, ``model`` (arch, weights,
    freq_stride, time_stride), ``training`` (epochs, lr, batch_size), ``agreement``
    (window_hz, bootstrap) and ``evidence`` (alpha, cluster)."""
    headline, rows, sections = {}, [], []
    for r in experiments:
        headline[r.name] = experiment_headline(r)
        rows.append(experiment_row(r, headline[r.name]))
        body = experiment_body(r, **settings["agreement"])
        sections.append((r.name, body))
    intro = run_intro(settings, splits, alignment, rows)
    if alignment_agreement is not None:
        intro += alignment_note(alignment_agreement)
    first = []
    if verdict is not None:
        ev = settings["evidence"]
        window = settings["agreement"]["window_hz"]
        first = [("Verdict", verdict_section(*verdict, window, ev["alpha"], ev["cluster"]))]
    comparison = context_comparison(experiments)
    if len(comparison):
        intro += (
            "<h3>With and without the context (the vowel alone)</h3>"
            + html_table(comparison)
            + CONTEXT_NOTE
        )
    sections = [
        *first,
        ("Summary", intro),
        *sections,
        (
            f"Formants: {settings['corpus']} against Hillenbrand et al. (1995) women",
            formant_section(formant_summary, formants, ceiling_moves),
        ),
    ]
    return sections, {"run": settings["run"], "experiments": headline}
