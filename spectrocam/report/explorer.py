"""The explorer: one page per run to look at every test token of every experiment.

Built with Bokeh (its JavaScript, BokehJS, is inlined from the Python package, so the page needs
no server and no network): per experiment a tab with the token table (filter by class and
outcome, search by word, sort by any column), the selected token's spectrogram on the exact Hz and
seconds grid with a map over it (method and opacity chosen on the page), its formants, phone
boundaries, class probabilities and its sound, each class's mean frequency profile per method
with the formant lines and the class's mean spectrum, and the F1-F2 vowel chart, whose points
select tokens. It opens on a representative token of each experiment; the experiment, token, map
and a second token shown beside the first live in the address's fragment, so that a link (the
summary page's) opens the explorer on a token; every map of the token is shown at once; the
token's figures export SVG (BokehJS renders them again as SVG).

The figures are :mod:`spectrocam.report.explorer_plots`; the data lie beside the page
(:mod:`spectrocam.report.explorer_data`); ``explorer.js`` (in this package, inlined) fills the
models when the page opens and loads a token's arrays when it is selected. A tab's figures are
built when it is first shown, so the page opens at the cost of one experiment.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
from bokeh.core.templates import get_env
from bokeh.document import Document
from bokeh.embed import file_html
from bokeh.layouts import column, row
from bokeh.models import CDSView, ColumnDataSource, CustomJS, Div, IndexFilter, TabPanel, Tabs
from bokeh.resources import INLINE

from spectrocam.io import atomic_path
from spectrocam.report.explorer_data import ExperimentData, ExplorerConfig, write_experiment
from spectrocam.report.explorer_plots import (
    TABLE_FIELDS,
    WIDTH,
    caption,
    controls,
    methods_figures,
    probability_figure,
    profile_figures,
    spectrogram_figure,
    token_table,
    vowel_chart,
)
from spectrocam.report.reference import formant_lines

__all__ = ["CAPTIONS", "GLUE", "experiment_layout", "page_html", "write_explorer"]

GLUE = Path(__file__).with_name("explorer.js")

CAPTIONS = {
    "table": "Every test token of the experiment. Click a column's header to sort, a row to "
    "select the token. p(class), p(pred.): the model's probability of the true and of the "
    "predicted class; ms: the phone's duration; F1-F3: measured with Praat (– where the phone is "
    "not a measured vowel); ratios: the share of the true-class CAM's frequency profile within "
    "the agreement band of the formant over a flat profile's share (1 = chance); peak on F: "
    "whether the profile's maximum lies in a formant's band.",
    "spectrogram": "Left: the selected token's spectrogram on the store's exact grid (each "
    "pixel is one row of the STFT and one frame, centred on its frequency and time in the clip) "
    "with the chosen map over it: the map's positive part, scaled to its maximum, constant over "
    "each feature cell of its stage. Right: the token kept with 'Compare', the same way, side "
    "by side. The time axis spans the model's window (the image) and the whole phone where it "
    "is longer. Green: the measured F1-F3 over the phone; blue dashed: the token's phone "
    "boundaries; grey dotted: its neighbours'. Below: the model's class probabilities (green: "
    "the true class; red: the predicted one when it is wrong), the token and its sound, and "
    "every map's agreement with its formants. The address bar holds the experiment, token, "
    "map and compared token: copy it to come back to this view. 'Save the token's figures as "
    "SVG' downloads these two and every map of the token as SVG (each figure's own save tool "
    "writes a PNG).",
    "methods": "Every map the run has of the selected token (each method, of the true and of "
    "the predicted class where it has both), over its spectrogram, each scaled to its own "
    "maximum.",
    "profiles": "Each class's mean frequency profile of the chosen method's true-class maps "
    "(each token's profile over its own frames, scaled to sum 1, then averaged over the test "
    "tokens of the class; n: tokens with a positive map; the class's colour), beside the "
    "class's mean spectrum (black, dB on the left axis: each token's over the frames inside "
    "its phone, averaged; the summary page's figure draws the same). Red: the corpus's mean "
    "F1-F3 of the class's vowel; dashed: Hillenbrand et al.'s (1995) adult women's means.",
    "chart": "The test tokens' measured F1 against F2 in the phonetic orientation (F2 right to "
    "left, F1 top to bottom), by class; x: misclassified; stars: Hillenbrand et al.'s women's "
    "means. The table's filters apply. Click a point to select its token.",
}


def _models(name: str, meta: Mapping) -> tuple[dict, dict]:
    """The experiment's models: those the glue fills (by name), and the figures."""
    tokens = ColumnDataSource({f: [] for f in TABLE_FIELDS})
    view = CDSView(filter=IndexFilter(indices=[]))  # the glue shows the rows with the data
    c = controls(name, meta)
    spec = spectrogram_figure(name, meta)
    other = spectrogram_figure(name, meta, "-b", title="Compare: select a token, then press "
                               "'Compare' to keep it here")  # fmt: skip
    for s in (spec, other):
        c["opacity"].js_link("value", s["overlay"].glyph, "global_alpha")
    prob_fig, prob_src = probability_figure(name, meta["class_names"])
    prof_figs, prof_srcs, prof_titles = profile_figures(name, meta)
    all_figs, all_specs, all_maps, all_titles = methods_figures(name, meta)
    figures = {
        "table": token_table(name, tokens, view),
        "spectrogram": spec["figure"],
        "compared": other["figure"],
        "methods": all_figs,
        "probabilities": prob_fig,
        "profiles": prof_figs,
        "chart": vowel_chart(name, meta, tokens, view),
    }
    slot = ("spec", "map", "xr", "bounds", "labels", "formants")
    models = {
        "tokens": tokens, "filter": view.filter, "probs": prob_src, "profiles": prof_srcs,
        "profile_titles": prof_titles, "spec_title": spec["figure"].title,
        "spec_title_b": other["figure"].title, **{k: spec[k] for k in slot},
        **{f"{k}_b": other[k] for k in slot}, "all_specs": all_specs, "all_maps": all_maps,
        "all_titles": all_titles, "all_xr": [f.x_range for f in all_figs],
        "figures": [spec["figure"], other["figure"], *all_figs], **c,
    }  # fmt: skip
    return models, figures


