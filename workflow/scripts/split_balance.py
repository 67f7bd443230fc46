"""Rule split_balance: segments per split and class for one experiment."""

import h5py

from spectrocam.io import read_text_table, write_table
from spectrocam.jobs import job
from spectrocam.splits import class_balance
from spectrocam.store import read_segment_table

smk = snakemake  # noqa: F821
with job(smk) as log:
    segments = read_segment_table(smk.input.segments)
    with h5py.File(smk.input.segments, "r") as h5:
        class_names = list(h5["class_names"].asstr()[:])
    splits = read_text_table(smk.input.splits)
    balance = class_balance(segments, splits, class_names)
    log.info("\n%s", balance.pivot(index="split", columns="class_name", values="n_segments"))
    write_table(balance, smk.output[0])
