"""Preparing a corpus for the Montreal Forced Aligner (MFA 3.x).

MFA reads a directory with ``<id>.wav`` beside ``<id>.lab`` (the transcript as plain words).
All clips go in one directory, since LJSpeech has a single speaker (run MFA with
``--single_speaker``). The wavs are symbolic links to the validated audio, not copies.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd

from spectrocam.text import words_from_transcript

__all__ = ["prepare_mfa_corpus", "corpus_words"]


def prepare_mfa_corpus(clips: pd.DataFrame, out_dir: str | Path) -> int:
    """Write ``<utt_id>.lab`` and link ``<utt_id>.wav`` for every clip; return the count.

    ``clips`` is the clip table (``utt_id``, ``audio_path``, ``text``). The directory is built
    under a temporary name and renamed when complete.
    """
    out_dir = Path(out_dir)
    staging = out_dir.with_name(out_dir.name + ".tmp")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    for utt_id, audio_path, text in zip(
        clips["utt_id"], clips["audio_path"], clips["text"], strict=True
    ):
        words = words_from_transcript(str(text))
        (staging / f"{utt_id}.lab").write_text(" ".join(words) + "\n", encoding="utf-8")
        os.symlink(Path(audio_path).resolve(), staging / f"{utt_id}.wav")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    staging.rename(out_dir)
    return len(clips)


def corpus_words(clips: pd.DataFrame) -> list[str]:
    """The distinct words of the clips' transcripts, sorted, as MFA will see them."""
    words: set[str] = set()
    for text in clips["text"]:
        words.update(words_from_transcript(str(text)))
    return sorted(words)
