"""Rule causal: band occlusion at the formants against random bands, and deletion curves."""

import numpy as np
import pandas as pd

from spectrocam.causal import (
    CausalConfig,
    causal_segments,
    map_deletion_orders,
    run_causal_tests,
    summarise_deletion,
    summarise_occlusion,
    training_mean_spectrum,
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
    inference = smk.params.inference
    model, meta, device, split = trained_model(smk)
    maps = MapFile(smk.input.maps)
    chosen = causal_segments(maps, read_table(smk.input.formants), cfg.max_segments, cfg.seed)
    log.info("causal tests on %d test vowels with formants", len(chosen))
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
            training_mean_spectrum(reader, split["train"]),
            smk.params.window_hz,
            cfg.random_bands,
            cfg.deletion_steps,
            cfg.seed,
            device,
            inference["eval_batch_size"],
            progress=lambda k, n: progress.update(),
            dtype=autocast_dtype(inference["precision"], device),
        )
    occ, dele = pd.DataFrame(occlusions), pd.DataFrame(deletions)
    if len(occ):
        utts = chosen.utt_id.to_numpy()
        occ.insert(0, "utt_id", utts[occ["row"]])
        dele.insert(0, "utt_id", utts[dele["row"]])
        occ_summary = summarise_occlusion(occ, cfg.bootstrap, cfg.seed)
        del_summary = summarise_deletion(dele, cfg.bootstrap, cfg.seed)
    else:
        occ_summary = del_summary = pd.DataFrame()
    write_table(occ, smk.output.occlusion)
    write_table(occ_summary, smk.output.occlusion_summary)
    write_table(dele, smk.output.deletion)
    write_table(del_summary, smk.output.deletion_summary)
