"""The formant-only reference classifier: what it reads for one speaker and for several."""

import numpy as np
import pandas as pd

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


def test_the_formant_lda_is_scikit_learns():
    """Against scikit-learn's LinearDiscriminantAnalysis (an independent implementation: pooled
    within-class covariance, the training frequencies as priors): the same calls on new tokens,
    for classes of unequal sizes and unequal, correlated features (F1-F3 in Hz, duration in s)."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    rng = np.random.default_rng(1)
    means = np.array([[300, 2300, 3000, 0.08], [700, 1200, 2600, 0.12], [450, 1700, 2500, 0.1]])
    cov = np.diag([60.0, 250.0, 200.0, 0.03]) ** 2
    cov[0, 1] = cov[1, 0] = -0.4 * 60 * 250
    sizes = (120, 60, 30)
    x = np.vstack([rng.multivariate_normal(m, cov, n) for m, n in zip(means, sizes, strict=True)])
    y = np.repeat([0, 2, 3], sizes)  # label 1 has no training token
    new = np.vstack([rng.multivariate_normal(m, 2 * cov, 200) for m in means])
    ours = FormantLDA().fit(x, y, 4).predict(new)
    theirs = LinearDiscriminantAnalysis(solver="lsqr").fit(x, y).predict(new)
    assert set(ours) == {0, 2, 3}
    assert (ours == theirs).mean() == 1.0
    # and not because every call is the same: the three classes are all called
    assert min(np.bincount(ours)[[0, 2, 3]]) > 100
