"""Rule sensitivity: the headline paired statistic (map share on the formant bands minus the
vowel's own spectrum's, interval over utterances) for every method, band half-width and Praat
ceiling, and whether each agrees with the headline's call."""

from spectrocam.evidence.agreement import AgreementConfig
from spectrocam.evidence.sensitivity import SensitivityConfig, formant_sets, sensitivity_table
from spectrocam.explain.maps import MapFile
from spectrocam.io import read_table, write_table
from spectrocam.jobs import job
from spectrocam.segments.store import read_spectrogram_block

smk = snakemake  # noqa: F821
with job(smk) as log:
    sens = SensitivityConfig.from_config(smk.params.sensitivity)
    agreement = AgreementConfig.from_config(smk.params.agreement)
    maps = MapFile(smk.input.maps)
    spectrograms = read_spectrogram_block(smk.input.segments, maps.segments.segment_index)
    sets = formant_sets(
        read_table(smk.input.formants), read_table(smk.input.ceilings), sens.ceilings_hz
    )
    table = sensitivity_table(
        maps,
        spectrograms,
        sets,
        sens.half_widths_hz,
        agreement.window_hz,
        agreement.bootstrap,
        agreement.seed,
    )
    for (method, band), g in table.groupby(["method", "band"], sort=False):
        head = g[g.headline].iloc[0]
        log.info(
            "%s %s: headline %.3f [%.3f, %.3f] (%s); the call holds in %d of %d settings",
            method,
            band,
            head.minus_spectrum,
            head.minus_spectrum_low,
            head.minus_spectrum_high,
            head.call,
            int(g.holds.sum()),
            len(g),
        )
    write_table(table, smk.output[0])
