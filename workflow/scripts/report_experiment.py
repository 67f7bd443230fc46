"""Rule report_experiment: an experiment's figures and its agreement table."""

from spectrocam.explain.maps import MapFile
from spectrocam.io import read_json, read_table, write_table
from spectrocam.jobs import job
from spectrocam.report.figures import (
    example_indices,
    plot_confusion,
    plot_examples,
    plot_history,
    plot_profiles,
)
from spectrocam.report.profiles import class_profiles
from spectrocam.report.reference import formant_lines, hillenbrand_women_means
from spectrocam.report.tables import agreement_table
from spectrocam.segments.store import read_classes, read_spectrograms

smk = snakemake  # noqa: F821
with job(smk) as log:
    name, examples = smk.wildcards.experiment, smk.params.examples
    description = smk.params.description.rstrip(".")
    title = f"{name} ({description})" if description else name
    metrics = read_json(smk.input.metrics)
    plot_confusion(metrics, smk.output.confusion, title)
    plot_history(read_table(smk.input.history), smk.output.history, title)

    maps = MapFile(smk.input.maps)
    formants = read_table(smk.input.formants)
    reference = hillenbrand_women_means(smk.params.hillenbrand) if smk.params.hillenbrand else None
    chosen = example_indices(maps, examples)
    index = maps.segments["segment_index"].to_numpy()[chosen]
    stored = read_spectrograms(smk.input.segments, index)
    spectrograms = {k: stored[int(i)] for k, i in zip(chosen, index, strict=True)}
    measured, ref = formant_lines(formants, read_classes(smk.input.segments), reference)
    hz_per_cell = float(maps.method_attrs("cam")["hz_per_cell"])
    profiles = class_profiles(maps, "cam", "true")
    plot_profiles(
        profiles,
        maps.freqs_hz,
        smk.output.profiles,
        title,
        measured,
        ref,
        hz_per_cell,
        smk.params.corpus,
    )
    plot_examples(maps, spectrograms, smk.output.examples, title, examples, formants)

    summary = read_table(smk.input.agreement)
    write_table(agreement_table(summary) if len(summary) else summary, smk.output.agreement)
    log.info("%s: figures written (test accuracy %.3f)", name, metrics["accuracy"])
