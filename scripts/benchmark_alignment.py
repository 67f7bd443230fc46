#!/usr/bin/env python
"""Benchmark a phone alignment against reference TextGrids (e.g. the MFA alignments).

Either compare an existing phone table (TSV with columns utt_id, word, phone, start_s, end_s, as
the pipeline writes it)::

    python scripts/benchmark_alignment.py --reference-dir REF --phones phones.tsv

or align a corpus now with pocketsphinx and compare::

    python scripts/benchmark_alignment.py --reference-dir /work/shared/data/ljspeech_mini_mfa \\
        --aligner pocketsphinx --corpus /work/shared/data/ljspeech_mini --threads 2 --json b.json

Prints the share of reference phone boundaries matched within 10/20/50 ms, per-vowel found share
and IoU, the median signed offset (hypothesis - reference) and clip counts; see
:mod:`spectrocam.align.evaluate` for the definitions.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from spectrocam.align.evaluate import compare_alignments, format_report
from spectrocam.align.phone_table import ALIGNED_COLUMNS, phones_from_textgrids
from spectrocam.corpus.layout import read_metadata, validate_corpus
from spectrocam.io import write_json

log = logging.getLogger("benchmark_alignment")

TOLERANCES_S = (0.01, 0.02, 0.05)


def corpus_clips(corpus_dir: Path, limit: int | None, converted_dir: Path) -> pd.DataFrame:
    """The clip table of an LJSpeech-layout corpus (its first ``limit`` metadata lines), checked
    by the pipeline's own rules; rejected clips are left out with a warning."""
    lines, _ = read_metadata(corpus_dir / "metadata.csv")
    ids = [line.utt_id for line in lines][:limit] if limit is not None else None
    clips, rejects = validate_corpus(corpus_dir, converted_dir, clip_ids=ids)
    for utt_id, reason in zip(rejects["utt_id"], rejects["reason"], strict=True):
        log.warning("skipping %s: %s", utt_id, reason)
    return clips


def read_phone_table(path: Path) -> pd.DataFrame:
    """A phone table TSV (times in seconds); labels are kept as strings (no NaN for "")."""
    table = pd.read_csv(
        path, sep="\t", dtype={"utt_id": str, "word": str, "phone": str}, keep_default_na=False
    )
    missing = [c for c in ALIGNED_COLUMNS if c not in table.columns]
    if missing:
        raise SystemExit(f"{path}: not a phone table, missing columns {', '.join(missing)}")
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Compare a phone alignment with reference TextGrids.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--reference-dir",
        type=Path,
        required=True,
        help="directory of <utt_id>.TextGrid with 'words' and 'phones' tiers",
    )
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--phones", type=Path, help="phone table TSV to evaluate")
    src.add_argument("--aligner", choices=["pocketsphinx"], help="align the corpus now")
    parser.add_argument(
        "--corpus",
        type=Path,
        help="LJSpeech-layout corpus (metadata.csv, wavs/); needed with --aligner; "
        "with --phones it sets the clips that are evaluated",
    )
    parser.add_argument("--threads", type=int, default=1, help="worker processes for aligning")
    parser.add_argument("--limit", type=int, default=None, help="only the first N corpus clips")
    parser.add_argument(
        "--shift-ms",
        type=float,
        default=None,
        help="boundary correction for pocketsphinx in ms (default: the module's BOUNDARY_SHIFT_S)",
    )
    parser.add_argument(
        "--restrict-to-hypothesis",
        action="store_true",
        help="with --phones: evaluate only utterances the phone table has",
    )
    parser.add_argument("--save-phones", type=Path, help="write the aligned phone table (TSV)")
    parser.add_argument("--json", type=Path, help="also write all figures to this JSON file")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr
    )

    if args.aligner and args.corpus is None:
        parser.error("--aligner needs --corpus")
    if not args.reference_dir.is_dir():
        parser.error(f"--reference-dir {args.reference_dir} is not a directory")

    t0 = time.monotonic()
    scratch = tempfile.TemporaryDirectory(prefix="benchmark_alignment_")  # converted clips
    counts = None
    align_s = None
    if args.corpus is not None:
        clips = corpus_clips(args.corpus, args.limit, Path(scratch.name))
    else:
        ids = sorted(p.stem for p in args.reference_dir.glob("*.TextGrid"))
        if args.limit is not None:
            ids = ids[: args.limit]
        clips = pd.DataFrame({"utt_id": ids, "duration_s": math.inf})

    if args.aligner == "pocketsphinx":
        from spectrocam import pocketsphinx_align as psa
        from spectrocam.align.pocketsphinx_batch import align_clips

        shift_s = psa.BOUNDARY_SHIFT_S if args.shift_ms is None else args.shift_ms / 1000
        t1 = time.monotonic()
        hyp, counts = align_clips(clips, threads=args.threads, progress=True, shift_s=shift_s)
        align_s = time.monotonic() - t1
        source = f"pocketsphinx (shift {1000 * shift_s:.1f} ms, {args.threads} worker(s))"
        if args.save_phones:
            hyp.to_csv(args.save_phones, sep="\t", index=False)
    else:
        hyp = read_phone_table(args.phones)
        source = str(args.phones)
        if args.restrict_to_hypothesis:
            clips = clips[clips["utt_id"].isin(set(hyp["utt_id"]))]

    hyp = hyp[hyp["utt_id"].isin(set(clips["utt_id"]))]
    ref, ref_counts = phones_from_textgrids(args.reference_dir, clips)
    if ref_counts.unaligned:
        log.warning(
            "%d clips have no usable reference TextGrid (left out): %s",
            len(ref_counts.unaligned),
            ", ".join(sorted(ref_counts.unaligned)[:5]),
        )
    result = compare_alignments(ref, hyp, tolerances_s=TOLERANCES_S)
    total_s = time.monotonic() - t0

    header = f"alignment benchmark: {source} vs {args.reference_dir} ({len(clips)} clips)"
    print(format_report(result, header))
    if counts is not None:
        c = counts.as_dict()
        print(
            f"\naligner: {c['aligned_utterances']}/{c['utterances']} clips aligned, "
            f"{c['unaligned_utterances']} unaligned, {c['phones']} phones, "
            f"{c['silences']} silences, {c['oov_words']} OOV words (guessed pronunciations)"
        )
        for utt_id, reason in list(c["unaligned"].items())[:10]:
            print(f"  unaligned {utt_id}: {reason}")
    timing = f"time: {total_s:.1f} s in all"
    if align_s is not None:
        timing += f", aligning {align_s:.1f} s ({align_s / max(len(clips), 1):.2f} s per clip)"
    print(timing)

    if args.json:
        payload = {
            "source": source,
            "reference_dir": str(args.reference_dir),
            "clips": len(clips),
            "time_s": {"total": total_s, "align": align_s},
            "figures": result,
            "aligner_counts": counts.as_dict() if counts is not None else None,
            "reference_unaligned": ref_counts.as_dict()["unaligned"],
        }
        write_json(payload, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
