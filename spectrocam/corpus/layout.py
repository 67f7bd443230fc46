"""The LJSpeech corpus: reading its layout and checking every clip.

A corpus directory holds ``metadata.csv`` (``ID|transcription|normalized transcription``, UTF-8,
no header) and ``wavs/<ID>.wav``. A fourth field, when present, names the clip's speaker
(``ID|transcription|normalized|speaker``); without it every clip is the corpus's one speaker,
named after the corpus. :func:`validate_corpus` checks each clip and returns two tables:

* clips: ``utt_id, speaker, audio_path, text, sample_rate_hz, source_rate_hz, channels,
  n_samples, duration_s, bandwidth_hz, note`` for the clips the pipeline uses (``text`` is the
  normalized transcription; ``audio_path`` is the original wav, or a converted copy when the clip
  had to be resampled or mixed down, in which case ``note`` says so; ``bandwidth_hz`` is the
  highest frequency whose long-term level lies within :data:`BANDWIDTH_DB` of the clip's
  loudest band, so that audio recorded at 8 kHz and resampled shows its 4 kHz band);
* rejects: ``utt_id, reason`` for every clip left out, never silently: a metadata line that is
  not UTF-8 or lacks a field (by line number), an id on several lines (every line of it), a wav
  that is missing, unreadable, empty, silent or too short.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from spectrocam.exceptions import ExpectedError
from spectrocam.io import atomic_path

__all__ = [
    "CLIP_COLUMNS",
    "REJECT_COLUMNS",
    "CorpusError",
    "read_metadata",
    "read_clip_list",
    "validate_corpus",
    "bandwidth_hz",
    "load_audio",
    "resample",
]

log = logging.getLogger(__name__)

CLIP_COLUMNS = [
    "utt_id",
    "speaker",
    "audio_path",
    "text",
    "sample_rate_hz",
    "source_rate_hz",
    "channels",
    "n_samples",
    "duration_s",
    "bandwidth_hz",
    "note",
]
# A clip's bandwidth: the highest frequency within this many dB of its loudest band (measured on
# the demo's clips: 10.7-10.9 kHz at 22,050 Hz; 4.3-4.9 kHz for the same clips through 8 kHz).
BANDWIDTH_DB = 60.0
REJECT_COLUMNS = ["utt_id", "reason"]


class CorpusError(ExpectedError, ValueError):
    """The corpus as a whole cannot be used (no metadata.csv, no clip left, ...)."""


@dataclass(frozen=True)
class MetadataLine:
    utt_id: str
    text: str
    normalized: str
    speaker: str | None = None


def read_metadata(path: str | Path) -> tuple[list[MetadataLine], list[tuple[str, str]]]:
    """Parse LJSpeech's ``metadata.csv``.

    Returns the well-formed lines and ``(utt_id or 'line N', reason)`` for malformed ones.
    A line needs an id and at least a transcription; the normalized transcription falls back to
    the transcription when missing; a fourth field is the speaker. Each line is decoded alone,
    so a line that is not UTF-8 is rejected with its number and the others are kept.
    """
    path = Path(path)
    if not path.is_file():
        raise CorpusError(
            f"{path}: no metadata.csv (expected LJSpeech's layout: metadata.csv, wavs/)"
        )
    lines: list[MetadataLine] = []
    bad: list[tuple[str, str]] = []
    numbers: dict[str, list[int]] = {}
    for number, raw_bytes in enumerate(path.read_bytes().splitlines(), start=1):
        try:
            raw = raw_bytes.decode("utf-8")
        except UnicodeDecodeError as exc:
            head = raw_bytes.split(b"|", 1)[0].decode("ascii", errors="replace").strip()
            bad.append((head or f"line {number}", f"metadata line {number} is not UTF-8 ({exc})"))
            continue
        if not raw.strip():
            continue
        fields = raw.split("|")
        utt_id = fields[0].strip().lstrip("\ufeff")
        if not utt_id:
            bad.append((f"line {number}", "metadata line without a clip id"))
            continue
        if len(fields) < 2:
            bad.append((utt_id, f"metadata line {number} has no transcription field"))
            continue
        numbers.setdefault(utt_id, []).append(number)
        text = fields[1].strip()
        normalized = fields[2].strip() if len(fields) > 2 and fields[2].strip() else text
        speaker = fields[3].strip() if len(fields) > 3 and fields[3].strip() else None
        lines.append(MetadataLine(utt_id, text, normalized, speaker))
    # An id on several lines is ambiguous: none of its lines is used.
    for utt_id, where in numbers.items():
        if len(where) > 1:
            lines_ = ", ".join(map(str, where))
            bad.append((utt_id, f"clip id on several metadata lines ({lines_}); none is used"))
    lines = [line for line in lines if len(numbers[line.utt_id]) == 1]
    return lines, bad


def read_clip_list(path: str | Path) -> list[str]:
    """Clip ids from a text file, one per line; blank lines and ``#`` comments are skipped."""
    ids = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            ids.append(line)
    return ids


