"""compare_alignments on hand-made phone tables with known answers."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from spectrocam.align.evaluate import align_sequences, compare_alignments, format_report
from spectrocam.align.phone_table import ALIGNED_COLUMNS


def table(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=ALIGNED_COLUMNS)


def utterance(utt_id: str, phones: list[tuple[str, float, float]]) -> list[tuple]:
    return [(utt_id, "w", p, s, e) for p, s, e in phones]


REF = table(
    utterance("u1", [("DH", 0.10, 0.15), ("AH0", 0.15, 0.20), ("K", 0.20, 0.28),
                     ("AE1", 0.28, 0.40), ("T", 0.40, 0.50)])
    + utterance("u2", [("IY1", 0.00, 0.10), ("S", 0.10, 0.20)])
)  # fmt: skip


def shifted(t: pd.DataFrame, dt: float) -> pd.DataFrame:
    out = t.copy()
    out["start_s"] += dt
    out["end_s"] += dt
    return out


def within(result: dict) -> dict[float, float]:
    return {round(w["tol_s"], 3): w["share"] for w in result["boundaries"]["within"]}


def test_identical_tables_match_everything():
    r = compare_alignments(REF, REF)
    assert within(r) == {0.01: 1.0, 0.02: 1.0, 0.05: 1.0}
    assert r["boundaries"]["n"] == 2 * len(REF)
    assert r["offset_s"]["median"] == 0.0
    assert r["utterances"]["only_in_reference"] == 0
    assert r["vowels"]["AE"] == {
        "n": 1, "found": 1, "found_share": 1.0, "iou_mean": 1.0, "iou_mean_all": 1.0
    }  # fmt: skip
    assert r["vowels"]["IY"]["iou_mean"] == 1.0
    assert r["vowels"]["UW"]["n"] == 0 and r["vowels"]["UW"]["found_share"] is None


def test_format_report_and_json():
    r = compare_alignments(REF, shifted(REF, 0.015))
    text = format_report(r, "title")
    assert text.splitlines()[0] == "title"
    assert "within  20 ms  100.0 %" in text and "+15.0 ms" in text
    json.dumps(r, allow_nan=False)  # JSON-ready: no NaN


def test_stress_is_ignored():
    hyp = REF.copy()
    hyp["phone"] = hyp["phone"].str.replace(r"\d$", "", regex=True)
    assert within(compare_alignments(REF, hyp))[0.01] == 1.0


def test_shift_of_15_ms():
    r = compare_alignments(REF, shifted(REF, 0.015))
    assert within(r) == {0.01: 0.0, 0.02: 1.0, 0.05: 1.0}
    assert r["offset_s"]["median"] == pytest.approx(0.015)
    assert r["offset_s"]["median_start"] == pytest.approx(0.015)


def test_deleted_phone_costs_only_its_boundaries():
    hyp = REF[~((REF["utt_id"] == "u1") & (REF["phone"] == "K"))]
    r = compare_alignments(REF, hyp)
    # 14 boundaries, the two of the missing K are misses; all others are matched.
    assert r["boundaries"]["n"] == 14
    assert within(r)[0.05] == pytest.approx(12 / 14)
    assert r["phones"]["label_matched"] == 6


def test_inserted_phone_is_ignored():
    extra = table(utterance("u1", [("HH", 0.05, 0.10)]))
    hyp = pd.concat([REF, extra], ignore_index=True)
    r = compare_alignments(REF, hyp)
    assert within(r)[0.01] == 1.0


def test_substituted_phone_is_a_miss():
    hyp = REF.copy()
    hyp.loc[(hyp["utt_id"] == "u1") & (hyp["phone"] == "K"), "phone"] = "G"
    assert within(compare_alignments(REF, hyp))[0.05] == pytest.approx(12 / 14)


def test_utterance_only_in_reference_is_all_miss():
    hyp = REF[REF["utt_id"] == "u1"]
    r = compare_alignments(REF, hyp)
    assert r["utterances"]["only_in_reference"] == 1
    assert r["utterances"]["only_in_reference_ids"] == ["u2"]
    assert within(r)[0.05] == pytest.approx(10 / 14)
    # The missing utterance's vowel counts as not found.
    assert r["vowels"]["IY"]["found"] == 0 and r["vowels"]["IY"]["n"] == 1


def test_utterance_only_in_hypothesis_is_ignored():
    extra = table(utterance("u3", [("AA1", 0.0, 0.1)]))
    r = compare_alignments(REF, pd.concat([REF, extra], ignore_index=True))
    assert r["utterances"]["only_in_hypothesis"] == 1
    assert within(r)[0.01] == 1.0
    assert r["vowels"]["AA"]["n"] == 0


def test_vowel_iou_known_value():
    # Reference AE 0.28-0.40; hypothesis AE 0.30-0.44: IoU = 0.10 / 0.16.
    hyp = REF.copy()
    sel = (hyp["utt_id"] == "u1") & (hyp["phone"] == "AE1")
    hyp.loc[sel, ["start_s", "end_s"]] = [0.30, 0.44]
    r = compare_alignments(REF, hyp)
    assert r["vowels"]["AE"]["found_share"] == 1.0
    assert r["vowels"]["AE"]["iou_mean"] == pytest.approx(0.10 / 0.16)


def test_vowel_not_found_without_overlap_of_same_class():
    hyp = REF.copy()
    sel = (hyp["utt_id"] == "u1") & (hyp["phone"] == "AE1")
    hyp.loc[sel, "phone"] = "EH1"  # same time, other class
    r = compare_alignments(REF, hyp)
    assert r["vowels"]["AE"]["found"] == 0
    assert r["vowels"]["AE"]["iou_mean_all"] == 0.0


def test_custom_vowel_classes():
    r = compare_alignments(REF, REF, vowel_classes={"front": {"IY", "AE"}})
    assert list(r["vowels"]) == ["front"]
    assert r["vowels"]["front"]["n"] == 2


def test_empty_hypothesis():
    r = compare_alignments(REF, table([]))
    assert within(r)[0.05] == 0.0
    assert r["utterances"]["only_in_reference"] == 2
    assert r["offset_s"]["n"] == 0 and r["offset_s"]["median"] is None
    assert "n/a" in format_report(r)


def test_align_sequences_prefers_pairs_close_in_time():
    # One hypothesis T can pair with either reference T; the closer one in time wins.
    path = align_sequences(["T", "AH", "T"], ["AH", "T"], [0.0, 0.1, 0.2], [0.1, 0.2])
    assert (2, 1) in path and (0, None) in path
    path = align_sequences(["T", "AH", "T"], ["T", "AH"], [0.0, 0.1, 0.2], [0.0, 0.1])
    assert (0, 0) in path and (2, None) in path
