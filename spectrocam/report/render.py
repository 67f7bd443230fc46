"""The summary page's templates (jinja2, in ``templates/``), and the links from the page to the
explorer's tokens."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

__all__ = [
    "Markup",
    "environment",
    "render",
    "token_url",
    "token_link",
    "figure_html",
    "caption_text",
    "section_id",
]

TEMPLATES = Path(__file__).with_name("templates")


@cache
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, **context) -> Markup:
    """A template of ``templates/`` filled in (autoescaped: pass HTML as :class:`Markup`)."""
    return Markup(environment().get_template(template).render(**context))


def token_url(
    experiment: str, phone_id: str, method: str | None = None, page: str = "explorer/index.html"
) -> str:
    """The explorer opened on one token: its state lives in the address's fragment
    (``#experiment=...&token=<phone_id>&method=<method:which>``)."""
    state = {"experiment": experiment, "token": phone_id}
    if method:
        state["method"] = method
    return f"{page}#{urlencode(state)}"


def token_link(experiment: str, phone_id: str, text: str | None = None) -> Markup:
    """A link to the token in the explorer, its text the phone id (or ``text``)."""
    return render("link.html.j2", href=token_url(experiment, phone_id), text=text or phone_id)


CAPTIONS = Path(__file__).resolve().parents[2] / "workflow" / "report"
CSS_PX_PER_INCH = 96  # a figure is shown at its size in inches at the browser's 96 px per inch


def _png_size(path: Path, dpi: float = 200.0) -> tuple[int, int] | None:
    """The CSS size of a PNG drawn at ``dpi`` (None where it is not there)."""
    try:
        from PIL import Image

        with Image.open(path) as image:
            dpi = float((image.info.get("dpi") or (dpi,))[0]) or dpi
            w, h = image.size
    except (OSError, ValueError):
        return None
    return round(w * CSS_PX_PER_INCH / dpi), round(h * CSS_PX_PER_INCH / dpi)


def caption_text(name: str, experiment: str, text: str | None = None) -> str:
    """The caption of figure ``name``: ``text``, else ``workflow/report/<name>.rst`` (the
    caption of the same figure in ``snakemake --report``), for ``experiment``, on one line."""
    text = text or (CAPTIONS / f"{name}.rst").read_text(encoding="utf-8")
    return " ".join(text.replace("{{ snakemake.wildcards.experiment }}", experiment).split())


def figure_html(
    src: str,
    name: str,
    experiment: str,
    alt: str,
    folder: str | Path | None = None,
    caption: str | None = None,
) -> Markup:
    """A figure with its caption: the text of ``workflow/report/<name>.rst``, the caption of
    the same figure in ``snakemake --report``; shown at its own size (never wider than the page
    lets it be) where the PNG is found under ``folder``, with a link to its SVG."""
    size = _png_size(Path(folder) / src) if folder is not None else None
    return render(
        "figure.html.j2",
        id=None,
        src=src,
        svg=re.sub(r"\.png$", ".svg", src),
        alt=alt,
        width=size[0] if size else None,
        height=size[1] if size else None,
        caption=caption_text(name, experiment, caption),
    )


def section_id(heading: str) -> str:
    """An id for a heading: its lowercase words (and underscores) joined by hyphens."""
    return re.sub(r"[^a-z0-9_]+", "-", heading.lower()).strip("-") or "section"
