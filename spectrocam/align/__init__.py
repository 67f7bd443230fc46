"""Stage 2, phone-level forced alignment (rules in ``workflow/rules/alignment.smk``).

Reads ``corpus/clips.tsv`` and the clips' audio. Writes, whatever the backend (pocketsphinx, the
Montreal Forced Aligner, existing TextGrids), the same table,
``results/<run>/alignment/<backend>/phones.tsv`` (phone_id, utt_id, word, phone, start_s,
end_s), and ``summary.json`` (aligned and unaligned clips, silences, OOV words); with reference
TextGrids, ``agreement.json`` and ``agreement.txt`` (boundary errors against them).

=================  =====================================================================
module             what
=================  =====================================================================
phone_table        the aligner-independent phone table; phones from TextGrid tiers
textgrid           reading and writing Praat TextGrids (praatio)
pocketsphinx_clip  one clip aligned by pocketsphinx (pronunciations, timing correction)
pocketsphinx_batch a table of clips aligned in worker processes
lexicon            pronunciations of words CMUdict lacks
mfa                MFA's corpus layout (wav links beside .lab transcripts)
evaluate           boundary agreement of two alignments of the same clips
=================  =====================================================================
"""
