"""The summary page's builder, on small hand-made results."""

from __future__ import annotations

import pandas as pd

from spectrocam.report.page import (
    ExperimentResults,
    html_table,
    methods_compared,
    summary_page,
    write_summary_page,
)
from spectrocam.report.tables import column_kind, fmt

SETTINGS = {
    "run": "tiny",
    "corpus": "ljspeech_mini",
    "backend": "textgrids",
    "model": {"arch": "resnet18", "weights": "scratch", "freq_stride": 32, "time_stride": 32},
    "training": {"epochs": 2, "lr": 3e-4, "batch_size": 8},
    "agreement": {"window_hz": 150, "bootstrap": 20},
}


def results(name: str = "vowels_4k", accuracy: float = 0.625) -> ExperimentResults:
    agreement = pd.DataFrame(
        [
            {
                "method": "cam",
                "cam": "true",
                "class_name": "(all)",
                "outcome": outcome,
                "n_segments": 8,
                "n_utterances": 3,
                "n_any": 8,
                "ratio_any": 1.5,
                "ratio_any_low": 1.2,
                "ratio_any_high": 1.9,
                "peak_hit": 0.25,
                "peak_hit_low": 0.0,
                "peak_hit_high": 0.5,
                "peak_chance": 0.2,
                **{f"ratio_F{k}{s}": 1.0 for k in (1, 2, 3) for s in ("", "_low", "_high")},
            }
            for outcome in ("all", "correct", "misclassified")
        ]
    )
    return ExperimentResults(
        name=name,
        description="Five vowels below 4 kHz.",
        metrics={
            "n": 8,
            "accuracy": accuracy,
            "macro_f1": 0.5,
            "balanced_accuracy": 0.55,
            "model": {"epoch": 2, "val_macro_f1": 0.4},
            "per_class": {"IY": {"precision": 1.0, "recall": 0.5, "f1": 0.667, "support": 4}},
        },
        agreement=agreement,
        comparison=pd.DataFrame([{"experiment": name, "method": "cam", "Hz per cell": "689"}]),
        errors=pd.DataFrame({"phone_id": ["a/1"], "utt_id": ["a"], "true": ["IY"]}),
        error_summary={
            "misclassified": 3,
            "explained_by_formants": 1,
            "with_distances": 2,
            "share_explained": 0.5,
            "class_stats": [],
        },
        hz_per_cell=689.0,
        cells=(3, 1),
    )


def build(alignment_agreement=None):
    return summary_page(
        SETTINGS,
        [results(), results("voicing_4k", 0.9)],
        {"unit": "utterance", "utterances": {"train": 5, "test": 2}},
        {"aligned_utterances": 7},
        {"n_vowels": 20, "nan": {"f1_hz": 0, "f2_hz": 1, "f3_hz": 2}, "n_short": 3},
        pd.DataFrame({"vowel": ["IY"], "n": [20], "f1_mean_hz": [310.0]}),
        alignment_agreement,
    )


def test_the_page_has_a_summary_a_section_per_experiment_and_the_formants():
    sections, headline = build()
    assert [h for h, _ in sections] == [
        "The answer",
        "Run and headline figures",
        "vowels_4k",
        "voicing_4k",
        "Formants: ljspeech_mini against Hillenbrand et al. (1995) women",
    ]
    intro = dict(sections)["Run and headline figures"]
    assert "0.625" in intro and "0.900" in intro and "1.50 [1.20, 1.90]" in intro
    assert "Alignment against the reference" not in intro
    body = dict(sections)["vowels_4k"]
    assert "vowels_4k/confusion.png" in body and "3 x 1 cells, 689 Hz per cell" in body
    assert "1 of the 2 with class statistics (50 %)" in body
    assert "phone_id" not in body  # the key is for joins, not for readers
    assert headline["run"] == "tiny"
    assert headline["experiments"]["voicing_4k"]["accuracy"] == 0.9
    assert headline["experiments"]["vowels_4k"]["agreement_true_class_cam"]["all"]["n_any"] == 8


