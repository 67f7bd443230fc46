"""Training: class-balanced epochs, outputs, checkpoints and resuming."""

import dataclasses
import json
import logging
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import torch

from spectrocam.io import write_table
from spectrocam.model.inference import predict
from spectrocam.model.network import load_model
from spectrocam.model.sampling import balanced_epoch, shuffled_labels
from spectrocam.model.training import TrainConfig, train
from spectrocam.segments.store import (
    MemorySegments,
    SegmentReader,
    SegmentStoreWriter,
    split_indices,
)

N_ROWS, N_FRAMES = 64, 21
SPLITS = ("train", "validation", "test")


def write_store(path, n_per_class=(24, 12), seed=0):
    """Two classes told apart by where their band of energy lies; one utterance per segment."""
    rng = np.random.default_rng(seed)
    labels = np.concatenate([np.full(n, c) for c, n in enumerate(n_per_class)])
    spectra = rng.normal(-60, 3, size=(len(labels), N_ROWS, N_FRAMES)).astype(np.float32)
    for i, c in enumerate(labels):
        lo = 8 if c == 0 else 40
        spectra[i, lo : lo + 8] += 30
    n = len(labels)
    ids = [f"LJ001-{i:04d}" for i in range(n)]
    with SegmentStoreWriter(
        path,
        n,
        np.arange(N_ROWS) * 20.0,
        np.arange(N_FRAMES) * 0.005,
        ["low", "high"],
        attrs={"experiment": "toy"},
    ) as writer:
        writer.write(
            spectra,
            labels,
            {
                "phone_id": [f"{u}/0" for u in ids],
                "utt_id": ids,
                "word": ["w"] * n,
                "phone": ["AA"] * n,
                "start_s": np.zeros(n),
                "end_s": np.full(n, 0.1),
                "window_centre_s": np.full(n, 0.05),
            },
        )
    split = np.array(["train", "validation", "test"])[np.arange(n) % 3]
    return pd.DataFrame({"utt_id": ids, "chapter": "LJ001", "split": split}), labels


def config(**changes):
    base = dict(
        arch="resnet18",
        weights="scratch",
        epochs=2,
        batch_size=8,
        lr=1e-3,
        samples_per_class=None,
        eval_batch_size=16,
    )
    return TrainConfig(**(base | changes))


def run(tmp_path, cfg, splits, name="run"):
    return train(
        cfg,
        tmp_path / "toy.h5",
        splits,
        tmp_path / name / "checkpoint",
        tmp_path / name / "best.pt",
        tmp_path / name / "history.tsv",
    )


def test_balanced_epoch_draws_the_same_number_per_class():
    labels = np.array([0] * 10 + [1] * 3 + [2] * 5)
    rng = np.random.default_rng(0)
    epoch = balanced_epoch(labels, 3, rng)
    assert np.bincount(labels[epoch]).tolist() == [3, 3, 3]
    assert len(set(epoch)) == 9  # without replacement at the smallest class's size
    epoch = balanced_epoch(labels, 3, rng, per_class=4)
    assert np.bincount(labels[epoch]).tolist() == [4, 4, 4]
    # a new generator state draws another subset of the big class
    assert set(balanced_epoch(labels, 3, np.random.default_rng(1))) != set(
        balanced_epoch(labels, 3, np.random.default_rng(2))
    )


def test_train_writes_model_history_and_uses_validation_only(tmp_path):
    splits, labels = write_store(tmp_path / "toy.h5")
    idx = split_indices(tmp_path / "toy.h5", splits)
    assert {k: len(v) for k, v in idx.items()} == {"train": 12, "validation": 12, "test": 12}
    result = run(tmp_path, config(epochs=3), splits)
    history = pd.read_csv(tmp_path / "run/history.tsv", sep="\t")
    assert list(history.epoch) == [1, 2, 3]
    # balanced: 4 segments of each class per epoch (the smaller class has 4 training segments)
    assert (history.train_segments == 8).all()
    best_epoch = result["best"]["epoch"]
    assert history.set_index("epoch").loc[best_epoch, "val_macro_f1"] == history.val_macro_f1.max()
    model, meta = load_model(tmp_path / "run/best.pt")
    assert meta["class_names"] == ["low", "high"] and meta["epoch"] == best_epoch
    assert float(model.input_mean) < -40  # standardised with the training data's mean
    from spectrocam.segments.store import SegmentReader

    with SegmentReader(tmp_path / "toy.h5") as reader:
        logits = predict(model, reader, idx["validation"], 16, torch.device("cpu"))
    assert logits.shape == (12, 2)


