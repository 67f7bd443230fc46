"""Rule formant_ceilings: F1-F3 of every measured vowel again at each of sensitivity.ceilings_hz
(for every speaker alike), and how many tokens leave their band against the configured
ceiling's formants, per half-width."""

import time

from spectrocam.evidence.sensitivity import SensitivityConfig
from spectrocam.io import read_table, read_text_table, write_table
from spectrocam.jobs import job
from spectrocam.segments.formants import FormantConfig, ceiling_moves, measure_ceilings

smk = snakemake  # noqa: F821
with job(smk) as log:
    cfg = FormantConfig.from_config(smk.params.formants)
    sens = SensitivityConfig.from_config(smk.params.sensitivity)
    formants = read_table(smk.input.formants)
    started = time.monotonic()
    table = measure_ceilings(
        formants, read_text_table(smk.input.clips), list(sens.ceilings_hz), cfg, smk.threads
    )
    log.info(
        "%d vowels at %d ceilings in %.1f s on %d workers",
        len(table),
        len(sens.ceilings_hz),
        time.monotonic() - started,
        smk.threads,
    )
    moves = ceiling_moves(formants, table, list(sens.ceilings_hz), list(sens.half_widths_hz))
    for row in moves.itertuples():
        log.info(
            "ceiling %.0f Hz: %s moves by more than %.0f Hz in %d of %d vowels (%.1f %%)",
            row.ceiling_hz,
            row.formant,
            row.half_width_hz,
            row.moved,
            row.n,
            100 * row.share_moved,
        )
    write_table(table, smk.output.table)
    write_table(moves, smk.output.moves)
