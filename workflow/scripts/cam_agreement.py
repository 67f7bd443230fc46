"""Rule agreement: how much of each vowel's map lies on its formants, against chance and against
the formants of other vowels of its class (permutation null), for every method."""

import h5py
import numpy as np
import pandas as pd

from spectrocam.agreement import (
    cam_profile,
    permutation_null,
    segment_agreement,
    summarise_agreement,
    vowel_frames,
)
from spectrocam.cam import read_cams
from spectrocam.io import read_table, write_table
from spectrocam.jobs import job
from spectrocam.model import cell_index

smk = snakemake  # noqa: F821
with job(smk) as log:
    cfg = smk.params.agreement
    cams = read_cams(smk.input.cams)
    formants = read_table(smk.input.formants)
    n_rows, n_frames = len(cams["freqs_hz"]), len(cams["times_s"])
    method_maps = {}
    with h5py.File(smk.input.maps, "r") as h5:
        # The maps may cover a subset of the test segments (explain.max_per_class): rows of
        # the CAM file without a map are NaN and left out of that method's figures.
        row_of = {int(s): k for k, s in enumerate(cams["segment_index"])}
        rows = np.array([row_of[int(s)] for s in h5["segment_index"][:]], dtype=int)
        for m in h5.attrs["methods"]:
            ds = h5[m]
            cells = np.full((len(cams["segment_index"]), *ds.shape[1:]), np.nan, np.float32)
            cells[rows] = ds[:]
            method_maps[m] = {
                "cells": cells,
                "row_cell": cell_index(n_rows, ds.shape[1], int(ds.attrs["freq_stride"])),
                "frame_cell": cell_index(n_frames, ds.shape[2], int(ds.attrs["time_stride"])),
            }
    # CAM of the true and predicted class comes from the CAM file (every test segment).
    others = {m: v for m, v in method_maps.items() if m != "cam"}
    segments = segment_agreement(cams, formants, cfg["window_hz"], others)
    summary = summarise_agreement(segments, cfg["bootstrap"], cfg["seed"])
    # The permutation null: each vowel's own formants against those of other vowels of its
    # class, per method (true class's map).
    key = pd.DataFrame({"utt_id": cams["utt_id"], "start_s": np.round(cams["start_s"], 4)})
    f = formants.assign(start_s=formants.start_s.round(4))
    merged = key.merge(
        f[["utt_id", "start_s", "f1_hz", "f2_hz", "f3_hz"]], on=["utt_id", "start_s"], how="left"
    )
    fm = merged[["f1_hz", "f2_hz", "f3_hz"]].to_numpy(float)
    vowel = np.isfinite(fm).any(1)
    rows = []
    null_rows = []
    for m, entry in method_maps.items():
        profiles, used = [], []
        for i in np.flatnonzero(vowel):
            if np.isnan(entry["cells"][i]).all():
                continue
            used.append(i)
            frames = vowel_frames(
                cams["times_s"], cams["window_centre_s"][i], cams["start_s"][i], cams["end_s"][i]
            )
            grid = entry["cells"][i][entry["row_cell"]][:, entry["frame_cell"]]
            profiles.append(cam_profile(grid, frames))
        if not profiles:
            continue
        null = permutation_null(
            np.array(profiles),
            fm[used],
            cams["labels"][used],
            cams["freqs_hz"],
            cfg["window_hz"],
            cfg["permutations"],
            cfg["seed"],
        )
        null_rows += [{"method": m, "formant": k, **v} for k, v in null.items()]
    n = (
        int(((segments["cam"] == "true") & (segments["method"] == "cam")).sum())
        if len(segments)
        else 0
    )
    log.info("%d test segments are vowels with formants, of %d", n, len(cams["labels"]))
    write_table(segments, smk.output.segments)
    write_table(summary, smk.output.summary)
    write_table(pd.DataFrame(null_rows), smk.output.null)
