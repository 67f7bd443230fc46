import pandas as pd
import pytest

from spectrocam.segments.splits import assign_splits, class_balance

FRACTIONS = {"train": 0.7, "validation": 0.15, "test": 0.15}
FULL = [f"LJ{c:03d}-{i:04d}" for c in range(1, 51) for i in range(1, 100 + 7 * c)]


def test_full_corpus_keeps_chapters_whole():
    table, unit = assign_splits(FULL, FRACTIONS, seed=3)
    assert unit == "chapter"
    assert table.groupby("chapter")["split"].nunique().max() == 1
    shares = table["split"].value_counts(normalize=True)
    for split, target in FRACTIONS.items():
        assert abs(shares[split] - target) < 0.05
    again, _ = assign_splits(list(reversed(FULL)), FRACTIONS, seed=3)
    pd.testing.assert_frame_equal(table, again)  # deterministic, order-free
    other, _ = assign_splits(FULL, FRACTIONS, seed=4)
    assert not table["split"].equals(other["split"])


def test_few_chapters_split_by_utterance():
    ids = [f"LJ001-{i:04d}" for i in range(186)] + [f"LJ002-{i:04d}" for i in range(199)]
    table, unit = assign_splits(ids, FRACTIONS)
    assert unit == "utterance"
    assert table["utt_id"].is_unique
    counts = table["split"].value_counts()
    assert counts["train"] == pytest.approx(0.7 * len(ids), abs=2)
    with pytest.raises(ValueError, match="too few"):
        assign_splits(["LJ001-0001", "LJ002-0001"], FRACTIONS, group_by="chapter")


def test_class_balance_counts_every_segment():
    splits = pd.DataFrame(
        {"utt_id": ["a", "b", "c"], "chapter": ["x"] * 3, "split": ["train", "train", "test"]}
    )
    segments = pd.DataFrame(
        {"utt_id": ["a", "a", "b", "c", "d"], "class_name": ["IY", "UW", "IY", "UW", "IY"]}
    )
    balance = class_balance(segments, splits, ["IY", "UW", "AE"])
    got = balance.set_index(["split", "class_name"])["n_segments"]
    assert got["train", "IY"] == 2 and got["train", "UW"] == 1 and got["train", "AE"] == 0
    assert got["test", "UW"] == 1 and got["unassigned", "IY"] == 1
    assert balance["n_segments"].sum() == len(segments)


def test_many_speakers_are_each_kept_on_one_side():
    ids = [f"S{s:02d}_{i:03d}" for s in range(12) for i in range(20 + s)]
    speakers = {u: u.split("_")[0] for u in ids}
    table, unit = assign_splits(ids, FRACTIONS, seed=1, speakers=speakers)
    assert unit == "speaker"
    assert table.groupby("speaker")["split"].nunique().max() == 1
    assert set(table["split"]) == set(FRACTIONS)
    assert (table["chapter"] == "").all()  # these ids have no chapter


def test_two_speakers_are_split_on_their_own_so_every_split_holds_both():
    ids = [f"LJ001-{i:04d}" for i in range(60)] + [f"LJ001-{i:04d}b" for i in range(40)]
    speakers = {u: "copy" if u.endswith("b") else "original" for u in ids}
    table, unit = assign_splits(ids, FRACTIONS, speakers=speakers)
    assert unit == "utterance"
    per_speaker = table.groupby(["speaker", "split"]).size().unstack()
    assert (per_speaker > 0).all().all()  # each speaker in every split
    assert per_speaker.loc["original", "train"] == pytest.approx(0.7 * 60, abs=1)
    assert per_speaker.loc["copy", "test"] == pytest.approx(0.15 * 40, abs=1)
    with pytest.raises(ValueError, match="too few"):
        assign_splits(ids, FRACTIONS, group_by="speaker", speakers=speakers)


def test_ids_without_a_chapter_are_never_split_by_chapter():
    ids = [f"clip{i}" for i in range(30)]
    table, unit = assign_splits(ids, FRACTIONS, min_chapters=3)
    assert unit == "utterance"
    with pytest.raises(ValueError, match="no chapter"):
        assign_splits(ids, FRACTIONS, group_by="chapter")


def test_a_word_disjoint_split_drops_held_out_tokens_of_training_words():
    from spectrocam.segments.splits import segment_splits, shared_word_types

    splits = pd.DataFrame({"utt_id": ["a", "b", "c"], "split": ["train", "validation", "test"]})
    segments = pd.DataFrame(
        {
            "utt_id": ["a", "a", "b", "b", "c", "c", "c", "d"],
            "word": ["The", "cat", "the", "dog", "cat", "bird", "", "fish"],
            "class_name": ["IY", "AE", "IY", "AO", "AE", "ER", "IY", "IH"],
        }
    )
    shared = segment_splits(segments, splits)
    assert list(shared) == ["train"] * 2 + ["validation"] * 2 + ["test"] * 3 + ["unassigned"]
    assert shared_word_types(segments, shared) == {"validation": {"the"}, "test": {"cat"}}
    disjoint = segment_splits(segments, splits, "disjoint")
    assert list(disjoint) == [
        "train", "train", "dropped", "validation", "dropped", "test", "dropped", "unassigned"
    ]  # fmt: skip
    assert shared_word_types(segments, disjoint) == {"validation": set(), "test": set()}
    balance = class_balance(segments, splits, ["IY", "AE", "AO", "ER", "IH"], "disjoint")
    got = balance.set_index(["split", "class_name"])["n_segments"]
    assert got["dropped", "IY"] == 2 and got["dropped", "AE"] == 1
    assert balance["n_segments"].sum() == len(segments)
    with pytest.raises(ValueError, match="shared or disjoint"):
        segment_splits(segments, splits, "unseen")


