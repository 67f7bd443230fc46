"""The phone registry: ARPAbet phones, vowels, stress digits and the labels that are not phones.

The ground floor of the package: the alignment (which keeps only these phones), the segment
stores and formants (vowels) and the configuration's validation (class members) all read it, so
it imports nothing of the package.
"""

from __future__ import annotations

import re

__all__ = ["SILENCE_LABELS", "OOV_LABELS", "ARPABET_PHONES", "VOWELS", "strip_stress"]

SILENCE_LABELS = frozenset({"", "sil", "sp", "SIL", "<sil>", "<s>", "</s>", "silence"})
OOV_LABELS = frozenset({"spn", "SPN", "<unk>", "+SPN+", "+NSN+", "NSN"})
ARPABET_PHONES = frozenset(
    "AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW "
    "V W Y Z ZH".split()
)
VOWELS = frozenset("AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split())
_STRESS = re.compile(r"[012]$")


def strip_stress(phone: str) -> str:
    """``"IY1"`` -> ``"IY"``; phones without a stress digit are returned unchanged."""
    return _STRESS.sub("", phone)
