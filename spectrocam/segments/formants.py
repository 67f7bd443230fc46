"""Vowel formants with Praat's Burg method (parselmouth).

Each vowel is cut out of its clip alone (rectangular window, its own times kept), so that the
neighbouring sounds stay out of the analysis, and analysed with ``Sound: To Formant (burg)``.
F1-F3 are the means over the analysis frames whose centres lie in the vowel's central part
(``central_fraction`` of its duration around the midpoint; the frame nearest the midpoint when
none does). Praat's physical window is twice ``window_s``; a vowel shorter than that is analysed
in one frame at its midpoint, and such vowels are counted (``short``). A formant that Praat
leaves undefined in every chosen frame is NaN, and NaNs are counted, never dropped.

The ceiling is the speaker's (:meth:`FormantConfig.ceiling_hz`): their own ``max_formant_hz``
from ``corpus.speakers``, else the one for their sex (5,500 Hz for a woman, 5,000 Hz for a man,
Praat's advice). Beside the raw formants, each speaker's are Lobanov-normalised
(:func:`lobanov`): z-scores over all of that speaker's measured vowels, which take away the
speaker's vocal-tract scale (a formant shift by a constant ratio leaves them unchanged).
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import parselmouth

from spectrocam.config import Section, check_ceiling
from spectrocam.corpus.layout import load_audio
from spectrocam.phones import VOWELS, strip_stress
from spectrocam.progress import logged

__all__ = [
    "VOWELS",
    "FORMANT_COLUMNS",
    "LOBANOV_COLUMNS",
    "FormantConfig",
    "check_ceiling",
    "measure_vowel",
    "measure_formants",
    "ceiling_columns",
    "measure_ceilings",
    "ceiling_moves",
    "lobanov",
    "formant_summary",
]

log = logging.getLogger(__name__)

FORMANT_COLUMNS = ["f1_hz", "f2_hz", "f3_hz"]
LOBANOV_COLUMNS = ["f1_lobanov", "f2_lobanov", "f3_lobanov"]


@dataclass(frozen=True)
class FormantConfig(Section):
    """The ``formants`` section: Praat's Burg settings."""

    SECTIONS = ("formants",)

    max_formant_hz: float = 5500.0
    max_formant_male_hz: float = 5000.0
    default_sex: str = "female"
    n_formants: float = 5.0
    window_s: float = 0.025
    time_step_s: float = 0.0025
    pre_emphasis_hz: float = 50.0
    central_fraction: float = 0.5

    def ceiling_hz(self, speaker: str, speakers: Mapping[str, Mapping] | None = None) -> float:
        """The formant ceiling of ``speaker`` (``speakers``: ``corpus.speakers``)."""
        facts = (speakers or {}).get(speaker, {})
        if facts.get("max_formant_hz"):
            return float(facts["max_formant_hz"])
        male = (facts.get("sex") or self.default_sex) == "male"
        return self.max_formant_male_hz if male else self.max_formant_hz


def measure_vowel(
    sound: parselmouth.Sound, start_s: float, end_s: float, cfg: FormantConfig
) -> dict:
    """F1-F3 (Hz, NaN when undefined) of the vowel ``[start_s, end_s]`` of ``sound``."""
    return _formants_of(_cut(sound, start_s, end_s), start_s, end_s, cfg)


def _cut(sound: parselmouth.Sound, start_s: float, end_s: float) -> parselmouth.Sound:
    """The vowel alone (rectangular window, its own times kept)."""
    return sound.extract_part(
        from_time=start_s,
        to_time=end_s,
        window_shape=parselmouth.WindowShape.RECTANGULAR,
        relative_width=1.0,
        preserve_times=True,
    )


def _formants_of(part: parselmouth.Sound, start_s: float, end_s: float, cfg: FormantConfig):
    formant = part.to_formant_burg(
        time_step=cfg.time_step_s,
        max_number_of_formants=cfg.n_formants,
        maximum_formant=cfg.max_formant_hz,
        window_length=cfg.window_s,
        pre_emphasis_from=cfg.pre_emphasis_hz,
    )
    times = np.asarray(formant.xs())
    mid, half = (start_s + end_s) / 2, (end_s - start_s) * cfg.central_fraction / 2
    chosen = times[np.abs(times - mid) <= half + 1e-9]
    if not len(chosen):
        chosen = times[[int(np.argmin(np.abs(times - mid)))]]
    out: dict = {"n_frames": len(chosen), "short": (end_s - start_s) < 2 * cfg.window_s}
    for k, column in enumerate(FORMANT_COLUMNS, start=1):
        values = np.array([formant.get_value_at_time(k, t) for t in chosen], dtype=float)
        out[column] = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
    return out