def test_the_alignment_agreement_is_stated_when_there_is_one(tmp_path):
    within = [{"tol_s": 0.02, "share": 0.863}, {"tol_s": 0.05, "share": None}]
    sections, _ = build({"boundaries": {"within": within}})
    intro = dict(sections)["Run and headline figures"]
    assert "86.3 % of boundaries within 20 ms" in intro
    assert "50 ms" not in intro
    page = tmp_path / "index.html"
    write_summary_page(page, sections, "spectrocam: tiny")
    text = page.read_text()
    assert text.startswith("<!doctype html>") and "<h2>voicing_4k</h2>" in text
    # a table of contents to the sections after the answer, each folded away
    assert '<details id="voicing_4k">' in text and 'href="#voicing_4k"' in text
    assert '<details id="the-answer"' not in text
    assert not (tmp_path / "index.html.tmp").exists()


def test_numbers_are_written_by_kind():
    table = pd.DataFrame(
        {
            "class": ["IY", "AA"],
            "n": [37.0, 5.0],  # counts read back as floats (a NaN elsewhere in the column)
            "f1_undefined": [0.0, 2.0],
            "f2_mean_hz": [2761.33, 1214.9],
            "start_s": [0.18, 1.5],
            "precision": [1.0, 0.5],
            "explained_by_formants": [1.0, 0.0],
            "ratio": [float("nan"), 1.234],
        }
    )
    text = html_table(table, 3)
    for cell in ("<td>37</td>", "<td>0</td>", "<td>2,761</td>", "<td>0.180</td>", "<td>1.000</td>",
                 "<td>yes</td>", "<td>no</td>", "<td>–</td>", "<td>1.234</td>"):  # fmt: skip
        assert cell in text, cell
    assert ".00<" not in text.replace("1.000<", "")
    assert fmt(37.0, 2, "count") == "37" and fmt(12345, 2, "count") == "12,345"
    assert column_kind("vowels with formants") == "count" and column_kind("Hz per cell") == "hz"
    assert column_kind("n (utt.)") == "count" and column_kind("p_true") == "number"


def test_every_figure_has_its_caption_and_the_page_fits_one_column(tmp_path):
    sections, _ = build()
    body = dict(sections)["vowels_4k"]
    assert body.count("<figure>") == body.count("<figcaption>") == 6
    assert "Confusion matrix of vowels_4k on the held-out test split" in body
    assert "{{" not in body
    assert "explorer/index.html" in dict(sections)["Run and headline figures"]
    page = tmp_path / "index.html"
    write_summary_page(page, sections, "spectrocam: tiny")
    text = page.read_text()
    assert "max-width:1840px" in text and ".table{max-width:100%;overflow-x:auto" in text
    assert "1 epoch" not in text and "2 epochs" in text


def test_the_methods_are_the_columns_of_their_comparison():
    comparison = pd.DataFrame(
        [
            {"experiment": "e", "method": "cam", "Hz per cell": "689", "n vowels": 36},
            {"experiment": "e", "method": "gradcam", "Hz per cell": "86", "n vowels": 30},
        ]
    )
    table = methods_compared(comparison)
    assert list(table.columns) == ["figure", "cam", "gradcam"]
    assert list(table["figure"]) == ["Hz per cell", "n vowels"]


