"""Rule sensitivity: the verdict's map statement (per-vowel AUC of the formant cells, first seed
minus the shuffled-labels model, interval over clusters) for every distinct method, band
half-width and Praat ceiling, and whether each agrees with the headline's call. Experiments whose
cues are fixed regions (evidence.cues) have nothing to move: their table is empty."""

import pandas as pd

from spectrocam.evidence.cues import EvidenceConfig
from spectrocam.evidence.ranks import identical_map_groups
from spectrocam.evidence.sensitivity import SensitivityConfig, formant_sets, sensitivity_table
from spectrocam.explain.maps import MapFile
from spectrocam.io import read_table, write_table
from spectrocam.jobs import job

smk = snakemake  # noqa: F821
with job(smk) as log:
    sens = SensitivityConfig.from_config(smk.params.sensitivity)
    ev = EvidenceConfig.from_config(smk.params.evidence)
    table = pd.DataFrame()
    if smk.params.cues:
        log.info("%s: fixed cue regions, no formant band to move", smk.wildcards.experiment)
    elif not smk.input.get("shuffled"):
        log.info("no shuffled-labels model (sanity.shuffled_labels): nothing to contrast")
    else:
        trained, control = MapFile(smk.input.maps), MapFile(smk.input.shuffled)
        methods = [m for m in trained.methods if m in control.methods]
        distinct = [g[0] for g in identical_map_groups(trained, methods)]
        sets = formant_sets(
            read_table(smk.input.formants), read_table(smk.input.ceilings), sens.ceilings_hz
        )
        table = sensitivity_table(
            trained, control, sets, sens.half_widths_hz, smk.params.window_hz, distinct,
            ev.cluster, ev.bootstrap, ev.sign_flips, ev.seed,
        )  # fmt: skip
        for (method, cue), g in table.groupby(["method", "cue"], sort=False):
            head = g[g.headline].iloc[0]
            log.info(
                "%s %s: headline %.3f [%.3f, %.3f] (%s); the call holds in %d of %d settings",
                method, cue, head.difference, head.low, head.high, head.call,
                int(g.holds.sum()), len(g),
            )  # fmt: skip
    write_table(table, smk.output[0])
