"""Rule mfa_corpus: the corpus as MFA wants it, <id>.wav beside <id>.lab, one speaker."""

from spectrocam.align.mfa import prepare_mfa_corpus
from spectrocam.io import read_text_table
from spectrocam.jobs import job

smk = snakemake  # noqa: F821
with job(smk) as log:
    clips = read_text_table(smk.input.clips)
    n = prepare_mfa_corpus(clips, smk.output[0])
    log.info("prepared %d clips for MFA in %s", n, smk.output[0])
