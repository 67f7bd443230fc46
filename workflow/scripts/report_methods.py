"""Rule report_methods: per experiment, every method's class profiles, the vowel chart and the
comparison of methods (agreement, its null, faithfulness, the map statement)."""

import pandas as pd

from spectrocam.explain.maps import MapFile
from spectrocam.io import read_table, write_table
from spectrocam.jobs import job
from spectrocam.phones import strip_stress
from spectrocam.report.figures import plot_method_profiles, plot_vowel_chart
from spectrocam.report.profiles import class_profiles
from spectrocam.report.reference import formant_lines, hillenbrand_women_means
from spectrocam.report.tables import comparison_table
from spectrocam.segments.store import read_classes

smk = snakemake  # noqa: F821
with job(smk) as log:
    name = smk.wildcards.experiment
    maps = MapFile(smk.input.maps)
    # every method on the same segments: those that all of them have maps of
    common = maps.common_rows()
    profiles = {m: class_profiles(maps, m, "true", common) for m in maps.methods}
    hz_per_cell = {m: float(maps.method_attrs(m)["hz_per_cell"]) for m in maps.methods}
    formants = read_table(smk.input.formants)
    classes = read_classes(smk.input.segments)
    reference = hillenbrand_women_means(smk.params.hillenbrand) if smk.params.hillenbrand else None
    measured, ref = formant_lines(formants, classes, reference)
    plot_method_profiles(
        profiles,
        maps.freqs_hz,
        smk.output.profiles,
        name,
        hz_per_cell,
        measured,
        ref,
        smk.params.corpus,
    )

    # The vowel chart: every measured vowel of the classes, by class.
    phone_class = {p: c for c, ps in classes.items() for p in ps}
    vowel = formants["phone"].astype(str).map(strip_stress)
    tokens = formants.assign(class_name=vowel.map(phone_class)).dropna(subset=["class_name"])
    errors = read_table(smk.input.errors)
    plot_vowel_chart(tokens, smk.output.chart, name, reference, errors)

    table = comparison_table(
        name,
        read_table(smk.input.agreement),
        read_table(smk.input.null),
        read_table(smk.input.deletion),
        read_table(smk.input.contrasts) if smk.input.get("contrasts") else pd.DataFrame(),
        hz_per_cell,
    )
    write_table(table, smk.output.comparison)
    log.info("%s: method comparison of %s", name, ", ".join(hz_per_cell))
