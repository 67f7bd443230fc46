#!/usr/bin/env python
"""Compare the tables of two summary pages cell by cell (their text, as a reader sees it).

    python scripts/compare_page_tables.py before/index.html after/index.html

Prints how many tables each page has, which tables of the first page the second has unchanged,
and for each other table the closest one of the second page (same header) with the cells that
differ; then the tables only the second page has. Use it around a change that should leave the
page's numbers alone (the swap to jinja2 templates, a new layout).
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path


class Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._depth += 1
            self.tables.append([])
        elif tag == "tr" and self._depth:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self._depth -= 1
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables(path: Path) -> list[list[list[str]]]:
    parser = Tables()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.tables


def main(before: str, after: str) -> int:
    old, new = tables(Path(before)), tables(Path(after))
    print(f"{before}: {len(old)} tables; {after}: {len(new)} tables")
    unused = list(range(len(new)))
    same, changed = 0, 0
    for k, table in enumerate(old):
        match = next((j for j in unused if new[j] == table), None)
        if match is not None:
            unused.remove(match)
            same += 1
            continue
        changed += 1
        header = table[0] if table else []
        near = [j for j in unused if new[j] and new[j][0] == header]
        print(f"\ntable {k} ({' | '.join(header)[:100]}): not found unchanged")
        if not near:
            print("  no table of the second page has its header")
            continue
        j = near[0]
        unused.remove(j)
        rows = max(len(table), len(new[j]))
        for r in range(rows):
            a = table[r] if r < len(table) else None
            b = new[j][r] if r < len(new[j]) else None
            if a != b:
                print(f"  row {r}: {a}\n      -> {b}")
    print(f"\n{same} tables identical, {changed} changed; only in the second page: {len(unused)}")
    for j in unused:
        print(f"  new table {j}: {' | '.join(new[j][0])[:120] if new[j] else '(empty)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
