"""Rule evidence: every map's share of mass on the formants beside the same share of profiles
that involve no network (the segment's spectrum, its envelope, a fixed prior, the class-mean
map), the paired differences (on all tokens, then on stressed content words, on rhotic
contexts, and on test words that no training token has), and the energy-keeping permutation
test."""

from spectrocam.evidence.agreement import AgreementConfig
from spectrocam.evidence.shares import evidence_table, null_table, subset_summary
from spectrocam.explain.maps import MapFile
from spectrocam.io import read_table, write_table
from spectrocam.jobs import job
from spectrocam.segments.store import read_spectrogram_block, segment_split_table

smk = snakemake  # noqa: F821
with job(smk) as log:
    cfg = AgreementConfig.from_config(smk.params.agreement)
    maps = MapFile(smk.input.maps)
    spectrograms = read_spectrogram_block(smk.input.segments, maps.segments.segment_index)
    table, for_null = evidence_table(
        maps, spectrograms, read_table(smk.input.formants), cfg.window_hz
    )
    tokens = segment_split_table(smk.input.segments, read_table(smk.input.splits))
    summary = subset_summary(table, tokens, cfg.bootstrap, cfg.seed)
    null = null_table(for_null, maps.freqs_hz, cfg.window_hz, cfg.permutations, cfg.seed)
    for row in summary[summary.band == "any"].itertuples():
        log.info(
            "%s, %s: F1-F3 share %.3f, spectrum's %.3f, difference %.3f [%.3f, %.3f] (n %d)",
            row.method,
            row.tokens,
            row.share,
            row.share_spectrum,
            row.minus_spectrum,
            row.minus_spectrum_low,
            row.minus_spectrum_high,
            row.n_segments,
        )
    write_table(table, smk.output.segments)
    write_table(summary, smk.output.summary)
    write_table(null, smk.output.null)
