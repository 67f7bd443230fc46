"""Rule formants: F1-F3 of every vowel segment of the experiments (Praat Burg, parselmouth)."""

from spectrocam.formants import FormantConfig, formant_summary, measure_formants
from spectrocam.io import read_text_table, write_json, write_table
from spectrocam.jobs import job

smk = snakemake  # noqa: F821
with job(smk) as log:
    table = measure_formants(
        read_text_table(smk.input.phones),
        read_text_table(smk.input.clips),
        set(smk.params.vowels),
        FormantConfig.from_config(smk.params.formants),
        threads=smk.threads,
    )
    summary = formant_summary(table) | {"settings": dict(smk.params.formants)}
    log.info(
        "%d vowels; undefined: F1 %d, F2 %d, F3 %d; %d shorter than the physical window",
        summary["n_vowels"],
        *summary["nan"].values(),
        summary["n_short"],
    )
    write_json(summary, smk.output.summary)
    write_table(table, smk.output.table)
