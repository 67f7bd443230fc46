"""Rule mfa_corpus: the corpus as MFA wants it, <id>.wav beside <id>.lab, one speaker."""

import pandas as pd

from spectrocam.jobs import job
from spectrocam.mfa import prepare_mfa_corpus

smk = snakemake  # noqa: F821
with job(smk) as log:
    clips = pd.read_csv(smk.input.clips, sep="\t", keep_default_na=False)
    n = prepare_mfa_corpus(clips, smk.output[0])
    log.info("prepared %d clips for MFA in %s", n, smk.output[0])
