"""The explorer's view of a token's surroundings: its clip's sound file (linked, not copied) and
the phones around it."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import pandas as pd

__all__ = ["audio_sources", "context_phones"]


def audio_sources(clips: pd.DataFrame, page_dir: str | Path) -> dict[str, dict]:
    """Per clip: its wav relative to the page (URL-quoted), its absolute ``file:`` URI and its
    duration. ``audio_path`` is taken relative to the working directory when not absolute."""
    page_dir = Path(os.path.abspath(page_dir))
    out = {}
    for row in clips.itertuples(index=False):
        wav = Path(os.path.abspath(str(row.audio_path)))
        rel = Path(os.path.relpath(wav, page_dir)).as_posix()
        out[str(row.utt_id)] = {
            "rel": quote(rel),
            "abs": wav.as_uri(),
            "duration_s": round(float(row.duration_s), 4),
        }
    return out


def context_phones(phones: pd.DataFrame, seg: pd.DataFrame, margin_s: float) -> list[list]:
    """Per token: the phones of its clip that overlap ``[start - margin, end + margin]`` and its
    spectrogram's window, as ``[phone, start_s, end_s, word, is_the_token]``."""
    by_utt = {u: g for u, g in phones.groupby("utt_id", sort=False)}
    out = []
    for row in seg.itertuples(index=False):
        g = by_utt.get(row.utt_id)
        if g is None:
            out.append([])
            continue
        lo = min(row.start_s - margin_s, row.window_centre_s - margin_s)
        hi = max(row.end_s + margin_s, row.window_centre_s + margin_s)
        near = g[(g["end_s"] > lo) & (g["start_s"] < hi)]
        out.append(
            [
                [
                    str(p.phone),
                    round(p.start_s, 4),
                    round(p.end_s, 4),
                    str(p.word),
                    p.phone_id == row.phone_id,
                ]  # fmt: skip
                for p in near.itertuples(index=False)
            ]
        )
    return out
