"""Stages 3 and 4, what each token is (rules in ``workflow/rules/segments.smk`` and
``splits.smk``).

Reads ``alignment/<backend>/phones.tsv`` and ``corpus/clips.tsv``. Writes
``results/<run>/segments/<experiment>.h5`` (one HDF5 store per experiment: the fixed-size
log-power spectrogram window of every token, its label, row frequencies in Hz and frame times in
seconds; :mod:`spectrocam.segments.store`), ``formants/formants.tsv`` (F1-F3 in Hz of every vowel,
Praat's Burg method, and their Lobanov z-scores), ``formants/ceilings.tsv`` (the same at other
Praat ceilings), ``splits/splits.tsv`` (utt_id -> train, validation, test) and
``splits/<experiment>_balance.tsv``. Every table is keyed by ``phone_id``
(:mod:`spectrocam.keys`).

============  ==========================================================================
module        what
============  ==========================================================================
spectrogram   the log-power spectrogram (exact Hz per row, seconds per frame) and windows
build         an experiment's token selection and its store, built clip by clip
store         the HDF5 segment store: writer, readers, the split of every segment
splits        utterance (or chapter) splits, word-disjoint held-out tokens
tokens        token attributes (stress, function words, context) and the token subsets
formants      Praat Burg formants per vowel, per speaker's ceiling; Lobanov normalisation
============  ==========================================================================
"""
