"""The explorer's data and page on a small hand-made run (no browser: see
test_explorer_browser.py for the page in Chromium)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from spectrocam.evidence.agreement import segment_agreement
from spectrocam.explain.grid import to_grid
from spectrocam.explain.maps import MapFile, MapWriter
from spectrocam.report.explorer import write_explorer
from spectrocam.report.explorer_data import (
    ExperimentData,
    ExplorerConfig,
    context_phones,
    half_b64,
    runs,
    stress_of,
    token_table,
)
from spectrocam.report.profiles import class_profiles
from spectrocam.segments.store import SegmentStoreWriter, read_store

FREQS = np.arange(8) * 100.0  # 8 rows, 100 Hz apart
TIMES = (np.arange(5) - 2) * 0.01  # 5 frames, 10 ms apart
CLASSES = ["IY", "AA"]
PHONES = pd.DataFrame(
    [  # utt_id, word, phone, start_s, end_s: the token is the vowel in the middle
        ("u1", "keep", "K", 0.10, 0.15), ("u1", "keep", "IY1", 0.15, 0.30),
        ("u1", "keep", "P", 0.30, 0.36), ("u1", "odd", "AA1", 0.50, 0.62),
        ("u1", "odd", "D", 0.62, 0.70), ("u2", "the", "DH", 0.00, 0.05),
        ("u2", "the", "IY0", 0.05, 0.12), ("u2", "father", "F", 0.20, 0.28),
        ("u2", "father", "AA1", 0.28, 0.40), ("u2", "sea", "S", 0.50, 0.60),
        ("u2", "sea", "IY1", 0.60, 0.75), ("u2", "car", "AA2", 0.90, 1.00),
    ],
    columns=["utt_id", "word", "phone", "start_s", "end_s"],
)  # fmt: skip
PHONES.insert(0, "phone_id", PHONES.utt_id + "/" + PHONES.groupby("utt_id").cumcount().astype(str))


def vowels() -> pd.DataFrame:
    seg = PHONES[PHONES.phone.str[:2].isin(CLASSES)].reset_index(drop=True)
    seg["window_centre_s"] = ((seg.start_s + seg.end_s) / 2).round(2)
    seg["label"] = [CLASSES.index(p[:2]) for p in seg.phone]
    return seg


def make_run(root: Path) -> dict:
    """A segment store, a map file (CAM of every token, Grad-CAM of half), formants, agreement,
    clips with wav files in a folder whose name has a space."""
    seg = vowels()
    n = len(seg)
    rng = np.random.default_rng(0)
    spectrograms = rng.uniform(-90, 0, (n, len(FREQS), len(TIMES))).astype(np.float16)
    store = root / "segments.h5"
    fields = {k: seg[k].to_numpy() for k in ("phone_id", "utt_id", "word", "phone")}
    fields |= {k: seg[k].to_numpy() for k in ("start_s", "end_s", "window_centre_s")}
    with SegmentStoreWriter(store, n, FREQS, TIMES, CLASSES, "float16",
                            {"classes": {"IY": ["IY"], "AA": ["AA"]}}) as w:  # fmt: skip
        w.write(spectrograms, seg.label.to_numpy(), fields)
    predicted = np.array([0, 0, 1, 1, 0, 0])  # tokens 1 (AA) and 4 (IY ... correct), 5 wrong
    probs = np.where(np.eye(2)[predicted] > 0, 0.7, 0.3)
    table = seg.assign(segment_index=np.arange(n), predicted=predicted)
    maps = root / "maps.h5"
    with MapWriter(maps, table, probs, CLASSES, FREQS, TIMES, {"model_epoch": 3}) as out:
        out.add_method("cam", np.arange(n), (2, 1), (4, 8), "layer4", ("true", "predicted"))
        out.write("cam", "true", 0, rng.normal(size=(n, 2, 1)))
        out.write("cam", "predicted", 0, rng.normal(size=(n, 2, 1)))
        out.add_method("gradcam", np.array([0, 2, 4]), (4, 3), (2, 2), "layer1")
        out.write("gradcam", "true", 0, rng.normal(size=(3, 4, 3)))
    formants = seg[["phone_id", "utt_id", "phone"]].assign(f1_hz=300.0, f2_hz=2200.0, f3_hz=2900.0)
    formants.loc[3, ["f1_hz", "f2_hz", "f3_hz"]] = np.nan  # a vowel Praat could not measure
    wavs = root / "my corpus" / "wavs"
    wavs.mkdir(parents=True)
    clips = []
    for utt, duration in (("u1", 0.8), ("u2", 1.1)):
        sf.write(wavs / f"{utt}.wav", np.zeros(int(16000 * duration)), 16000)
        clips.append(
            {"utt_id": utt, "audio_path": str(wavs / f"{utt}.wav"), "duration_s": duration}
        )
    return {
        "store": store,
        "maps": maps,
        "formants": formants,
        "agreement": segment_agreement(MapFile(maps), formants, 150),
        "clips": pd.DataFrame(clips),
        "spectrograms": spectrograms,
    }


def read_script(path: Path) -> list:
    """The arguments of a data file's one call, ``SpectrocamExplorer.f(a, b, ...);``."""
    text = path.read_text(encoding="utf-8")
    match = re.fullmatch(r"SpectrocamExplorer\.\w+\((.*)\);\n", text, re.S)
    assert match, text[:80]
    return json.loads("[" + match.group(1) + "]")


