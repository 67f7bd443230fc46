"""Rule extract_corpus: unpack the archive; no member may leave the target directory."""

from spectrocam.corpus.download import safe_extract
from spectrocam.jobs import job

with job(snakemake) as log:  # noqa: F821
    safe_extract(snakemake.input[0], snakemake.output[0], subdir=snakemake.params.subdir)  # noqa: F821
