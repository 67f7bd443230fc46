"""Rules phones_from_textgrids and mfa_phones: the phone table from a TextGrid directory."""

from spectrocam.align.phone_table import phones_from_textgrids
from spectrocam.io import read_text_table, write_json, write_table
from spectrocam.jobs import job

smk = snakemake  # noqa: F821
with job(smk) as log:
    clips = read_text_table(smk.input.clips)
    phones, counts = phones_from_textgrids(smk.input.textgrids, clips)
    summary = counts.as_dict()
    summary["backend"] = smk.config["alignment"]["backend"]
    log.info(
        "%d phones from %d of %d clips (%d unaligned, %d OOV words, %d silences)",
        summary["phones"],
        summary["aligned_utterances"],
        summary["utterances"],
        summary["unaligned_utterances"],
        summary["oov_words"],
        summary["silences"],
    )
    write_json(summary, smk.output.summary)
    write_table(phones, smk.output.phones)
