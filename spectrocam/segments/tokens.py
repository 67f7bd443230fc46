"""What a phone token is, beyond its phone: stress, function word or not, its neighbours.

Vowel labels come from a pronouncing dictionary, so a class's tokens are dominated by a few
words and contexts: in the demo's 391 clips "and" is a third of the AE tokens, the IY0 of "the"
a third of the IY tokens, and most AO tokens precede R. :func:`token_attributes` gives every row
of a phone table the attributes that let an experiment filter its tokens (primary stress only,
content words only) and let later stages break their figures down:

=============  ==========================================================================
stress         the phone's stress digit (0 unstressed, 1 primary, 2 secondary), -1 for a
               phone without one (consonants, or an aligner that gives none)
function_word  1 when the phone's word (lower case) is in :data:`FUNCTION_WORDS`, else 0
prev_phone     the phone just before, stress kept, "" after a pause or at the clip's start
next_phone     the phone just after, "" before a pause or at the clip's end
rhotic         1 when the next phone is R (AO of "for", AA of "are"), else 0
=============  ==========================================================================

Two phones are neighbours when the second starts within :data:`ADJACENT_S` of the first's end:
the phone table leaves silences out, so a longer gap is a pause.

:data:`FUNCTION_WORDS` is this project's list of English closed-class words (articles and
determiners, pronouns, prepositions, conjunctions, auxiliary and modal verbs with their
contractions, negation, and the adverbs there, here, then, thus): words often read with
reduced, unstressed vowels in running speech, whose tokens a classifier can recognise as a word
rather than as a vowel. A word outside the list is a content word.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = [
    "FUNCTION_WORDS",
    "STRESSED_PHONES",
    "ADJACENT_S",
    "TOKEN_COLUMNS",
    "TOKEN_SUBSETS",
    "stress_of",
    "token_attributes",
]

ADJACENT_S = 0.005
# The phones that carry a stress digit in the CMU dictionary: the vowels.
STRESSED_PHONES = frozenset("AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split())
TOKEN_COLUMNS = ("stress", "function_word", "prev_phone", "next_phone", "rhotic")

FUNCTION_WORDS = frozenset(
    """
    a an the this that these those some any each every no either neither both all such what
    which whose whatever whichever
    i me my mine myself we us our ours ourselves you your yours yourself yourselves he him his
    himself she her hers herself it its itself they them their theirs themselves who whom
    oneself
    about above across after against along among amongst around as at before behind below
    beneath beside besides between beyond but by despite down during except for from in inside
    into like near of off on onto out outside over past per since than through throughout till
    to toward towards under underneath until unto up upon via with within without
    and or nor so yet if because although though unless whether while whilst where when whereas
    whereby wherein whereof whereupon how why
    be am is are was were been being have has had having do does did doing done
    can could may might must shall should will would ought
    i'm i've i'd i'll you're you've you'd you'll he's he'd he'll she's she'd she'll it's it'll
    we're we've we'd we'll they're they've they'd they'll that's there's here's what's who's
    isn't aren't wasn't weren't hasn't haven't hadn't doesn't don't didn't can't couldn't
    mustn't shan't shouldn't won't wouldn't let's
    not there here then thus
    """.split()
)

_DIGIT = re.compile(r"([012])$")


# Token subsets that figures are also given on (name -> the segment-table columns it needs and
# its rows): the evidence summary gives all three, the test metrics the first and the last.
# ``unseen_word`` comes with the splits (spectrocam.segments.store.segment_split_table): word
# types that no training token has, the tokens a word-disjoint split keeps.
TOKEN_SUBSETS = {
    "stressed content words": (
        ("stress", "function_word"),
        lambda t: (t["stress"] == 1) & (t["function_word"] == 0),
    ),
    "rhotic context": (("rhotic",), lambda t: t["rhotic"] == 1),
    "words unseen in training": (("unseen_word",), lambda t: t["unseen_word"].astype(bool)),
}


def stress_of(phone: str) -> int:
    """``"IY1"`` -> 1, ``"IY0"`` -> 0, ``"N"`` -> -1 (no stress digit)."""
    m = _DIGIT.search(str(phone))
    return int(m.group(1)) if m else -1


def token_attributes(phones: pd.DataFrame) -> pd.DataFrame:
    """The phone table (``utt_id, word, phone, start_s, end_s``) with the :data:`TOKEN_COLUMNS`
    added; neighbours are looked up within each clip in time order. The rows keep their
    order and index."""
    out = phones.copy()
    order = phones.sort_values(["utt_id", "start_s"], kind="stable").index
    ordered = phones.loc[order]
    same_utt_next = ordered["utt_id"].shift(-1) == ordered["utt_id"]
    touches_next = (ordered["start_s"].shift(-1) - ordered["end_s"]).abs() <= ADJACENT_S
    nxt = ordered["phone"].shift(-1).where(same_utt_next & touches_next, "")
    prv = ordered["phone"].shift(1).where((same_utt_next & touches_next).shift(1, fill_value=False))
    out["stress"] = phones["phone"].map(stress_of).astype(np.int8)
    words = phones["word"].fillna("").astype(str).str.lower()
    out["function_word"] = words.isin(FUNCTION_WORDS).astype(np.int8)
    out["prev_phone"] = prv.fillna("").astype(str).reindex(phones.index)
    out["next_phone"] = nxt.fillna("").astype(str).reindex(phones.index)
    out["rhotic"] = (out["next_phone"].str.replace(_DIGIT, "", regex=True) == "R").astype(np.int8)
    return out