def _measure_clip(args: tuple) -> list[dict]:
    audio_path, intervals, cfg = args
    audio, sr = load_audio(audio_path)
    sound = parselmouth.Sound(audio.astype(np.float64), sampling_frequency=sr)
    return [measure_vowel(sound, s, e, cfg) for s, e in intervals]


def measure_formants(
    phones: pd.DataFrame,
    clips: pd.DataFrame,
    vowels: set[str],
    cfg: FormantConfig,
    threads: int = 1,
    progress_every_s: float = 10.0,
    speakers: Mapping[str, Mapping] | None = None,
) -> pd.DataFrame:
    """Formants of every phone of ``phones`` that is one of ``vowels`` (stress ignored), each
    with the ceiling of its clip's speaker (``clips.speaker``; ``speakers``: corpus.speakers).

    Returns ``phone_id, utt_id, speaker, word, phone, start_s, end_s, duration_s,
    max_formant_hz, f1_hz, f2_hz, f3_hz, n_frames, short, f1_lobanov, f2_lobanov, f3_lobanov``
    in clip and time order.
    """
    stripped = phones["phone"].astype(str).map(strip_stress)
    table = phones.loc[stripped.isin(vowels)].copy()
    table = table.sort_values(["utt_id", "start_s"], kind="stable").reset_index(drop=True)
    audio_paths = dict(zip(clips["utt_id"], clips["audio_path"], strict=True))
    missing = sorted(set(table["utt_id"]) - set(audio_paths))
    if missing:
        raise ValueError(f"{len(missing)} clips are not in the clip table (first: {missing[:3]})")
    # a clip table without speakers (an older run's) is one speaker's
    names = clips["speaker"] if "speaker" in clips else ["speaker"] * len(clips)
    speaker_of = dict(zip(clips["utt_id"], names, strict=True))
    table.insert(2, "speaker", table["utt_id"].map(speaker_of))
    table["max_formant_hz"] = [cfg.ceiling_hz(s, speakers) for s in table["speaker"]]
    groups = list(table.groupby("utt_id", sort=True))
    jobs = [
        (
            audio_paths[u],
            list(zip(g["start_s"], g["end_s"], strict=True)),
            replace(cfg, max_formant_hz=float(g["max_formant_hz"].iloc[0])),
        )
        for u, g in groups
    ]
    log.info("formants of %d vowels in %d clips on %d workers", len(table), len(jobs), threads)
    started = time.monotonic()
    results = _map_clips(_measure_clip, jobs, threads, "formants", progress_every_s)
    measured = pd.DataFrame(results, columns=["n_frames", "short", *FORMANT_COLUMNS])
    columns = ["phone_id", "utt_id", "speaker", "word", "phone", "start_s", "end_s"]
    out = table[columns].reset_index(drop=True)
    out["duration_s"] = out["end_s"] - out["start_s"]
    out["max_formant_hz"] = table["max_formant_hz"].to_numpy()
    out = pd.concat([out, measured[[*FORMANT_COLUMNS, "n_frames", "short"]]], axis=1)
    out[LOBANOV_COLUMNS] = lobanov(out)
    log.info("formants measured in %.1f s", time.monotonic() - started)
    return out


def _map_clips(fn, jobs: list, threads: int, label: str, every_s: float) -> list[dict]:
    """``fn`` of every clip's job (on ``threads`` processes), its rows concatenated in order."""
    results: list[dict] = []
    executor = ProcessPoolExecutor(threads) if threads > 1 else None
    try:
        mapped = executor.map(fn, jobs, chunksize=4) if executor else map(fn, jobs)
        for rows in logged(mapped, label, every_s, "clip", len(jobs)):
            results.extend(rows)
    finally:
        if executor:
            executor.shutdown(cancel_futures=True)
    return results


def ceiling_columns(ceiling_hz: float) -> list[str]:
    """The columns of F1-F3 measured at ``ceiling_hz``: ``f1_hz_c5000``, ..."""
    return [f"{c}_c{ceiling_hz:.0f}" for c in FORMANT_COLUMNS]


def _measure_clip_ceilings(args: tuple) -> list[dict]:
    audio_path, intervals, cfg, ceilings = args
    audio, sr = load_audio(audio_path)
    sound = parselmouth.Sound(audio.astype(np.float64), sampling_frequency=sr)
    rows = []
    for start, end in intervals:
        part, row = _cut(sound, start, end), {}
        for c in ceilings:
            measured = _formants_of(part, start, end, replace(cfg, max_formant_hz=float(c)))
            row |= {
                col: measured[k] for col, k in zip(ceiling_columns(c), FORMANT_COLUMNS, strict=True)
            }
        rows.append(row)
    return rows