def experiment_layout(name: str, meta: Mapping):
    """The experiment's tab content, and the callback that fills it when the page is ready."""
    models, fig = _models(name, meta)
    call = "SpectrocamExplorer.{}(" + json.dumps(name) + ", {{" + ", ".join(models) + "}})"
    on = {
        k: CustomJS(args=models, code=call.format(k))
        for k in ("filter", "select", "redraw", "compare", "save_svg")
    }
    for widget in ("cls", "outcome"):
        models[widget].js_on_change("value", on["filter"])
    models["word"].js_on_change("value_input", on["filter"])
    models["tokens"].selected.js_on_change("indices", on["select"])
    models["method"].js_on_change("value", on["redraw"])
    models["compare"].js_on_click(on["compare"])
    models["svg"].js_on_click(on["save_svg"])
    c = models
    per_row = max(1, WIDTH // 295)
    grid = [row(*fig["methods"][k : k + per_row]) for k in range(0, len(fig["methods"]), per_row)]
    layout = column(
        Div(text=_intro(meta), width=WIDTH),
        row(c["cls"], c["outcome"], c["word"], c["count"]),
        fig["table"],
        caption(CAPTIONS["table"]),
        row(c["method"], c["opacity"], c["compare"], c["svg"]),
        row(fig["spectrogram"], fig["compared"]),
        c["mapnote"],
        row(fig["probabilities"], c["info"]),
        caption(CAPTIONS["spectrogram"]),
        Div(text="<h3>Every map of the selected token</h3>", width=WIDTH),
        *grid,
        caption(CAPTIONS["methods"]),
        Div(text="<h3>Mean frequency profile and spectrum per class</h3>", width=WIDTH),
        row(*fig["profiles"]),
        caption(CAPTIONS["profiles"]),
        fig["chart"],
        caption(CAPTIONS["chart"]),
    )
    return layout, CustomJS(args=models, code=call.format("init"))


def _intro(meta: Mapping) -> str:
    n = len(meta["table"]["row"])
    maps = "; ".join(
        f"{m['label']}: {m['n_tokens']} tokens, {m['hz_per_cell']:.0f} Hz per cell"
        for m in meta["maps"]
    )
    return (
        f"<p>{html.escape(meta['description'])} {n} test tokens; model of epoch "
        f"{meta['model_epoch']}. Maps: {html.escape(maps)}.</p>"
    )


def page_html(title: str, experiments: Sequence[tuple[str, object, CustomJS]], note: str) -> str:
    """The page: BokehJS and the glue inlined, one tab per experiment; its data file
    (``data/<experiment>.js``) is loaded and its figures laid out when the tab is first shown
    (the first tab's with the page)."""
    doc = Document()
    names = [n for n, _, _ in experiments]
    full = [TabPanel(child=layout, title=n) for n, layout, _ in experiments]
    waiting = [TabPanel(child=Div(text="<p>loading…</p>"), title=n) for n in names]
    tabs = Tabs(tabs=[*full[:1], *waiting[1:]], width=WIDTH, html_id="experiments")
    # a tab's figures are built when it is first shown: its full panel replaces the waiting one
    show = (
        "const k = tabs.active; SpectrocamExplorer.show(names[k]); if (tabs.tabs[k] !== full[k]) "
        "{ const t = [...tabs.tabs]; t[k] = full[k]; tabs.tabs = t; }"
    )
    args = {"tabs": tabs, "full": full, "names": names}
    tabs.js_on_change("active", CustomJS(args=args, code=show))
    doc.add_root(column(Div(text=f"<h1>{html.escape(title)}</h1>{note}", width=WIDTH), tabs))
    for _, _, init in experiments:
        doc.js_on_event("document_ready", init)
    # the address's state (experiment, token, map, compared token), or a representative token
    doc.js_on_event(
        "document_ready", CustomJS(args=args, code="SpectrocamExplorer.route(tabs, names);")
    )
    first = html.escape(names[0]) if names else ""
    head = (
        f"<style>{PAGE_CSS}</style><script>{GLUE.read_text(encoding='utf-8')}</script>"
        f"<script>SpectrocamExplorer.expect({json.dumps(names)});</script>"
        + (
            f'<script src="data/{first}.js" '
            f"onerror=\"SpectrocamExplorer.missing('{first}')\"></script>"
            if names
            else ""
        )
    )
    template = get_env().from_string(
        '{% extends "file.html.jinja" %}{% block postamble %}{{ head }}{% endblock %}'
    )
    return file_html(doc, INLINE, title, template=template, template_variables={"head": head})


PAGE_CSS = """
html, body {height: auto !important}
body {font-family: sans-serif; margin: 0 auto; padding: 8px 12px; max-width: 1200px; color: #222}
"""


def write_explorer(
    folder: str | Path,
    title: str,
    experiments: Sequence[ExperimentData],
    phones: pd.DataFrame,
    formants: pd.DataFrame,
    clips: pd.DataFrame,
    reference: pd.DataFrame | None,
    cfg: ExplorerConfig,
) -> dict:
    """Write the explorer (``index.html``, ``data/``, ``sizes.json``) into the folder
    ``folder``, whole or not at all. Returns the sizes: what the page loads when it opens (the
    page and the first tab's table), each experiment's table (loaded when its tab is shown) and
    arrays (a chunk when one of its tokens is selected)."""
    folder = Path(folder)
    built, sizes = [], {}
    with atomic_path(folder) as tmp:
        tmp.mkdir()
        for e in experiments:
            lines = formant_lines(formants, e.classes, reference)
            meta, sizes[e.name] = write_experiment(
                tmp, folder, e, phones, formants, clips, lines, cfg
            )
            built.append((e.name, *experiment_layout(e.name, meta)))
        note = (
            "<p>Every test token of the run; back to the <a href='../index.html'>summary "
            "page</a>. The sound plays from the corpus's wav files, linked relative to this page "
            "(and by absolute path where the page was moved).</p>"
        )
        page = page_html(title, built, note).encode()
        (tmp / "index.html").write_bytes(page)
        tables = sum(s["table_bytes"] for s in sizes.values())
        first = sizes[experiments[0].name]["table_bytes"] if experiments else 0
        summary = {
            "page_bytes": len(page),
            "opened_bytes": len(page) + first,  # the page and its first tab's table
            "total_bytes": len(page) + tables + sum(s["array_bytes"] for s in sizes.values()),
            "experiments": sizes,
        }
        (tmp / "sizes.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary
