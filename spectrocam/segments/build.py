"""Cutting an experiment's phone segments out of the clips into its HDF5 store.

Every phone interval whose phone (stress ignored) belongs to one of the experiment's classes,
and that passes the experiment's token filters (``stress``, ``words``, ``min_duration_s``),
becomes one segment. Each clip's spectrogram is computed once and every segment of the clip is
sliced from it: a window of ``context_frames`` frames centred on the phone's midpoint, rows cut to
the experiment's band. With ``context: isolate`` every frame of the window whose analysis
window (``win_s``, centred on the frame) reaches outside the phone's own interval is replaced
by the spectrogram's floor (``floor_db``, the value of digital silence and of frames beyond the
clip's ends), so that the network sees the phone alone. The window's middle frame is always
kept: a phone shorter than ``win_s`` still shows some of its neighbours there (set
``min_duration_s`` to ``win_s`` to leave such phones out).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from spectrocam import __version__
from spectrocam.config import Section
from spectrocam.corpus.layout import load_audio
from spectrocam.phones import strip_stress
from spectrocam.progress import logged
from spectrocam.segments.spectrogram import (
    StftParams,
    band_rows,
    context_frames,
    cut_windows,
    log_power_spectrogram,
)
from spectrocam.segments.store import SegmentStoreWriter
from spectrocam.segments.tokens import STRESSED_PHONES, TOKEN_COLUMNS, token_attributes

__all__ = [
    "Experiment",
    "BANDWIDTH_SHARE",
    "bandwidth_warning",
    "select_segments",
    "isolate_windows",
    "build_store",
]

# An experiment's band must be covered by the audio up to this share of its top (the demo's
# clips reach 10.7-10.9 kHz of the full band's 11,025 Hz: 0.97-0.99).
BANDWIDTH_SHARE = 0.95

log = logging.getLogger(__name__)

_CHOICES = {
    "stress": ("any", "primary"),
    "words": ("any", "content"),
    "context": ("keep", "isolate"),
    "split_words": ("shared", "disjoint"),
}


@dataclass(frozen=True)
class Experiment(Section):
    """An experiment: classes (name -> ARPAbet phones, no stress), a band in Hz, the token
    filters (``stress``: any or primary; ``words``: any or content; ``min_duration_s``), the
    context kept around each phone (keep or isolate) and whether held-out tokens may share a
    word type with the training tokens (``split_words``: shared or disjoint,
    :func:`spectrocam.segments.splits.segment_splits`)."""

    SECTIONS = ("experiments.<name>",)
    EXTRA = ("name",)

    name: str
    classes: Mapping[str, list[str]]
    fmin_hz: float
    fmax_hz: float
    stress: str = "any"
    words: str = "any"
    min_duration_s: float = 0.0
    context: str = "keep"
    split_words: str = "shared"

    def __post_init__(self) -> None:
        for key, allowed in _CHOICES.items():
            if getattr(self, key) not in allowed:
                raise ValueError(
                    f"experiment {self.name}: {key} must be one of {', '.join(allowed)}, "
                    f"not {getattr(self, key)!r}"
                )

    @property
    def class_names(self) -> list[str]:
        return list(self.classes)


def bandwidth_warning(clips: pd.DataFrame, experiment: Experiment) -> str | None:
    """A warning when the clips' median bandwidth (``clips.bandwidth_hz``) falls short of the
    experiment's band: its top rows would hold no sound, only resampling's floor."""
    if "bandwidth_hz" not in clips or clips.empty:
        return None
    median = float(clips["bandwidth_hz"].median())
    if median >= BANDWIDTH_SHARE * experiment.fmax_hz:
        return None
    return (
        f"{experiment.name}: the corpus's audio reaches {median:.0f} Hz (median over "
        f"{len(clips)} clips; lowest {clips['bandwidth_hz'].min():.0f} Hz) but the experiment's "
        f"band goes to {experiment.fmax_hz:g} Hz: everything above is empty (was the audio "
        "recorded at a lower rate and resampled?). Lower the experiment's fmax_hz."
    )


def select_segments(phones: pd.DataFrame, experiment: Experiment) -> pd.DataFrame:
    """Rows of the phone table that are segments of ``experiment``, with a ``label`` column
    (index into ``experiment.class_names``) and the token attributes of
    :func:`spectrocam.segments.tokens.token_attributes`, ordered by clip and time.

    The token filters: ``stress: primary`` keeps the vowels with stress digit 1 (phones that
    carry no stress, the consonants, are kept); ``words: content`` drops the tokens of
    function words and of no word; ``min_duration_s`` drops shorter phones."""
    phone_to_label = {
        strip_stress(p): i for i, phones_ in enumerate(experiment.classes.values()) for p in phones_
    }
    labels = phones["phone"].map(lambda p: phone_to_label.get(strip_stress(str(p)), -1))
    chosen = token_attributes(phones).loc[labels >= 0].copy()
    chosen["label"] = labels[labels >= 0].astype(int)
    keep = (chosen["end_s"] - chosen["start_s"]) >= experiment.min_duration_s - 1e-9
    if experiment.stress == "primary":
        carries = chosen["phone"].map(lambda p: strip_stress(str(p)) in STRESSED_PHONES)
        if (carries & (chosen["stress"] < 0)).any():
            raise ValueError(
                f"experiment {experiment.name}: stress is primary but the phone table's vowels "
                "have no stress digits (e.g. IY1); use an aligner whose dictionary gives them, "
                "or stress: any"
            )
        keep &= ~carries | (chosen["stress"] == 1)
    if experiment.words == "content":
        word = chosen["word"].fillna("").astype(str)
        keep &= (chosen["function_word"] == 0) & (word != "")
    log.info(
        "%s: %d of %d tokens of its classes pass its filters (stress %s, words %s, at least %g s)",
        experiment.name,
        int(keep.sum()),
        len(chosen),
        experiment.stress,
        experiment.words,
        experiment.min_duration_s,
    )
    chosen = chosen.loc[keep]
    return chosen.sort_values(["utt_id", "start_s"], kind="stable").reset_index(drop=True)


def isolate_windows(
    windows: np.ndarray,
    window_centre_s: np.ndarray,
    times_s: np.ndarray,
    start_s: np.ndarray,
    end_s: np.ndarray,
    fill: float,
    half_window_s: float = 0.0,
) -> np.ndarray:
    """``windows`` (N, F, T) with every frame set to ``fill`` whose analysis window (its time
    ``window_centre_s[i] + times_s[j]`` +/- ``half_window_s``) reaches outside the phone's
    interval [``start_s[i]``, ``end_s[i]``]; the middle frame is always kept. Changes
    ``windows`` in place and returns it."""
    frame_s = np.asarray(window_centre_s)[:, None] + np.asarray(times_s)[None, :]
    outside = (frame_s - half_window_s < np.asarray(start_s)[:, None] - 1e-9) | (
        frame_s + half_window_s > np.asarray(end_s)[:, None] + 1e-9
    )
    outside[:, len(times_s) // 2] = False
    windows[np.broadcast_to(outside[:, None, :], windows.shape)] = fill
    return windows


def _clip_windows(args: tuple) -> tuple[np.ndarray, np.ndarray]:
    audio_path, centres_s, params, rows, n_frames, dtype, interval_s = args
    audio, sr = load_audio(audio_path)
    if audio.ndim != 1 or sr != params.sample_rate_hz:
        raise ValueError(
            f"{audio_path}: expected mono audio at {params.sample_rate_hz} Hz (use the clip "
            f"table's audio_path), got {sr} Hz with shape {audio.shape}"
        )
    spec = log_power_spectrogram(audio, params)[rows]
    windows, window_centre_s = cut_windows(
        spec, np.asarray(centres_s), params.hop_s_exact, n_frames, params.floor_db
    )
    if interval_s is not None:
        times_s = (np.arange(n_frames) - n_frames // 2) * params.hop_s_exact
        half_window_s = params.win_samples / params.sample_rate_hz / 2
        isolate_windows(
            windows, window_centre_s, times_s, *interval_s, params.floor_db, half_window_s
        )
    return windows.astype(dtype), window_centre_s


def build_store(
    phones: pd.DataFrame,
    clips: pd.DataFrame,
    experiment: Experiment,
    params: StftParams,
    context_s: float,
    out_path: str | Path,
    dtype: str = "float32",
    threads: int = 1,
    extra_attrs: Mapping | None = None,
    progress_every_s: float = 10.0,
) -> pd.DataFrame:
    """Write the experiment's segment store to ``out_path``; return its segment table.

    ``clips`` (the clip table) gives each clip's audio path; segments of clips missing from it
    are an error, since the phone table should only hold validated clips.
    """
    segments = select_segments(phones, experiment)
    audio_paths = _audio_paths(segments, clips)
    freqs = params.freqs_hz()
    rows = band_rows(freqs, experiment.fmin_hz, experiment.fmax_hz)
    n_frames = context_frames(context_s, params.hop_s_exact)
    times_s = (np.arange(n_frames) - n_frames // 2) * params.hop_s_exact
    attrs = _store_attrs(experiment, params, context_s, n_frames, extra_attrs)
    groups = [(utt, g) for utt, g in segments.groupby("utt_id", sort=True)]
    isolate = experiment.context == "isolate"
    jobs = [
        _clip_job(audio_paths[utt], g, params, rows, n_frames, dtype, isolate) for utt, g in groups
    ]
    log.info(
        "%s: %d segments from %d clips, %d rows (%g-%g Hz) x %d frames",
        experiment.name,
        len(segments),
        len(groups),
        rows.stop - rows.start,
        freqs[rows][0],
        freqs[rows][-1],
        n_frames,
    )
    started = time.monotonic()
    with SegmentStoreWriter(
        out_path, len(segments), freqs[rows], times_s, experiment.class_names, dtype, attrs
    ) as writer:
        window_centres = _write_clips(
            writer, groups, jobs, threads, experiment.name, progress_every_s
        )
    log.info("%s: wrote %s in %.1f s", experiment.name, out_path, time.monotonic() - started)
    segments["window_centre_s"] = window_centres
    return segments


def _audio_paths(segments: pd.DataFrame, clips: pd.DataFrame) -> dict[str, str]:
    """``utt_id -> audio_path`` from the clip table; raises ValueError when a clip of
    ``segments`` is not in it."""
    audio_paths = dict(zip(clips["utt_id"], clips["audio_path"], strict=True))
    missing = sorted(set(segments["utt_id"]) - set(audio_paths))
    if missing:
        raise ValueError(
            f"{len(missing)} aligned clips are not in the clip table (first: {missing[:3]})"
        )
    return audio_paths


def _store_attrs(
    experiment: Experiment,
    params: StftParams,
    context_s: float,
    n_frames: int,
    extra_attrs: Mapping | None,
) -> dict:
    """The store's file attributes: experiment, band (Hz), STFT parameters (samples and
    seconds), window length (seconds and frames), version, then ``extra_attrs``."""
    return {
        "experiment": experiment.name,
        "classes": {k: list(v) for k, v in experiment.classes.items()},
        "fmin_hz": experiment.fmin_hz,
        "fmax_hz": experiment.fmax_hz,
        "stress": experiment.stress,
        "words": experiment.words,
        "min_duration_s": experiment.min_duration_s,
        "context": experiment.context,
        "context_fill": "floor_db where a frame's analysis window leaves the phone's interval"
        if experiment.context == "isolate"
        else "none: the neighbouring phones are kept",
        "split_words": experiment.split_words,
        **{k: v for k, v in asdict(params).items()},
        "win_samples": params.win_samples,
        "hop_samples": params.hop_samples,
        "hop_s_exact": params.hop_s_exact,
        "hz_per_row": params.sample_rate_hz / params.n_fft,
        "context_s": context_s,
        "n_frames": n_frames,
        "values": "10*log10(|STFT|^2 / sum(window^2)) dB, floored at floor_db",
        "time_axis": "frame j of segment i lies at window_centre_s[i] + times_s[j] in its clip",
        "spectrocam_version": __version__,
        **dict(extra_attrs or {}),
    }


def _clip_job(
    audio_path: str,
    segs: pd.DataFrame,
    params: StftParams,
    rows: slice,
    n_frames: int,
    dtype: str,
    isolate: bool = False,
) -> tuple:
    """The :func:`_clip_windows` arguments for one clip's segments ``segs``: windows centred on
    each phone's midpoint (seconds), ``rows`` of the spectrogram, ``n_frames`` frames wide, and
    (``isolate``) the phones' intervals, outside which frames are floored."""
    centres_s = ((segs["start_s"] + segs["end_s"]) / 2).to_numpy()
    interval_s = (segs["start_s"].to_numpy(), segs["end_s"].to_numpy()) if isolate else None
    return (audio_path, centres_s, params, rows, n_frames, dtype, interval_s)


def _segment_fields(segs: pd.DataFrame, window_centres_s: np.ndarray) -> dict[str, np.ndarray]:
    """The per-segment fields of the store for one clip's segments (times in seconds)."""
    return {
        "phone_id": segs["phone_id"].to_numpy(),
        "utt_id": segs["utt_id"].to_numpy(),
        "word": segs["word"].fillna("").astype(str).to_numpy(),
        "phone": segs["phone"].to_numpy(),
        "start_s": segs["start_s"].to_numpy(),
        "end_s": segs["end_s"].to_numpy(),
        "window_centre_s": window_centres_s,
    } | {name: segs[name].to_numpy() for name in TOKEN_COLUMNS}


def _write_clips(
    writer: SegmentStoreWriter,
    groups: list[tuple[str, pd.DataFrame]],
    jobs: list[tuple],
    threads: int,
    name: str,
    progress_every_s: float,
) -> np.ndarray:
    """Cut every clip's windows (``threads`` > 1: in worker processes) and write them, clip by
    clip in ``groups`` order, under a progress bar logged every ``progress_every_s`` seconds.
    Returns each segment's window centre (seconds)."""
    window_centres = np.zeros(writer.n)
    executor = ProcessPoolExecutor(threads) if threads > 1 else None
    try:
        results = (
            executor.map(_clip_windows, jobs, chunksize=8) if executor else map(_clip_windows, jobs)
        )
        pairs = zip(groups, results, strict=True)
        clips = logged(pairs, f"{name} segments", progress_every_s, "clip", len(groups))
        for (_, g), (windows, centres) in clips:
            lo = writer.filled
            writer.write(windows, g["label"].to_numpy(), _segment_fields(g, centres))
            window_centres[lo : writer.filled] = centres
    finally:
        if executor:
            executor.shutdown(cancel_futures=True)
    return window_centres
