"""The explorer and the summary page in a real browser: Debian's headless Chromium, driven by
Selenium, on the end-to-end run's outputs (the ``study`` fixture).

Where Chromium or its driver is absent the tests skip and say so (``make test`` installs them;
under CI they fail instead: :func:`tests.conftest.missing`). Bokeh draws inside shadow roots,
so elements are found by their ids through every shadow root (:data:`DEEP`).
SPECTROCAM_SCREENSHOT names a file for the README's screenshot of the explorer (it is always
written into the run's folder too).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spectrocam.explain.maps import MapFile

from .conftest import missing

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required", "--mute-audio", "--window-size=1280,1400",
]  # fmt: skip
# All elements matching a selector inside the element with the id arguments[0] (or anywhere,
# when it is null), through every shadow root on the way.
DEEP = """
const [id, selector] = arguments, found = [];
const walk = (node, sel, out) => {
  out.push(...node.querySelectorAll(sel));
  node.querySelectorAll('*').forEach((e) => { if (e.shadowRoot) walk(e.shadowRoot, sel, out); });
};
if (!id) { walk(document, selector, found); return found; }
const hosts = [];
walk(document, '#' + id, hosts);
hosts.forEach((h) => {
  walk(h, selector, found);
  if (h.shadowRoot) walk(h.shadowRoot, selector, found);
});
return found;
"""
# The viewport position of data point (x, y) of the figure with the html id arguments[0].
POINT = """
const [id, x, y] = arguments;
const fig = [...Bokeh.documents[0].all_models].find((m) => m.html_id === id);
const view = Object.values(Bokeh.index).map((r) => r.owner.find_one(fig)).find((v) => v);
view.el.scrollIntoView({block: 'center'});
const box = view.canvas_view.el.getBoundingClientRect();
return [box.left + view.frame.x_scale.compute(x), box.top + view.frame.y_scale.compute(y)];
"""
# The address, once the explorer has drawn the representative token of experiment arguments[0].
REPRESENTATIVE = """
const E = SpectrocamExplorer, name = arguments[0];
return E.drawn && E.drawn.name === name && E.drawn.row === E.experiments[name].representative
  && location.hash;
"""
# The SVG of the figure with the html id arguments[0], as the page's 'SVG' button saves it.
EXPORT = """
const [id, done] = arguments;
const fig = [...Bokeh.documents[0].all_models].find((m) => m.html_id === id);
SpectrocamExplorer.svgOf(fig).then(done, (e) => done("error: " + e));
"""
# Play the audio element arguments[0] (muted) until its media fragment ends it, then report.
PLAY = """
const [audio, done] = arguments;
audio.muted = true;
const report = () => done([audio.paused, audio.currentTime]);
audio.addEventListener('pause', report, {once: true});
setTimeout(report, 8000);
audio.play().catch((e) => done(['error', String(e)]));
"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        missing(
            f"headless Chromium is absent ({CHROMIUM}, {DRIVER}): apt-get install chromium "
            "chromium-driver (make browser does, as root)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_script_timeout(30)
    yield driver
    driver.quit()


def deep(driver, id_: str | None, selector: str) -> list:
    return driver.execute_script(DEEP, id_, selector)


def wait(what, timeout: float = 30.0, every: float = 0.05):
    """Poll ``what()`` until it returns something true; that value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def open_explorer(driver, page: Path) -> float:
    """Open the page; the seconds from navigation to the explorer's models filled and painted."""
    driver.get(page.as_uri())
    wait(lambda: driver.execute_script("return document.documentElement.dataset.explorerReady"))
    return driver.execute_script("return SpectrocamExplorer.readyAt") / 1000


def pixels(element) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(element.screenshot_as_png)).convert("RGB"), int)


def grey_drawn(rgb: np.ndarray) -> tuple[int, int]:
    """Pixels that are grey but not white (the spectrogram), and how many grey levels."""
    grey = (np.ptp(rgb, axis=2) < 8) & (rgb.max(axis=2) < 240)
    return int(grey.sum()), len(np.unique(rgb[grey][:, 0]))


def colourful(rgb: np.ndarray) -> int:
    """Pixels of a saturated colour (the map's palette)."""
    return int((np.ptp(rgb, axis=2) > 60).sum())


def pick_token(maps: MapFile) -> tuple[int, str]:
    """A misclassified token with a CAM (true class) positive somewhere, that a search by its
    word among the misclassified tokens lists first; and that word."""
    seg = maps.segments
    wrong = seg[~seg.correct]
    words = wrong.word.astype(str).str.lower()
    for row, word in zip(wrong.index, words, strict=True):
        first = wrong.index[words.str.contains(word, regex=False)][0]
        if word and first == row and maps.grid("cam", "true", row).max() > 0:
            return int(row), str(seg.word[row])
    raise AssertionError("no misclassified token to select")


