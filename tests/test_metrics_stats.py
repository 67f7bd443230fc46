"""Classification metrics, the utterance bootstrap and the cluster sign-flip test, on cases whose
answers are known."""

import itertools
import math

import numpy as np
import pytest

from spectrocam.model.metrics import classification_metrics, confusion_matrix
from spectrocam.stats import cluster_bootstrap_ci, cluster_sign_flip, holm


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


def exact_sign_flip_p(values, clusters) -> float:
    """The sign-flip p-value by brute force: every one of the 2^U sign vectors, one at a time."""
    labels = sorted(set(clusters))
    sums = [sum(v for v, c in zip(values, clusters, strict=True) if c == k) for k in labels]
    observed = abs(sum(sums))
    hits = 0
    for signs in itertools.product([1, -1], repeat=len(labels)):
        hits += abs(sum(s * x for s, x in zip(signs, sums, strict=True))) >= observed - 1e-12
    return hits / 2 ** len(labels)


def test_sign_flip_matches_the_enumeration_of_all_flips():
    rng = np.random.default_rng(3)
    clusters = np.repeat(np.arange(10), rng.integers(1, 6, 10))  # clusters of 1 to 5 values
    values = rng.normal(0.4, 1.0, len(clusters))
    reference = exact_sign_flip_p(values.tolist(), clusters.tolist())
    mean, p = cluster_sign_flip(values, clusters, exact=True)
    assert mean == pytest.approx(values.mean())
    assert p == pytest.approx(reference, abs=1e-12)
    assert 0.01 < reference < 0.5  # a case where the answer is neither 1 nor the floor
    _, p_mc = cluster_sign_flip(values, clusters, n_flips=40000, seed=1, exact=False)
    assert p_mc == pytest.approx(reference, abs=0.01)  # Monte-Carlo error ~0.002
    # by default a small family is enumerated, a large one drawn
    assert cluster_sign_flip(values, clusters, n_flips=2000)[1] == pytest.approx(reference)
    _, p_small = cluster_sign_flip(values, clusters, n_flips=500, seed=2)
    assert p_small != pytest.approx(reference) and p_small == pytest.approx(reference, abs=0.05)


def test_sign_flip_flips_clusters_not_values():
    # 9 utterances of 10 identical values: 6 at +1, 3 at -1. Over clusters |T*| >= |T| for
    # 2 * (1 + 9 + 36 + 84) = 260 of the 512 flips; as 90 independent values T is 3 SE from 0.
    values = np.repeat([1.0] * 6 + [-1.0] * 3, 10)
    clusters = np.repeat(np.arange(9), 10)
    _, p_cluster = cluster_sign_flip(values, clusters, n_flips=10000)
    assert p_cluster == pytest.approx(260 / 512)
    _, p_token = cluster_sign_flip(values, None, n_flips=10000, seed=0)
    assert p_token < 0.01 < 0.5 < p_cluster


def test_sign_flip_of_zeros_is_one_and_of_nothing_is_nan():
    assert cluster_sign_flip(np.zeros(30), np.repeat(np.arange(10), 3)) == (0.0, 1.0)
    assert cluster_sign_flip(np.zeros(30), np.arange(30), n_flips=99, seed=0) == (0.0, 1.0)
    assert all(math.isnan(v) for v in cluster_sign_flip([np.nan, np.nan], ["a", "b"]))
    assert cluster_sign_flip([1.0, np.nan, 1.0], ["a", "b", "c"]) == (1.0, 0.5)


def test_sign_flip_keeps_its_level_when_values_of_a_cluster_are_correlated():
    # under the null (cluster effects symmetric about 0), p < 0.05 about 5 % of the time
    rng = np.random.default_rng(0)
    clusters = np.repeat(np.arange(20), 4)
    rejected = 0
    for trial in range(300):
        values = np.repeat(rng.normal(0, 1, 20), 4) + rng.normal(0, 0.1, 80)
        rejected += cluster_sign_flip(values, clusters, n_flips=499, seed=trial)[1] < 0.05
    assert 0.02 <= rejected / 300 <= 0.09


def test_the_metrics_agree_with_scikit_learns():
    """scikit-learn as the oracle of accuracy, macro-F1 (over the classes that occur), balanced
    accuracy, per-class precision and recall, and the confusion matrix."""
    from sklearn import metrics as sk

    rng = np.random.default_rng(3)
    for trial in range(30):
        n_classes = int(rng.integers(2, 6))
        y_true = rng.integers(0, n_classes, int(rng.integers(5, 80)))
        y_pred = np.where(
            rng.random(len(y_true)) < 0.6, y_true, rng.integers(0, n_classes, len(y_true))
        )
        names = [f"c{k}" for k in range(n_classes + trial % 2)]  # sometimes a class never seen
        m = classification_metrics(y_true, y_pred, names)
        present = sorted(set(y_true))
        labels = list(range(len(names)))
        assert m["accuracy"] == pytest.approx(sk.accuracy_score(y_true, y_pred))
        assert m["macro_f1"] == pytest.approx(
            sk.f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)
        )
        assert m["balanced_accuracy"] == pytest.approx(
            np.mean(sk.recall_score(y_true, y_pred, labels=present, average=None))
        )
        assert m["confusion"] == sk.confusion_matrix(y_true, y_pred, labels=labels).tolist()
        recall = sk.recall_score(y_true, y_pred, labels=present, average=None)
        for k, r in zip(present, recall, strict=True):
            assert m["per_class"][names[k]]["recall"] == pytest.approx(r)


def step_down(p):
    """Holm's adjustment written out (the oracle): sorted p times (m - rank), running maximum."""
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    order = finite[np.argsort(p[finite], kind="stable")]
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p[i]))
        out[i] = running
    return out


def test_holm_is_statsmodels_with_nan_left_out():
    rng = np.random.default_rng(4)
    for _ in range(200):
        p = rng.uniform(0, 1, int(rng.integers(1, 40))) ** rng.uniform(0.2, 5)
        p[rng.random(len(p)) < 0.15] = np.nan
        p[rng.random(len(p)) < 0.2] = p[0]  # ties
        assert np.array_equal(holm(p), step_down(p), equal_nan=True)
    assert np.isnan(holm([np.nan, np.nan])).all() and holm([]).shape == (0,)
