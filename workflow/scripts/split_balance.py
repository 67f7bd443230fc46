"""Rule split_balance: segments per split and class for one experiment (with the held-out
tokens a word-disjoint experiment drops, under ``dropped``)."""

import h5py

from spectrocam.io import read_text_table, write_table
from spectrocam.jobs import job
from spectrocam.segments.splits import class_balance
from spectrocam.segments.store import read_segment_table

smk = snakemake  # noqa: F821
with job(smk) as log:
    segments = read_segment_table(smk.input.segments)
    with h5py.File(smk.input.segments, "r") as h5:
        class_names = list(h5["class_names"].asstr()[:])
        words = str(h5.attrs.get("split_words", "shared"))
    splits = read_text_table(smk.input.splits)
    balance = class_balance(segments, splits, class_names, words)
    log.info(
        "split_words %s:\n%s",
        words,
        balance.pivot(index="split", columns="class_name", values="n_segments"),
    )
    write_table(balance, smk.output[0])
