"""The verdict table of a run: per experiment and method, what the evidence allows one to say.

The energy-keeping permutation tests of the run (:func:`spectrocam.evidence.shares.energy_null`)
form two families, each adjusted with Holm's method: the headline family, the F1-F3 test of every
experiment, training seed and method (the tests the verdict reads), and the per-formant family
(F1, F2, F3 of each). A test *survives* when its adjusted p is below ``alpha``. With ``n_perm``
permutations no p is below 1 / (n_perm + 1), so a family of m tests needs n_perm >= m / alpha
for any test to survive (:func:`smallest_adjusted_p`; the rule warns when it cannot). A row
says a map follows the formants beyond the energy only when, for every seed, the paired difference's
interval lies above 0 *and* the test of the F1-F3 band survives; its sanity checks (randomised
weights, shuffled labels) must then be passed, or the method shows the input rather than the
model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from spectrocam.stats import holm

__all__ = ["adjust_tests", "verdict_table"]


FAMILIES = {
    "any": "headline (F1-F3)",
    "F1": "per formant",
    "F2": "per formant",
    "F3": "per formant",
}


def adjust_tests(nulls: dict, alpha: float = 0.05) -> pd.DataFrame:
    """All energy-null tests of the run with Holm-adjusted p-values (``p_holm``) and whether
    each survives, in two stated families (``family_name``, of ``family`` tests each): the
    headline family, the F1-F3 test of every experiment, seed and method (the verdict's), and
    the per-formant family (F1, F2, F3 of each). ``nulls`` maps an experiment's name, or an
    ``(experiment, model)`` pair, to its :func:`spectrocam.evidence.shares.null_table`."""
    frames = []
    for key, t in nulls.items():
        experiment, model = key if isinstance(key, tuple) else (key, "")
        if len(t):
            frames.append(t.assign(experiment=experiment, model=model))
    columns = ["experiment", "model", "method", "band", "n", "observed", "null_mean", "p"]
    extra = ["p_holm", "family_name", "family", "survives"]
    if not frames:
        return pd.DataFrame(columns=[*columns, *extra])
    tests = pd.concat(frames, ignore_index=True)
    tests["family_name"] = tests["band"].map(FAMILIES)
    tests["p_holm"], tests["family"] = np.nan, 0
    for _, rows in tests.groupby("family_name").groups.items():
        p = tests.loc[rows, "p"].to_numpy(float)
        tests.loc[rows, "p_holm"] = holm(p)
        tests.loc[rows, "family"] = int(np.isfinite(p).sum())
    tests["survives"] = tests["p_holm"] < alpha
    return tests[[*columns, *extra]]


def smallest_adjusted_p(tests: pd.DataFrame, n_perm: int) -> float:
    """The least Holm-adjusted p the headline family can reach with ``n_perm`` permutations
    (every p at its least, 1 / (n_perm + 1)): at or above alpha, nothing can survive."""
    family = int((tests["family_name"] == FAMILIES["any"]).sum()) if len(tests) else 0
    return family / (n_perm + 1)


def _ci(value, low, high, digits: int = 3) -> str:
    if value is None or not np.isfinite(value):
        return "–"
    return f"{value:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def _sanity(table: pd.DataFrame | None, method: str) -> str:
    if table is None:
        return "not run"
    if table.empty:
        return "no segments"
    rows = table[(table.method == method) & (table.band == "any")]
    if rows.empty:
        return "not run (Score-CAM is left out)"
    return "; ".join(f"{r.step}: {r.verdict} (n {r.n_segments})" for r in rows.itertuples())


def _spread(values: list[float], digits: int = 3) -> str:
    """Mean over seeds with the range: ``0.781 (0.770-0.792, 2 seeds)``."""
    values = [v for v in values if v is not None and np.isfinite(v)]
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.{digits}f} (1 seed)"
    lo, hi = min(values), max(values)
    return f"{np.mean(values):.{digits}f} ({lo:.{digits}f} to {hi:.{digits}f}, {len(values)} seeds)"


def _references(references: dict) -> tuple[str, str]:
    by_name = {r["classifier"]: r for r in references.get("rows", [])}
    majority = next((r for k, r in by_name.items() if k.startswith("majority")), None)
    lda = by_name.get("formants (LDA)")
    text = lambda r: _ci(*r["accuracy"]) + f" (n {r['n']})" if r else "–"  # noqa: E731
    return text(majority), text(lda)


def _evidence_row(summary: pd.DataFrame, method: str):
    if "tokens" in summary:  # the rows on every token, not a token subset's
        summary = summary[summary["tokens"] == "all"]
    rows = summary[(summary.method == method) & (summary.band == "any")]
    return rows.iloc[0] if len(rows) else None


def _per_seed(name: str, models: dict, method: str, tests: pd.DataFrame) -> list[tuple]:
    """Per model: (its inputs, its evidence row, the F1-F3 test's Holm p, beyond the energy)."""
    out = []
    for model, m in models.items():
        s = _evidence_row(m["evidence"], method)
        t = tests[
            (tests.experiment == name)
            & (tests.model.isin([model, ""]))
            & (tests.method == method)
            & (tests.band == "any")
        ]
        p_holm = float(t.p_holm.iloc[0]) if len(t) else np.nan
        survives = bool(len(t) and t.survives.iloc[0])
        out.append((m, s, p_holm, s is not None and s.minus_spectrum_low > 0 and survives))
    return out


def verdict_table(experiments: dict[str, dict], tests: pd.DataFrame) -> pd.DataFrame:
    """One row per experiment and method. ``experiments[name]`` holds ``models``: per model
    (``seed0``, ``seed1``, ... ; the first is the one whose intervals are shown) its
    ``metrics`` (with ``intervals``) and ``evidence`` (the paired summary); ``references``;
    ``sanity`` (randomised weights) and ``shuffled`` (the model trained on shuffled labels).

    Accuracy and the map's share beyond the spectrum are given for the first seed with their
    95 % interval, and as the mean over seeds with their range. A method follows the formants
    beyond the energy only when it does so for every seed: the interval lies above 0 and the
    F1-F3 test survives Holm."""
    rows = []
    for name, e in experiments.items():
        models = e["models"]
        first_name, first = next(iter(models.items()))
        majority, lda = _references(e.get("references", {}))
        for method in dict.fromkeys(first["evidence"]["method"]):
            per_seed = _per_seed(name, models, method, tests)
            m0, s0, _, _ = per_seed[0]
            n_beyond = sum(b for *_, b in per_seed)
            ps = [p for _, _, p, _ in per_seed]
            rows.append(
                {
                    "experiment": name,
                    "method": method,
                    "test n": m0["metrics"]["n"],
                    f"accuracy ({first_name})": _ci(*m0["metrics"]["intervals"]["accuracy"]),
                    "accuracy over seeds": _spread(
                        [m["metrics"]["intervals"]["accuracy"][0] for m, *_ in per_seed]
                    ),
                    "majority class": majority,
                    "formants only (LDA)": lda,
                    "vowels": int(s0.n_segments),
                    "share on F1-F3": f"{s0.share:.3f}",
                    "spectrum's share": f"{s0.share_spectrum:.3f}",
                    f"map - spectrum ({first_name})": _ci(
                        s0.minus_spectrum, s0.minus_spectrum_low, s0.minus_spectrum_high
                    ),
                    "map - spectrum over seeds": _spread(
                        [s.minus_spectrum for _, s, _, _ in per_seed if s is not None]
                    ),
                    "energy null p (Holm), per seed": ", ".join(
                        f"{p:.3g}" if np.isfinite(p) else "–" for p in ps
                    ),
                    "beyond the energy": ("yes" if n_beyond == len(per_seed) else "no")
                    + f" ({n_beyond} of {len(per_seed)} seeds)",
                    "sanity: randomised weights": _sanity(e.get("sanity"), method),
                    "sanity: shuffled labels": _sanity(e.get("shuffled"), method),
                }
            )
    return pd.DataFrame(rows)
