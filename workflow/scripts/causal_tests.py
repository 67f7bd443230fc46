"""Rule causal: band occlusion at the formants against matched control bands (several
half-widths, a local-floor fill), and deletion curves against random, energy and low-to-high
orders."""

import numpy as np
import pandas as pd

from spectrocam.causal import (
    CausalConfig,
    causal_segments,
    half_widths,
    map_deletion_orders,
    run_causal_tests,
    summarise_deletion,
    summarise_occlusion,
)
from spectrocam.device import autocast_dtype
from spectrocam.io import read_table, write_table
from spectrocam.jobs import job, trained_model
from spectrocam.maps import MapFile
from spectrocam.progress import bar
from spectrocam.store import SegmentReader

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
    with (
        SegmentReader(smk.input.segments) as reader,
        bar(len(chosen), "causal tests", "segment") as progress,
    ):
        occlusions, deletions = run_causal_tests(
            model,
            reader,
            chosen.segment_index.to_numpy(),
            chosen[["f1_hz", "f2_hz", "f3_hz"]].to_numpy(float),
            orders,
            cfg,
            widths,
            device,
            inference["eval_batch_size"],
            progress=progress.update,
            dtype=autocast_dtype(inference["precision"], device),
        )
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
    else:
        occ_summary = del_summary = pd.DataFrame()
    write_table(occ, smk.output.occlusion)
    write_table(occ_summary, smk.output.occlusion_summary)
    write_table(dele, smk.output.deletion)
    write_table(del_summary, smk.output.deletion_summary)
