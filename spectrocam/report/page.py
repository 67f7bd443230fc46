"""The summary page of a run (HTML) and its headline figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from spectrocam.io import write_text
from spectrocam.report.controls import CONTEXT_NOTE, context_comparison, subsets_html
from spectrocam.report.headline import answer_section
from spectrocam.report.render import (
    Markup,
    caption_text,
    figure_html,
    render,
    section_id,
    token_link,
)
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
    "section_id",
    "write_summary_page",
    "summary_page",
]


def write_summary_page(path: str | Path, sections: list[tuple[str, str]], title: str) -> None:
    """The page, written whole or not at all: the first of ``(heading, html body)`` sections is
    the answer on the first screen, followed by a table of contents of the others, each of
    which folds away."""
    path = Path(path)
    first, *rest = sections or [("", "")]
    details = [{"id": section_id(h), "heading": h, "body": Markup(b)} for h, b in rest]
    page = render("page.html.j2", title=title, answer=Markup(first[1]), sections=details)
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
    references: dict = field(default_factory=dict)  # evaluation/<experiment>/references.json
    # the tokens of the examples figure (phone_id, utt_id, word, class_name, predicted_name)
    examples: list = field(default_factory=list)


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


def errors_view(r: ExperimentResults, n: int = 25) -> pd.DataFrame:
    """The first ``n`` misclassifications, each clip a link to its token in the explorer."""
    shown = r.errors[[c for c in ERROR_COLUMNS if c in r.errors]].head(n).copy()
    if "phone_id" in r.errors and len(shown):
        ids = r.errors["phone_id"].head(n).astype(str)
        shown["utt_id"] = [
            token_link(r.name, pid, str(u)) for pid, u in zip(ids, shown["utt_id"], strict=True)
        ]
    return shown


def experiment_body(
    r: ExperimentResults, window_hz: float, bootstrap: int, folder: str | Path | None = None
) -> Markup:
    """The experiment's section of the page; its figures are ``<name>/<figure>.png`` (under
    ``folder``, the page's, where they are measured)."""
    m = r.metrics
    per_class = pd.DataFrame([{"class": c, **v} for c, v in m["per_class"].items()])
    fig = {
        k: figure_html(f"{r.name}/{k}.png", k, r.name, k.replace("_", " "), folder) for k in FIGURES
    }
    shown = errors_view(r)
    examples = [e | {"link": token_link(r.name, e["phone_id"], e["utt_id"])} for e in r.examples]
    return render(
        "experiment.html.j2",
        r=r,
        m=m,
        cells=cells_sentence(r.agreement),
        per_class=Markup(html_table(per_class, 3)),
        subsets=Markup(subsets_html(m)),
        fig=fig,
        examples=examples,
        agreement=Markup(html_table(agreement_table(r.agreement))) if len(r.agreement) else "",
        statements=Markup(
            statements_html(
                r.needs, r.pairs, r.needs_ceilings, r.contrasts, r.randomised, r.peaks, "cam"
            )
        ),
        sensitivity=Markup(_sensitivity_html(r.sensitivity, window_hz)),
        tokens=Markup(_tokens_html(r.evidence)),
        methods=Markup(html_table(methods_compared(r.comparison))),
        s=r.error_summary,
        base_rates=_base_rates(r.error_summary),
        shown=len(shown),
        errors=Markup(html_table(shown, 3)) if len(shown) else "",
        window_hz=window_hz,
        bootstrap=bootstrap,
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


def run_intro(
    settings: dict, splits: dict, alignment: dict, rows: list[dict], agreement: dict | None = None
) -> Markup:
    """What ran, one row per experiment, and the alignment's agreement with the reference
    TextGrids (``agreement``, where there is one)."""
    within = [w for w in (agreement or {}).get("boundaries", {}).get("within", [])
              if w["share"] is not None]  # fmt: skip
    return render(
        "run.html.j2",
        settings=settings,
        alignment=alignment,
        splits=splits,
        speakers=_speakers(splits),
        model=settings["model"],
        training=settings["training"],
        table=Markup(html_table(pd.DataFrame(rows))),
        within=within,
    )


def _speakers(splits: dict) -> str:
    per_split = splits.get("speakers") or {}
    n = max(per_split.values(), default=1)
    return "one speaker" if n <= 1 else f"speakers per split {per_split}"


def formant_section(
    formant_summary: dict, formants: pd.DataFrame, moves: pd.DataFrame | None = None
) -> Markup:
    shown = moves is not None and len(moves)
    return render(
        "formants.html.j2",
        summary=formant_summary,
        table=Markup(html_table(formants, 0)),
        moves=Markup(html_table(ceiling_moves_view(moves), 2)) if shown else "",
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
    folder: str | Path | None = None,
) -> tuple[list[tuple[str, str]], dict]:
    """The page's ``(heading, html)`` sections (the first: the answer on the first screen) and
    the run's headline figures.

    ``settings`` holds ``run``, ``corpus`` (its name), ``backend``, ``model`` (arch, weights,
    freq_stride, time_stride), ``training`` (epochs, lr, batch_size), ``agreement``
    (window_hz, bootstrap) and ``evidence`` (alpha, cluster, method, cues). ``folder``: the
    page's, where its figures are (to show each at its own size)."""
    headline, rows, sections = {}, [], []
    for r in experiments:
        headline[r.name] = experiment_headline(r)
        rows.append(experiment_row(r, headline[r.name]))
        body = experiment_body(r, **settings["agreement"], folder=folder)
        paper = caption_text("paper", r.name)
        body = Markup(f"<p class='note'>{Markup.escape(paper)}</p>") + body
        sections.append((r.name, body))
    intro = str(run_intro(settings, splits, alignment, rows, alignment_agreement))
    first = []
    tests = verdict[1] if verdict is not None else pd.DataFrame()
    if verdict is not None:
        ev = settings["evidence"]
        window = settings["agreement"]["window_hz"]
        first = [("The verdict in full",
                  verdict_section(*verdict, window, ev["alpha"], ev["cluster"]))]  # fmt: skip
    comparison = context_comparison(experiments)
    if len(comparison):
        intro += (
            "<h3>With and without the context (the vowel alone)</h3>"
            + html_table(comparison)
            + CONTEXT_NOTE
        )
    sections = [
        ("The answer", answer_section(settings, experiments, tests, alignment, folder)),
        *first,
        ("Run and headline figures", intro),
        *sections,
        (
            f"Formants: {settings['corpus']} against Hillenbrand et al. (1995) women",
            formant_section(formant_summary, formants, ceiling_moves),
        ),
    ]
    return sections, {"run": settings["run"], "experiments": headline}
