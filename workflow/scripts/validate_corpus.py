"""Rule validate_corpus: check every clip; write the clip table and the rejects table."""

from spectrocam.corpus.layout import read_clip_list, validate_corpus
from spectrocam.io import write_table
from spectrocam.jobs import job

smk = snakemake  # noqa: F821
with job(smk) as log:
    clip_ids = read_clip_list(smk.input.clip_list) if "clip_list" in smk.input.keys() else None
    clips, rejects = validate_corpus(
        smk.params.corpus_dir,
        smk.output.converted,
        sample_rate_hz=smk.params.sample_rate_hz,
        min_duration_s=smk.params.min_duration_s,
        clip_ids=clip_ids,
        corpus_name=smk.params.corpus_name,
    )
    write_table(rejects, smk.output.rejects)
    write_table(clips, smk.output.clips)
