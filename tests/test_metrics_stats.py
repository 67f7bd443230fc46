"""Classification metrics and the utterance bootstrap, on cases whose answers are known."""

import math

import numpy as np
import pytest

from spectrocam.model.metrics import classification_metrics, confusion_matrix
from spectrocam.stats import cluster_bootstrap_ci


def test_confusion_and_metrics_by_hand():
    y_true = [0, 0, 0, 1, 1, 2]
    y_pred = [0, 0, 1, 1, 2, 2]
    assert confusion_matrix(y_true, y_pred, 3).tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    m = classification_metrics(y_true, y_pred, ["a", "b", "c"])
    assert m["n"] == 6 and m["accuracy"] == pytest.approx(4 / 6)
    assert m["per_class"]["a"]["recall"] == pytest.approx(2 / 3)
    assert m["per_class"]["b"]["precision"] == pytest.approx(1 / 2)
    # F1: a = 2*(1*2/3)/(1+2/3) = 0.8, b = 0.5, c = 2*(0.5*1)/(1.5) = 2/3
    assert m["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert m["balanced_accuracy"] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)


def test_absent_class_is_nan_not_zero():
    m = classification_metrics([0, 0, 1], [0, 1, 1], ["a", "b", "c"])
    assert math.isnan(m["per_class"]["c"]["recall"])
    assert math.isnan(m["per_class"]["c"]["precision"])
    assert m["per_class"]["c"]["support"] == 0
    # macro-F1 over the classes that occur: a = 2/3, b = 2/3
    assert m["macro_f1"] == pytest.approx(2 / 3)


def test_bootstrap_of_constant_values_is_that_constant():
    assert cluster_bootstrap_ci([2.0] * 10, list("aabbccddee"), n_boot=200) == (2.0, 2.0, 2.0)


def test_bootstrap_mean_weights_segments_and_skips_nan():
    mean, low, high = cluster_bootstrap_ci([1.0, 3.0, np.nan, 5.0], ["u", "u", "v", "w"])
    assert mean == pytest.approx(3.0)
    assert low <= mean <= high


def test_bootstrap_interval_covers_the_true_mean_at_about_95_percent():
    rng = np.random.default_rng(1)
    hits = 0
    for trial in range(200):
        values = rng.normal(10.0, 2.0, size=60)
        _, low, high = cluster_bootstrap_ci(values, n_boot=500, seed=trial)
        hits += low <= 10.0 <= high
    assert 0.88 <= hits / 200 <= 0.99


def test_bootstrap_resamples_utterances_not_segments():
    # Two utterances, each with 50 identical segments: the interval must reflect 2 clusters
    # (wide), not 100 independent values (narrow).
    values = [0.0] * 50 + [1.0] * 50
    clusters = ["a"] * 50 + ["b"] * 50
    _, low, high = cluster_bootstrap_ci(values, clusters, n_boot=1000)
    assert low == 0.0 and high == 1.0
    _, low_iid, high_iid = cluster_bootstrap_ci(values, n_boot=1000)
    assert high_iid - low_iid < 0.3


def test_bootstrap_of_nothing_is_nan():
    assert all(math.isnan(v) for v in cluster_bootstrap_ci([np.nan, np.nan]))
