"""Rule summary: the run's summary page (HTML) and its headline figures (JSON)."""

import os

import h5py
import pandas as pd

from spectrocam.io import write_json
from spectrocam.jobs import job
from spectrocam.report import (
    agreement_headline,
    agreement_table,
    html_table,
    json_load,
    write_summary_page,
)

smk = snakemake  # noqa: F821


def rel(path):
    return os.path.relpath(path, os.path.dirname(smk.output.page))


def ci(block, key):
    if not block or block.get(key) is None:
        return "–"
    return f"{block[key]:.2f} [{block[key + '_low']:.2f}, {block[key + '_high']:.2f}]"


with job(smk) as log:
    cfg = smk.params.config
    experiments = smk.params.experiments
    splits = json_load(smk.input.splits)
    alignment = json_load(smk.input.alignment)
    formant_summary = json_load(smk.input.formant_summary)
    headline, rows, sections = {}, [], []

    comparisons = []
    for (
        name,
        metrics_path,
        agreement_path,
        cams_path,
        comparison_path,
        errors_path,
        err_path,
    ) in zip(
        experiments,
        smk.input.metrics,
        smk.input.agreement,
        smk.input.cams,
        smk.input.comparison,
        smk.input.errors,
        smk.input.error_summaries,
        strict=True,
    ):
        comparison = pd.read_csv(comparison_path, sep="\t")
        comparisons.append(comparison)
        errors = pd.read_csv(errors_path, sep="\t")
        error_summary = json_load(err_path)
        metrics = json_load(metrics_path)
        summary = pd.read_csv(agreement_path, sep="\t")
        agree = agreement_headline(summary) if len(summary) else {}
        with h5py.File(cams_path, "r") as h5:
            hz_per_cell = float(h5.attrs["hz_per_cell"])
            cells = h5["cells_true"].shape[1:]
        headline[name] = {
            "test_segments": metrics["n"],
            "accuracy": metrics["accuracy"],
            "macro_f1": metrics["macro_f1"],
            "balanced_accuracy": metrics["balanced_accuracy"],
            "model_epoch": metrics["model"]["epoch"],
            "hz_per_cam_cell": hz_per_cell,
            "cam_cells": list(cells),
            "agreement_true_class_cam": agree,
            "methods": comparison.drop(columns=["experiment"]).to_dict(orient="records"),
            "misclassifications": {k: v for k, v in error_summary.items() if k != "class_stats"},
        }
        allseg = agree.get("all", {})
        rows.append(
            {
                "experiment": name,
                "test n": metrics["n"],
                "accuracy": f"{metrics['accuracy']:.3f}",
                "macro-F1": f"{metrics['macro_f1']:.3f}",
                "balanced acc.": f"{metrics['balanced_accuracy']:.3f}",
                "Hz per CAM cell": f"{hz_per_cell:.0f}",
                "vowels with formants": allseg.get("n_any", 0),
                "CAM mass on F1-F3 / chance": ci(allseg, "ratio_any"),
                "peak on a formant": ci(allseg, "peak_hit"),
                "peak chance": (
                    f"{allseg['peak_chance']:.2f}" if allseg.get("peak_chance") else "–"
                ),
            }
        )
        per_class = pd.DataFrame(
            [{"class": c, **{k: v for k, v in m.items()}} for c, m in metrics["per_class"].items()]
        )
        figs = {
            k: rel(os.path.join(os.path.dirname(smk.output.page), name, f"{k}.png"))
            for k in ("confusion", "history", "profiles", "examples", "methods", "vowel_chart")
        }
        shown = errors.head(25)
        explained = error_summary["share_explained"]
        error_text = (
            f"<p>{error_summary['misclassified']} misclassified test vowels with formants; "
            + (
                f"{error_summary['explained_by_formants']} of the "
                f"{error_summary['with_distances']} with class statistics "
                f"({100 * explained:.0f} %) lie nearer (z-scored F1, F2) to the predicted "
                "class's training vowels than to their own class's. "
                if explained is not None
                else "the classes have no formant statistics to compare with. "
            )
            + f"The first {len(shown)} are listed; all are in errors/{name}.tsv.</p>"
        )
        body = (
            f"<p>{cfg['experiments'][name].get('description', '')} Test split: "
            f"{metrics['n']} segments; kept model: epoch {metrics['model']['epoch']} "
            f"(validation macro-F1 {metrics['model']['val_macro_f1']:.3f}). "
            f"CAM: {cells[0]} x {cells[1]} cells, {hz_per_cell:.0f} Hz per cell.</p>"
            f"<h3>Test metrics</h3>{html_table(per_class, 3)}"
            f"<img src='{figs['confusion']}' alt='confusion matrix'>"
            f"<img src='{figs['history']}' alt='training history'>"
            f"<h3>CAM profiles and formants</h3><img src='{figs['profiles']}' alt='profiles'>"
            f"<h3>Examples</h3><img src='{figs['examples']}' alt='examples'>"
            "<h3>Agreement of the true-class CAM with the formants</h3>"
            + (
                html_table(agreement_table(summary))
                if len(summary)
                else "<p>No test segment of this experiment is a vowel with formants.</p>"
            )
            + "<h3>Methods compared</h3>"
            + html_table(comparison.drop(columns=["experiment"]))
            + f"<img src='{figs['methods']}' alt='profiles of every method'>"
            + "<h3>Misclassifications</h3>"
            + f"<img src='{figs['vowel_chart']}' alt='vowel chart'>"
            + error_text
            + (html_table(shown, 3) if len(shown) else "")
            + "<p class='note'>Ratio: share of the CAM profile within ±"
            f"{cfg['agreement']['window_hz']:g} Hz of the formant over a flat profile's share "
            "(1 = chance). Peak: share of profiles whose maximum lies within the band of a "
            "formant, against the share of possible peak positions that would. Brackets: 95 % "
            f"bootstrap interval, {cfg['agreement']['bootstrap']} resamples of utterances.</p>"
        )
        sections.append((name, body))

    formants = pd.read_csv(smk.input.formants, sep="\t")
    intro = (
        f"<p>Run <b>{cfg['run']}</b>: {alignment['aligned_utterances']} aligned clips "
        f"({cfg['alignment']['backend']}); splits by {splits['unit']} "
        f"{splits['utterances']}; model {cfg['model']['arch']} ({cfg['model']['weights']}"
        f" weights, strides {cfg['model']['freq_stride']} rows x "
        f"{cfg['model']['time_stride']} frames), "
        f"{cfg['training']['epochs']} epochs, Adam lr {cfg['training']['lr']:g}, "
        f"batch {cfg['training']['batch_size']}.</p>" + html_table(pd.DataFrame(rows))
    )
    if smk.params.agreement_file and os.path.exists(smk.params.agreement_file):
        within = json_load(smk.params.agreement_file)["boundaries"]["within"]
        intro += (
            "<p>Alignment against the reference TextGrids: "
            + ", ".join(
                f"{100 * w['share']:.1f} % of boundaries within {1000 * w['tol_s']:.0f} ms"
                for w in within
                if w["share"] is not None
            )
            + ".</p>"
        )
    formant_note = (
        f"<p>{formant_summary['n_vowels']} vowels measured; undefined: "
        + ", ".join(f"{k[:2].upper()} {v}" for k, v in formant_summary["nan"].items())
        + f"; {formant_summary['n_short']} vowels shorter than Praat's physical window.</p>"
    )
    sections = (
        [("Summary", intro)]
        + sections
        + [
            (
                "Formants: LJSpeech against Hillenbrand et al. (1995) women",
                formant_note + html_table(formants, 0),
            )
        ]
    )
    write_summary_page(smk.output.page, sections, f"spectrocam: {cfg['run']}")
    write_json({"run": cfg["run"], "experiments": headline}, smk.output.summary)
    for name, h in headline.items():
        log.info("%s: test accuracy %.3f, macro-F1 %.3f", name, h["accuracy"], h["macro_f1"])
