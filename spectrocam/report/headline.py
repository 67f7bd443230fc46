"""The answer on the summary page's first screen: per experiment, two or three sentences written
from the run's numbers (what was trained, how accurate beside the formant-only classifier and
the majority class, and the verdict's two statements with their intervals, n and Holm-adjusted
p), a sentence that reconciles numbers that look contradictory, and the compact verdict (the
experiments as rows, the statements as columns).

Every number comes from the run's files: the first seed's test metrics (``metrics.json``), the
reference classifiers (``references.json``) and the headline family of ``report/tests.tsv``
(:mod:`spectrocam.evidence.verdict`); nothing here is written by hand but the words around them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from spectrocam.evidence.verdict import STATEMENTS
from spectrocam.phones import VOWELS
from spectrocam.report.render import Markup, figure_html, render, section_id
from spectrocam.report.tables import html_table

__all__ = [
    "Statement",
    "Facts",
    "facts",
    "sentences",
    "compact_verdict",
    "cue_words",
    "answer_section",
]


@dataclass(frozen=True)
class Statement:
    """One test of the headline family: estimate, interval, n, Holm's p and the call."""

    estimate: float
    low: float
    high: float
    n: int
    p_holm: float
    yes: bool

    @classmethod
    def of(cls, row: Mapping | None) -> Statement | None:
        if row is None:
            return None
        return cls(float(row["estimate"]), float(row["low"]), float(row["high"]), int(row["n"]),
                   float(row["p_holm"]), bool(row["survives"]))  # fmt: skip

    def text(self, digits: int = 2) -> str:
        return f"{signed(self.estimate, digits)} [{signed(self.low, digits)}, " \
            f"{signed(self.high, digits)}]"  # fmt: skip


@dataclass(frozen=True)
class Facts:
    """What the sentences of one experiment say."""

    name: str
    trained: str  # "a ResNet-18 (from scratch) trained on 5 vowels (IY, ...; 0-4 kHz)"
    unit: str  # "vowels" or "tokens"
    cues: str  # "the formants (F1-F3)" or "the voicing bar and the frication"
    method: str
    accuracy: Sequence[float] | None  # value, low, high
    n: int
    formants_only: Mapping | None  # the reference row
    majority: Mapping | None
    needs: Statement | None
    shuffled: Statement | None
    randomised: Statement | None
    control_step: str = ""

    @property
    def maps_yes(self) -> bool:
        return all(s is not None and s.yes for s in (self.shuffled, self.randomised))


def signed(v: float, digits: int = 2) -> str:
    return "–" if v is None or not np.isfinite(v) else f"{v:+.{digits}f}"


def interval(values: Sequence[float] | None, digits: int = 2) -> str:
    if not values or not np.isfinite(values[0]):
        return "–"
    v, lo, hi = values[:3]
    return f"{v:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def p_text(p: float) -> str:
    if p is None or not np.isfinite(p):
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.2g}"


def cue_words(cues: Mapping[str, Sequence[float]] | None) -> str:
    """The experiment's cues in words: the formants, or its fixed regions by name."""
    if not cues:
        return "the formants (F1-F3)"
    names = ["the " + str(c).replace("_", " ") for c in cues]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return listed


def _trained(definition: Mapping, model: Mapping) -> tuple[str, str]:
    """``a ResNet-18 trained on 5 vowels (0-4 kHz)``, and what its tokens are called."""
    classes = definition.get("classes") or {}
    vowels = bool(classes) and all(len(p) == 1 and p[0] in VOWELS for p in classes.values())
    arch = str(model.get("arch", "network")).replace("resnet", "ResNet-")
    band = (
        f"{definition.get('fmin_hz', 0) / 1000:.3g}-{definition.get('fmax_hz', 0) / 1000:.3g} kHz"
    )
    alone = ", without their context" if definition.get("context") == "isolate" else ""
    k = len(classes)
    if vowels:
        what = f"{k} vowel{'s' if k != 1 else ''} ({band}{alone})"
    else:
        what = f"{k} class{'es' if k != 1 else ''} ({', '.join(classes)}; {band}{alone})"
    return f"a {arch} trained on {what}", "vowels" if vowels else "tokens"


def _pick(tests: pd.DataFrame, name: str, statement: str, control=None) -> Mapping | None:
    if tests.empty or "family" not in tests:
        return None
    sel = tests[(tests.experiment == name) & (tests.statement == statement)
                & (tests.family == "headline")]  # fmt: skip
    if control is not None:
        sel = sel[sel.control.astype(str).str.startswith(control)]
    return sel.iloc[-1].to_dict() if len(sel) else None


def facts(
    name: str,
    definition: Mapping,
    model: Mapping,
    metrics: Mapping,
    references: Mapping,
    tests: pd.DataFrame,
    cues: Mapping | None,
    method: str,
) -> Facts:
    """The facts of one experiment from its files (see the module)."""
    trained, unit = _trained(definition, model)
    rows = {r["classifier"]: r for r in (references or {}).get("rows", [])}
    lda = next((r for k, r in rows.items() if k.startswith("formants")), None)
    majority = next((r for k, r in rows.items() if k.startswith("majority")), None)
    randomised = _pick(tests, name, STATEMENTS[1], "randomised weights")
    return Facts(
        name=name,
        trained=trained,
        unit=unit,
        cues=cue_words(cues),
        method=method,
        accuracy=(metrics.get("intervals") or {}).get("accuracy"),
        n=int(metrics.get("n", 0)),
        formants_only=lda,
        majority=majority,
        needs=Statement.of(_pick(tests, name, STATEMENTS[0])),
        shuffled=Statement.of(_pick(tests, name, STATEMENTS[1], "shuffled labels")),
        randomised=Statement.of(randomised),
        control_step=str(randomised["control"]) if randomised else "",
    )


