"""Aligning a table of clips with pocketsphinx: :func:`align_clips`.

Each clip is aligned by :func:`spectrocam.align.pocketsphinx_clip.align_clip` (model,
pronunciations, timing correction and failures are described there). This module runs it over the
clip table and gathers the phone table (in the order of the clips) and the
:class:`~spectrocam.align.phone_table.AlignmentCounts`. A clip that cannot be aligned
(:class:`~spectrocam.align.pocketsphinx_clip.AlignmentFailed`, or any other error while loading or
aligning it) is recorded in ``counts.unaligned`` with the reason, and the run carries on.

Workers
    :func:`align_clips` runs ``threads`` spawned worker processes (``threads`` = 1: in the calling
    process), each with one decoder kept in a per-process cache, and shows a progress bar (with
    ``progress=True``: :func:`spectrocam.progress.logged`, also in the job's log). A worker that
    dies (e.g. a crash in the C library) does not hang or stop the run: the clips it may have held
    are retried one at a time and the one that crashes again is reported as unaligned.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import sys
import time
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

import pandas as pd

from spectrocam.align.phone_table import AlignmentCounts, phone_table
from spectrocam.align.pocketsphinx_clip import (
    BOUNDARY_SHIFT_S,
    MIN_SCORE_PER_FRAME,
    AlignmentFailed,
    ClipAlignment,
    align_clip,
)
from spectrocam.corpus.layout import load_audio
from spectrocam.progress import logged

__all__ = ["align_clips"]

# The aligner's logger, as before this module was split off from it: log lines keep their name.
log = logging.getLogger("spectrocam.align.pocketsphinx_clip")


def _worker_init() -> None:
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass


def _align_task(
    task: tuple[str, str, str, float, Mapping[str, object] | None, float],
) -> tuple[str, ClipAlignment | None, str | None]:
    utt_id, audio_path, text, shift_s, options, min_score = task
    try:
        audio, sr = load_audio(audio_path)
        res = align_clip(
            audio,
            sr,
            text,
            shift_s=shift_s,
            decoder_options=options,
            min_score_per_frame=min_score,
            details=True,
        )
        return utt_id, res, None
    except AlignmentFailed as exc:
        return utt_id, None, str(exc)
    except Exception as exc:  # keep the run going; the clip is reported as unaligned
        return utt_id, None, f"{type(exc).__name__}: {exc}"


def _progress(message: str, progress: bool) -> None:
    if not progress:
        return
    if log.isEnabledFor(logging.INFO) and logging.getLogger().handlers:
        log.info(message)
    else:
        print(message, file=sys.stderr, flush=True)


_CRASHED = "worker process crashed while aligning this clip"


def _isolate(tasks: list[tuple]) -> Iterator[tuple[str, ClipAlignment | None, str | None]]:
    """Run each task alone in a fresh one-worker pool, so that a crash names its clip."""
    ctx = mp.get_context("spawn")
    for task in tasks:
        with ProcessPoolExecutor(1, mp_context=ctx, initializer=_worker_init) as executor:
            try:
                yield executor.submit(_align_task, task).result()
            except BrokenProcessPool:
                yield task[0], None, _CRASHED


def _results(
    tasks: list[tuple], threads: int
) -> Iterator[tuple[str, ClipAlignment | None, str | None]]:
    """Results of ``_align_task`` for every task, in completion order.

    ``threads`` <= 1 aligns in this process. Otherwise ``threads`` spawned worker processes run
    the tasks, at most two per worker in flight; if a worker dies (a crash inside the C library
    would otherwise hang a pool), the clips in flight are retried one by one in fresh workers,
    the one that crashes again is reported as unaligned, and the rest go on in a new pool.
    """
    if threads <= 1:
        yield from map(_align_task, tasks)
        return
    ctx = mp.get_context("spawn")  # no fork of a process that may hold torch/BLAS threads
    queue = deque(tasks)
    while queue:
        in_flight: dict = {}
        executor = ProcessPoolExecutor(threads, mp_context=ctx, initializer=_worker_init)
        try:
            while queue or in_flight:
                while queue and len(in_flight) < 2 * threads:
                    task = queue.popleft()
                    in_flight[executor.submit(_align_task, task)] = task
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    result = future.result()  # raises BrokenProcessPool if a worker died
                    del in_flight[future]
                    yield result
        except BrokenProcessPool:
            suspects = list(in_flight.values())
            log.warning("a worker process died; retrying %d clips one by one", len(suspects))
            executor.shutdown(wait=True, cancel_futures=True)
            yield from _isolate(suspects)
        finally:
            executor.shutdown(wait=True, cancel_futures=True)


def align_clips(
    clips: pd.DataFrame,
    threads: int = 1,
    progress: bool = True,
    *,
    shift_s: float = BOUNDARY_SHIFT_S,
    decoder_options: Mapping[str, object] | None = None,
    min_score_per_frame: float = MIN_SCORE_PER_FRAME,
) -> tuple[pd.DataFrame, AlignmentCounts]:
    """Align every clip of ``clips`` (columns ``utt_id``, ``audio_path``, ``text``,
    ``duration_s``) with ``threads`` worker processes (``threads`` = 1: in this process).

    Returns the phone table (:data:`~spectrocam.align.phone_table.PHONE_COLUMNS`, times in seconds,
    in the order of ``clips``) and the counts; a clip that cannot be aligned is listed in
    ``counts.unaligned`` with the reason and does not stop the run. ``shift_s``,
    ``decoder_options`` and ``min_score_per_frame`` are passed on to :func:`align_clip`.
    """
    threads = max(1, min(int(threads), os.cpu_count() or 1))
    tasks = [
        (str(u), str(p), str(t), float(shift_s), decoder_options, float(min_score_per_frame))
        for u, p, t in zip(clips["utt_id"], clips["audio_path"], clips["text"], strict=True)
    ]
    counts = AlignmentCounts(utterances=len(tasks))
    by_utt: dict[str, list[tuple]] = {}
    t0 = time.monotonic()
    results = _results(tasks, threads)
    if progress:
        results = logged(results, "pocketsphinx alignment", unit="clip", total=len(tasks))
    for utt_id, res, reason in results:
        if res is None:
            counts.unaligned[utt_id] = reason or "unknown failure"
            log.warning("%s not aligned: %s", utt_id, reason)
        else:
            counts.aligned_utterances += 1
            counts.silences += res.silences
            counts.unknown_phones += res.unknown_phones
            counts.clipped_intervals += res.clipped_intervals
            counts.phones += len(res.phones)
            for word in res.oov:
                counts.add_oov(word)
            by_utt[utt_id] = [(utt_id, *row) for row in res.phones]
    _progress(
        f"pocketsphinx: aligned {len(tasks)} clips "
        f"({len(counts.unaligned)} failed, {time.monotonic() - t0:.1f} s)",
        progress,
    )
    rows = [row for task in tasks for row in by_utt.get(task[0], [])]
    table = phone_table(rows)
    return table, counts
