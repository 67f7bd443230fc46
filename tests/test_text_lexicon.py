"""Transcript normalisation and the CMUdict lexicon."""

from __future__ import annotations

from spectrocam.align.lexicon import (
    guess_pronunciation,
    load_cmudict,
    pronounce,
    write_mfa_dictionary,
)
from spectrocam.corpus.text import fold_to_ascii, words_from_transcript
from spectrocam.phones import ARPABET_PHONES, strip_stress


def test_words_basic_punctuation_and_case():
    text = "Printing, in the only sense with which we are at present concerned, differs"
    assert words_from_transcript(text) == [
        "printing",
        "in",
        "the",
        "only",
        "sense",
        "with",
        "which",
        "we",
        "are",
        "at",
        "present",
        "concerned",
        "differs",
    ]


def test_words_apostrophes_hyphens_quotes():
    text = "two. The female debtors' side: a court-yard, \"the king's\" (forty-nine) -- 'tis"
    assert words_from_transcript(text) == [
        "two",
        "the",
        "female",
        "debtors",
        "side",
        "a",
        "court",
        "yard",
        "the",
        "king's",
        "forty",
        "nine",
        "tis",
    ]


def test_words_non_ascii_folded():
    assert fold_to_ascii("café Æsop — Müller’s") == "cafe AEsop - Muller's"
    assert words_from_transcript("Café, Müller’s naïve rôle—Æsop") == [
        "cafe",
        "muller's",
        "naive",
        "role",
        "aesop",
    ]


def test_words_empty():
    assert words_from_transcript("") == []
    assert words_from_transcript(" -- ... !") == []


def test_cmudict_loaded_and_cached():
    lex = load_cmudict()
    assert lex is load_cmudict()
    assert len(lex) > 100_000
    assert pronounce("printing", lex) == ["P", "R", "IH1", "N", "T", "IH0", "NG"]
    assert pronounce("Printing") == ["P", "R", "IH1", "N", "T", "IH0", "NG"]
    assert pronounce("xqzvw", lex) is None


def test_guess_pronunciation_is_arpabet():
    lex = load_cmudict()
    for word in ["subiaco", "caxton's", "woodcutters", "schoeffer", "mss", "x9"]:
        assert word not in lex
        pron = guess_pronunciation(word, lex)
        assert pron, word
        assert all(strip_stress(p) in ARPABET_PHONES for p in pron), (word, pron)
    # Possessive of a known word follows the final phone.
    assert guess_pronunciation("caxton's", lex)[-1] == "Z"
    # Compound of known words.
    assert guess_pronunciation("woodcutters", lex) == lex["wood"][0] + lex["cutters"][0]
    # Known words are returned unchanged.
    assert guess_pronunciation("printing", lex) == lex["printing"][0]


def test_write_mfa_dictionary(tmp_path):
    path = tmp_path / "dict.txt"
    oov = write_mfa_dictionary(["the", "printing", "subiaco", "the", "Printing", "zzqx"], path)
    assert oov == ["subiaco", "zzqx"]
    lines = path.read_text(encoding="utf-8").splitlines()
    words = [line.split("\t")[0] for line in lines]
    assert words[: len(load_cmudict()["the"])] == ["the"] * len(load_cmudict()["the"])
    assert set(words) == {"the", "printing"}
    assert "printing\tP R IH1 N T IH0 NG" in lines
    assert "printing\tP R IH1 N IH0 NG" in lines
    for line in lines:
        word, pron = line.split("\t")
        assert all(strip_stress(p) in ARPABET_PHONES for p in pron.split())


def test_write_mfa_dictionary_custom_lexicon(tmp_path):
    path = tmp_path / "dict.txt"
    oov = write_mfa_dictionary(["a", "b"], path, lexicon={"a": [["AH0"], ["EY1"]]})
    assert oov == ["b"]
    assert path.read_text(encoding="utf-8") == "a\tAH0\na\tEY1\n"