def load_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Read a clip as float32 samples in [-1, 1]: shape (n,) for mono, (n, channels) otherwise."""
    data, sr = sf.read(str(path), dtype="float32", always_2d=False)
    return data, int(sr)


def resample(audio: np.ndarray, from_hz: int, to_hz: int) -> np.ndarray:
    """Band-limited resampling of a mono float32 signal (torchaudio's windowed-sinc resampler)."""
    if from_hz == to_hz:
        return audio
    import torch
    import torchaudio.functional as AF

    out = AF.resample(torch.from_numpy(np.ascontiguousarray(audio)), from_hz, to_hz)
    return out.numpy().astype(np.float32, copy=False)


def bandwidth_hz(audio: np.ndarray, sample_rate_hz: int, n_fft: int = 1024) -> float:
    """The highest frequency (Hz) whose long-term average level lies within
    :data:`BANDWIDTH_DB` of the loudest one (Hann frames of ``n_fft`` samples, half overlap)."""
    hop = n_fft // 2
    if len(audio) < n_fft:
        audio = np.pad(audio, (0, n_fft - len(audio)))
    starts = np.arange(0, len(audio) - n_fft + 1, hop)
    frames = audio[starts[:, None] + np.arange(n_fft)] * np.hanning(n_fft)
    level = 10 * np.log10(np.mean(np.abs(np.fft.rfft(frames, axis=1)) ** 2, axis=0) + 1e-20)
    top = np.flatnonzero(level >= level.max() - BANDWIDTH_DB).max()
    return float(top * sample_rate_hz / n_fft)


def _check_clip(
    utt_id: str,
    wav: Path,
    sample_rate_hz: int,
    min_duration_s: float,
    converted_dir: Path,
) -> tuple[dict | None, str | None]:
    """Return (clip row, None) or (None, reason)."""
    if not wav.is_file():
        return None, f"no wav file ({wav.name} missing from wavs/)"
    try:
        audio, sr = load_audio(wav)
    except Exception as exc:  # soundfile raises several types for broken files
        return None, f"unreadable wav: {str(exc).strip() or type(exc).__name__}"
    n_channels = 1 if audio.ndim == 1 else audio.shape[1]
    if audio.shape[0] == 0:
        return None, "empty wav (no samples)"
    if not np.all(np.isfinite(audio)):
        return None, "wav holds non-finite samples"
    notes = []
    if n_channels > 1:
        audio = audio.mean(axis=1, dtype=np.float32)
        notes.append(f"mixed down from {n_channels} channels")
    if sr != sample_rate_hz:
        audio = resample(audio, sr, sample_rate_hz)
        notes.append(f"resampled from {sr} Hz")
    if not np.any(audio):
        return None, "silent wav (all samples zero)"
    duration_s = audio.shape[0] / sample_rate_hz
    if duration_s < min_duration_s:
        return None, f"too short ({duration_s:.3f} s < corpus.min_duration_s {min_duration_s} s)"
    audio_path = wav
    if notes:
        converted_dir.mkdir(parents=True, exist_ok=True)
        audio_path = converted_dir / f"{utt_id}.wav"
        with atomic_path(audio_path, suffix=".tmp.wav") as tmp:
            sf.write(str(tmp), audio, sample_rate_hz, subtype="PCM_16")
    row = {
        "utt_id": utt_id,
        "audio_path": str(audio_path),
        "sample_rate_hz": sample_rate_hz,
        "source_rate_hz": sr,
        "channels": 1,
        "n_samples": int(audio.shape[0]),
        "duration_s": duration_s,
        "bandwidth_hz": bandwidth_hz(audio, sample_rate_hz),
        "note": "; ".join(notes),
    }
    return row, None


def validate_corpus(
    corpus_dir: str | Path,
    converted_dir: str | Path,
    sample_rate_hz: int = 22050,
    min_duration_s: float = 0.1,
    clip_ids: list[str] | None = None,
    progress_every: int = 500,
    corpus_name: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check every clip of an LJSpeech-layout corpus (see the module docstring).

    ``clip_ids`` restricts the corpus to those ids (an id without a metadata line is a reject).
    A clip without a speaker field is spoken by ``corpus_name`` (default: the directory's name).
    Clips at another sample rate or with several channels are converted into ``converted_dir``.
    Raises :class:`CorpusError` only when the corpus as a whole is unusable.
    """
    corpus_dir = Path(corpus_dir)
    converted_dir = Path(converted_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus directory {corpus_dir} does not exist")
    lines, rejects = read_metadata(corpus_dir / "metadata.csv")
    converted_dir.mkdir(parents=True, exist_ok=True)
    by_id = {line.utt_id: line for line in lines}
    if clip_ids is not None:
        wanted = list(dict.fromkeys(clip_ids))
        rejects = [r for r in rejects if r[0] in set(wanted)]
        said = {r[0] for r in rejects}
        for utt_id in wanted:
            if utt_id not in by_id and utt_id not in said:
                rejects.append((utt_id, "listed in corpus.clips but has no metadata line"))
        lines = [by_id[i] for i in wanted if i in by_id]
    rows = []
    for k, line in enumerate(lines, start=1):
        if not line.normalized.strip():
            rejects.append((line.utt_id, "empty transcript"))
            continue
        row, reason = _check_clip(
            line.utt_id,
            corpus_dir / "wavs" / f"{line.utt_id}.wav",
            sample_rate_hz,
            min_duration_s,
            converted_dir,
        )
        if reason is not None:
            rejects.append((line.utt_id, reason))
            log.warning("rejected %s: %s", line.utt_id, reason)
        else:
            row["text"] = line.normalized
            row["speaker"] = line.speaker or corpus_name or corpus_dir.resolve().name
            if row["note"]:
                log.info("%s: %s", line.utt_id, row["note"])
            rows.append(row)
        if progress_every and k % progress_every == 0:
            log.info("checked %d/%d clips", k, len(lines))
    if clip_ids is None:
        listed = set(by_id)
        wav_dir = corpus_dir / "wavs"
        orphans = sorted(p.stem for p in wav_dir.glob("*.wav") if p.stem not in listed)
        rejects += [(o, "wav without a metadata line") for o in orphans]
    clips = pd.DataFrame(rows, columns=CLIP_COLUMNS)
    rejected = pd.DataFrame(rejects, columns=REJECT_COLUMNS)
    if clips.empty:
        raise CorpusError(
            f"no usable clip in {corpus_dir} ({len(rejected)} rejected; first reasons: "
            + "; ".join(f"{u}: {r}" for u, r in rejects[:3])
            + ")"
        )
    total = len(clips) + len(rejected)
    log.info(
        "%d clips usable, %d rejected (of %d); %d speaker(s); median bandwidth %.0f Hz",
        len(clips),
        len(rejected),
        total,
        clips["speaker"].nunique(),
        clips["bandwidth_hz"].median(),
    )
    return clips, rejected
