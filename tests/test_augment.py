"""Training options: augmentation that keeps every row at its frequency, class weights and the
one-cycle schedule."""

import numpy as np
import pytest
import torch

from spectrocam.model.augment import augment, change_gain, shift_time
from spectrocam.model.optim import make_optimiser
from spectrocam.model.sampling import capped_epoch, class_weights

FLOOR = -100.0


def spectrograms(n=6, rows=12, frames=7, seed=0):
    """(n, 1, rows, frames) with every cell distinct, some cells at the floor."""
    rng = np.random.default_rng(seed)
    x = rng.permutation(n * rows * frames).reshape(n, 1, rows, frames) * 0.01 - 60.0
    x[:, :, :2, :] = FLOOR  # two silent rows
    x[0, :, :, :3] = FLOOR  # an isolated vowel's silent frames
    return torch.from_numpy(x.astype(np.float32))


def test_a_time_shift_moves_whole_frames_and_never_a_row():
    x = spectrograms()
    shifts = [-3, -1, 0, 1, 2, 6]
    y = shift_time(x, shifts)
    assert y.shape == x.shape
    n_frames = x.shape[-1]
    for i, s in enumerate(shifts):
        for j in range(n_frames):
            source = min(max(j - s, 0), n_frames - 1)  # edge frames repeat
            assert torch.equal(y[i, 0, :, j], x[i, 0, :, source])
    # every row keeps its own values: the frequency axis is untouched
    for i in range(len(x)):
        for r in range(x.shape[2]):
            assert set(y[i, 0, r].tolist()) <= set(x[i, 0, r].tolist())
    assert torch.equal(shift_time(x, [0] * len(x)), x)


def test_a_gain_adds_in_db_above_the_floor_and_leaves_the_floor_alone():
    x = spectrograms()
    gains = np.array([-6.0, -45.0, 0.0, 3.0, 6.0, 1.5])
    y = change_gain(x, gains, FLOOR)
    at_floor = x <= FLOOR
    assert torch.equal(y[at_floor], x[at_floor])
    expected = torch.clamp(x + torch.tensor(gains, dtype=x.dtype).view(-1, 1, 1, 1), min=FLOOR)
    assert torch.allclose(y[~at_floor], expected[~at_floor])
    assert (y >= FLOOR).all()
    # -45 dB pushes some of segment 1's cells onto the floor, none below
    assert (y[1][~at_floor[1]] == FLOOR).any()
    # the level changes, the shape along frequency does not: differences between rows of a
    # frame are kept wherever neither cell reaches the floor
    above = (x[3] > FLOOR) & (y[3] > FLOOR)
    assert torch.allclose((y[3] - x[3])[above], torch.tensor(3.0))


def test_augment_is_reproducible_and_off_by_default():
    x = spectrograms()
    assert augment(x, np.random.default_rng(0)) is x
    a = augment(x, np.random.default_rng(5), time_shift_frames=2, gain_db=6.0, floor_db=FLOOR)
    b = augment(x, np.random.default_rng(5), time_shift_frames=2, gain_db=6.0, floor_db=FLOOR)
    assert torch.equal(a, b) and not torch.equal(a, x)


def test_class_weights_balance_the_classes_and_average_one():
    labels = np.array([0] * 10 + [1] * 3 + [3] * 5)  # class 2 absent
    w = class_weights(labels, 4)
    assert w[2] == 0
    per_segment = w[labels]
    assert per_segment.sum() == pytest.approx(len(labels))  # the mean weight is 1
    for c in (0, 1, 3):  # each class present weighs n / k in all
        assert per_segment[labels == c].sum() == pytest.approx(len(labels) / 3)
    assert w[1] > w[3] > w[0]
    capped = class_weights(labels, 4, cap=4)  # an epoch of 4 + 3 + 4
    assert capped[[0, 1, 3]] == pytest.approx([11 / 12, 11 / 9, 11 / 12])


def test_a_capped_epoch_takes_every_segment_up_to_the_cap_per_class():
    labels = np.array([0] * 10 + [1] * 3 + [3] * 5)
    epoch = capped_epoch(labels, 4, np.random.default_rng(0))
    assert sorted(epoch) == list(range(len(labels)))  # no cap: every segment once
    epoch = capped_epoch(labels, 4, np.random.default_rng(0), cap=4)
    assert np.bincount(labels[epoch], minlength=4).tolist() == [4, 3, 0, 4]
    assert len(set(epoch)) == len(epoch)  # without replacement
    draws = {tuple(sorted(capped_epoch(labels, 4, np.random.default_rng(s), 4))) for s in range(5)}
    assert len(draws) > 1  # the big class's draw changes with the epoch's generator


def test_one_cycle_rises_to_the_stated_peak_and_anneals():
    model = torch.nn.Linear(3, 2)
    optimiser, scheduler = make_optimiser(model, 2e-3, "onecycle", epochs=5, steps_per_epoch=20)
    rates = []
    for _ in range(100):
        rates.append(optimiser.param_groups[0]["lr"])
        optimiser.step()
        scheduler.step()
    peak = int(np.argmax(rates))
    assert rates[peak] == pytest.approx(2e-3)
    assert peak == pytest.approx(30, abs=1)  # 30 % of the steps
    assert rates[0] == pytest.approx(2e-3 / 25)
    assert rates[-1] < 2e-3 / 1e4
    assert np.all(np.diff(rates[: peak + 1]) > 0) and np.all(np.diff(rates[peak:]) < 0)
    optimiser, scheduler = make_optimiser(model, 2e-3, "constant", 5, 20)
    assert scheduler is None and optimiser.param_groups[0]["lr"] == 2e-3
    with pytest.raises(ValueError, match="schedule"):
        make_optimiser(model, 2e-3, "cosine", 5, 20)
