"""Rule download_corpus: fetch the LJSpeech archive, resumable, verified by size and sha256."""

from spectrocam.corpus.download import download
from spectrocam.jobs import job

with job(snakemake) as log:  # noqa: F821
    p = snakemake.params  # noqa: F821
    download(p.url, snakemake.output[0], sha256=p.sha256, size_bytes=p.size_bytes)  # noqa: F821
