"""Rule report_formants: the measured formant means beside Hillenbrand's women."""

from spectrocam.io import read_table, write_table
from spectrocam.jobs import job
from spectrocam.report.reference import formant_comparison, hillenbrand_women_means

smk = snakemake  # noqa: F821
with job(smk) as log:
    formants = read_table(smk.input.formants)
    reference = hillenbrand_women_means(smk.params.hillenbrand) if smk.params.hillenbrand else None
    write_table(formant_comparison(formants, reference), smk.output[0])
