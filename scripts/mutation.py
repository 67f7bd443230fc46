"""Mutation testing of the statistics (``make mutation``; docs/testing.md): mutmut changes one
thing at a time in the modules of ``[tool.mutmut]`` (pyproject.toml) and runs, for each change,
the fast unit tests that call the function it changed. A mutant is *killed* when a test fails
(or it runs past its time limit), *survives* when every test passes, and has *no tests* when no
test of the selection calls its function (counted as not killed).

    python scripts/mutation.py                 # every mutant (hours on two busy cores)
    python scripts/mutation.py --sample 600    # a seeded random sample of them
    python scripts/mutation.py --score         # the score of the last run, again

Prints, per module, killed / mutants run with the share killed, then every survivor with its
diff; the same is written to ``mutants/score.txt``. Runs from the repository root.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

MUTMUT = [sys.executable, "-m", "mutmut"]
# what a mutant's status counts as: detected (a test failed, ran past its limit or crashed)
DETECTED = {"killed", "timeout", "segfault", "caught by type check"}
SAMPLE_FILE = Path("mutants/sample.txt")


def results() -> dict[str, int | None]:
    """Every mutant's name and exit code (None: not run) from mutmut's state files."""
    out = {}
    for meta in sorted(Path("mutants").rglob("*.py.meta")):
        out |= json.loads(meta.read_text())["exit_code_by_key"]
    return out


def module_of(name: str) -> str:
    return name.split(".x_", 1)[0]


def status(code: int | None) -> str:
    from mutmut.stats import status_by_exit_code

    return status_by_exit_code[code]


def run_mutmut(names: list[str], children: int) -> None:
    command = [*MUTMUT, "run", "--max-children", str(children), *names]
    subprocess.run(command, check=True)


def generate(children: int) -> list[str]:
    """All mutants' names: mutmut generates every mutant at the start of a run, so a run of one
    (the first mutant of Holm's adjustment) lays them out."""
    run_mutmut(["spectrocam.stats.x_holm__mutmut_1"], children)
    return sorted(results())


def score(names: list[str] | None = None) -> str:
    codes = results()
    names = sorted(codes) if names is None else names
    by_module: dict[str, Counter] = defaultdict(Counter)
    for name in names:
        by_module[module_of(name)][status(codes.get(name))] += 1
    lines = [f"mutation score, {date.today().isoformat()}: killed / run (a timeout is a kill)"]
    total = Counter()
    for module, counts in sorted(by_module.items()):
        total += counts
        lines.append(_line(module, counts))
    lines.append(_line("all", total))
    survivors = [n for n in names if status(codes.get(n)) not in DETECTED]
    lines.append(f"\n{len(survivors)} not killed:")
    from mutmut.__main__ import find_mutant, get_diff_for_mutant

    for name in survivors:
        diff = get_diff_for_mutant(name, path=find_mutant(name).path)
        changed = [d for d in diff.splitlines() if d[:1] in "+-" and d[:3] not in ("+++", "---")]
        lines.append(f"  {name} ({status(codes.get(name))}): " + " | ".join(changed))
    return "\n".join(lines)


def _line(module: str, counts: Counter) -> str:
    killed = sum(counts[k] for k in DETECTED)
    run = sum(v for k, v in counts.items() if k != "not checked")
    share = f"{100 * killed / run:.1f} %" if run else "-"
    # a 95 % Wilson interval for the share killed (meaningful for a sample of the mutants)
    interval = ""
    if run:
        p, z = killed / run, 1.96
        centre = (p + z * z / (2 * run)) / (1 + z * z / run)
        half = z * math.sqrt(p * (1 - p) / run + z * z / (4 * run * run)) / (1 + z * z / run)
        interval = f" [{100 * (centre - half):.0f}, {100 * (centre + half):.0f}]"
    detail = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k != "killed" and v)
    return f"  {module:40s} {killed:4d} / {run:4d}  {share}{interval}  ({detail})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=0, help="mutants to draw (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--children", type=int, default=2, help="mutants tested at once")
    parser.add_argument("--score", action="store_true", help="only print the last score")
    args = parser.parse_args()
    if not args.score:
        began = time.monotonic()
        names = generate(args.children)
        if args.sample and args.sample < len(names):
            names = sorted(random.Random(args.seed).sample(names, args.sample))
        SAMPLE_FILE.write_text("\n".join(names) + "\n")
        run_mutmut(names, args.children)
        print(f"{len(names)} mutants in {(time.monotonic() - began) / 60:.1f} min")
    names = SAMPLE_FILE.read_text().split() if SAMPLE_FILE.exists() else None
    text = score(names)
    Path("mutants/score.txt").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
