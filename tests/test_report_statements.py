"""The summary page's views of the verdict's two statements, on small hand-made tables."""

import pandas as pd

from spectrocam.report.statements import (
    contrasts_view,
    needs_ceilings_view,
    needs_view,
    pairs_view,
    statements_html,
    template_peaks_view,
    verdict_section,
)


def needs():
    return pd.DataFrame(
        [{"half_width_hz": w, "headline": w == 150, "cue": c, "n_tokens": 391, "n_clusters": 200,
          "beta": b, "low": b - 0.1, "high": b + 0.1, "p": 0.001, "share_matched": 0.9}
         for w in (75.0, 150.0) for c, b in (("F1", 0.5), ("F2", 0.2), ("any", 0.3))]
    )  # fmt: skip


def contrasts():
    return pd.DataFrame(
        [{"method": m, "same_maps": s, "cue": c, "n_tokens": n, "auc_trained": 0.62,
          "difference": d, "low": d - 0.02, "high": d + 0.02, "p": 5e-5}
         for m, s, n, d in (("cam", "gradcam hirescam", 391, 0.12), ("layercam", "", 150, 0.05))
         for c in ("F1", "any")]
    )  # fmt: skip


def test_each_view_shows_estimate_interval_and_n():
    view = needs_view(needs()).set_index("half-width Hz")
    assert view.loc[150.0, "F1"] == "+0.500 [+0.400, +0.600] (p 0.00)"
    assert view.loc[75.0, "tokens"] == 391
    randomised = contrasts().assign(step="conv1").assign(difference=0.2, low=0.18, high=0.22)
    c = contrasts_view(contrasts(), randomised).set_index("method")
    assert c.loc["cam (= gradcam, hirescam)", "minus shuffled labels"].startswith("+0.120 [+0.100")
    assert c.loc["layercam", "tokens"] == 150
    assert c.loc["layercam", "minus randomised (conv1)"] == "+0.200 [+0.180, +0.220]"
    pairs = pd.DataFrame(
        [{"true_class": "IY", "competitor": o, "cue": q, "beta": b, "low": b - 0.1, "high": b + 0.1}
         for o in ("UW", "AA") for q, b in (("F1", 0.1), ("F2", 0.9))]
    )  # fmt: skip
    p = pairs_view(pairs).set_index(["true_class", "competitor"])
    assert p.loc[("IY", "UW"), "F2"] == "+0.900 [+0.800, +1.000]"
    ceilings = pd.DataFrame(
        [{"ceiling": k, "cue": "F1", "beta": b, "low": b - 0.1, "high": b + 0.1, "call": c,
          "holds": c == "above"}
         for k, b, c in (("configured", 0.5, "above"), ("6000", 0.0, "unclear"))]
    )  # fmt: skip
    v = needs_ceilings_view(ceilings).set_index("cue")
    assert (
        v.loc["F1", "configured"].endswith("above (headline)") and v.loc["F1", "holds"] == "1 of 2"
    )


def test_template_peaks_sit_beside_the_class_formants():
    peaks = {
        "trained": pd.DataFrame({"class_name": ["IY", "AA"], "peak_hz": [2700.0, 700.0],
                                 "f1_hz": [300.0, 720.0], "f2_hz": [2500.0, 1150.0],
                                 "f3_hz": [3000.0, 2700.0], "method": "cam", "model": "trained"}),
        "randomised (conv1)": pd.DataFrame({"class_name": ["IY", "AA"], "peak_hz": [100.0, 100.0],
                                            "method": "cam", "step": "conv1"}),
    }  # fmt: skip
    view = template_peaks_view(peaks).set_index("class_name")
    assert view.loc["IY", "peak Hz, trained"] == 2700 and view.loc["AA", "mean F1 Hz"] == 720
    assert view.loc["AA", "peak Hz, randomised (conv1)"] == 100


def test_the_page_part_and_the_verdict_note():
    html = statements_html(
        needs(), pd.DataFrame(), pd.DataFrame(), contrasts(), pd.DataFrame(), {}, "cam"
    )
    assert "Does the network need the cues beyond the energy?" in html
    assert "Do the maps point at the cues beyond the controls?" in html
    assert statements_html(*[pd.DataFrame()] * 5, {}, "cam") == ""  # nothing run, nothing shown
    tests = pd.DataFrame({"family": ["headline"] * 12 + ["detail"] * 40})
    verdict = pd.DataFrame(
        {"experiment": ["vowels_4k"], "needs the cues beyond the energy": ["yes"]}
    )
    section = verdict_section(verdict, tests, 150.0, 0.05, "utterance")
    assert "headline family (12 tests" in section and "over utterances" in section


def test_every_report_caption_exists_and_the_verdicts_names_its_statements():
    """The captions of ``snakemake --report``: each file a rule names exists and says something;
    the verdict's caption names the two statements the verdict table has, not the terms of an
    earlier verdict."""
    import re

    from spectrocam.evidence.verdict import STATEMENTS

    from .conftest import REPO

    rules = [p.read_text() for p in (REPO / "workflow/rules").glob("*.smk")]
    named = {m for text in rules for m in re.findall(r'caption="([^"]+)"', text)}
    # an experiment's figures name theirs through experiment_figure(path, name, ...)
    figures = {
        m for text in rules for m in re.findall(r'experiment_figure\(\s*"[^"]+",\s*"([^"]+)"', text)
    }
    named |= {f"../report/{name}.rst" for name in figures}
    assert len(figures) >= 5 and len(named) >= 10
    for caption in named:
        text = (REPO / "workflow/rules" / caption).resolve().read_text(encoding="utf-8")
        assert len(text.split()) > 20, caption
    verdict = " ".join((REPO / "workflow/report/verdict.rst").read_text().split()).lower()
    for statement in STATEMENTS:
        assert statement in verdict
    for gone in ("permutation test", "sanity check", 'beyond the energy" is'):
        assert gone not in verdict
