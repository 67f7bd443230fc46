"""mkdocs hook: the package's docstrings cite Sphinx-style (``:func:`x```); on the API pages the
role's name is dropped and its target kept as code, so that they read as prose."""

from __future__ import annotations

import re

ROLE = re.compile(r":(?:func|mod|class|data|meth|attr|obj|exc):(?=<code>)")


def on_page_content(html: str, **kwargs) -> str:
    return ROLE.sub("", html)
