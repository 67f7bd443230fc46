"""Rule report_methods: per experiment, every method's class profiles, the vowel chart and the
comparison of methods (agreement, permutation null, faithfulness, band occlusion)."""

import json

import h5py

from spectrocam.alignment import strip_stress
from spectrocam.cam import read_cams
from spectrocam.io import read_table, write_table
from spectrocam.jobs import job
from spectrocam.model import cell_index
from spectrocam.report import (
    class_profiles,
    comparison_table,
    hillenbrand_women_means,
    plot_method_profiles,
    plot_vowel_chart,
)

REFERENCE_COLUMNS = ["hillenbrand_f1_hz", "hillenbrand_f2_hz", "hillenbrand_f3_hz"]


smk = snakemake  # noqa: F821
with job(smk) as log:
    name = smk.wildcards.experiment
    cams = read_cams(smk.input.cams, maps=False)
    freqs, times = cams["freqs_hz"], cams["times_s"]
    profiles, hz_per_cell = {}, {}
    row_of = {int(s): k for k, s in enumerate(cams["segment_index"])}
    with h5py.File(smk.input.maps, "r") as h5:
        cam_rows = [row_of[int(s)] for s in h5["segment_index"][:]]
        for m in h5.attrs["methods"]:
            ds = h5[m]
            hz_per_cell[m] = float(ds.attrs["hz_per_cell"])
            rows = cell_index(len(freqs), ds.shape[1], int(ds.attrs["freq_stride"]))
            cols = cell_index(len(times), ds.shape[2], int(ds.attrs["time_stride"]))
            cells = ds[:]
            grids = {i: cells[k][rows][:, cols] for k, i in enumerate(cam_rows)}
            profiles[m] = class_profiles(cams, grids=grids)

    formants = read_table(smk.input.formants)
    with h5py.File(smk.input.segments, "r") as h5:
        classes = json.loads(h5.attrs["classes"])
    vowel = formants["phone"].astype(str).map(strip_stress)
    means = formants.groupby(vowel)[["f1_hz", "f2_hz", "f3_hz"]].mean()
    reference = hillenbrand_women_means(smk.params.hillenbrand) if smk.params.hillenbrand else None
    measured, ref = {}, {}
    for cls, phones in classes.items():
        if len(phones) == 1 and phones[0] in means.index:
            measured[cls] = means.loc[phones[0]].to_list()
        if reference is not None and len(phones) == 1:
            hit = reference[reference.vowel == phones[0]]
            if len(hit):
                ref[cls] = hit[REFERENCE_COLUMNS].iloc[0].to_list()
    title = name
    plot_method_profiles(profiles, freqs, smk.output.profiles, title, hz_per_cell, measured, ref)

    # The vowel chart: every measured vowel of the classes, by class.
    phone_class = {p: c for c, ps in classes.items() for p in ps}
    tokens = formants.assign(class_name=vowel.map(phone_class)).dropna(subset=["class_name"])
    errors = read_table(smk.input.errors)
    plot_vowel_chart(tokens, smk.output.chart, title, reference, errors)

    table = comparison_table(
        name,
        read_table(smk.input.agreement),
        read_table(smk.input.null),
        read_table(smk.input.deletion),
        read_table(smk.input.occlusion),
        hz_per_cell,
    )
    write_table(table, smk.output.comparison)
    log.info("%s: method comparison of %s", name, ", ".join(hz_per_cell))
