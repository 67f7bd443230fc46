"""Rule causal: band occlusion at the formants against matched control bands (several
half-widths, a local-floor fill), and deletion curves against random, energy and low-to-high
orders; then the occlusion again, at the headline half-width (``agreement.window_hz``), with the
formants measured at each Praat ceiling of ``sensitivity.ceilings_hz`` (the sensitivity of the
causal call to the ceiling; the half-widths vary at the configured ceiling)."""

import numpy as np
import pandas as pd

from spectrocam.evidence.agreement import FORMANT_HZ
from spectrocam.evidence.causal import (
    CausalConfig,
    causal_segments,
    half_widths,
    map_deletion_orders,
    occlusion_ceilings,
    run_causal_tests,
    summarise_deletion,
    summarise_occlusion,
)
from spectrocam.evidence.sensitivity import CONFIGURED, SensitivityConfig, formant_sets
from spectrocam.explain.maps import MapFile
from spectrocam.io import read_table, write_table
from spectrocam.jobs import job
from spectrocam.keys import join
from spectrocam.model.device import autocast_dtype
from spectrocam.model.inference import trained_model
from spectrocam.progress import bar
from spectrocam.segments.store import SegmentReader

smk = snakemake  # noqa: F821
with job(smk) as log:
    cfg = CausalConfig.from_config(smk.params.causal)
    widths = half_widths(cfg, smk.params.window_hz)
    inference = smk.params.inference
    model, _, device, _ = trained_model(smk)
    maps = MapFile(smk.input.maps)
    chosen = causal_segments(maps, read_table(smk.input.formants), cfg.max_segments, cfg.seed)
    log.info(
        "causal tests on %d test vowels with formants, half-widths %s Hz",
        len(chosen),
        ", ".join(f"{w:g}" for w in widths),
    )
    orders = map_deletion_orders(maps, chosen.row.to_numpy(), np.random.default_rng(cfg.seed))
    formants = chosen[list(FORMANT_HZ)].to_numpy(float)
    sens = SensitivityConfig.from_config(smk.params.sensitivity)
    sets = formant_sets(
        read_table(smk.input.formants), read_table(smk.input.ceilings), sens.ceilings_hz
    )
    at_ceiling = {
        label: join(chosen[["phone_id"]], t, list(FORMANT_HZ), how="left")[
            list(FORMANT_HZ)
        ].to_numpy(float)
        for label, t in sets.items()
        if label != CONFIGURED
    }
    # a ceiling whose formants are the configured ones (5,500 Hz in the demo) reuses that run
    rerun = [k for k, f in at_ceiling.items() if not np.array_equal(f, formants, equal_nan=True)]
    with SegmentReader(smk.input.segments) as reader:

        def occlude(f, deletion, label, widths=widths):
            with bar(len(chosen), label, "segment") as progress:
                return run_causal_tests(
                    model,
                    reader,
                    chosen.segment_index.to_numpy(),
                    f,
                    orders,
                    cfg,
                    widths,
                    device,
                    inference["eval_batch_size"],
                    progress=progress.update,
                    dtype=autocast_dtype(inference["precision"], device),
                    deletion=deletion,
                )

        occlusions, deletions = occlude(formants, True, "causal tests")
        headline_width = [float(smk.params.window_hz)]
        by_ceiling = {
            k: occlude(at_ceiling[k], False, f"occlusion at {k} Hz", headline_width)[0]
            for k in rerun
        }
    occ, dele = pd.DataFrame(occlusions), pd.DataFrame(deletions)
    if len(occ):
        utts = chosen.utt_id.to_numpy()
        occ.insert(0, "utt_id", utts[occ["row"]])
        dele.insert(0, "utt_id", utts[dele["row"]])
        occ_summary = summarise_occlusion(occ, cfg.bootstrap, cfg.seed, smk.params.window_hz)
        del_summary = summarise_deletion(dele, cfg.bootstrap, cfg.seed)
        for _, r in occ_summary[occ_summary.headline].iterrows():
            log.info(
                "%s at +/- %g Hz: drop of log p, formant - control %.3f [%.3f, %.3f] "
                "(n = %d paired, %d with no control); band change %.1f dB, controls %.1f dB",
                r.formant,
                r.half_width_hz,
                r.drop_logp_diff,
                r.drop_logp_diff_low,
                r.drop_logp_diff_high,
                r.n_paired,
                r.n_no_control,
                r.delta_db_formant,
                r.delta_db_control,
            )
        headline = occ_summary[occ_summary.headline]  # the ceilings are compared at it
        summaries = {CONFIGURED: headline}
        for label in at_ceiling:
            if label not in rerun:
                summaries[label] = headline
                continue
            table = pd.DataFrame(by_ceiling[label])
            if len(table):
                table.insert(0, "utt_id", utts[table["row"]])
                table = summarise_occlusion(table, cfg.bootstrap, cfg.seed, smk.params.window_hz)
            summaries[label] = table
        ceilings = occlusion_ceilings(summaries, CONFIGURED, smk.params.window_hz)
        for (formant, hw), g in ceilings.groupby(["formant", "half_width_hz"]):
            log.info(
                "occlusion of %s at +/- %g Hz: the call holds at %d of %d ceilings (%s)",
                formant,
                hw,
                int(g.holds.sum()),
                len(g),
                ", ".join(f"{c} {k}" for c, k in zip(g.ceiling, g["call"], strict=True)),
            )
    else:
        occ_summary = del_summary = ceilings = pd.DataFrame()
    write_table(occ, smk.output.occlusion)
    write_table(occ_summary, smk.output.occlusion_summary)
    write_table(ceilings, smk.output.occlusion_ceilings)
    write_table(dele, smk.output.deletion)
    write_table(del_summary, smk.output.deletion_summary)