def test_the_demo_split_made_word_disjoint_shares_no_word_type(tmp_path):
    """The demo's 391 clips, their reference MFA alignment, the demo's split settings and
    vowels_4k's classes: the utterance split shares word types between train and test; the
    word-disjoint split shares none, and the store's split_indices applies it."""
    import numpy as np
    import soundfile as sf

    from spectrocam.align.phone_table import phones_from_textgrids
    from spectrocam.segments.build import Experiment, select_segments
    from spectrocam.segments.splits import segment_splits, shared_word_types
    from spectrocam.segments.store import SegmentStoreWriter, split_indices

    from .conftest import MINI, MINI_MFA, REPO, require_shared

    require_shared()
    lines = (REPO / "config" / "demo_clips.txt").read_text().splitlines()
    ids = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    durations = [sf.info(MINI / "wavs" / f"{u}.wav").duration for u in ids]
    phones, _ = phones_from_textgrids(
        MINI_MFA, pd.DataFrame({"utt_id": ids, "duration_s": durations})
    )
    table, unit = assign_splits(ids, FRACTIONS, seed=0)
    assert unit == "utterance" and len(table) == len(ids) == 391
    vowels = {v: [v] for v in ("IY", "AE", "AA", "AO", "UW")}
    exp = Experiment("vowels_4k", vowels, 0, 4000, split_words="disjoint")
    segments = select_segments(phones, exp)
    shared = segment_splits(segments, table)
    assert len(shared_word_types(segments, shared)["test"]) > 20  # "the", "and", ...
    disjoint = segment_splits(segments, table, "disjoint")
    assert shared_word_types(segments, disjoint) == {"validation": set(), "test": set()}
    n_test = int((shared == "test").sum())
    kept = int((disjoint == "test").sum())
    assert 0 < kept < n_test / 2  # most test tokens are of words also read in training
    assert ((disjoint == "train") == (shared == "train")).all()  # training keeps every token
    # the store carries split_words and split_indices applies it
    n = len(segments)
    store = tmp_path / "v.h5"
    attrs = {"split_words": "disjoint"}
    with SegmentStoreWriter(
        store, n, np.arange(2.0), np.arange(3.0), list(vowels), attrs=attrs
    ) as w:
        w.write(
            np.zeros((n, 2, 3)),
            segments["label"].to_numpy(),
            {k: segments[k].to_numpy() for k in ("phone_id", "utt_id", "word", "phone")}
            | {k: segments[k].to_numpy() for k in ("start_s", "end_s")}
            | {"window_centre_s": segments["start_s"].to_numpy()},
        )
    idx = split_indices(store, table)
    assert len(idx["test"]) == kept and len(idx["train"]) == int((shared == "train").sum())
    test_words = set(segments.word.iloc[idx["test"]].str.lower())
    assert not test_words & set(segments.word.iloc[idx["train"]].str.lower())


def test_unseen_words_are_the_held_out_tokens_a_disjoint_split_keeps(tmp_path):
    import numpy as np

    from spectrocam.io import read_json
    from spectrocam.model.evaluation import token_subsets, write_evaluation
    from spectrocam.segments.splits import segment_splits, unseen_words

    segments = pd.DataFrame(
        {
            "utt_id": ["a", "a", "b", "b", "c", "c"],
            "word": ["The", "cat", "the", "dog", "", "Cat"],
            "phone_id": [f"x/{k}" for k in range(6)],
            "stress": [0, 1, 0, 1, 1, 1],
            "function_word": [1, 0, 1, 0, 0, 0],
            "label": [0, 1, 0, 1, 1, 1],
        }
    )
    splits = pd.DataFrame({"utt_id": ["a", "b", "c"], "split": ["train", "test", "test"]})
    split = segment_splits(segments, splits)
    unseen = unseen_words(segments, split)
    # "the" and "Cat" were heard in training, the empty word is no word: only "dog"
    assert unseen.tolist() == [False, False, False, True, False, False]
    kept = segment_splits(segments, splits, "disjoint")
    assert kept.tolist() == ["train", "train", "dropped", "test", "dropped", "dropped"]
    subsets = token_subsets(segments.assign(unseen_word=unseen))
    assert subsets["stressed content words"].tolist() == [False, True, False, True, True, True]
    test = np.flatnonzero(split == "test")
    out = tmp_path / "m.json"
    write_evaluation(
        segments.iloc[test].assign(start_s=0.0, end_s=0.1, phone="AE"),
        np.array([0, 0, 1, 1]),  # wrong on "dog"
        np.full((4, 2), 0.5),
        ["a", "b"],
        {"arch": "r", "freq_stride": 1, "time_stride": 1, "epoch": 1, "val_macro_f1": 0,
         "val_accuracy": 0},
        out, tmp_path / "c.csv", tmp_path / "p.csv", tmp_path / "pred.tsv",
        n_boot=20,
        subsets={k: v[test] for k, v in subsets.items()},
    )  # fmt: skip
    metrics = read_json(out)
    unseen_m = metrics["subsets"]["words unseen in training"]
    assert unseen_m["n"] == 1 and unseen_m["accuracy"][0] == 0.0
    assert metrics["subsets"]["stressed content words"]["n"] == 3
    assert metrics["accuracy"] == 0.75
