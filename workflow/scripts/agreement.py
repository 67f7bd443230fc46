"""Rule agreement: how much of each vowel's map lies on its formants, against chance and against
the formants of other vowels of its class (permutation null), for every method."""

import pandas as pd

from spectrocam.evidence.agreement import (
    AgreementConfig,
    null_by_method,
    segment_agreement,
    summarise_agreement,
)
from spectrocam.explain.maps import MapFile
from spectrocam.io import read_table, write_table
from spectrocam.jobs import job

smk = snakemake  # noqa: F821
with job(smk) as log:
    cfg = AgreementConfig.from_config(smk.params.agreement)
    maps = MapFile(smk.input.maps)
    formants = read_table(smk.input.formants)
    segments = segment_agreement(maps, formants, cfg.window_hz)
    summary = summarise_agreement(segments, cfg.bootstrap, cfg.seed)
    null = pd.DataFrame(null_by_method(maps, formants, cfg))
    n = int(((segments.cam == "true") & (segments.method == "cam")).sum()) if len(segments) else 0
    log.info("%d test segments are vowels with formants, of %d", n, len(maps))
    write_table(segments, smk.output.segments)
    write_table(summary, smk.output.summary)
    write_table(null, smk.output.null)