# The train rule's script (workflow/scripts/train.py) as a process: its call of train() with the
# splits read as the rule reads them.
TRAIN_JOB = """
import json, logging, sys
logging.basicConfig(level=logging.INFO)
from spectrocam.io import read_text_table
from spectrocam.model.training import TrainConfig, train
cfg, store, splits, out = json.loads(sys.argv[1]), *sys.argv[2:]
train(TrainConfig(**cfg), store, read_text_table(splits), f"{out}/checkpoint", f"{out}/best.pt",
      f"{out}/history.tsv")
"""


def train_job(tmp_path, cfg, name) -> list[str]:
    args = json.dumps(dataclasses.asdict(cfg))
    out = tmp_path / name
    return [sys.executable, "-c", TRAIN_JOB, args, str(tmp_path / "toy.h5"),
            str(tmp_path / "splits.tsv"), str(out)]  # fmt: skip


def weights(path) -> dict[str, torch.Tensor]:
    return torch.load(path, weights_only=False)["model"]


def test_a_job_killed_after_its_first_epoch_resumes_to_the_uninterrupted_result(tmp_path):
    """The training job is killed (SIGKILL) once its first epoch's checkpoint is written, then
    started again as the workflow starts it: the final model and every figure of the epoch log
    are those of a job that was never interrupted."""
    splits, _ = write_store(tmp_path / "toy.h5")
    write_table(splits, tmp_path / "splits.tsv")
    cfg = config(epochs=4)
    whole = subprocess.run(train_job(tmp_path, cfg, "whole"), capture_output=True, text=True)
    assert whole.returncode == 0, whole.stderr[-3000:]
    checkpoint = tmp_path / "killed/checkpoint/last.pt"
    job = subprocess.Popen(train_job(tmp_path, cfg, "killed"), stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not checkpoint.exists() and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    job.kill()
    job.wait()
    saved = torch.load(checkpoint, weights_only=False)
    assert 1 <= saved["epoch"] < 4, "the job was not killed before its last epoch"
    assert not (tmp_path / "killed/history.tsv").exists()
    resumed = subprocess.run(train_job(tmp_path, cfg, "killed"), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resuming from the checkpoint of epoch {saved['epoch']}/4" in resumed.stderr
    a, b = weights(tmp_path / "whole/best.pt"), weights(tmp_path / "killed/best.pt")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    last = weights(tmp_path / "whole/checkpoint/last.pt")
    again = weights(tmp_path / "killed/checkpoint/last.pt")
    assert all(torch.equal(last[k], again[k]) for k in last)
    history = [pd.read_csv(tmp_path / f"{n}/history.tsv", sep="\t") for n in ("whole", "killed")]
    assert list(history[1].epoch) == [1, 2, 3, 4]
    # the epochs before the kill are the killed job's own (their timings too): not redone
    before = pd.DataFrame(saved["history"])
    pd.testing.assert_frame_equal(history[1].iloc[: len(before)], before, check_dtype=False)
    pd.testing.assert_frame_equal(history[0].drop(columns="seconds"),
                                  history[1].drop(columns="seconds"))  # fmt: skip


def test_resume_continues_when_only_the_epochs_grew(tmp_path):
    splits, _ = write_store(tmp_path / "toy.h5")
    run(tmp_path, config(epochs=1), splits)
    first = pd.read_csv(tmp_path / "run/history.tsv", sep="\t")
    run(tmp_path, config(epochs=3), splits)
    history = pd.read_csv(tmp_path / "run/history.tsv", sep="\t")
    assert list(history.epoch) == [1, 2, 3]
    pd.testing.assert_series_equal(history.iloc[0], first.iloc[0], check_names=False)
    run(tmp_path, config(epochs=3), splits, "straight")
    straight = pd.read_csv(tmp_path / "straight/history.tsv", sep="\t")
    pd.testing.assert_frame_equal(history.drop(columns="seconds"),
                                  straight.drop(columns="seconds"))  # fmt: skip


def test_other_settings_start_over(tmp_path):
    """A checkpoint of another learning rate is not continued: the run is the one that a fresh
    job with the new rate gives (a continued one would have kept the first run's epoch)."""
    splits, _ = write_store(tmp_path / "toy.h5")
    run(tmp_path, config(epochs=1), splits)
    before = weights(tmp_path / "run/best.pt")
    run(tmp_path, config(epochs=1, lr=5e-4), splits)
    run(tmp_path, config(epochs=1, lr=5e-4), splits, "fresh")
    after, fresh = weights(tmp_path / "run/best.pt"), weights(tmp_path / "fresh/best.pt")
    assert all(torch.equal(after[k], fresh[k]) for k in after)
    assert not all(torch.equal(after[k], before[k]) for k in after)


def test_a_class_missing_from_training_is_an_error(tmp_path):
    splits, labels = write_store(tmp_path / "toy.h5")
    splits.loc[labels == 1, "split"] = "test"
    with pytest.raises(ValueError, match="no training segments of class"):
        run(tmp_path, config(), splits)


def test_validation_can_be_capped_to_a_fixed_subset(tmp_path):
    """With max_validation 5 every epoch is scored on the same 5 validation segments, the seeded
    subset: the best model's loss on those 5 (predicted here) is the epoch log's, and not its
    loss on all 12."""
    splits, labels = write_store(tmp_path / "toy.h5")
    run(tmp_path, config(epochs=1, max_validation=5), splits)
    validation = split_indices(tmp_path / "toy.h5", splits)["validation"]
    chosen = np.sort(np.random.default_rng([0, 1]).choice(validation, 5, replace=False))
    history = pd.read_csv(tmp_path / "run/history.tsv", sep="\t").iloc[0]
    model, _ = load_model(tmp_path / "run/best.pt")
    loss = {}
    with SegmentReader(tmp_path / "toy.h5") as reader:
        for name, idx in (("chosen", chosen), ("all", validation)):
            logits = torch.from_numpy(predict(model, reader, idx, 16, torch.device("cpu")))
            target = torch.from_numpy(labels[idx].astype(np.int64))
            loss[name] = float(torch.nn.functional.cross_entropy(logits, target))
    assert history.val_loss == pytest.approx(loss["chosen"], rel=1e-4)
    assert history.val_loss != pytest.approx(loss["all"], rel=1e-3)
    assert (history.val_accuracy * 5) == pytest.approx(round(history.val_accuracy * 5))


def test_shuffled_labels_keep_counts_per_split_and_leave_test_alone():
    labels = np.repeat([0, 1, 2], 40)
    idx = {s: np.arange(120)[np.arange(120) % 3 == k] for k, s in enumerate(SPLITS)}
    out = shuffled_labels(labels, idx, seed=0)
    for split in ("train", "validation"):
        assert np.array_equal(np.sort(out[idx[split]]), np.sort(labels[idx[split]]))
        assert (out[idx[split]] != labels[idx[split]]).mean() > 0.4  # most segments move
    assert np.array_equal(out[idx["test"]], labels[idx["test"]])
    assert not np.array_equal(out, shuffled_labels(labels, idx, seed=1))


def test_memory_segments_batch_like_the_store(tmp_path):
    write_store(tmp_path / "toy.h5")
    with SegmentReader(tmp_path / "toy.h5") as reader:
        memory = MemorySegments(reader, [3, 1, 7, 5], labels=np.zeros(len(reader.labels)))
        wanted = np.array([7, 1, 7])
        assert torch.equal(memory.batch(wanted), reader.batch(wanted))
        assert memory.data.dtype == torch.from_numpy(reader.data[:1]).dtype  # as stored
        assert not memory.labels.any()
        with pytest.raises(IndexError, match="not loaded"):
            memory.batch([0])


def test_a_model_trained_on_shuffled_labels_learns_nothing_of_the_classes(tmp_path):
    """On two classes told apart by one band, the true labels are fitted at once (losses near 0).
    With the train and validation labels permuted, no model of the classes can do better than
    chance: its training loss stays high and its validation loss stays at or above the entropy
    of a coin (0.69 nats; 0.67 at the 40/60 association a permutation of 20 may leave). Its
    test accuracy on the true labels is not a measure of that: a two-class model must choose a
    side, and which one it chooses follows the association its permutation left and the
    arithmetic (it scored 0.0 on one CPU and 1.0 with oneDNN limited to AVX2)."""
    splits, labels = write_store(tmp_path / "toy.h5", n_per_class=(30, 30))
    cfg = config(epochs=3)
    run(tmp_path, cfg, splits, "true")
    train(
        cfg,
        tmp_path / "toy.h5",
        splits,
        tmp_path / "shuffled" / "checkpoint",
        tmp_path / "shuffled" / "best.pt",
        tmp_path / "shuffled" / "history.tsv",
        shuffle_labels=True,
    )
    test = split_indices(tmp_path / "toy.h5", splits)["test"]
    with SegmentReader(tmp_path / "toy.h5") as reader:
        model, _ = load_model(tmp_path / "true" / "best.pt")
        logits = predict(model, reader, test, 16, torch.device("cpu"))
    assert float((logits.argmax(1) == labels[test]).mean()) >= 0.9  # the band is easy to learn
    true = pd.read_csv(tmp_path / "true" / "history.tsv", sep="\t")
    shuffled = pd.read_csv(tmp_path / "shuffled" / "history.tsv", sep="\t")
    assert true.train_loss.iloc[-1] < 0.05 and true.val_loss.min() < 0.05
    assert shuffled.train_loss.iloc[-1] > 0.4  # it cannot fit labels that carry no class
    assert shuffled.val_loss.min() > 0.6


def test_weighted_balance_trains_on_every_segment_each_epoch(tmp_path):
    splits, _ = write_store(tmp_path / "toy.h5")  # 8 + 4 training segments
    run(tmp_path, config(epochs=2, balance="weighted"), splits)
    history = pd.read_csv(tmp_path / "run/history.tsv", sep="\t")
    assert (history.train_segments == 12).all()
    run(tmp_path, config(epochs=1, balance="weighted", samples_per_class=5), splits, "capped")
    history = pd.read_csv(tmp_path / "capped/history.tsv", sep="\t")
    assert (history.train_segments == 5 + 4).all()


def test_a_one_cycle_run_killed_after_an_epoch_resumes_exactly(tmp_path, monkeypatch):
    """The schedule, the augmentation draws and the narrow model come back from the checkpoint:
    an interrupted run ends with the weights of one that was not."""
    from spectrocam.model import training

    splits, _ = write_store(tmp_path / "toy.h5")
    cfg = config(epochs=3, schedule="onecycle", width=8, time_shift_frames=2, gain_db=3.0, lr=3e-3)
    run(tmp_path, cfg, splits, "whole")
    validate = training._validate

    def killed_in_epoch_2(run_, model, epoch):
        if epoch == 2:
            raise KeyboardInterrupt
        return validate(run_, model, epoch)

    monkeypatch.setattr(training, "_validate", killed_in_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, cfg, splits, "killed")
    monkeypatch.setattr(training, "_validate", validate)
    run(tmp_path, cfg, splits, "killed")
    whole, killed = (
        torch.load(tmp_path / name / "checkpoint/last.pt", weights_only=False)
        for name in ("whole", "killed")
    )
    assert killed["scheduler"]["last_epoch"] == whole["scheduler"]["last_epoch"] > 0
    for key, value in whole["model"].items():
        assert torch.equal(value, killed["model"][key]), key


def test_a_one_cycle_run_with_more_epochs_starts_over(tmp_path, caplog):
    splits, _ = write_store(tmp_path / "toy.h5")
    run(tmp_path, config(epochs=1, schedule="onecycle"), splits)
    with caplog.at_level(logging.INFO, logger="spectrocam.model.training"):
        run(tmp_path, config(epochs=2, schedule="onecycle"), splits)
    assert "made with other settings: starting over" in caplog.text
