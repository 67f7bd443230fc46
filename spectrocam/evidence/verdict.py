"""The verdict of a run: per experiment, one line that answers the study's question.

Two statements, each with its estimate, 95 % interval, n and Holm-adjusted p:

1. **Needs the cues beyond the energy** (causal; :mod:`spectrocam.evidence.needs`): occluding a
   band over any of the token's cues (F1-F3, or the experiment's fixed regions) drops the first
   seed's log p of the true class by ``beta`` more than occluding a band that removes the same
   dB elsewhere. Yes when the interval lies above 0 and the adjusted p is below ``alpha``.
2. **Maps point at the cues beyond the untrained and label-free models** (maps;
   :mod:`spectrocam.evidence.ranks`): the mean per-token AUC of the cue cells, the first seed's
   maps of the verdict's method minus the same method's maps of the model trained on shuffled
   labels, and minus those of the model whose weights are all randomised (the last step of the
   sanity cascade). Yes when both intervals lie above 0 and both adjusted p are below ``alpha``;
   how many seeds say so against the shuffled-labels model is given beside it.

Multiplicity, stated: the *headline* family holds the three tests of every experiment that the
verdict reads (statement 1 on any cue; statement 2 against each control, on any cue, for the
verdict's method and the first seed); the *detail* family every other test of the run (each cue,
each distinct method, each seed, each randomisation step); the *pairs* family the discriminative
form of statement 1 (each true class against each competitor). Holm's method within each. Methods
whose maps are identical (CAM, Grad-CAM and HiResCAM at the last stage of a pooled ResNet) are
one test, named by the first (``same_maps`` lists the others). p-values come from sign flips or
a normal approximation, with no permutation floor.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from spectrocam.stats import holm

__all__ = ["STATEMENTS", "collect_tests", "adjust_tests", "verdict_table"]

STATEMENTS = ("needs the cues beyond the energy", "maps point at the cues beyond the controls")
COLUMNS = [
    "experiment",
    "statement",
    "model",
    "method",
    "same_maps",
    "control",
    "cue",
    "estimate",
    "low",
    "high",
    "n",
    "n_clusters",
    "p",
]


def _needs_rows(name: str, model: str, needs: pd.DataFrame, pairs: pd.DataFrame | None):
    rows = []
    head = needs[needs["headline"].astype(bool)] if "headline" in needs else needs
    for r in head.itertuples():
        rows.append((name, STATEMENTS[0], model, "", "", "energy-matched bands", r.cue, r.beta,
                     r.low, r.high, r.n_tokens, r.n_clusters, r.p))  # fmt: skip
    for r in (pairs if pairs is not None else pd.DataFrame()).itertuples():
        rows.append((name, "pairs", model, "", "", f"{r.true_class} vs {r.competitor}", r.cue,
                     r.beta, r.low, r.high, r.n_tokens, r.n_clusters, r.p))  # fmt: skip
    return rows


def _contrast_rows(name: str, model: str, table: pd.DataFrame, control: str | None = None):
    rows = []
    for r in table.itertuples():
        what = control or (f"randomised weights ({r.step})" if "step" in table else r.control)
        rows.append((name, STATEMENTS[1], model, r.method, str(r.same_maps or ""), what, r.cue,
                     r.difference, r.low, r.high, r.n_tokens, r.n_clusters, r.p))  # fmt: skip
    return rows


def collect_tests(experiments: dict[str, dict]) -> pd.DataFrame:
    """Every test of the run as one table (:data:`COLUMNS`). ``experiments[name]`` holds
    ``primary`` (the first seed's model name), ``needs`` and ``pairs`` (the causal fits of the
    first seed), ``contrasts`` (per seed: the rank contrast against the shuffled-labels model)
    and ``randomised`` (the first seed's contrasts against each randomisation step)."""
    rows = []
    for name, e in experiments.items():
        primary = e["primary"]
        if e.get("needs") is not None:
            rows += _needs_rows(name, primary, e["needs"], e.get("pairs"))
        for model, table in (e.get("contrasts") or {}).items():
            rows += _contrast_rows(name, model, table)
        if e.get("randomised") is not None:
            rows += _contrast_rows(name, primary, e["randomised"])
    tests = pd.DataFrame(rows, columns=COLUMNS)
    tests["same_maps"] = tests["same_maps"].fillna("").replace("nan", "")
    return tests


def _last_step(tests: pd.DataFrame) -> str | None:
    steps = [c for c in tests["control"].unique() if str(c).startswith("randomised weights")]
    return steps[-1] if steps else None


def adjust_tests(
    tests: pd.DataFrame, primary: dict[str, str], method: str, alpha: float = 0.05
) -> pd.DataFrame:
    """``tests`` with ``family`` (headline, detail or pairs, see the module), ``family_size``,
    ``p_holm`` (Holm within the family) and ``survives`` (``p_holm < alpha``). ``primary``:
    each experiment's first seed; ``method``: the verdict's method (or the method whose maps it
    shares)."""
    tests = tests.copy()
    last = _last_step(tests)
    represents = tests["method"].eq(method) | tests["same_maps"].str.split().apply(
        lambda names: method in names
    )
    first = tests["model"].eq(tests["experiment"].map(primary))
    headline = (
        first
        & tests["cue"].eq("any")
        & (
            tests["statement"].eq(STATEMENTS[0])
            | (
                tests["statement"].eq(STATEMENTS[1])
                & represents
                & tests["control"].isin(["shuffled labels", last])
            )
        )
    )
    tests["family"] = np.where(
        tests["statement"].eq("pairs"), "pairs", np.where(headline, "headline", "detail")
    )
    tests["p_holm"], tests["family_size"] = np.nan, 0
    for _, rows in tests.groupby("family").groups.items():
        p = tests.loc[rows, "p"].to_numpy(float)
        tests.loc[rows, "p_holm"] = holm(p)
        tests.loc[rows, "family_size"] = int(np.isfinite(p).sum())
    tests["survives"] = (tests["p_holm"] < alpha) & (tests["low"] > 0)
    return tests


def _ci(value, low, high, digits: int = 3) -> str:
    if value is None or not np.isfinite(value):
        return "–"
    return f"{value:+.{digits}f} [{low:+.{digits}f}, {high:+.{digits}f}]"


def _test(t: pd.Series | None) -> str:
    if t is None:
        return "not run"
    p = f"{t.p_holm:.2g}" if np.isfinite(t.p_holm) else "–"
    return f"{_ci(t.estimate, t.low, t.high)}, n {int(t.n)} ({int(t.n_clusters)} clusters), p {p}"


def _pick(tests, name, statement, model=None, control=None, method=None) -> pd.Series | None:
    sel = tests[
        (tests.experiment == name) & (tests.statement == statement) & (tests.cue == "any")
        & (tests.family == "headline")
    ]  # fmt: skip
    if model is not None:
        sel = sel[sel.model == model]
    if control is not None:
        sel = sel[sel.control == control]
    return sel.iloc[0] if len(sel) else None


def _accuracy(e: dict) -> tuple[str, str, str, str]:
    models = e["metrics"]
    first = models[e["primary"]]["intervals"]["accuracy"]
    values = [m["intervals"]["accuracy"][0] for m in models.values()]
    seeds = f"{np.mean(values):.3f} ({min(values):.3f} to {max(values):.3f}, {len(values)} seeds)"
    by_name = {r["classifier"]: r for r in e.get("references", {}).get("rows", [])}
    lda = next((r for k, r in by_name.items() if k.startswith("formants")), None)
    majority = next((r for k, r in by_name.items() if k.startswith("majority")), None)
    text = lambda r: (  # noqa: E731
        f"{r['accuracy'][0]:.3f} [{r['accuracy'][1]:.3f}, {r['accuracy'][2]:.3f}] "
        f"({r['classifier']}, n {r['n']})"
        if r
        else "–"
    )
    return f"{first[0]:.3f} [{first[1]:.3f}, {first[2]:.3f}]", seeds, text(lda), text(majority)


def verdict_table(experiments: dict[str, dict], tests: pd.DataFrame, method: str) -> pd.DataFrame:
    """One row per experiment: what was trained, how accurate beside the formant-only
    classifier, and the two statements (``experiments`` as for :func:`collect_tests`, plus
    ``metrics`` per seed and ``references``; ``tests`` from :func:`adjust_tests`)."""
    rows = []
    last = _last_step(tests)
    for name, e in experiments.items():
        primary = e["primary"]
        accuracy, seeds, lda, majority = _accuracy(e)
        needs = _pick(tests, name, STATEMENTS[0], primary)
        shuffled = _pick(tests, name, STATEMENTS[1], primary, "shuffled labels")
        random = _pick(tests, name, STATEMENTS[1], primary, last) if last else None
        per_seed = tests[
            (tests.experiment == name) & (tests.statement == STATEMENTS[1]) & (tests.cue == "any")
            & (tests.control == "shuffled labels") & (tests.method == (shuffled.method if
            shuffled is not None else method))
        ]  # fmt: skip
        maps_yes = all(t is not None and t.survives for t in (shuffled, random))
        same = shuffled.same_maps if shuffled is not None else ""
        rows.append(
            {
                "experiment": name,
                "test tokens": e["metrics"][primary]["n"],
                f"accuracy ({primary})": accuracy,
                "accuracy over seeds": seeds,
                "formants only": lda,
                "majority class": majority,
                STATEMENTS[0]: ("yes" if needs is not None and needs.survives else "no"),
                "beta, any cue (log p)": _test(needs),
                STATEMENTS[1]: ("yes" if maps_yes else "no"),
                "method": method + (f" (= {same.replace(' ', ', ')})" if same else ""),
                "AUC minus shuffled labels": _test(shuffled),
                "AUC minus randomised weights": _test(random),
                "seeds above the shuffled-labels model": (
                    f"{int(per_seed.survives.sum())} of {len(per_seed)}"
                ),
            }
        )
    return pd.DataFrame(rows)
