import os

import pandas as pd

from spectrocam.align.mfa import corpus_words, prepare_mfa_corpus

from .conftest import MINI, require_shared


def test_mfa_corpus_has_lab_beside_each_wav(tmp_path):
    require_shared()
    clips = pd.DataFrame(
        {
            "utt_id": ["LJ001-0002", "LJ001-0003"],
            "audio_path": [str(MINI / "wavs/LJ001-0002.wav"), str(MINI / "wavs/LJ001-0003.wav")],
            "text": ["in being comparatively modern.", "For although the Chinese took"],
        }
    )
    out = tmp_path / "mfa" / "corpus"
    assert prepare_mfa_corpus(clips, out) == 2
    assert sorted(p.name for p in out.iterdir()) == [
        "LJ001-0002.lab",
        "LJ001-0002.wav",
        "LJ001-0003.lab",
        "LJ001-0003.wav",
    ]
    assert (out / "LJ001-0002.lab").read_text() == "in being comparatively modern\n"
    assert os.path.realpath(out / "LJ001-0003.wav") == str((MINI / "wavs/LJ001-0003.wav").resolve())
    assert corpus_words(clips) == sorted(
        {"in", "being", "comparatively", "modern", "for", "although", "the", "chinese", "took"}
    )
    # Built again from scratch (e.g. after an interrupted run), with no stale files left.
    (out / "stale.lab").write_text("x")
    prepare_mfa_corpus(clips.iloc[:1], out)
    assert sorted(p.name for p in out.iterdir()) == ["LJ001-0002.lab", "LJ001-0002.wav"]
