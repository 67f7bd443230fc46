"""Rule sanity_shuffled: the first seed's maps against those of the model trained on shuffled
labels, segment by segment, scored by their share on the formants beyond the spectrum's."""

from spectrocam.evidence.sanity import sanity_summary
from spectrocam.io import read_table, write_table
from spectrocam.jobs import job

smk = snakemake  # noqa: F821
with job(smk) as log:
    trained = read_table(smk.input.trained)
    shuffled = read_table(smk.input.shuffled)
    summary = sanity_summary(
        trained, {"shuffled labels": shuffled}, smk.params.bootstrap, smk.params.seed
    )
    for row in summary[summary.band == "any"].itertuples():
        log.info("%s, %s: %s (difference %.3f)", row.step, row.method, row.verdict, row.difference)
    write_table(summary, smk.output[0])
