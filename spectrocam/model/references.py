"""Reference rows beside a network's test figures: what a classifier with no spectrogram does.

- *Majority*: every test segment called the training split's most frequent class.
- *Formants (LDA)*: Fisher's linear discriminant on the measured F1, F2, F3 and the duration
  (z-scored with the training split's means and sds; pooled within-class covariance; the
  training split's class frequencies as priors), fitted on the training split's vowels and
  scored on the test vowels whose four features are all defined. With several speakers it reads
  each speaker's Lobanov-normalised F1-F3 instead of Hz (:data:`LOBANOV_FEATURES`; the row's name
  says so), as a listener normalises a talker. For the vowel experiments only (every class a set
  of vowels): consonants have no formants.

Each row has accuracy, macro-F1 and balanced accuracy with 95 % intervals over utterances, and
its n; the network is scored again on the formant classifier's own tokens, so that the two are
compared on the same segments. If a formant classifier matches the network, the network's
accuracy says nothing that formants do not.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from spectrocam.keys import join
from spectrocam.model.metrics import classification_metrics, metric_intervals

__all__ = ["FEATURES", "LOBANOV_FEATURES", "FormantLDA", "formant_features", "reference_rows"]

FEATURES = ("f1_hz", "f2_hz", "f3_hz", "duration_s")
LOBANOV_FEATURES = ("f1_lobanov", "f2_lobanov", "f3_lobanov", "duration_s")


def formant_features(formants: pd.DataFrame) -> tuple[list[str], str]:
    """The LDA's features and its row's name: Hz for one speaker, Lobanov z-scores for several
    (a table without a ``speaker`` column is one speaker's)."""
    several = "speaker" in formants and formants["speaker"].nunique() > 1
    if several:
        return list(LOBANOV_FEATURES), "formants (LDA, Lobanov-normalised per speaker)"
    return list(FEATURES), "formants (LDA)"


class FormantLDA:
    """Linear discriminant analysis on a few measured features (numpy only)."""

    def fit(self, x: np.ndarray, y: np.ndarray, n_classes: int, ridge: float = 1e-6) -> FormantLDA:
        self.mean, self.sd = x.mean(0), x.std(0) + 1e-12
        z = (x - self.mean) / self.sd
        self.classes = [c for c in range(n_classes) if (y == c).any()]
        self.centroids = np.stack([z[y == c].mean(0) for c in self.classes])
        within = z - self.centroids[np.searchsorted(self.classes, y)]
        cov = within.T @ within / max(1, len(z) - len(self.classes))
        self.precision = np.linalg.inv(cov + ridge * np.eye(len(cov)))
        self.log_prior = np.log([np.mean(y == c) for c in self.classes])
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        z = (x - self.mean) / self.sd
        w = self.centroids @ self.precision  # (K, D)
        scores = z @ w.T - 0.5 * np.sum(w * self.centroids, axis=1) + self.log_prior
        return np.asarray(self.classes)[scores.argmax(1)]


def _row(name: str, labels, predicted, names, utts, n_boot: int, seed: int) -> dict:
    metrics = classification_metrics(labels, predicted, names)
    intervals = metric_intervals(labels, predicted, names, utts, n_boot, seed)
    return {"classifier": name, "n": metrics["n"], "n_utterances": int(len(set(utts)))} | {
        k: intervals[k] for k in ("accuracy", "macro_f1", "balanced_accuracy")
    }


def reference_rows(
    segments: pd.DataFrame,
    predictions: pd.DataFrame,
    formants: pd.DataFrame,
    class_names: Sequence[str],
    vowel_classes: bool,
    n_boot: int = 1000,
    seed: int = 0,
) -> list[dict]:
    """The network, the majority class and (``vowel_classes``) the formant LDA, each with its
    figures. ``segments``: the store's table with ``phone_id``, ``label``, ``utt_id`` and
    ``split``; ``predictions``: the network's test predictions (``phone_id``, ``predicted``)."""
    names = list(class_names)
    index = {c: i for i, c in enumerate(names)}
    train, test = segments[segments.split == "train"], segments[segments.split == "test"]
    test = join(test, predictions, ["predicted"])
    test = test.assign(predicted=test.predicted.map(index))
    rows = [
        _row("network", test.label, test.predicted, names, test.utt_id, n_boot, seed),
    ]
    majority = int(np.bincount(train.label, minlength=len(names)).argmax())
    rows.append(
        _row(
            f"majority ({names[majority]})",
            test.label,
            np.full(len(test), majority),
            names,
            test.utt_id,
            n_boot,
            seed,
        )
    )
    if not vowel_classes:
        return rows
    feats, name = formant_features(formants)
    fit = join(train, formants, feats).dropna(subset=feats)
    scored = join(test, formants, feats).dropna(subset=feats)
    lda = FormantLDA().fit(fit[feats].to_numpy(float), fit.label.to_numpy(), len(names))
    guess = lda.predict(scored[feats].to_numpy(float))
    rows.append(_row(name, scored.label, guess, names, scored.utt_id, n_boot, seed))
    rows.append(
        _row(
            "network on the LDA's tokens",
            scored.label,
            scored.predicted,
            names,
            scored.utt_id,
            n_boot,
            seed,
        )
    )
    return rows