def test_the_page_states_the_time_cells_and_the_sensitivity_of_the_headline():
    from dataclasses import replace

    r = results()
    agreement = r.agreement.assign(n_cells_median=2.0, n_cells_min=1)
    sensitivity = pd.DataFrame(
        [
            {
                "method": "cam",
                "cue": "any",
                "half_width_hz": hw,
                "ceiling": c,
                "n_tokens": 8,
                "difference": d,
                "low": d - 0.05,
                "high": d + 0.05,
                "call": "above" if d > 0.05 else "unclear",
                "headline": hw == 150 and c == "configured",
                "holds": d > 0.05,
            }
            for hw, c, d in [(150, "configured", 0.2), (150, "5000", 0.01), (75, "configured", 0.1)]
        ]
    )
    moves = pd.DataFrame(
        {
            "ceiling_hz": 5000.0,
            "formant": "F3",
            "half_width_hz": [150.0],
            "n": 20,
            "share_moved": 0.25,
        }
    )
    sections, _ = summary_page(
        SETTINGS,
        [replace(r, agreement=agreement, sensitivity=sensitivity)],
        {"unit": "utterance", "utterances": {"train": 5, "test": 2}},
        {"aligned_utterances": 7},
        {"n_vowels": 20, "nan": {"f1_hz": 0, "f2_hz": 1, "f3_hz": 2}, "n_short": 3},
        pd.DataFrame({"vowel": ["IY"], "n": [20]}),
        ceiling_moves=moves,
    )
    body = dict(sections)["vowels_4k"]
    assert "inside the vowel: median 2, least 1" in body
    assert "Does the map statement hold for other bands?" in body
    assert "+0.200 [+0.150, +0.250] above (headline)" in body and "<td>1 of 2</td>" in body
    assert "share moved &gt; 150" in sections[-1][1] and "<td>0.25</td>" in sections[-1][1]
    assert "Does the map statement hold" not in dict(build()[0])["vowels_4k"]  # no table


def test_the_page_shows_the_headline_per_token_subset():
    from spectrocam.report.page import _tokens_html

    rows = [
        {"tokens": t, "method": "cam", "band": b, "n_segments": n, "minus_spectrum": v,
         "minus_spectrum_low": v - 0.1, "minus_spectrum_high": v + 0.1}
        for t, n, v in (("all", 393, 0.05), ("stressed content words", 171, -0.02))
        for b in ("F1", "any")
    ]  # fmt: skip
    html = _tokens_html(pd.DataFrame(rows))
    assert "stressed content words" in html and ">171<" in html and ">393<" in html
    assert "-0.02" in html or "−0.02" in html
    assert _tokens_html(pd.DataFrame(rows[:2])) == ""  # one subset: nothing to compare


def test_the_page_compares_the_isolated_experiment_and_shows_the_unseen_words():
    import dataclasses

    def with_subsets(r, accuracy, unseen, context):
        metrics = r.metrics | {
            "intervals": {"accuracy": [accuracy, accuracy - 0.1, accuracy + 0.1]},
            "subsets": {"words unseen in training": {"n": 3, "n_utterances": 2, **unseen}},
        }
        contrasts = pd.DataFrame(
            [{"method": "cam", "cue": "any", "n_tokens": 8, "difference": accuracy - 0.5,
              "low": accuracy - 0.55, "high": accuracy - 0.45}]
        )  # fmt: skip
        definition = {"classes": {"IY": ["IY"]}, "fmin_hz": 0, "fmax_hz": 4000, "context": context}
        return dataclasses.replace(r, metrics=metrics, contrasts=contrasts, definition=definition)

    kept = with_subsets(results(), 0.8, {"accuracy": [0.667, 0.5, 1.0]}, None)
    alone = with_subsets(results("vowels_4k_isolated"), 0.55, {}, "isolate")
    other = dataclasses.replace(results("voicing_4k"), definition={"classes": {"v": ["IY"]}})
    ceilings = pd.DataFrame(
        [{"ceiling": c, "cue": "F1", "n_tokens": 7, "beta": d, "low": d - 0.1, "high": d + 0.1,
          "call": k, "holds": k == "above"}
         for c, d, k in (("configured", 0.5, "above"), ("5000", 0.3, "above"),
                         ("6000", 0.02, "unclear"))]
    )  # fmt: skip
    kept = dataclasses.replace(kept, needs_ceilings=ceilings)
    sections, _ = summary_page(
        SETTINGS,
        [kept, other, alone],
        {"unit": "utterance", "utterances": {"train": 5, "test": 2}},
        {"aligned_utterances": 7},
        {"n_vowels": 20, "nan": {"f1_hz": 0, "f2_hz": 1, "f3_hz": 2}, "n_short": 3},
        pd.DataFrame({"vowel": ["IY"], "n": [20], "f1_mean_hz": [310.0]}),
    )
    intro = dict(sections)["Run and headline figures"]
    comparison = intro[intro.index("With and without the context") :]
    # the two vowel experiments, not voicing: keep first, then isolate
    assert comparison.index(">vowels_4k<") < comparison.index(">vowels_4k_isolated<")
    assert ">voicing_4k<" not in comparison and ">isolate<" in comparison
    assert "0.80 [0.70, 0.90]" in comparison and "0.55 [0.45, 0.65]" in comparison
    assert "0.67 [0.50, 1.00]" in comparison
    assert "+0.300 [+0.250, +0.350] (8)" in comparison  # the map statement of the kept one
    body = dict(sections)["vowels_4k"]
    assert "words unseen in training" in body and "Test figures on token subsets" in body
    assert "At other Praat ceilings" in body and "2 of 3" in body and "(headline)" in body
    assert "+0.500 [+0.400, +0.600] above (headline)" in body
    assert "At other Praat ceilings" not in dict(sections)["voicing_4k"]
    # no isolated experiment, no comparison
    sections, _ = summary_page(
        SETTINGS,
        [kept, other],
        {"unit": "utterance", "utterances": {"train": 5, "test": 2}},
        {"aligned_utterances": 7},
        {"n_vowels": 20, "nan": {"f1_hz": 0, "f2_hz": 1, "f3_hz": 2}, "n_short": 3},
        pd.DataFrame({"vowel": ["IY"], "n": [20], "f1_mean_hz": [310.0]}),
    )
    assert "With and without the context" not in dict(sections)["Run and headline figures"]


