"""Token attributes: stress digits, function words, neighbours across pauses."""

import pandas as pd

from spectrocam.segments.tokens import FUNCTION_WORDS, stress_of, token_attributes


def test_stress_digits():
    assert [stress_of(p) for p in ("IY1", "IY0", "AO2", "N", "AE")] == [1, 0, 2, -1, -1]


def test_the_function_word_list_holds_the_closed_classes_and_no_content_word():
    for word in ("the", "and", "a", "of", "to", "in", "was", "that", "his", "would", "don't"):
        assert word in FUNCTION_WORDS
    for word in ("printing", "seat", "far", "only", "one", "water", "said"):
        assert word not in FUNCTION_WORDS
    assert all(w == w.lower() for w in FUNCTION_WORDS)


def test_neighbours_stop_at_pauses_and_clip_ends_and_rows_keep_their_order():
    phones = pd.DataFrame(
        [
            ("b", "for", "AO1", 0.30, 0.40),  # out of time order on purpose
            ("b", "for", "R", 0.40, 0.45),
            ("a", "And", "AE1", 0.00, 0.10),
            ("a", "and", "N", 0.10, 0.15),
            ("a", "sea", "IY1", 0.40, 0.50),  # after a 250 ms pause
            ("b", "for", "F", 0.25, 0.30),
        ],
        columns=["utt_id", "word", "phone", "start_s", "end_s"],
    )
    t = token_attributes(phones)
    assert list(t.phone) == list(phones.phone)
    assert list(t.prev_phone) == ["F", "AO1", "", "AE1", "", ""]
    assert list(t.next_phone) == ["R", "", "N", "", "", "AO1"]
    assert list(t.rhotic) == [1, 0, 0, 0, 0, 0]
    assert list(t.function_word) == [1, 1, 1, 1, 0, 1]
    assert list(t.stress) == [1, -1, 1, -1, 1, -1]
