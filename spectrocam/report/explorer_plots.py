"""The explorer's figures, table and widgets (Bokeh models), one function each, for
:mod:`spectrocam.report.explorer` to lay out. The figures start empty; the page's glue
(``explorer.js``) fills them from the data files. ``html_id`` of each (``<experiment>-table``,
``-spectrogram``, ...) names it for the browser test."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bokeh.models import (
    Button,
    CDSView,
    ColorBar,
    ColumnDataSource,
    DataRange1d,
    DataTable,
    Div,
    FactorRange,
    HoverTool,
    LinearAxis,
    LinearColorMapper,
    NumberFormatter,
    Range1d,
    Select,
    Slider,
    Span,
    StringFormatter,
    TableColumn,
    TextInput,
)
from bokeh.palettes import Greys256, Inferno256
from bokeh.plotting import figure
from bokeh.transform import factor_cmap, factor_mark

__all__ = [
    "WIDTH",
    "TABLE_FIELDS",
    "caption",
    "token_table",
    "spectrogram_figure",
    "methods_figures",
    "probability_figure",
    "profile_figures",
    "vowel_chart",
    "controls",
]

WIDTH = 1180  # one column at 1,280 px, with room for a scroll bar
TABLE_FIELDS = (
    "row", "phone_id", "utt_id", "word", "phone", "stress", "class_name", "predicted_name",
    "outcome", "p_true", "p_predicted", "start_s", "end_s", "window_centre_s", "duration_ms",
    "f1_hz", "f2_hz", "f3_hz", "ratio_F1", "ratio_F2", "ratio_F3", "ratio_any", "peak_hz",
    "peak_hit", "peak_on_formant",
)  # fmt: skip
# formats, made anew for each table (a Bokeh model belongs to one document)
_P = {"format": "0.00", "nan_format": "–", "null_format": "–"}
_HZ = {"format": "0", "nan_format": "–", "null_format": "–"}
_COLUMNS = (  # field, title, width (px), formatter; 1,160 px in all
    ("utt_id", "clip", 85, None),
    ("word", "word", 95, None),
    ("phone", "phone", 50, None),
    ("stress", "stress", 45, None),
    ("class_name", "class", 65, None),
    ("predicted_name", "predicted", 70, None),
    ("outcome", "outcome", 95, None),
    ("p_true", "p(class)", 60, _P),
    ("p_predicted", "p(pred.)", 60, _P),
    ("duration_ms", "ms", 40, _HZ),
    ("f1_hz", "F1 Hz", 50, _HZ),
    ("f2_hz", "F2 Hz", 50, _HZ),
    ("f3_hz", "F3 Hz", 50, _HZ),
    ("ratio_F1", "F1 ratio", 60, _P),
    ("ratio_F2", "F2 ratio", 60, _P),
    ("ratio_F3", "F3 ratio", 60, _P),
    ("ratio_any", "F1-F3 ratio", 75, _P),
    ("peak_on_formant", "peak on F", 70, None),
)


def caption(text: str, width: int = WIDTH) -> Div:
    return Div(text=f"<p class='caption'>{text}</p>", width=width, styles={"color": "#444"})


def token_table(name: str, tokens: ColumnDataSource, view: CDSView) -> DataTable:
    columns = [
        TableColumn(
            field=f,
            title=t,
            width=w,
            formatter=NumberFormatter(**fmt) if fmt else StringFormatter(),
        )
        for f, t, w, fmt in _COLUMNS
    ]
    return DataTable(
        source=tokens,
        view=view,
        columns=columns,
        width=WIDTH,
        height=280,
        index_position=None,
        sortable=True,
        reorderable=False,
        selectable=True,
        html_id=f"{name}-table",
    )


def spectrogram_figure(
    name: str, meta: Mapping, suffix: str = "", width: int = 585, title: str | None = None
) -> dict:
    """The token's spectrogram figure: the spectrogram, the map over it, formants, boundaries.
    (Drawn on a canvas: BokehJS 3.9's SVG backend lays the figure out wrongly on its first
    repaint; the page's 'SVG' button exports it as SVG all the same.)"""
    freqs = meta["freqs_hz"]
    half = (freqs[1] - freqs[0]) / 2 if len(freqs) > 1 else 1.0
    xr = Range1d(0.0, 0.1)
    fig = figure(
        width=width,
        height=440,
        x_range=xr,
        y_range=Range1d(freqs[0] - half, freqs[-1] + half),
        x_axis_label="time in the clip (s)",
        y_axis_label="frequency (Hz)",
        title=title or "select a token in the table or the vowel chart",
        tools="pan,box_zoom,wheel_zoom,reset,save",
        toolbar_location="right",
        html_id=f"{name}-spectrogram{suffix}",
    )
    empty = {"image": [], "x": [], "y": [], "dw": [], "dh": []}
    spec_src, map_src = ColumnDataSource(dict(empty)), ColumnDataSource(dict(empty))
    low, high = meta["db_range"]
    db = LinearColorMapper(palette=tuple(reversed(Greys256)), low=low, high=high)
    fig.image(source=spec_src, image="image", x="x", y="y", dw="dw", dh="dh", color_mapper=db)
    heat = LinearColorMapper(palette=Inferno256, low=0, high=1, nan_color="rgba(0,0,0,0)")
    overlay = fig.image(
        source=map_src,
        image="image",
        x="x",
        y="y",
        dw="dw",
        dh="dh",
        color_mapper=heat,
        global_alpha=0.45,
    )
    if not suffix:
        fig.add_layout(ColorBar(color_mapper=db, title="dB", width=10), "right")
    bounds = ColumnDataSource({"x": [], "y0": [], "y1": [], "dash": [], "colour": []})
    fig.segment(
        x0="x", x1="x", y0="y0", y1="y1", source=bounds, line_color="colour", line_width=1.5,
        line_dash="dash", legend_label="phone boundaries",
    )  # fmt: skip
    labels = ColumnDataSource({"x": [], "y": [], "text": []})
    fig.text(
        x="x", y="y", text="text", source=labels, text_color="#0077aa", text_align="center",
        text_font_size="11px", text_baseline="top",
    )  # fmt: skip
    formant_src = ColumnDataSource({"x0": [], "x1": [], "y": [], "label": []})
    fig.segment(
        x0="x0", x1="x1", y0="y", y1="y", source=formant_src, line_color="lime", line_width=3,
        legend_label="measured F1-F3",
    )  # fmt: skip
    legend = fig.legend[0]
    legend.orientation, legend.location = "horizontal", "center"
    fig.add_layout(legend, "below")
    return {
        "figure": fig,
        "spec": spec_src,
        "map": map_src,
        "overlay": overlay,
        "xr": xr,
        "bounds": bounds,
        "labels": labels,
        "formants": formant_src,
    }


def methods_figures(name: str, meta: Mapping, width: int = 290) -> tuple[list, list, list, list]:
    """One small figure per map (method and class): the selected token's spectrogram with that
    map over it, all at once. Their sources (spectrogram, map) and titles are filled by the
    glue."""
    freqs = meta["freqs_hz"]
    half = (freqs[1] - freqs[0]) / 2 if len(freqs) > 1 else 1.0
    low, high = meta["db_range"]
    figures, specs, maps, titles = [], [], [], []
    for k, entry in enumerate(meta["maps"]):
        fig = figure(
            width=width, height=230, x_range=Range1d(0.0, 0.1),
            y_range=Range1d(freqs[0] - half, freqs[-1] + half), title=entry["label"],
            tools="save", toolbar_location="right",
            html_id=f"{name}-method-{k}",
        )  # fmt: skip
        empty = {"image": [], "x": [], "y": [], "dw": [], "dh": []}
        spec, heat = ColumnDataSource(dict(empty)), ColumnDataSource(dict(empty))
        grey = LinearColorMapper(palette=tuple(reversed(Greys256)), low=low, high=high)
        fig.image(source=spec, image="image", x="x", y="y", dw="dw", dh="dh", color_mapper=grey)
        hot = LinearColorMapper(palette=Inferno256, low=0, high=1, nan_color="rgba(0,0,0,0)")
        fig.image(source=heat, image="image", x="x", y="y", dw="dw", dh="dh", color_mapper=hot,
                  global_alpha=0.5)  # fmt: skip
        fig.title.text_font_size = "11px"
        fig.xaxis.major_label_text_font_size = fig.yaxis.major_label_text_font_size = "9px"
        figures.append(fig)
        specs.append(spec)
        maps.append(heat)
        titles.append(fig.title)
    return figures, specs, maps, titles


def probability_figure(name: str, classes: Sequence[str]) -> tuple:
    src = ColumnDataSource(
        {"class_name": list(classes), "p": [0.0] * len(classes), "colour": ["#bbb"] * len(classes)}
    )
    fig = figure(
        x_range=FactorRange(*classes),
        y_range=Range1d(0, 1),
        width=440,
        height=200,
        title="class probabilities",
        toolbar_location=None,
        tools="",
        html_id=f"{name}-probabilities",
    )
    fig.vbar(x="class_name", top="p", width=0.7, color="colour", source=src)
    fig.yaxis.axis_label = "softmax"
    return fig, src


def profile_figures(name: str, meta: Mapping) -> tuple[list, list, list]:
    """One small figure per class: the chosen method's mean profile, formant lines."""
    classes = meta["class_names"]
    width = max(200, WIDTH // max(len(classes), 1) - 4)
    spectra = meta.get("spectra", {})
    values = [v for s in spectra.values() for v in s if v is not None]
    db = Range1d(min(values, default=-100) - 2, max(values, default=0) + 2)
    figures, sources = [], []
    for c in classes:
        src = ColumnDataSource({"f": meta["freqs_hz"], "p": [0.0] * len(meta["freqs_hz"])})
        fig = figure(
            width=width, height=230, title=c, toolbar_location="right", tools="save",
            x_axis_label="Hz", y_range=Range1d(0, 1.05),
            html_id=f"{name}-profile-{c}",
        )  # fmt: skip
        fig.line("f", "p", source=src, line_width=1.8, color=meta["colours"][c],
                 legend_label="map profile")  # fmt: skip
        fig.yaxis.visible = False
        if c in spectra:  # the class-mean spectrum beside the profile, on its own dB axis
            fig.extra_y_ranges = {"db": db}
            fig.add_layout(LinearAxis(y_range_name="db", axis_label="dB"), "left")
            fig.line(meta["freqs_hz"], spectra[c], y_range_name="db", color="black",
                     line_width=1, legend_label="mean spectrum")  # fmt: skip
        fig.legend.label_text_font_size = "9px"
        fig.legend.location = "top_right"
        fig.legend.background_fill_alpha = 0.6
        lines = meta["lines"].get(c, {})
        for f in lines.get("measured", []):
            if f is not None:
                fig.add_layout(Span(location=f, dimension="height", line_color="#d62728"))
        for f in lines.get("reference", []):
            if f is not None:
                fig.add_layout(
                    Span(location=f, dimension="height", line_color="black", line_dash="dashed")
                )
        figures.append(fig)
        sources.append(src)
    return figures, sources, [f.title for f in figures]


def vowel_chart(name: str, meta: Mapping, tokens, view) -> figure:
    classes = meta["class_names"]
    palette = [meta["colours"][c] for c in classes]  # the report's colours (report.colours)
    fig = figure(
        width=720,
        height=500,
        x_range=DataRange1d(flipped=True),
        y_range=DataRange1d(flipped=True),
        x_axis_label="F2 (Hz)",
        y_axis_label="F1 (Hz)",
        title="F1-F2 of the test tokens (x: misclassified)",
        tools="tap,pan,box_zoom,wheel_zoom,reset",
        html_id=f"{name}-chart",
    )
    points = fig.scatter(
        "f2_hz", "f1_hz", source=tokens, view=view, size=9, alpha=0.75,
        color=factor_cmap("class_name", palette, classes),
        marker=factor_mark("outcome", ["circle", "x"], ["correct", "misclassified"]),
        nonselection_alpha=0.3, selection_alpha=1, selection_line_color="black",
        selection_line_width=2.5,
    )  # fmt: skip
    for c, colour in zip(classes, palette, strict=False):  # the legend, apart from the data
        fig.scatter([float("nan")], [float("nan")], color=colour, size=9, legend_label=c)
    fig.scatter([float("nan")], [float("nan")], marker="x", color="grey", size=9,
                legend_label="misclassified")  # fmt: skip
    ref = {c: v["reference"] for c, v in meta["lines"].items() if len(v["reference"]) >= 2}
    if ref:
        stars = ColumnDataSource(
            {"f1": [v[0] for v in ref.values()], "f2": [v[1] for v in ref.values()], "c": list(ref)}
        )
        fig.scatter("f2", "f1", source=stars, marker="star", size=16, color="black",
                    legend_label="Hillenbrand women (mean)")  # fmt: skip
        fig.text("f2", "f1", text="c", source=stars, x_offset=8, y_offset=-4, text_font_size="11px")
    tips = [("word", "@word"), ("phone", "@phone"), ("class", "@class_name"),
            ("predicted", "@predicted_name")]  # fmt: skip
    fig.add_tools(HoverTool(tooltips=tips, renderers=[points]))
    legend = fig.legend[0]
    legend.label_text_font_size = "10px"
    fig.add_layout(legend, "right")
    return fig


def controls(name: str, meta: Mapping) -> dict:
    classes = meta["class_names"]
    maps = meta["maps"]
    return {
        "cls": Select(
            title="class",
            value="all",
            options=["all", *classes],
            width=150,
            html_id=f"{name}-class",
        ),  # fmt: skip
        "outcome": Select(
            title="outcome",
            value="all",
            options=["all", "correct", "misclassified"],
            width=170,
            html_id=f"{name}-outcome",
        ),  # fmt: skip
        "word": TextInput(
            title="word contains", placeholder="search by word", width=220, html_id=f"{name}-word"
        ),  # fmt: skip
        "count": Div(text="", width=400, html_id=f"{name}-count"),
        "method": Select(
            title="map over the spectrogram",
            value=maps[0]["key"] if maps else "",
            options=[(m["key"], m["label"]) for m in maps],
            width=260,
            html_id=f"{name}-method",
        ),  # fmt: skip
        "opacity": Slider(
            title="map opacity",
            start=0,
            end=1,
            step=0.05,
            value=0.45,
            width=220,
            html_id=f"{name}-opacity",
        ),  # fmt: skip
        "compare": Button(
            label="Compare: keep this token on the right", width=280, html_id=f"{name}-compare"
        ),
        "svg": Button(label="Save the token's figures as SVG", width=240, html_id=f"{name}-svg"),
        "info": Div(text="<p>No token selected.</p>", width=600, html_id=f"{name}-info"),
        "mapnote": Div(text="", width=720, html_id=f"{name}-mapnote"),
    }
