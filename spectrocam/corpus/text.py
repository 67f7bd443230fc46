"""Transcript normalisation for forced alignment.

LJSpeech's *normalized* transcription already spells out numbers and abbreviations
("twenty-seventh", "Mister"), so only the surface has to be cleaned for a pronunciation
dictionary lookup:

* Unicode is folded to ASCII (``"é"`` -> ``"e"``, ``"æ"`` -> ``"ae"``, curly quotes -> ``'``);
* everything is lower-cased;
* hyphens and dashes separate words (``"court-yard"`` -> ``court``, ``yard``, as the reference
  MFA alignments do);
* apostrophes are kept inside a word (``"king's"``, ``"o'clock"``) and dropped at its edges
  (``"debtors'"`` -> ``"debtors"``, quoted ``'tis'`` -> ``"tis"``);
* any other character that is not a letter or a digit separates words and is dropped.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold_to_ascii", "words_from_transcript"]

# Letters that NFKD does not decompose into an ASCII base letter.
_SPECIAL = {
    "æ": "ae",
    "Æ": "AE",
    "œ": "oe",
    "Œ": "OE",
    "ø": "o",
    "Ø": "O",
    "ß": "ss",
    "ð": "d",
    "Ð": "D",
    "þ": "th",
    "Þ": "TH",
    "ł": "l",
    "Ł": "L",
    "ı": "i",
    # Typographic apostrophes and quotes become the ASCII apostrophe / quote.
    "\u2018": "'",
    "\u2019": "'",
    "\u02bc": "'",
    "\u201c": '"',
    "\u201d": '"',
    # Dashes become hyphens (word separators).
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
}
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")


def fold_to_ascii(text: str) -> str:
    """Fold ``text`` to ASCII: accents removed (``"é"`` -> ``"e"``), ligatures spelled out,
    typographic quotes and dashes replaced; characters with no ASCII form are dropped."""
    text = "".join(_SPECIAL.get(ch, ch) for ch in text)
    decomposed = unicodedata.normalize("NFKD", text)
    return decomposed.encode("ascii", "ignore").decode("ascii")


def words_from_transcript(text: str) -> list[str]:
    """Lower-case words of a normalized transcript, ready for a pronunciation dictionary.

    ``"Printing, in the only sense"`` -> ``["printing", "in", "the", "only", "sense"]``;
    ``"the king's court-yard"`` -> ``["the", "king's", "court", "yard"]``.
    Returns an empty list for a transcript without any letter or digit.
    """
    return _TOKEN.findall(fold_to_ascii(text).lower())
