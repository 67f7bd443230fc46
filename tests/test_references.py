"""The formant-only reference classifier: what it reads for one speaker and for several."""

import numpy as np
import pandas as pd
import pytest

from spectrocam.model.references import FormantLDA, formant_features, reference_rows


def test_several_speakers_are_read_through_their_lobanov_formants():
    one = pd.DataFrame({"speaker": ["a", "a"], "f1_hz": [300.0, 700.0]})
    assert formant_features(one) == (["f1_hz", "f2_hz", "f3_hz", "duration_s"], "formants (LDA)")
    features, name = formant_features(one.assign(speaker=["a", "b"]))
    assert features[:3] == ["f1_lobanov", "f2_lobanov", "f3_lobanov"] and "Lobanov" in name


def test_with_two_speakers_the_lda_reads_the_normalised_formants():
    """Two speakers whose formants differ by a factor 1.4 (a vocal tract's scale); the Hz columns
    are then scrambled: only a classifier that reads the Lobanov columns can still be right."""
    rng = np.random.default_rng(0)
    rows = []
    for speaker, scale in (("short", 1.4), ("long", 1.0)):
        for label, (f1, f2) in enumerate(((300, 2300), (700, 1200))):
            for k in range(40):
                noise = rng.standard_normal(2) * (40, 100)
                f = scale * (np.array([f1, f2]) + noise)
                rows.append((f"{speaker}/{label}/{k}", speaker, label, *f))
    table = pd.DataFrame(rows, columns=["phone_id", "speaker", "label", "f1_hz", "f2_hz"])
    for col in ("f1", "f2"):
        z = table.groupby("speaker")[f"{col}_hz"].transform(lambda v: (v - v.mean()) / v.std())
        table[f"{col}_lobanov"] = z
    table = table.assign(f3_hz=2800.0, f3_lobanov=0.0, duration_s=0.1)
    table[["f1_hz", "f2_hz"]] = rng.permutation(table[["f1_hz", "f2_hz"]].to_numpy())
    table["utt_id"] = table.phone_id.str.rsplit("/", n=1).str[0]
    table["split"] = np.where(np.arange(len(table)) % 4 == 0, "test", "train")
    predictions = table[table.split == "test"][["phone_id"]].assign(predicted="IY")
    formants = table.drop(columns=["label", "split"])
    out = reference_rows(table, predictions, formants, ["IY", "AA"], True, n_boot=50)
    lda = next(r for r in out if r["classifier"].startswith("formants"))
    assert "Lobanov" in lda["classifier"] and lda["accuracy"][0] > 0.95
    x = table[["f1_hz", "f2_hz"]].to_numpy()
    hz = FormantLDA().fit(x, table.label.to_numpy(), 2)
    assert (hz.predict(x) == table.label.to_numpy()).mean() < 0.7  # the Hz say nothing now


def vowel_like(rng, n_per_class=(300, 160, 120, 90, 60)):
    """Five classes of (F1, F2, F3, duration) with a shared covariance and unequal priors."""
    means = np.array([[310, 2800, 3300, 0.08], [850, 2000, 2950, 0.11], [800, 1250, 2800, 0.12],
                      [600, 950, 2700, 0.12], [400, 1700, 2700, 0.09]])  # fmt: skip
    scale = np.array([70, 250, 200, 0.03])
    x = np.concatenate(
        [m + rng.standard_normal((n, 4)) * scale for m, n in zip(means, n_per_class, strict=True)]
    )
    y = np.repeat(np.arange(len(n_per_class)), n_per_class)
    return x, y


def test_the_formant_lda_predicts_as_scikit_learns():
    """scikit-learn's LinearDiscriminantAnalysis as the oracle, on the same training and test
    tokens: the same priors (the training frequencies) and pooled covariance; its covariance is
    divided by n where ours is divided by n - K, which can only move a near-tie."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    rng = np.random.default_rng(1)
    x, y = vowel_like(rng)
    test_x, test_y = vowel_like(rng, (100, 100, 100, 100, 100))
    ours = FormantLDA().fit(x, y, 5)
    theirs = LinearDiscriminantAnalysis(solver="lsqr").fit(x, y)
    a, b = ours.predict(test_x), theirs.predict(test_x)
    assert (a == b).mean() >= 0.995, (a != b).sum()
    # where they differ, the two best classes are within a hair of each other
    z = (test_x - ours.mean) / ours.sd
    w = ours.centroids @ ours.precision
    scores = np.sort(z @ w.T - 0.5 * np.sum(w * ours.centroids, axis=1) + ours.log_prior, axis=1)
    assert np.all(scores[a != b, -1] - scores[a != b, -2] < 0.05)
    assert (a == test_y).mean() == pytest.approx((b == test_y).mean(), abs=0.005)
    # a class absent from training is never predicted, as scikit-learn never does
    keep = y != 2
    assert 2 not in FormantLDA().fit(x[keep], y[keep], 5).predict(test_x)
