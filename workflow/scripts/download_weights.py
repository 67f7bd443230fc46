"""Rule download_weights: torchvision's ImageNet weights, verified by the hash in their name."""

import re

from spectrocam.corpus.download import download
from spectrocam.jobs import job

smk = snakemake  # noqa: F821
with job(smk) as log:
    url = smk.params.url
    # torchvision names its files <arch>-<first 8 hex digits of the sha256>.pth
    match = re.search(r"-([0-9a-f]{8,})\.pth$", url)
    download(url, smk.output[0], sha256=match.group(1) if match else None)
