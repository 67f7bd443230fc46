#!/usr/bin/env python
"""Compare the figures of two runs: every table (TSV, CSV) and JSON file both have, cell by cell.

    python scripts/compare_runs.py results/before results/after [--rtol 1e-6] [--only evaluation]

For each file under both directories it prints ``identical``, or what differs: columns only one
side has, a different number of rows, and per numeric column the largest absolute difference
and the number of cells that differ beyond ``--rtol``/``--atol``; text columns are compared
exactly. Logs, benchmarks, models and binary files are skipped. Use it before and after a change
that should leave the figures alone, and explain every difference it prints.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

SKIP = {"logs", "benchmarks", "models", "checkpoint"}


def _read(path: Path) -> pd.DataFrame:
    sep = "," if path.suffix == ".csv" else "\t"
    try:
        return pd.read_csv(path, sep=sep, keep_default_na=False, na_values=["", "nan", "NaN"])
    except pd.errors.EmptyDataError:  # a table with no rows and no header
        return pd.DataFrame()


def _flatten(data, prefix="") -> dict:
    if isinstance(data, dict):
        out = {}
        for k, v in data.items():
            out |= _flatten(v, f"{prefix}{k}.")
        return out
    if isinstance(data, list):
        out = {}
        for i, v in enumerate(data):
            out |= _flatten(v, f"{prefix}{i}.")
        return out
    return {prefix.rstrip("."): data}


def compare_tables(a: pd.DataFrame, b: pd.DataFrame, rtol: float, atol: float) -> list[str]:
    notes = []
    only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    if only_a:
        notes.append(f"columns only before: {', '.join(only_a)}")
    if only_b:
        notes.append(f"columns only after: {', '.join(only_b)}")
    if len(a) != len(b):
        return [*notes, f"rows: {len(a)} before, {len(b)} after"]
    for col in [c for c in a.columns if c in b.columns]:
        x, y = a[col], b[col]
        if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y):
            xv, yv = x.to_numpy(float), y.to_numpy(float)
            same_nan = np.isnan(xv) == np.isnan(yv)
            both = ~np.isnan(xv) & ~np.isnan(yv)
            with np.errstate(invalid="ignore"):
                close = np.isclose(xv, yv, rtol=rtol, atol=atol, equal_nan=True)
            bad = int((~close | ~same_nan).sum())
            if bad:
                diff = np.abs(xv[both] - yv[both])
                finite = diff[np.isfinite(diff)]
                worst = float(finite.max()) if len(finite) else math.nan
                notes.append(f"{col}: {bad} of {len(xv)} cells differ (max |diff| {worst:.3g})")
        else:
            bad = int((x.astype(str).to_numpy() != y.astype(str).to_numpy()).sum())
            if bad:
                notes.append(f"{col}: {bad} of {len(x)} text cells differ")
    return notes


def compare_json(a, b, rtol: float, atol: float) -> list[str]:
    fa, fb = _flatten(a), _flatten(b)
    notes = []
    for key in sorted(set(fa) | set(fb)):
        if key not in fa or key not in fb:
            notes.append(f"{key}: only {'after' if key in fb else 'before'}")
            continue
        x, y = fa[key], fb[key]
        if isinstance(x, int | float) and isinstance(y, int | float) and x is not None:
            if not math.isclose(x, y, rel_tol=rtol, abs_tol=atol) and not (
                math.isnan(x) and math.isnan(y)
            ):
                notes.append(f"{key}: {x!r} before, {y!r} after")
        elif x != y:
            notes.append(f"{key}: {str(x)[:60]!r} before, {str(y)[:60]!r} after")
    return notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--rtol", type=float, default=1e-6)
    parser.add_argument("--atol", type=float, default=1e-9)
    parser.add_argument("--only", help="compare only the files under this sub-folder")
    args = parser.parse_args(argv)
    root = args.before / args.only if args.only else args.before
    files = sorted(
        p
        for p in root.rglob("*")
        if p.suffix in {".tsv", ".csv", ".json"} and not SKIP & set(p.parts)
    )
    differing = 0
    for path in files:
        rel = path.relative_to(args.before)
        other = args.after / rel
        if not other.exists():
            print(f"{rel}: missing after")
            differing += 1
            continue
        if path.suffix == ".json":
            notes = compare_json(
                json.loads(path.read_text()), json.loads(other.read_text()), args.rtol, args.atol
            )
        else:
            notes = compare_tables(_read(path), _read(other), args.rtol, args.atol)
        differing += bool(notes)
        print(f"{rel}: " + ("identical" if not notes else "\n    " + "\n    ".join(notes)))
    print(f"{len(files)} files compared, {differing} differ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
