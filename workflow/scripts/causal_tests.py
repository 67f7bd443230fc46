"""Rule causal: band occlusion at the formants against random bands, and deletion curves."""

import h5py
import numpy as np
import pandas as pd

from spectrocam.agreement import cam_profile, vowel_frames
from spectrocam.causal import (
    deletion_orders,
    run_causal_tests,
    summarise_deletion,
    summarise_occlusion,
    training_mean_spectrum,
)
from spectrocam.device import autocast_dtype
from spectrocam.io import read_table, write_table
from spectrocam.jobs import job, trained_model
from spectrocam.model import cell_index
from spectrocam.store import SegmentReader, read_segment_table

smk = snakemake  # noqa: F821
with job(smk) as log:
    cfg = smk.params.causal
    model, meta, device, split = trained_model(smk)
    train = split["train"]
    segments = read_segment_table(smk.input.segments)
    formants = read_table(smk.input.formants)
    key = ["utt_id", "start_s", "end_s"]
    with h5py.File(smk.input.maps, "r") as h5:
        methods = list(h5.attrs["methods"])
        index = h5["segment_index"][:]
        cells = {m: h5[m][:] for m in methods}
        strides = {
            m: (int(h5[m].attrs["freq_stride"]), int(h5[m].attrs["time_stride"])) for m in methods
        }
        freqs, times = h5["freqs_hz"][:], h5["times_s"][:]
    table = segments.iloc[index].reset_index(drop=True)
    table["map_row"] = np.arange(len(table))
    merged = table.assign(start_s=table.start_s.round(4), end_s=table.end_s.round(4)).merge(
        formants.assign(start_s=formants.start_s.round(4), end_s=formants.end_s.round(4))[
            [*key, "f1_hz", "f2_hz", "f3_hz"]
        ],
        on=key,
        how="inner",
    )
    merged = merged[merged[["f1_hz", "f2_hz", "f3_hz"]].notna().any(axis=1)]
    if cfg["max_segments"] and len(merged) > cfg["max_segments"]:
        merged = merged.sample(cfg["max_segments"], random_state=cfg["seed"]).sort_values("map_row")
    log.info("causal tests on %d test vowels with formants", len(merged))
    rng = np.random.default_rng(cfg["seed"])
    orders = []
    for _, row in merged.iterrows():
        frames = vowel_frames(times, row.window_centre_s, row.start_s, row.end_s)
        profiles = {}
        for m in methods:
            c = cells[m][row.map_row]
            rows_ = cell_index(len(freqs), c.shape[0], strides[m][0])
            cols = cell_index(len(times), c.shape[1], strides[m][1])
            profiles[m] = cam_profile(c[rows_][:, cols], frames)
        orders.append(deletion_orders(profiles, rng))
    with SegmentReader(smk.input.segments) as reader:
        mean = training_mean_spectrum(reader, train)
        store_index = index[merged.map_row.to_numpy()]
        occlusions, deletions = run_causal_tests(
            model,
            reader,
            store_index,
            merged[["f1_hz", "f2_hz", "f3_hz"]].to_numpy(float),
            orders,
            mean,
            smk.params.window_hz,
            cfg["random_bands"],
            cfg["deletion_steps"],
            cfg["seed"],
            device,
            smk.params.batch_size,
            progress=lambda k, n: log.info("causal tests: %d/%d", k, n) if k % 25 == 0 else None,
            dtype=autocast_dtype(smk.params.training["precision"], device),
        )
    utts = merged.utt_id.to_numpy()
    occ = pd.DataFrame(occlusions)
    dele = pd.DataFrame(deletions)
    if len(occ):
        occ.insert(0, "utt_id", utts[occ["row"]])
        dele.insert(0, "utt_id", utts[dele["row"]])
        occ_summary = summarise_occlusion(occ, cfg["bootstrap"], cfg["seed"])
        del_summary = summarise_deletion(dele, cfg["bootstrap"], cfg["seed"])
    else:
        occ_summary = del_summary = pd.DataFrame()
    write_table(occ, smk.output.occlusion)
    write_table(occ_summary, smk.output.occlusion_summary)
    write_table(dele, smk.output.deletion)
    write_table(del_summary, smk.output.deletion_summary)
