"""Rule merge_pocketsphinx: one phone table and one summary from the shards."""

import json

import pandas as pd

from spectrocam.align.phone_table import merge_counts
from spectrocam.io import read_text_table, write_json, write_table
from spectrocam.jobs import job
from spectrocam.keys import add_phone_ids

smk = snakemake  # noqa: F821
with job(smk) as log:
    tables = [read_text_table(p) for p in smk.input.phones]
    # Shards hold whole clips, so their phone ids stay unique; this keeps the table sorted.
    phones = add_phone_ids(pd.concat(tables, ignore_index=True))
    summary = merge_counts([json.loads(open(p).read()) for p in smk.input.counts])
    summary["backend"] = "pocketsphinx"
    log.info("%d phones from %d clips", len(phones), summary["aligned_utterances"])
    write_json(summary, smk.output.summary)
    write_table(phones, smk.output.phones)
