"""Stage 1, the corpus (rules in ``workflow/rules/corpus.smk``).

Reads a local copy in LJSpeech's layout (``metadata.csv``, ``wavs/<utt_id>.wav``), or downloads
the release (``resources/LJSpeech-1.1.tar.bz2``, checked by size and sha256) and extracts it
into ``resources/``. Writes ``results/<run>/corpus/clips.tsv`` (one row per usable clip: utt_id,
speaker, audio path, normalized text, sample rates, channels, samples, duration, bandwidth),
``rejects.tsv`` (utt_id, reason) and ``converted/`` (copies of the clips whose format or rate
had to be converted).

==========  ==============================================================================
module      what
==========  ==============================================================================
layout      reading and validating a corpus in LJSpeech's layout; audio loading, resampling
download    the resumable, verified download and the safe extraction of the archive
text        transcripts to the words an aligner looks up (ASCII, lower case, hyphens, apostrophes)
==========  ==============================================================================
"""
