"""Check the relative links of Markdown files that live outside the documentation site.

    python scripts/check_links.py README.md config/README.md

Every relative link or image (``[text](path)``, ``![alt](path)``, ``[text](path#anchor)``,
``[text](#anchor)``) must name a file or folder that exists, relative to the file it is in, and
every ``#anchor`` into a Markdown file a heading of that file (GitHub's and mkdocs' slugs: lower
case, punctuation dropped, spaces as dashes). Links with a scheme (``https:``, ``mailto:``) are
counted, not fetched: this machine has no network. Exits 1 and lists every broken link. The
site's own pages are checked by ``mkdocs build --strict`` (mkdocs.yml's ``validation``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")


def strip_code(text: str, inline: bool = True) -> str:
    """``text`` without fenced code blocks and (``inline``) inline code: links there are not
    links."""
    out, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            out.append("")
            continue
        out.append("" if fenced else re.sub(r"`[^`]*`", "``", line) if inline else line)
    return "\n".join(out)


def slug(heading: str) -> str:
    """The anchor of a heading, as GitHub and mkdocs' toc make it."""
    text = re.sub(r"`([^`]*)`", r"\1", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for line in strip_code(path.read_text(encoding="utf-8"), inline=False).splitlines():
        m = HEADING.match(line)
        if not m:
            continue
        base = slug(m.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def broken_links(path: Path) -> tuple[list[str], int]:
    """The broken relative links of the Markdown file ``path`` (as messages), and how many
    links with a scheme it has."""
    broken, external = [], 0
    text = strip_code(path.read_text(encoding="utf-8"))
    for number, line in enumerate(text.splitlines(), 1):
        for target in LINK.findall(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
                external += 1
                continue
            file_part, _, anchor = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path.resolve()
            where = f"{path}:{number}: {target}"
            if not linked.exists():
                broken.append(f"{where}: {linked} does not exist")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                broken.append(f"{where}: {linked.name} has no heading #{anchor}")
    return broken, external


def main(paths: list[str]) -> int:
    failures, checked, external = [], 0, 0
    for name in paths:
        broken, n_external = broken_links(Path(name))
        failures += broken
        external += n_external
        checked += 1
    for message in failures:
        print(message)
    print(
        f"{checked} files: {len(failures)} broken relative links; {external} links with a scheme "
        "not fetched"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
