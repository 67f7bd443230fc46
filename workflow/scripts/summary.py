"""Rule summary: the run's summary page (HTML) and its headline figures (JSON)."""

from pathlib import Path

import pandas as pd

from spectrocam.explain.maps import MapFile
from spectrocam.io import read_json, read_table, write_json
from spectrocam.jobs import job
from spectrocam.report.figures import example_indices
from spectrocam.report.page import ExperimentResults, summary_page, write_summary_page

smk = snakemake  # noqa: F821


def optional(key, k):
    return read_table(smk.input[key][k]) if smk.input.get(key) else pd.DataFrame()


def peaks(k):
    """Template peaks per model: the first seed's and the shuffled-labels model's (one table,
    column model), and the most randomised model's."""
    out = {}
    table = optional("peaks", k)
    for model in table["model"].unique() if len(table) else []:
        out[model] = table[table["model"] == model]
    random = read_table(smk.input.randomised_peaks[k])
    if len(random):
        out[f"randomised ({random['step'].iloc[0]})"] = random
    return out


def examples(maps):
    """The tokens of the examples figure (the same choice as rule report_experiment's)."""
    rows = example_indices(maps, smk.params.examples)
    columns = ["phone_id", "utt_id", "word", "class_name", "predicted_name"]
    return maps.segments.iloc[rows][columns].astype(str).to_dict(orient="records")


with job(smk) as log:
    experiments = []
    for k, name in enumerate(smk.params.experiments):
        cam = MapFile(smk.input.maps[k])
        experiments.append(
            ExperimentResults(
                name=name,
                description=smk.params.descriptions[name],
                metrics=read_json(smk.input.metrics[k]),
                agreement=read_table(smk.input.agreement[k]),
                comparison=read_table(smk.input.comparison[k]),
                errors=read_table(smk.input.errors[k]),
                error_summary=read_json(smk.input.error_summaries[k]),
                hz_per_cell=float(cam.method_attrs("cam")["hz_per_cell"]),
                cells=tuple(cam.cells("cam").shape[1:]),
                sensitivity=read_table(smk.input.sensitivity[k]),
                evidence=read_table(smk.input.evidence[k]),
                needs=read_table(smk.input.needs[k]),
                pairs=read_table(smk.input.pairs[k]),
                needs_ceilings=read_table(smk.input.needs_ceilings[k]),
                contrasts=optional("contrasts", k),
                randomised=read_table(smk.input.randomised[k]),
                peaks=peaks(k),
                definition=smk.params.definitions[name],
                references=read_json(smk.input.references[k]),
                examples=examples(cam),
            )
        )
    sections, headline = summary_page(
        smk.params.settings,
        experiments,
        read_json(smk.input.splits),
        read_json(smk.input.alignment),
        read_json(smk.input.formant_summary),
        read_table(smk.input.formants),
        read_json(smk.input.alignment_agreement) if smk.input.get("alignment_agreement") else None,
        verdict=(read_table(smk.input.verdict), read_table(smk.input.tests)),
        ceiling_moves=read_table(smk.input.ceiling_moves),
        folder=Path(smk.output.page).parent,
    )
    write_summary_page(smk.output.page, sections, f"spectrocam: {smk.params.settings['run']}")
    write_json(headline, smk.output.summary)
    for name, h in headline["experiments"].items():
        log.info("%s: test accuracy %.3f, macro-F1 %.3f", name, h["accuracy"], h["macro_f1"])
