"""Rule splits: the train/validation/test table, shared by all experiments."""

import pandas as pd

from spectrocam.io import write_json, write_table
from spectrocam.jobs import job
from spectrocam.splits import assign_splits

smk = snakemake  # noqa: F821
with job(smk) as log:
    cfg = smk.params.splits
    clips = pd.read_csv(smk.input.clips, sep="\t", keep_default_na=False)
    table, unit = assign_splits(
        clips["utt_id"], cfg["fractions"], cfg["seed"], cfg["group_by"], cfg["min_chapters"]
    )
    counts = table["split"].value_counts().to_dict()
    summary = {
        "unit": unit,
        "seed": cfg["seed"],
        "fractions": cfg["fractions"],
        "utterances": counts,
        "chapters": table.groupby("split")["chapter"].nunique().to_dict(),
    }
    log.info("split by %s: %s", unit, counts)
    write_json(summary, smk.output.summary)
    write_table(table, smk.output.table)
