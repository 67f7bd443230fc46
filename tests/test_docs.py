"""The link check of the Markdown files outside the documentation site (scripts/check_links.py),
on files whose answer is known; the site itself is checked by mkdocs build --strict (make docs)."""

from __future__ import annotations

import subprocess
import sys

from .conftest import REPO

CHECK = REPO / "scripts" / "check_links.py"


def check(*paths) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(CHECK), *map(str, paths)]
    return subprocess.run(cmd, capture_output=True, text=True)


def test_broken_files_and_anchors_are_found_and_good_links_pass(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text("# A page\n\n## The `x` setting (Hz)\n")
    (tmp_path / "README.md").write_text(
        "# Top\n\n## Section two\n\n"
        "[ok](docs/page.md) [ok](docs/page.md#the-x-setting-hz) [ok](#section-two) "
        "![ok](docs/) [web](https://example.org/x)\n"
        "[gone](docs/missing.md) [bad anchor](docs/page.md#nothing) [bad](#no-such)\n"
        "```\n[in code](nowhere.md)\n```\n`[inline](nowhere.md)`\n"
    )
    proc = check(tmp_path / "README.md")
    assert proc.returncode == 1
    broken = [line for line in proc.stdout.splitlines() if "README.md:" in line]
    assert len(broken) == 3, proc.stdout
    assert "missing.md" in broken[0] and "#nothing" in broken[1] and "#no-such" in broken[2]
    assert "1 links with a scheme" in proc.stdout


def test_the_readmes_links_resolve():
    proc = check(REPO / "README.md", REPO / "config" / "README.md")
    assert proc.returncode == 0, proc.stdout
