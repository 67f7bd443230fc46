"""Rule summary_page: the summary page in one file (figures inlined), for snakemake --report."""

from spectrocam.jobs import job
from spectrocam.report.standalone import write_standalone_page

smk = snakemake  # noqa: F821
with job(smk) as log:
    size = write_standalone_page(smk.input.page, smk.output[0])
    log.info("wrote %s (%d bytes)", smk.output[0], size)
