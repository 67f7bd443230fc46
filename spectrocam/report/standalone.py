"""The summary page as one self-contained file, for ``snakemake --report``.

``report/index.html`` shows its figures from ``report/<experiment>/*.png`` through relative
links. Inside ``report.zip`` every result sits in a folder of its own, so those links would find
nothing: :func:`standalone_page` inlines every image of the page as a ``data:`` URI, which shows
wherever the file is opened, and says at the top of the page where the explorer is.
"""

from __future__ import annotations

import base64
import html
import mimetypes
import re
from pathlib import Path

from spectrocam.io import atomic_path

__all__ = ["inline_images", "standalone_page", "write_standalone_page"]

# <img ... src='X' ...> or src="X"; the page writes single quotes
_IMG_SRC = re.compile(r"""(<img\b[^>]*?\bsrc=)(['"])(.*?)\2""", re.IGNORECASE | re.DOTALL)
_EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|#)", re.IGNORECASE)

NOTE = (
    "<p class='note' id='standalone-note'>This is the run's summary page in one file (its "
    "figures inlined), as <code>snakemake --report</code> holds it. The explorer is the "
    "report's own <b>explorer</b> entry; the page's links to it work from "
    "<code>results/&lt;run&gt;/report/index.html</code>.</p>"
)


def inline_images(page: str, base: Path) -> str:
    """``page`` with the relative ``src`` of every ``<img>`` replaced by a ``data:`` URI of the
    file it names (relative to ``base``). Absolute, ``data:`` and other URLs are left alone; a
    relative image that does not exist raises :class:`FileNotFoundError`."""

    def inline(match: re.Match) -> str:
        head, quote, src = match.group(1), match.group(2), html.unescape(match.group(3))
        if _EXTERNAL.match(src):
            return match.group(0)
        path = base / src.split("#", 1)[0].split("?", 1)[0]
        if not path.is_file():
            raise FileNotFoundError(f"the page shows {src}, which is not at {path}")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"{head}{quote}data:{mime};base64,{data}{quote}"

    return _IMG_SRC.sub(inline, page)


def standalone_page(page: str, base: Path) -> str:
    """The summary page ``page`` (HTML, whose relative links start at ``base``) with its images
    inlined and a note on where the explorer is, after the opening ``<body>``."""
    out = inline_images(page, base)
    body = re.search(r"<body\b[^>]*>", out, re.IGNORECASE)
    at = body.end() if body else 0
    return out[:at] + NOTE + out[at:]


def write_standalone_page(page_path: str | Path, out_path: str | Path) -> int:
    """Write the self-contained copy of the page at ``page_path`` to ``out_path``; its size in
    bytes."""
    page_path = Path(page_path)
    text = standalone_page(page_path.read_text(encoding="utf-8"), page_path.parent)
    with atomic_path(out_path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return len(text.encode("utf-8"))