def test_the_answer_comes_first_and_every_token_named_links_to_the_explorer(tmp_path):
    import dataclasses

    r = dataclasses.replace(
        results(),
        examples=[
            {
                "phone_id": "b/7",
                "utt_id": "b",
                "word": "keep",
                "class_name": "IY",
                "predicted_name": "AE",
            }
        ],  # fmt: skip
        definition={"classes": {"IY": ["IY"]}, "fmin_hz": 0, "fmax_hz": 4000},
        metrics=results().metrics | {"intervals": {"accuracy": [0.625, 0.5, 0.75]}},
    )
    sections, _ = summary_page(
        SETTINGS,
        [r],
        {"unit": "utterance", "utterances": {"train": 5, "test": 2}},
        {"aligned_utterances": 7},
        {"n_vowels": 20, "nan": {"f1_hz": 0, "f2_hz": 1, "f3_hz": 2}, "n_short": 3},
        pd.DataFrame({"vowel": ["IY"], "n": [20]}),
    )
    heading, answer = sections[0]
    assert heading == "The answer"
    assert "</b></a>: a ResNet-18 trained on 1 vowel (0-4 kHz) classifies 0.62 [0.50, 0.75] " \
        "of 8 test vowels" in answer  # fmt: skip
    assert '<a href="#vowels_4k"><b>vowels_4k</b></a>' in answer
    assert "vowels_4k/paper.png" in answer and "vowels_4k/paper.svg" in answer
    assert '<h2 id="verdict">The verdict</h2>' in answer and "not tested" in answer
    body = dict(sections)["vowels_4k"]
    link = "explorer/index.html#experiment=vowels_4k&amp;token=a%2F1"
    assert f'<a class="token" href="{link}">a</a>' in body  # the errors table's clip
    assert "explorer/index.html#experiment=vowels_4k&amp;token=b%2F7" in body  # the example
    assert "The study&#39;s figure for vowels_4k" in body  # the paper figure's full caption


def test_a_figure_is_shown_at_its_own_size(tmp_path):
    from PIL import Image

    from spectrocam.report.render import figure_html

    (tmp_path / "e").mkdir()
    Image.new("RGB", (1800, 900)).save(tmp_path / "e/paper.png", dpi=(200, 200))
    html = figure_html("e/paper.png", "paper", "e", "e", tmp_path)
    assert 'width="864" height="432"' in html and 'href="e/paper.svg"' in html
    assert "width=" not in figure_html("e/none.png", "paper", "e", "e", tmp_path)
