#!/usr/bin/env python
"""Compare what the hand-written code of a git revision computed with what the libraries that
replaced it compute now: the phone tables of a TextGrid folder (praatio) and Holm's adjustment of
a run's tests.tsv (statsmodels).

    python scripts/compare_library_swaps.py REVISION TEXTGRID_DIR WAV_DIR [TESTS_TSV ...]

Prints ``identical`` or what differs. REVISION names a commit that still has the hand-written
``spectrocam/align/textgrid.py`` and ``spectrocam/stats.py`` (b4f9f09).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

import spectrocam.align.phone_table as phone_table
from spectrocam.stats import holm


def module_at(revision: str, path: str, name: str):
    source = subprocess.check_output(["git", "show", f"{revision}:{path}"])
    tmp = Path(tempfile.mkdtemp()) / f"{name}.py"
    tmp.write_bytes(source)
    spec = importlib.util.spec_from_file_location(name, tmp)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def compare_textgrids(revision: str, textgrids: Path, wavs: Path) -> bool:
    ids = sorted(p.stem for p in textgrids.glob("*.TextGrid"))
    durations = [sf.info(wavs / f"{i}.wav").duration for i in ids]
    clips = pd.DataFrame({"utt_id": ids, "duration_s": durations})
    new, new_counts = phone_table.phones_from_textgrids(textgrids, clips)
    old_reader = module_at(revision, "spectrocam/align/textgrid.py", "old_textgrid").read_textgrid
    current = phone_table.read_textgrid
    phone_table.read_textgrid = old_reader
    try:
        old, old_counts = phone_table.phones_from_textgrids(textgrids, clips)
    finally:
        phone_table.read_textgrid = current
    same = old.equals(new) and old_counts.as_dict() == new_counts.as_dict()
    print(
        f"phone tables of {len(ids)} TextGrids: {len(old)} phones before, {len(new)} after: "
        + ("identical (and the counts of silences, OOV, clipped)" if same else "DIFFERENT")
    )
    return same


def compare_holm(revision: str, tests: Path) -> bool:
    old = module_at(revision, "spectrocam/stats.py", "old_stats").holm
    table = pd.read_csv(tests, sep="\t")
    family = "family" if table["family"].dtype == object else "family_name"
    worst = 0.0
    for _, rows in table.groupby(family):
        a, b = old(rows["p"]), holm(rows["p"])
        if not np.array_equal(np.isnan(a), np.isnan(b)):
            worst = np.inf
        elif np.isfinite(a).any():
            worst = max(worst, float(np.nanmax(np.abs(a - b))))
    print(f"Holm on {tests} ({len(table)} tests): largest difference {worst:g}")
    return worst == 0


def main(argv: list[str]) -> int:
    revision, textgrids, wavs, *tests = argv
    ok = compare_textgrids(revision, Path(textgrids), Path(wavs))
    for path in tests:
        ok &= compare_holm(revision, Path(path))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
