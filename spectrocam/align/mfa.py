"""Preparing a corpus for the Montreal Forced Aligner (MFA 3.x).

MFA reads a directory with ``<id>.wav`` beside ``<id>.lab`` (the transcript as plain words).
All clips go in one directory, since LJSpeech has a single speaker (run MFA with
``--single_speaker``). The wavs are symbolic links to the validated audio, not copies.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from spectrocam.corpus.text import words_from_transcript
from spectrocam.io import atomic_path

__all__ = ["prepare_mfa_corpus", "corpus_words"]


def prepare_mfa_corpus(clips: pd.DataFrame, out_dir: str | Path) -> int:
    """Write ``<utt_id>.lab`` and link ``<utt_id>.wav`` for every clip; return the count.

    ``clips`` is the clip table (``utt_id``, ``audio_path``, ``text``). The directory is built
    under a temporary name and renamed when complete.
    """
    with atomic_path(out_dir) as staging:
        staging.mkdir()
        for utt_id, audio_path, text in zip(
            clips["utt_id"], clips["audio_path"], clips["text"], strict=True
        ):
            words = words_from_transcript(str(text))
            (staging / f"{utt_id}.lab").write_text(" ".join(words) + "\n", encoding="utf-8")
            os.symlink(Path(audio_path).resolve(), staging / f"{utt_id}.wav")
    return len(clips)


def corpus_words(clips: pd.DataFrame) -> list[str]:
    """The distinct words of the clips' transcripts, sorted, as MFA will see them."""
    words: set[str] = set()
    for text in clips["text"]:
        words.update(words_from_transcript(str(text)))
    return sorted(words)
