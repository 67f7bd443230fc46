"""Rule evidence: a description of every map: its share of mass on the formants beside the same
share of profiles that involve no network (the segment's spectrum on the scale of
agreement.spectrum_power, its envelope, a fixed prior, the class-mean map), and the paired
differences (on all tokens, then on stressed content words, on rhotic contexts, and on test words
that no training token has). Not the verdict: see the ranks and causal rules."""

from spectrocam.evidence.agreement import AgreementConfig
from spectrocam.evidence.shares import evidence_table, subset_summary
from spectrocam.explain.maps import MapFile
from spectrocam.io import read_table, write_table
from spectrocam.jobs import job
from spectrocam.segments.store import read_spectrogram_block, segment_split_table

smk = snakemake  # noqa: F821
with job(smk) as log:
    cfg = AgreementConfig.from_config(smk.params.agreement)
    maps = MapFile(smk.input.maps)
    spectrograms = read_spectrogram_block(smk.input.segments, maps.segments.segment_index)
    table = evidence_table(
        maps, spectrograms, read_table(smk.input.formants), cfg.window_hz, smk.params.power
    )
    tokens = segment_split_table(smk.input.segments, read_table(smk.input.splits))
    summary = subset_summary(table, tokens, cfg.bootstrap, cfg.seed)
    for row in summary[summary.band == "any"].itertuples():
        log.info(
            "%s, %s: F1-F3 share %.3f, the spectrum's (%s) %.3f, difference %.3f [%.3f, %.3f] "
            "(n %d)",
            row.method,
            row.tokens,
            row.share,
            smk.params.power,
            row.share_spectrum,
            row.minus_spectrum,
            row.minus_spectrum_low,
            row.minus_spectrum_high,
            row.n_segments,
        )
    write_table(table, smk.output.segments)
    write_table(summary.assign(spectrum_power=str(smk.params.power)), smk.output.summary)