def _yes(s: Statement | None) -> str:
    return "not tested" if s is None else ("yes" if s.yes else "no")


def sentences(f: Facts) -> list[str]:
    """Two or three sentences (and one that reconciles, where numbers seem to disagree)."""
    beside = []
    if f.formants_only:
        beside.append(f"{interval(f.formants_only['accuracy'])} for the formants alone")
    if f.majority:
        beside.append(f"{f.majority['accuracy'][0]:.2f} for the majority class")
    out = [
        f"{f.name}: {f.trained} classifies {interval(f.accuracy)} of {f.n} test {f.unit}"
        + (", beside " + " and ".join(beside) if beside else "")
        + "."
    ]
    s = f.needs
    out.append(
        f"It needs {f.cues} beyond the energy an occlusion removes: {_yes(s)}"
        + (f", beta {s.text()} (n {s.n}, Holm p {p_text(s.p_holm)})." if s else ".")
    )
    tested = [s for s in (f.shuffled, f.randomised) if s is not None]
    maps = "yes" if f.maps_yes else ("no" if tested else "not tested")
    detail = ""
    if tested:
        detail = (
            ", AUC "
            + " and ".join(s.text(3) for s in tested)
            + f" (n {' and '.join(str(s.n) for s in tested)}, Holm p "
            + " and ".join(p_text(s.p_holm) for s in tested)
            + ")"
        )
    out.append(
        f"Its {f.method.upper()} points at them beyond the shuffled-labels and randomised "
        f"models: {maps}{detail}."
    )
    out += _reconcile(f)
    return out


def _reconcile(f: Facts) -> list[str]:
    needs = f.needs is not None and f.needs.yes
    if f.needs is not None and not needs and f.maps_yes:
        return [
            "Its maps point at the cues, yet occluding them costs no more than other bands of "
            "the same energy: where a map points is not what the network needs."
        ]
    if needs and f.shuffled is not None and not f.maps_yes:
        return [
            "It needs the cues, yet its maps do not single them out beyond the controls: the "
            "maps do not show what it uses."
        ]
    lda = f.formants_only
    if lda and f.accuracy and f.needs is not None and not needs:
        return [
            f"The formants alone classify {lda['accuracy'][0]:.2f}, yet the network does not "
            "need them beyond their energy: the formants carry the classes, the network does "
            "not read them."
        ]
    if lda and f.accuracy and f.accuracy[2] < lda["accuracy"][1]:
        return ["The formants alone classify better: its accuracy shows nothing they do not carry."]
    return []


def compact_verdict(all_facts: Sequence[Facts]) -> pd.DataFrame:
    """The experiments as rows, the statements as columns (estimate and interval beside each
    yes or no)."""
    rows = []
    for f in all_facts:
        maps = "; ".join(f"{s.text(3)}" for s in (f.shuffled, f.randomised) if s is not None)
        rows.append(
            {
                "experiment": f.name,
                "test n": f.n,
                "accuracy": interval(f.accuracy),
                "formants alone": interval(f.formants_only["accuracy"]) if f.formants_only else "–",
                STATEMENTS[0]: _yes(f.needs) + (f": beta {f.needs.text()}" if f.needs else ""),
                STATEMENTS[1]: (
                    ("yes" if f.maps_yes else "no") + f": {maps}" if maps else "not tested"
                ),
            }
        )
    return pd.DataFrame(rows)


def answer_section(
    settings: dict,
    experiments: Sequence,
    tests: pd.DataFrame,
    alignment: dict,
    folder: str | Path | None = None,
) -> Markup:
    """The first screen: per experiment the sentences that answer the study's question (from
    the run's numbers, :mod:`spectrocam.report.headline`), its figure (the class-mean
    spectrogram and map, the class-mean spectrum and profile), and the compact verdict."""
    ev = settings.get("evidence", {})
    all_facts, answers = [], []
    for r in experiments:
        f = facts(r.name, r.definition, settings["model"], r.metrics, r.references, tests,
                  (ev.get("cues") or {}).get(r.name), ev.get("method", "cam"))  # fmt: skip
        all_facts.append(f)
        figure = figure_html(f"{r.name}/paper.png", "paper", r.name, f"{r.name}: class means",
                             folder, caption=PAPER_CAPTION.format(name=r.name))  # fmt: skip
        answers.append({"name": r.name, "id": section_id(r.name), "sentences": sentences(f),
                        "figure": figure})  # fmt: skip
    model = settings["model"]
    arch = str(model["arch"]).replace("resnet", "ResNet-")
    lead = (
        f"Does a {arch} read the formants? Run {settings['run']}, "
        f"{alignment['aligned_utterances']} clips of {settings['corpus']}: the answer per "
        "experiment, its class means, the verdict; the detail is folded under the contents."
    )
    return render(
        "answer.html.j2",
        lead=lead,
        answers=answers,
        verdict=Markup(html_table(compact_verdict(all_facts))),
        alpha=ev.get("alpha", 0.05),
    )


PAPER_CAPTION = (
    "{name}: each class's mean spectrogram over its test tokens with the class-mean CAM over it "
    "(colour), mean F1-F3 (green) and phone boundaries (dashed); below, its mean spectrum (black) "
    "beside the CAM's mean profile (the class's colour), mean F1-F3 red. The full caption is in "
    "the experiment's section."
)