def measure_ceilings(
    formants: pd.DataFrame,
    clips: pd.DataFrame,
    ceilings_hz: list[float],
    cfg: FormantConfig,
    threads: int = 1,
    progress_every_s: float = 10.0,
) -> pd.DataFrame:
    """F1-F3 of every vowel of ``formants`` (the formants rule's table) measured again at each
    of ``ceilings_hz``, for every speaker alike, with the other settings of ``cfg``: columns
    ``phone_id, utt_id`` and :func:`ceiling_columns` of each ceiling, in the table's order."""
    for c in ceilings_hz:
        problem = check_ceiling(float(c), cfg.n_formants, f"ceiling {c:g} Hz: ")
        if problem:
            raise ValueError(problem)
    audio_paths = dict(zip(clips["utt_id"], clips["audio_path"], strict=True))
    missing = sorted(set(formants["utt_id"]) - set(audio_paths))
    if missing:
        raise ValueError(f"{len(missing)} clips are not in the clip table (first: {missing[:3]})")
    table = formants[["phone_id", "utt_id", "start_s", "end_s"]].reset_index(drop=True)
    order = table.sort_values(["utt_id", "start_s"], kind="stable").index
    groups = list(table.loc[order].groupby("utt_id", sort=True))
    jobs = [
        (audio_paths[u], list(zip(g.start_s, g.end_s, strict=True)), cfg, list(ceilings_hz))
        for u, g in groups
    ]
    log.info("formants of %d vowels at %d ceilings", len(table), len(ceilings_hz))
    rows = _map_clips(_measure_clip_ceilings, jobs, threads, "ceilings", progress_every_s)
    columns = [c for hz in ceilings_hz for c in ceiling_columns(hz)]
    index = np.concatenate([g.index.to_numpy() for _, g in groups]) if groups else []
    measured = pd.DataFrame(rows, columns=columns, index=index).reindex(table.index)
    return pd.concat([table[["phone_id", "utt_id"]], measured], axis=1)


def ceiling_moves(
    formants: pd.DataFrame, ceilings: pd.DataFrame, ceilings_hz, half_widths_hz
) -> pd.DataFrame:
    """Per ceiling, formant and half-width: how many vowels have the formant defined both at
    the configured ceiling (``formants``) and at that ceiling (``ceilings``), and the share of
    them whose formant moves by more than the half-width (out of its band)."""
    both = formants[["phone_id", *FORMANT_COLUMNS]].merge(
        ceilings, on="phone_id", how="inner", validate="one_to_one"
    )
    rows = []
    for hz in ceilings_hz:
        for name, other in zip(FORMANT_COLUMNS, ceiling_columns(hz), strict=True):
            change = (both[other] - both[name]).abs().to_numpy(float)
            change = change[np.isfinite(change)]
            lost = int((both[other].isna() != both[name].isna()).sum())
            for hw in half_widths_hz:
                moved = int((change > hw).sum())
                rows.append(
                    {
                        "ceiling_hz": float(hz),
                        "formant": name[:2].upper(),
                        "half_width_hz": float(hw),
                        "n": len(change),
                        "n_defined_at_one_only": lost,
                        "moved": moved,
                        "share_moved": moved / len(change) if len(change) else np.nan,
                        "median_change_hz": float(np.median(change)) if len(change) else np.nan,
                    }
                )
    return pd.DataFrame(rows)


def lobanov(table: pd.DataFrame) -> np.ndarray:
    """(N, 3) Lobanov-normalised F1-F3: per speaker, ``(F - mean) / sd`` over that speaker's
    defined values (NaN stays NaN; NaN for a speaker with fewer than two values)."""
    values = table[FORMANT_COLUMNS].to_numpy(float)
    out = np.full(values.shape, np.nan)
    for _, rows in table.groupby("speaker", sort=False).indices.items():
        block = values[rows]
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a formant with no defined value
            mean, sd = np.nanmean(block, axis=0), np.nanstd(block, axis=0, ddof=1)
            out[rows] = (block - mean) / np.where(sd > 0, sd, np.nan)
    return out


def formant_summary(table: pd.DataFrame) -> dict:
    """Counts (with NaNs per formant and short vowels) and per-vowel means and sds."""
    vowel = table["phone"].astype(str).map(strip_stress)
    per_vowel = {}
    for name, g in table.groupby(vowel):
        per_vowel[name] = (
            {"n": len(g)}
            | {
                f"{c}_{stat}": float(getattr(g[c], stat)())
                for c in FORMANT_COLUMNS
                for stat in ("mean", "std")
            }
            | {f"{c}_nan": int(g[c].isna().sum()) for c in FORMANT_COLUMNS}
        )
    return {
        "n_vowels": len(table),
        "n_short": int(table["short"].sum()),
        "nan": {c: int(table[c].isna().sum()) for c in FORMANT_COLUMNS},
        "per_vowel": per_vowel,
    }
