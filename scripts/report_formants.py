"""Rule report_formants: measured LJSpeech formant means beside Hillenbrand's women."""

import pandas as pd

from spectrocam.jobs import job, write_table
from spectrocam.report import formant_comparison, hillenbrand_women_means

smk = snakemake  # noqa: F821
with job(smk) as log:
    formants = pd.read_csv(
        smk.input.formants, sep="\t", keep_default_na=False, na_values=["", "nan", "NaN"]
    )
    reference = hillenbrand_women_means(smk.params.hillenbrand) if smk.params.hillenbrand else None
    write_table(formant_comparison(formants, reference), smk.output[0])
