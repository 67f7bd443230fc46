"""Rule mfa_cmudict_dictionary: an MFA dictionary from CMUdict for the corpus's words."""

from spectrocam.align.lexicon import write_mfa_dictionary
from spectrocam.align.mfa import corpus_words
from spectrocam.io import read_text_table
from spectrocam.jobs import job

smk = snakemake  # noqa: F821
with job(smk) as log:
    clips = read_text_table(smk.input.clips)
    words = corpus_words(clips)
    oov = write_mfa_dictionary(words, smk.output.dictionary)
    with open(smk.output.oov, "w", encoding="utf-8") as fh:
        fh.writelines(f"{w}\n" for w in oov)
    log.info("%d words, %d not in CMUdict (MFA aligns them as <unk>)", len(words), len(oov))
