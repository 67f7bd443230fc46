"""Rule report_experiment: an experiment's figures and its agreement table."""

import json

import h5py
import pandas as pd

from spectrocam.alignment import strip_stress
from spectrocam.cam import read_cams
from spectrocam.io import read_table, write_table
from spectrocam.jobs import job
from spectrocam.report import (
    agreement_table,
    class_profiles,
    example_indices,
    hillenbrand_women_means,
    json_load,
    plot_confusion,
    plot_examples,
    plot_history,
    plot_profiles,
)

FORMANT_COLUMNS = ["f1_hz", "f2_hz", "f3_hz"]
REFERENCE_COLUMNS = ["hillenbrand_f1_hz", "hillenbrand_f2_hz", "hillenbrand_f3_hz"]

smk = snakemake  # noqa: F821
with job(smk) as log:
    name = smk.wildcards.experiment
    description = smk.params.description.rstrip(".")
    title = f"{name} ({description})" if description else name
    metrics = json_load(smk.input.metrics)
    plot_confusion(metrics, smk.output.confusion, title)
    plot_history(pd.read_csv(smk.input.history, sep="\t"), smk.output.history, title)

    cams = read_cams(smk.input.cams)
    formants = read_table(smk.input.formants)
    measured_means = formants.groupby(formants["phone"].astype(str).map(strip_stress))[
        FORMANT_COLUMNS
    ].mean()
    reference = (
        hillenbrand_women_means(smk.params.hillenbrand).set_index("vowel")
        if smk.params.hillenbrand
        else None
    )
    with h5py.File(smk.input.segments, "r") as h5:
        classes = json.loads(h5.attrs["classes"])
    # Formant lines are drawn for the classes that are a single vowel.
    measured, ref = {}, {}
    for cls, phones in classes.items():
        if len(phones) != 1:
            continue
        if phones[0] in measured_means.index:
            measured[cls] = measured_means.loc[phones[0]].to_list()
        if reference is not None and phones[0] in reference.index:
            ref[cls] = reference.loc[phones[0], REFERENCE_COLUMNS].to_list()
    plot_profiles(
        class_profiles(cams, "true"),
        cams["freqs_hz"],
        smk.output.profiles,
        title,
        measured,
        ref,
        hz_per_cell=float(cams["hz_per_cell"]),
    )

    chosen = example_indices(cams, smk.params.examples)
    with h5py.File(smk.input.segments, "r") as h5:
        spectrograms = {k: h5["spectrograms"][int(cams["segment_index"][k])] for k in chosen}
    plot_examples(cams, spectrograms, smk.output.examples, title, smk.params.examples, formants)

    summary = pd.read_csv(smk.input.agreement, sep="\t")
    write_table(agreement_table(summary) if len(summary) else summary, smk.output.agreement)
    log.info("%s: figures written (test accuracy %.3f)", name, metrics["accuracy"])
