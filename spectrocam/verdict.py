"""The verdict table of a run: per experiment and method, what the evidence allows one to say.

Every energy-keeping permutation test of the run (:func:`spectrocam.evidence.energy_null`: each
experiment, method and band F1, F2, F3, F1-F3) is one family, adjusted with Holm's method; a
test *survives* when its adjusted p is below ``alpha``. A row says a map follows the formants
beyond the energy only when the paired difference's interval lies above 0 *and* the test of the
F1-F3 band survives; its sanity check (randomised weights) must then be passed, or the method
shows the input rather than the model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from spectrocam.stats import holm

__all__ = ["adjust_tests", "verdict_table"]


def adjust_tests(nulls: dict[str, pd.DataFrame], alpha: float = 0.05) -> pd.DataFrame:
    """All energy-null tests of the run with Holm-adjusted p-values (``p_holm``), the family's
    size (``family``) and whether each survives."""
    frames = [t.assign(experiment=name) for name, t in nulls.items() if len(t)]
    if not frames:
        return pd.DataFrame(columns=["experiment", "method", "band", "p", "p_holm", "survives"])
    tests = pd.concat(frames, ignore_index=True)
    tests["p_holm"] = holm(tests["p"].to_numpy(float))
    tests["family"] = int(tests["p"].notna().sum())
    tests["survives"] = tests["p_holm"] < alpha
    return tests[
        [
            "experiment",
            "method",
            "band",
            "n",
            "observed",
            "null_mean",
            "p",
            "p_holm",
            "family",
            "survives",
        ]
    ]


def _ci(value, low, high, digits: int = 3) -> str:
    if value is None or not np.isfinite(value):
        return "–"
    return f"{value:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def _sanity(table: pd.DataFrame, method: str) -> str:
    if table is None or table.empty:
        return "not run"
    rows = table[(table.method == method) & (table.band == "any")]
    if rows.empty:
        return "not run (Score-CAM is left out)"
    return "; ".join(f"{r.step}: {r.verdict}" for r in rows.itertuples())


def _references(references: dict) -> tuple[str, str]:
    by_name = {r["classifier"]: r for r in references.get("rows", [])}
    majority = next((r for k, r in by_name.items() if k.startswith("majority")), None)
    lda = by_name.get("formants (LDA)")
    text = lambda r: _ci(*r["accuracy"]) + f" (n {r['n']})" if r else "–"  # noqa: E731
    return text(majority), text(lda)


def verdict_table(experiments: dict[str, dict], tests: pd.DataFrame) -> pd.DataFrame:
    """One row per experiment and method. ``experiments[name]`` holds ``metrics`` (with
    ``intervals``), ``references``, ``evidence`` (the paired summary) and ``sanity``."""
    rows = []
    for name, e in experiments.items():
        accuracy = e["metrics"]["intervals"]["accuracy"]
        majority, lda = _references(e.get("references", {}))
        summary = e["evidence"]
        if "tokens" in summary:  # the rows on every token, not a token subset's
            summary = summary[summary["tokens"] == "all"]
        for method in dict.fromkeys(summary["method"]):
            s = summary[(summary.method == method) & (summary.band == "any")].iloc[0]
            t = tests[(tests.experiment == name) & (tests.method == method) & (tests.band == "any")]
            p_holm = float(t.p_holm.iloc[0]) if len(t) else np.nan
            beyond = s.minus_spectrum_low > 0 and bool(len(t) and t.survives.iloc[0])
            rows.append(
                {
                    "experiment": name,
                    "method": method,
                    "test n": e["metrics"]["n"],
                    "accuracy": _ci(*accuracy),
                    "majority class": majority,
                    "formants only (LDA)": lda,
                    "vowels": int(s.n_segments),
                    "share on F1-F3": f"{s.share:.3f}",
                    "spectrum's share": f"{s.share_spectrum:.3f}",
                    "map - spectrum": _ci(
                        s.minus_spectrum, s.minus_spectrum_low, s.minus_spectrum_high
                    ),
                    "energy null p (Holm)": f"{p_holm:.3g}" if np.isfinite(p_holm) else "–",
                    "beyond the energy": "yes" if beyond else "no",
                    "sanity: randomised weights": _sanity(e.get("sanity"), method),
                }
            )
    return pd.DataFrame(rows)
