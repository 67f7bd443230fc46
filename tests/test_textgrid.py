import pandas as pd
import pytest

from spectrocam.align.phone_table import phones_from_textgrids
from spectrocam.align.textgrid import Interval, TextGridError, read_textgrid, write_textgrid
from spectrocam.phones import strip_stress

from .conftest import MINI_MFA, require_shared

SHORT = '''File type = "ooTextFile"
Object class = "TextGrid"

0
1.5
<exists>
2
"IntervalTier"
"words"
0
1.5
2
0
0.5
"say ""hi"""
0.5
1.5
""
"IntervalTier"
"phones"
0
1.5
3
0
0.2
"S"
0.2
0.5
"EY1"
0.5
1.5
"sil"
'''


def test_short_format_and_quotes(tmp_path):
    path = tmp_path / "a.TextGrid"
    path.write_text(SHORT, encoding="utf-8")
    tiers = read_textgrid(path)
    assert tiers["words"][0] == Interval(0.0, 0.5, 'say "hi"')
    assert [iv.text for iv in tiers["phones"]] == ["S", "EY1", "sil"]


def test_round_trip(tmp_path):
    tiers = {
        "words": [Interval(0.1, 0.4, "in")],
        "phones": [Interval(0.1, 0.25, "IH1"), Interval(0.25, 0.4, "N")],
    }
    path = tmp_path / "b.TextGrid"
    write_textgrid(path, tiers, xmax=1.0)
    back = read_textgrid(path)
    assert [iv for iv in back["phones"] if iv.text] == tiers["phones"]
    assert back["phones"][0] == Interval(0.0, 0.1, "")  # gaps are filled
    assert back["words"][-1] == Interval(0.4, 1.0, "")


def test_not_a_textgrid(tmp_path):
    path = tmp_path / "c.TextGrid"
    path.write_text("hello", encoding="utf-8")
    with pytest.raises(TextGridError, match="not a Praat TextGrid"):
        read_textgrid(path)
    path.write_text(SHORT.replace('"S"\n0.2', '"S"\nx'), encoding="utf-8")
    with pytest.raises(TextGridError, match="malformed"):
        read_textgrid(path)


def test_reference_textgrids_to_phone_table():
    require_shared()
    clips = pd.DataFrame(
        {"utt_id": ["LJ001-0002", "LJ001-0042", "LJ999-0001"], "duration_s": [1.8995, 7.28, 1.0]}
    )
    phones, counts = phones_from_textgrids(MINI_MFA, clips)
    first = phones[phones.utt_id == "LJ001-0002"]
    assert list(first.phone[:4]) == ["IH1", "N", "B", "IY1"]
    assert list(first.word[:4]) == ["in", "in", "being", "being"]
    assert first.iloc[0].start_s == 0.0 and first.iloc[0].end_s == 0.08
    assert len(first) == 23  # 25 intervals less a trailing "sp" and ""
    assert counts.unaligned == {"LJ999-0001": "no TextGrid"}
    assert phones.end_s.max() <= 7.28  # LJ001-0042's interval past the clip is clipped
    assert all(strip_stress(p).isalpha() for p in phones.phone)
    assert counts.silences > 0 and counts.aligned_utterances == 2


def test_utf16_and_a_byte_order_mark_are_read(tmp_path):
    for encoding in ("utf-16", "utf-8-sig"):
        path = tmp_path / f"{encoding}.TextGrid"
        path.write_bytes(SHORT.encode(encoding))
        assert [iv.text for iv in read_textgrid(path)["phones"]] == ["S", "EY1", "sil"]
