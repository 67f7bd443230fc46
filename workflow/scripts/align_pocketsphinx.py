"""Rule align_pocketsphinx: align one shard of the clips with pocketsphinx."""

from spectrocam.align.pocketsphinx_batch import align_clips
from spectrocam.io import read_text_table, write_json, write_table
from spectrocam.jobs import job

smk = snakemake  # noqa: F821
with job(smk) as log:
    clips = read_text_table(smk.input.clips)
    shard, n_shards = int(smk.wildcards.shard), smk.params.n_shards
    mine = clips.iloc[shard::n_shards]
    log.info("shard %d of %d: %d clips", shard, n_shards, len(mine))
    phones, counts = align_clips(mine, threads=smk.threads)
    write_json(counts.as_dict(), smk.output.counts)
    write_table(phones, smk.output.phones)