def halves(b64: str) -> np.ndarray:
    import base64

    return np.frombuffer(base64.b64decode(b64), dtype="<f2").astype(float)


def test_encodings_round_trip():
    values = np.array([[0.5, -1.25, 3.0], [1e-3, 0.0, -60.125]])
    assert np.array_equal(halves(half_b64(values)), values.astype(np.float16).ravel())
    assert runs([0, 0, 0, 1, 1, 2]) == [[0, 3], [1, 2], [2, 1]]
    assert stress_of("IY1") == "1" and stress_of("AH0") == "0" and stress_of("S") == ""


def test_the_token_table_joins_formants_and_agreement_on_the_phone_id(tmp_path):
    run = make_run(tmp_path)
    maps = MapFile(run["maps"])
    table = token_table(maps, run["formants"], run["agreement"])
    seg = maps.segments
    assert table["phone_id"] == list(seg.phone_id) and table["row"] == list(range(len(seg)))
    assert table["stress"] == [stress_of(p) for p in seg.phone]
    assert table["outcome"][1] == "misclassified" and table["outcome"][0] == "correct"
    assert table["p_true"][1] == pytest.approx(0.3) and table["p_predicted"][1] == 0.7
    assert table["f1_hz"][3] is None and table["f1_hz"][0] == 300.0
    assert table["duration_ms"][0] == 150.0
    cam = run["agreement"].query("method == 'cam' and cam == 'true'").set_index("phone_id")
    for k, pid in enumerate(table["phone_id"]):
        expected = cam.ratio_any.get(pid, np.nan)
        got = table["ratio_any"][k]
        assert (got is None and not np.isfinite(expected)) or got == pytest.approx(expected, 1e-3)
    # the peak's call per token, from the agreement table: yes, no, or nothing without formants
    hits = cam.peak_hit.reindex(table["phone_id"]).to_numpy()
    expected = ["" if not np.isfinite(h) else "yes" if h else "no" for h in hits]
    assert table["peak_on_formant"] == expected and expected[3] == ""


def test_context_phones_are_the_neighbours_within_the_margin():
    seg = vowels()
    context = context_phones(PHONES, seg, 0.1)
    first = context[0]  # IY1 of "keep" (0.15-0.30) in u1
    assert [p[0] for p in first] == ["K", "IY1", "P"]
    assert [p[4] for p in first] == [False, True, False]
    assert all(p[1] < 0.40 and p[2] > 0.05 for p in first)


