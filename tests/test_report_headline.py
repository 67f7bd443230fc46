"""The answer on the first screen: sentences written from the run's numbers, on hand-made
tables whose numbers the sentences must carry."""

from __future__ import annotations

import pandas as pd
import pytest

from spectrocam.evidence.verdict import STATEMENTS
from spectrocam.report.headline import compact_verdict, cue_words, facts, sentences

MODEL = {"arch": "resnet18", "weights": "scratch"}
VOWELS = {"classes": {c: [c] for c in ("IY", "AE", "AA", "AO", "UW")}, "fmin_hz": 0,
          "fmax_hz": 4000}  # fmt: skip
VOICING = {"classes": {"voiced": ["IY", "AE"], "unvoiced": ["S", "T"]}, "fmin_hz": 0,
           "fmax_hz": 4000}  # fmt: skip
CUES = {"voicing_bar": [0, 500], "frication": [2500, 4000]}


def headline_tests(name: str, needs: tuple, shuffled: tuple, randomised: tuple) -> pd.DataFrame:
    """The headline family of one experiment: (estimate, low, high, n, p_holm, survives)."""
    rows = []
    for statement, control, (e, lo, hi, n, p, yes) in (
        (STATEMENTS[0], "energy-matched bands", needs),
        (STATEMENTS[1], "shuffled labels", shuffled),
        (STATEMENTS[1], "randomised weights (conv1)", randomised),
    ):
        rows.append({"experiment": name, "statement": statement, "control": control, "cue": "any",
                     "estimate": e, "low": lo, "high": hi, "n": n, "p_holm": p, "survives": yes,
                     "family": "headline"})  # fmt: skip
    detail = dict(rows[0], family="detail", cue="F1", estimate=9.9)  # never read
    return pd.DataFrame([*rows, detail])


def metrics(acc=(0.84, 0.80, 0.88), n=393):
    return {"n": n, "intervals": {"accuracy": list(acc)}}


def references(lda=(0.88, 0.85, 0.91)):
    rows = [{"classifier": "majority (IY)", "n": 393, "accuracy": [0.41, 0.36, 0.46]}]
    if lda:
        rows.append({"classifier": "formants (LDA)", "n": 393, "accuracy": list(lda)})
    return {"rows": rows}


def test_the_sentences_carry_the_runs_numbers():
    tests = headline_tests("vowels_4k", (0.31, 0.12, 0.50, 393, 0.004, True),
                        (0.121, 0.1, 0.14, 391, 0.0002, True),
                        (0.2, 0.18, 0.22, 150, 0.0004, True))  # fmt: skip
    f = facts("vowels_4k", VOWELS, MODEL, metrics(), references(), tests, None, "cam")
    text = " ".join(sentences(f))
    assert text.startswith("vowels_4k: a ResNet-18 trained on 5 vowels (0-4 kHz) classifies ")
    assert "classifies 0.84 [0.80, 0.88] of 393 test vowels, beside" in text
    assert "beside 0.88 [0.85, 0.91] for the formants alone and 0.41 for the majority" in text
    assert "needs the formants (F1-F3) beyond the energy an occlusion removes: yes, beta " \
        "+0.31 [+0.12, +0.50]" in text and "Holm p 0.004" in text  # fmt: skip
    assert "Its CAM points at them beyond the shuffled-labels and randomised models: yes, AUC " \
        "+0.121 [+0.100, +0.140] and +0.200 [+0.180, +0.220] (n 391 and 150, Holm p < 0.001 " \
        "and < 0.001)." in text  # fmt: skip
    assert "9.9" not in text  # the detail family is not the headline's
    assert len(sentences(f)) == 3  # nothing to reconcile
    # other numbers, other sentences: nothing is written by hand
    other = headline_tests("vowels_4k", (0.01, -0.05, 0.07, 393, 0.6, False),
                        (0.121, 0.1, 0.14, 391, 0.0002, True),
                        (0.2, 0.18, 0.22, 150, 0.0004, True))  # fmt: skip
    g = facts("vowels_4k", VOWELS, MODEL, metrics((0.7, 0.65, 0.75)), references(), other, None,
              "cam")  # fmt: skip
    said = sentences(g)
    assert "classifies 0.70 [0.65, 0.75]" in said[0]
    assert "removes: no, beta +0.01 [-0.05, +0.07]" in said[1] and "Holm p 0.6" in said[1]
    assert len(said) == 4 and "where a map points is not what the network needs" in said[3]


def test_the_voicing_experiment_names_its_own_cues_and_has_no_formant_classifier():
    assert cue_words(CUES) == "the voicing bar and the frication"
    tests = headline_tests("voicing_4k", (0.2, 0.1, 0.3, 120, 0.01, True),
                        (0.02, -0.01, 0.05, 320, 0.3, False),
                        (0.1, 0.05, 0.15, 30, 0.01, True))  # fmt: skip
    f = facts("voicing_4k", VOICING, MODEL, metrics((0.965, 0.955, 0.973), 1242),
              references(lda=None), tests, CUES, "cam")  # fmt: skip
    said = sentences(f)
    assert "2 classes (voiced, unvoiced; 0-4 kHz)" in said[0] and "1242 test tokens" in said[0]
    assert "formants alone" not in said[0]
    assert "It needs the voicing bar and the frication beyond the energy" in said[1]
    assert ": no, AUC +0.020 [-0.010, +0.050] and +0.100" in said[2]
    assert "its maps do not single them out" in said[3]
    verdict = compact_verdict([f]).iloc[0]
    assert verdict["formants alone"] == "–" and verdict[STATEMENTS[0]].startswith("yes: beta +0.20")
    assert verdict[STATEMENTS[1]].startswith("no: +0.020 [-0.010, +0.050]; +0.100")


def test_an_experiment_without_tests_says_so():
    f = facts("e", VOWELS | {"context": "isolate"}, MODEL, metrics(), references(),
              pd.DataFrame(), None, "cam")  # fmt: skip
    said = sentences(f)
    assert "without their context" in said[0]
    assert said[1].endswith("removes: not tested.") and said[2].endswith(": not tested.")
    assert compact_verdict([f]).iloc[0][STATEMENTS[1]] == "not tested"


@pytest.mark.parametrize("lda, expected", [((0.95, 0.93, 0.97), "classify better"), (None, None)])
def test_a_formant_classifier_better_than_the_network_is_said(lda, expected):
    yes = (0.1, 0.05, 0.15, 391, 0.01, True)
    tests = headline_tests("e", (0.3, 0.1, 0.5, 393, 0.004, True), yes, yes)
    f = facts("e", VOWELS, MODEL, metrics(), references(lda), tests, None, "cam")
    said = sentences(f)
    assert (expected in said[-1]) if expected else len(said) == 3