def test_the_explorer_in_chromium(study, browser, capsys):
    workdir, _ = study
    out = workdir / "results" / "test"
    explorer = out / "report" / "explorer"
    sizes = json.loads((explorer / "sizes.json").read_text())
    opened = open_explorer(browser, explorer / "index.html")
    with capsys.disabled():
        print(
            f"\nexplorer: opened in {opened:.2f} s in headless Chromium; "
            f"{sizes['opened_bytes'] / 1e6:.2f} MB loaded on opening, "
            f"{sizes['total_bytes'] / 1e6:.2f} MB in all ("
            + ", ".join(
                f"{k}: {v['tokens']} tokens, {v['bytes_per_token'] / 1e3:.1f} kB per token"
                for k, v in sizes["experiments"].items()
            )
            + ")"
        )
    width = browser.execute_script("return [document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1], f"the explorer scrolls sideways at 1,280 px: {width}"
    # it opens on the first experiment's representative token, and says so in the address
    first_name = next(iter(sizes["experiments"]))
    opened_on = wait(lambda: browser.execute_script(REPRESENTATIVE, first_name))
    assert f"experiment={first_name}&token=" in opened_on

    name = "vowels_4k"  # its tab, laid out when first shown
    tab = next(t for t in deep(browser, "experiments", ".bk-tab") if t.text == name)
    tab.click()
    wait(lambda: deep(browser, f"{name}-table", ".slick-row"))
    maps = MapFile(out / f"maps/{name}/seed0.h5")
    seg = maps.segments
    row, word = pick_token(maps)

    def shown() -> str:  # the Div's paragraph is drawn anew at each change
        return deep(browser, f"{name}-count", "p")[0].text

    assert shown() == f"{len(seg)} of {len(seg)} tokens shown"

    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    Select(deep(browser, f"{name}-outcome", "select")[0]).select_by_value("misclassified")
    wrong = seg[~seg.correct]
    wait(lambda: shown() == f"{len(wrong)} of {len(seg)} tokens shown")
    deep(browser, f"{name}-word", "input")[0].send_keys(word)
    listed = wrong[wrong.word.astype(str).str.lower().str.contains(word.lower(), regex=False)]
    wait(lambda: shown() == f"{len(listed)} of {len(seg)} tokens shown")
    first = deep(browser, f"{name}-table", ".slick-row")[0]
    assert word in first.text and "misclassified" in first.text

    figure = deep(browser, None, f"#{name}-spectrogram")[0]
    compared = deep(browser, None, f"#{name}-spectrogram-b")[0]  # empty until 'Compare'
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", figure)
    empty = grey_drawn(pixels(compared))
    first.click()
    wait(lambda: browser.execute_script(f"return SpectrocamExplorer.state['{name}'].row") == row)
    audio = wait(lambda: deep(browser, f"{name}-info", "audio"))[0]
    models = f"SpectrocamExplorer.models['{name}']"
    browser.execute_script(f"{models}.opacity.value = 0")
    time.sleep(0.3)
    spectrogram = pixels(figure)
    browser.execute_script(f"{models}.opacity.value = 1")
    time.sleep(0.3)
    with_map = pixels(figure)
    browser.execute_script(f"{models}.opacity.value = 0.45")
    drawn, levels = grey_drawn(spectrogram)
    assert drawn > max(5 * empty[0], 30_000) and levels > 40, (empty, drawn, levels)
    assert colourful(with_map) > colourful(spectrogram) + 15_000
    phone_id = str(seg.phone_id[row])
    assert browser.execute_script("return location.hash").endswith(
        "&token=" + phone_id.replace("/", "%2F") + "&method=cam%3Atrue"
    )
    # every map of the token at once: one figure per map, each drawn
    keys = browser.execute_script(f"return SpectrocamExplorer.experiments['{name}'].maps")
    assert len(deep(browser, None, f"[id^='{name}-method-']")) == len(keys) > 1
    small = deep(browser, None, f"#{name}-method-0")[0]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", small)
    shot = pixels(small)  # the spectrogram (grey) under the map (colour): drawn either way
    assert grey_drawn(shot)[0] + colourful(shot) > 12_000, (grey_drawn(shot), colourful(shot))
    # two tokens side by side: 'Compare' keeps this one on the right
    deep(browser, f"{name}-compare", "button")[0].click()
    wait(
        lambda: browser.execute_script(f"return SpectrocamExplorer.state['{name}'].compare") == row
    )
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", compared)
    drawn_b = lambda: grey_drawn(pixels(compared))[0] + colourful(pixels(compared))  # noqa: E731
    wait(lambda: drawn_b() > max(5 * empty[0], 30_000), 10)
    assert "compare=" + phone_id.replace("/", "%2F") in browser.execute_script(
        "return location.hash"
    )
    # the token's figures export SVG (what the page's 'SVG' button downloads)
    assert deep(browser, f"{name}-svg", "button")
    svg = browser.execute_async_script(EXPORT, f"{name}-spectrogram")
    assert svg.startswith("<svg") and svg.count("<image") >= 2, svg[:200]

    # the sound: the phone with its context, from the clip's wav
    token = seg.iloc[row]
    clips = pd.read_csv(out / "corpus/clips.tsv", sep="\t").set_index("utt_id")
    duration = float(clips.duration_s[token.utt_id])
    wait(lambda: browser.execute_script("return arguments[0].readyState >= 1", audio), 15)
    src, length, at = browser.execute_script(
        "const a = arguments[0]; return [a.currentSrc, a.duration, a.currentTime]", audio
    )
    assert Path(clips.audio_path[token.utt_id]).name in src and length == pytest.approx(
        duration, 1e-3
    )
    start, end = map(float, re.search(r"#t=([\d.]+),([\d.]+)$", src).groups())
    assert start == pytest.approx(max(0.0, token.start_s - 0.3), abs=1e-3)
    assert end == pytest.approx(min(duration, token.end_s + 0.3), abs=1e-3)
    assert at == pytest.approx(start, abs=0.05)
    paused, stopped = browser.execute_async_script(PLAY, audio)
    assert paused is True and end - 0.05 <= stopped <= end + 0.3, (paused, stopped)

    # a point of the vowel chart selects its token
    table = browser.execute_script(f"return SpectrocamExplorer.experiments['{name}'].table")
    other = next(i for i, f in enumerate(table["f1_hz"]) if i != row and f is not None)
    search = deep(browser, f"{name}-word", "input")[0]
    while search.get_attribute("value"):  # key by key: the table redraws after each
        search.send_keys(Keys.END, Keys.BACKSPACE)
        time.sleep(0.1)
    wait(lambda: shown() == f"{len(wrong)} of {len(seg)} tokens shown")
    # the README's screenshot: the errors listed, one of them selected
    screenshot(browser, deep(browser, f"{name}-table", ".slick-row")[0],
               out / "report" / "explorer-screenshot.png")  # fmt: skip
    Select(deep(browser, f"{name}-outcome", "select")[0]).select_by_value("all")
    wait(lambda: shown() == f"{len(seg)} of {len(seg)} tokens shown")
    x, y = browser.execute_script(POINT, f"{name}-chart", table["f2_hz"][other],
                                  table["f1_hz"][other])  # fmt: skip
    click_at(browser, x, y)
    state = f"return SpectrocamExplorer.state['{name}'].row"
    picked = wait(lambda: browser.execute_script(state) not in (None, row), 10)
    picked = browser.execute_script(state)
    assert (table["f2_hz"][picked], table["f1_hz"][picked]) == (table["f2_hz"][other],
                                                                 table["f1_hz"][other])  # fmt: skip


def click_at(driver, x: float, y: float) -> None:
    from selenium.webdriver.common.actions.action_builder import ActionBuilder

    action = ActionBuilder(driver)
    action.pointer_action.move_to_location(int(x), int(y))
    action.pointer_action.click()
    action.perform()


def screenshot(driver, top, path: Path) -> None:
    """The page from the token table down, 1,280 px wide, as a small palette PNG."""
    from PIL import Image

    driver.execute_script("arguments[0].scrollIntoView({block: 'start'}); scrollBy(0, -130)", top)
    time.sleep(0.3)
    image = Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("RGB")
    image.quantize(96).save(path, optimize=True)
    if os.environ.get("SPECTROCAM_SCREENSHOT"):
        shutil.copyfile(path, os.environ["SPECTROCAM_SCREENSHOT"])


# What overflows on the summary page with every section unfolded: tables whose box hides some of
# their columns (a box that scrolls), figures that reach past the window or are shown smaller
# than their own size (labels shrunk), images that did not load.
OVERFLOWS = """
document.querySelectorAll('details').forEach((d) => { d.open = true; });
const out = [], width = innerWidth, page = document.documentElement.scrollWidth;
if (page > width) out.push('page ' + page);
document.querySelectorAll('.table').forEach((t, k) => {
  const [w, c] = [t.scrollWidth, t.clientWidth];
  if (w > c + 1) out.push(`table ${k}: ${w} in ${c}`);
});
document.querySelectorAll('img').forEach((i) => {
  const box = i.getBoundingClientRect(), own = Number(i.getAttribute('width'));
  const src = i.getAttribute('src');
  if (box.right > width + 1) out.push(`${src} reaches ${box.right}`);
  if (own && box.width < 0.97 * own) out.push(`${src} shrunk to ${box.width} of ${own}`);
  if (!i.complete || !i.naturalWidth) out.push(`${src} not loaded`);
});
document.querySelectorAll('details').forEach((d) => { d.open = false; });
return out;
"""
# The answer's sentences and the first figure of the study, and whether they lie in the first
# screen (the page scrolled to its top); and the width the page's content takes.
FIRST_SCREEN = """
scrollTo(0, 0);
const inside = (e) => { const b = e.getBoundingClientRect();
  return b.top >= 0 && b.bottom <= innerHeight && b.right <= innerWidth && b.height > 0; };
const sentences = [...document.querySelectorAll('#answer .sentence')];
const figures = [...document.querySelectorAll('#answer .papers img')];
return {
  sentences: sentences.map((s) => s.textContent),
  sentences_inside: sentences.filter(inside).length,
  figure_inside: figures.length > 0 && inside(figures[0]) && figures[0].complete,
  beside: figures.length > 1
    && figures[1].getBoundingClientRect().top === figures[0].getBoundingClientRect().top,
  content: document.querySelector('#answer').getBoundingClientRect().width,
  width: innerWidth,
};
"""


@pytest.mark.parametrize("size", [(1280, 1000), (1920, 1080)])
def test_the_summary_page_answers_on_the_first_screen_and_nothing_overflows(study, browser, size):
    workdir, _ = study
    out = workdir / "results/test"
    browser.set_window_size(*size)
    try:
        browser.get((out / "report/index.html").as_uri())
        wait(lambda: browser.execute_script("return document.readyState") == "complete")
        assert browser.execute_script(OVERFLOWS) == []
        screen = browser.execute_script(FIRST_SCREEN)
        verdict = pd.read_csv(out / "report/verdict.tsv", sep="\t")
        names = list(verdict.experiment)
        # two or three sentences per experiment (and one that reconciles), every one in view
        assert 2 * len(names) <= len(screen["sentences"]) <= 4 * len(names)
        assert screen["sentences_inside"] == len(screen["sentences"]), screen
        for name in names:
            assert any(s.startswith(f"{name}: a ResNet-18") for s in screen["sentences"])
        for statement in ("beyond the energy an occlusion removes: ", "points at them beyond"):
            assert sum(statement in s for s in screen["sentences"]) == len(names)
        assert screen["figure_inside"], screen
        if size[0] >= 1920:  # the wide screen is used: the figures stand side by side
            assert screen["beside"] and screen["content"] > 0.9 * screen["width"], screen
    finally:
        browser.set_window_size(1280, 1400)


def test_a_token_on_the_summary_page_opens_the_explorer_on_that_token(study, browser):
    workdir, _ = study
    browser.get((workdir / "results/test/report/index.html").as_uri())
    images = browser.find_elements("css selector", "#answer img")
    assert images and all(
        browser.execute_script("return arguments[0].naturalWidth", i) > 0 for i in images
    )
    browser.execute_script("document.querySelectorAll('details').forEach((d) => d.open = true)")
    links = browser.find_elements("css selector", "a.token[href*='token=']")
    assert links, "the page names no token"
    link = next(a for a in links if "experiment=vowels_4k" in a.get_attribute("href"))
    href = link.get_attribute("href")
    phone_id = re.search(r"token=([^&]+)", href).group(1).replace("%2F", "/")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
    link.click()
    opened = """
const E = window.SpectrocamExplorer;
return E && E.drawn && E.drawn.name === arguments[0]
  && E.experiments[arguments[0]].table.phone_id[E.drawn.row] === arguments[1];
"""
    wait(lambda: browser.execute_script(opened, "vowels_4k", phone_id), 60)
    tab = next(t for t in deep(browser, "experiments", ".bk-tab.bk-active") if t.text)
    assert tab.text == "vowels_4k"
    assert f"token={phone_id.replace('/', '%2F')}" in browser.execute_script("return location.hash")


def test_the_explorer_opens_from_the_snakemake_report(study, browser, tmp_path, capsys):
    workdir, _ = study
    with zipfile.ZipFile(workdir / "report.zip") as z:
        z.extractall(tmp_path)
    html = (tmp_path / "report/report.html").read_text(encoding="utf-8")
    key = '"results/test/report/explorer/index.html": {'
    assert key in html, "the report has no explorer"
    entry = re.search(r'"data_uri": "([^"]+)"', html[html.index(key) :])
    opened = open_explorer(browser, tmp_path / "report" / entry.group(1))
    with capsys.disabled():
        print(f"\nexplorer inside snakemake --report: opened in {opened:.2f} s")
    first = deep(browser, None, ".slick-row")[0]
    first.click()
    audio = wait(lambda: deep(browser, None, "audio"))[0]
    # moved with the report, the page plays the sound from the wav's absolute path
    wait(lambda: browser.execute_script("return arguments[0].readyState >= 1", audio), 15)
    assert browser.execute_script("return arguments[0].currentSrc", audio).startswith("file:///")