def test_the_explorer_is_self_contained_and_its_arrays_decode_to_the_stores(tmp_path):
    run = make_run(tmp_path)
    data = ExperimentData("vowels", "Two vowels.", run["maps"], run["store"], run["agreement"],
                          {"IY": ["IY"], "AA": ["AA"]})  # fmt: skip
    folder = tmp_path / "results" / "report" / "explorer"
    cfg = ExplorerConfig(chunk_tokens=4, audio_context_s=0.2)
    sizes = write_explorer(folder, "explorer: tiny", [data], PHONES, run["formants"],
                           run["clips"], None, cfg)  # fmt: skip
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert not (folder.parent / "explorer.tmp").exists()
    # BokehJS inline, no network: no script or stylesheet from elsewhere
    assert not re.search(r"""<(script|link)[^>]+(src|href)=["']?(https?:)?//""", page)
    assert "Bokeh" in page and '<script src="data/vowels.js" onerror=' in page
    assert "SpectrocamExplorer.expect" in page and "vowels-table" in page
    name, meta = read_script(folder / "data" / "vowels.js")
    assert name == "vowels" and meta["n_chunks"] == 2 and meta["chunk_tokens"] == 4
    assert [m["key"] for m in meta["maps"]] == ["cam:true", "cam:predicted", "gradcam:true"]
    tokens = (
        read_script(folder / "data/vowels/0.js")[2] + read_script(folder / "data/vowels/1.js")[2]
    )
    assert [t["row"] for t in tokens] == list(range(6))
    maps, store = MapFile(run["maps"]), read_store(run["store"])
    for t in tokens:
        spec = halves(t["spectrogram"]).reshape(len(FREQS), len(TIMES))
        assert np.array_equal(spec, store["spectrograms"][t["row"]].astype(float))
    gradcam = tokens[2]["maps"]["gradcam:true"]  # row 2 is the gradcam subset's second
    cells = halves(gradcam["cells"]).reshape(4, 3) * gradcam["scale"]
    assert np.allclose(cells, maps.cells("gradcam")[1], rtol=2e-3, atol=1e-3)
    entry = meta["maps"][2]
    grid = to_grid(cells, *[np.repeat(*np.array(entry[k]).T) for k in ("row_cell", "frame_cell")])
    assert np.allclose(grid, maps.grid("gradcam", "true", 1), rtol=2e-3, atol=1e-3)
    assert "gradcam:true" not in tokens[1]["maps"]  # not in the subset
    profile = class_profiles(maps, "cam", "true")["AA"]
    # by hand from the file's cells: CAM has one time cell and 2 frequency cells (stride 4: rows
    # 0-2 nearest the first cell's centre, 3-7 the second's); each AA token's profile is its
    # cells' positive part on their rows, scaled to sum 1
    cells = np.clip(maps.cells("cam", "true")[maps.segments.label.to_numpy() == 1, :, 0], 0, None)
    assert maps.cell_grid("cam")[0].tolist() == [0, 0, 0, 1, 1, 1, 1, 1]
    rows = cells[:, [0, 0, 0, 1, 1, 1, 1, 1]]
    rows = rows[rows.sum(1) > 0]
    assert np.allclose(profile, (rows / rows.sum(1, keepdims=True)).mean(0))
    assert np.allclose(halves(meta["profiles"]["cam"]["AA"]["profile"]), profile / profile.max(),
                       atol=1e-3)  # fmt: skip
    # the sound: relative to the page, quoted, resolving to the wav; and by absolute URI
    audio = meta["audio"]["u2"]
    assert "%20" in audio["rel"] and audio["abs"].startswith("file:///")
    assert (folder / unquote(audio["rel"])).resolve() == Path(run["clips"].audio_path[1]).resolve()
    assert audio["duration_s"] == 1.1
    opened = sizes["page_bytes"] + sizes["experiments"]["vowels"]["table_bytes"]
    assert (
        sizes["opened_bytes"]
        == opened
        == (folder / "index.html").stat().st_size + (folder / "data/vowels.js").stat().st_size
    )
    arrays = sum(p.stat().st_size for p in (folder / "data/vowels").glob("*.js"))
    assert sizes["experiments"]["vowels"]["array_bytes"] == arrays
    assert json.loads((folder / "sizes.json").read_text()) == sizes


def test_the_explorer_opens_on_a_representative_token_and_knows_each_class_spectrum(tmp_path):
    from spectrocam.report.colours import class_colour
    from spectrocam.report.explorer_data import representative_row
    from spectrocam.report.paper import class_means

    run = make_run(tmp_path)
    maps = MapFile(run["maps"])
    row = representative_row(maps, run["formants"])
    seg = maps.segments
    # the class with the most tokens (IY: 3 of 6), correctly classified, with every method's maps
    assert seg.class_name[row] == "IY" and seg.correct[row] and row in maps.common_rows()
    data = ExperimentData("vowels", "Two vowels.", run["maps"], run["store"], run["agreement"],
                          {"IY": ["IY"], "AA": ["AA"]})  # fmt: skip
    folder = tmp_path / "explorer"
    cfg = ExplorerConfig(chunk_tokens=4, audio_context_s=0.2)
    write_explorer(folder, "t", [data], PHONES, run["formants"], run["clips"], None, cfg)
    _, meta = read_script(folder / "data" / "vowels.js")
    assert meta["representative"] == row
    assert meta["colours"] == {"IY": class_colour("IY"), "AA": class_colour("AA")}
    # the class-mean spectrum: the same as the summary page's figure draws
    means = class_means(maps, run["store"], run["formants"], data.classes)
    for c in CLASSES:
        assert np.allclose(meta["spectra"][c], means.spectrum[c], atol=0.01)
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert "SpectrocamExplorer.route(tabs, names)" in page
    assert "vowels-spectrogram-b" in page and "vowels-method-0" in page and "vowels-compare" in page
    assert "vowels-svg" in page and "SpectrocamExplorer.save_svg" in page  # SVG export
