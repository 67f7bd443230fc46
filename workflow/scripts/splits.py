"""Rule splits: the train/validation/test table, shared by all experiments."""

from spectrocam.io import read_text_table, write_json, write_table
from spectrocam.jobs import job
from spectrocam.segments.splits import SplitConfig, assign_splits

smk = snakemake  # noqa: F821
with job(smk) as log:
    cfg = SplitConfig.from_config(smk.params.splits)
    clips = read_text_table(smk.input.clips)
    table, unit = assign_splits(
        clips["utt_id"],
        cfg.fractions,
        cfg.seed,
        cfg.group_by,
        cfg.min_chapters,
        speakers=dict(zip(clips["utt_id"], clips["speaker"], strict=True)),
        min_speakers=cfg.min_speakers,
    )
    counts = table["split"].value_counts().to_dict()
    summary = {
        "unit": unit,
        "seed": cfg.seed,
        "fractions": dict(cfg.fractions),
        "utterances": counts,
        "chapters": table[table.chapter != ""].groupby("split")["chapter"].nunique().to_dict(),
        "speakers": table.groupby("split")["speaker"].nunique().to_dict(),
    }
    log.info("split by %s: %s", unit, counts)
    write_json(summary, smk.output.summary)
    write_table(table, smk.output.table)
