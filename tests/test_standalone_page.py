"""The summary page in one file for snakemake --report: its images inlined, nothing else changed."""

from __future__ import annotations

import base64

import pytest

from spectrocam.report.standalone import inline_images, standalone_page, write_standalone_page

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


def test_relative_images_are_inlined_and_links_left_alone(tmp_path):
    (tmp_path / "vowels_4k").mkdir()
    (tmp_path / "vowels_4k" / "confusion.png").write_bytes(PNG)
    page = (
        "<html><body><h1>run</h1>"
        "<figure><img src='vowels_4k/confusion.png' alt='a'></figure>"
        '<img alt="b" src="https://example.org/x.png">'
        "<img src='data:image/png;base64,AAAA'>"
        "<a href='explorer/index.html'>explorer</a></body></html>"
    )
    out = inline_images(page, tmp_path)
    encoded = base64.b64encode(PNG).decode()
    assert f"<img src='data:image/png;base64,{encoded}' alt='a'>" in out
    assert 'src="https://example.org/x.png"' in out and "base64,AAAA'" in out
    assert "href='explorer/index.html'" in out
    # nothing but the one image changed
    assert out.replace(f"data:image/png;base64,{encoded}", "vowels_4k/confusion.png") == page
    whole = standalone_page(page, tmp_path)
    assert whole.index("<body>") < whole.index("standalone-note") < whole.index("<h1>run</h1>")


def test_a_missing_image_is_an_error_that_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="vowels_4k/missing.png"):
        inline_images("<img src='vowels_4k/missing.png'>", tmp_path)


def test_the_page_is_written_whole(tmp_path):
    (tmp_path / "a.png").write_bytes(PNG)
    (tmp_path / "index.html").write_text("<body><img src='a.png'></body>", encoding="utf-8")
    size = write_standalone_page(tmp_path / "index.html", tmp_path / "summary_page.html")
    text = (tmp_path / "summary_page.html").read_text(encoding="utf-8")
    assert size == len(text.encode()) and "data:image/png;base64," in text
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["a.png", "index.html", "summary_page.html"]
