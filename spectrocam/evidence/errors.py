"""Misclassified vowels: are their measured formants nearer the predicted class than the true one?

A share of errors "explained" means little without its base rates, which the summary gives beside
it: the share of errors for which a wrong class drawn at random lies nearer than the true class,
and the same share among the correctly classified vowels. Each class's F1 and F2 distribution is
summarised by the mean and standard deviation of its
training-split vowels. A test vowel's distance to a class is the Euclidean distance of its
(F1, F2), z-scored with that class's own mean and sd. A misclassification is *explained by
acoustics* when the vowel lies nearer (in these units) to the predicted class than to its true
class. The rest are listed with what a listener needs: clip id and times, duration, the
neighbouring phones and the probability the model gave.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from spectrocam.keys import join
from spectrocam.phones import strip_stress

__all__ = ["class_formant_stats", "formant_distances", "neighbours", "explain_errors"]


def class_formant_stats(formants: pd.DataFrame, classes: dict[str, list[str]]) -> pd.DataFrame:
    """Per class (of single- or multi-vowel classes): n, mean and sd of F1 and F2."""
    vowel = formants["phone"].astype(str).map(strip_stress)
    rows = []
    for name, phones in classes.items():
        g = formants[vowel.isin(phones)].dropna(subset=["f1_hz", "f2_hz"])
        if len(g) < 2:
            continue
        rows.append(
            {
                "class_name": name,
                "n": len(g),
                "f1_mean": g.f1_hz.mean(),
                "f1_sd": g.f1_hz.std(),
                "f2_mean": g.f2_hz.mean(),
                "f2_sd": g.f2_hz.std(),
            }
        )
    return pd.DataFrame(rows).set_index("class_name")


def formant_distances(f1: np.ndarray, f2: np.ndarray, stats: pd.DataFrame, cls) -> np.ndarray:
    """z-scored (F1, F2) distance of each token to the class ``cls[i]``; NaN when unknown."""
    out = np.full(len(f1), np.nan)
    for i, c in enumerate(cls):
        if c in stats.index:
            s = stats.loc[c]
            out[i] = np.hypot((f1[i] - s.f1_mean) / s.f1_sd, (f2[i] - s.f2_mean) / s.f2_sd)
    return out


def neighbours(phones: pd.DataFrame) -> pd.DataFrame:
    """The phone table with the previous and next phone of each phone in its clip."""
    table = phones.sort_values(["utt_id", "start_s"], kind="stable").copy()
    by_clip = table.groupby("utt_id")["phone"]
    table["previous"] = by_clip.shift(1).fillna("")
    table["next"] = by_clip.shift(-1).fillna("")
    return table


def random_wrong_share(table: pd.DataFrame, stats: pd.DataFrame) -> tuple[float, int]:
    """The base rate of "nearer another class": per token, the share of the classes other than
    its true one that lie nearer (z-scored F1, F2) than the true class, averaged over tokens
    (the expectation for a wrong class drawn at random). Returns ``(share, n tokens)``."""
    f1, f2 = table.f1_hz.to_numpy(float), table.f2_hz.to_numpy(float)
    true = table["true"].to_numpy()
    d_true = formant_distances(f1, f2, stats, true)
    shares = []
    for i, cls in enumerate(true):
        others = [c for c in stats.index if c != cls]
        if not np.isfinite(d_true[i]) or not others:
            continue
        d = formant_distances(
            np.full(len(others), f1[i]), np.full(len(others), f2[i]), stats, others
        )
        if np.isfinite(d).all():
            shares.append(float(np.mean(d < d_true[i])))
    return (float(np.mean(shares)) if shares else float("nan")), len(shares)


def explain_errors(
    predictions: pd.DataFrame,
    formants: pd.DataFrame,
    phones: pd.DataFrame,
    train_formants: pd.DataFrame,
    classes: dict[str, list[str]],
) -> tuple[pd.DataFrame, dict]:
    """The misclassified test vowels with their formant distances, and a summary.

    ``predictions`` has ``phone_id, utt_id, start_s, end_s, phone, true, predicted, correct`` and
    ``p_<class>``; ``train_formants`` are the formants of the training split's vowels.
    """
    stats = class_formant_stats(train_formants, classes)
    table = join(predictions, formants, ["f1_hz", "f2_hz", "f3_hz", "duration_s"])
    table = join(table, neighbours(phones), ["previous", "next"], how="left")
    errors = table[~table["correct"].astype(bool)].copy()
    f1, f2 = errors.f1_hz.to_numpy(float), errors.f2_hz.to_numpy(float)
    errors["z_distance_true"] = formant_distances(f1, f2, stats, errors["true"].to_numpy())
    errors["z_distance_predicted"] = formant_distances(
        f1, f2, stats, errors["predicted"].to_numpy()
    )
    known = errors.z_distance_true.notna() & errors.z_distance_predicted.notna()
    errors["explained_by_formants"] = np.where(
        known, errors.z_distance_predicted < errors.z_distance_true, np.nan
    )
    errors["p_predicted"] = [row[f"p_{row['predicted']}"] for _, row in errors.iterrows()]
    errors["p_true"] = [row[f"p_{row['true']}"] for _, row in errors.iterrows()]
    columns = [
        "phone_id",
        "utt_id",
        "start_s",
        "end_s",
        "duration_s",
        "phone",
        "previous",
        "next",
        "word",
        "true",
        "predicted",
        "p_true",
        "p_predicted",
        "f1_hz",
        "f2_hz",
        "f3_hz",
        "z_distance_true",
        "z_distance_predicted",
        "explained_by_formants",
    ]
    errors = errors[[c for c in columns if c in errors.columns]].sort_values(
        ["explained_by_formants", "utt_id", "start_s"], na_position="last"
    )
    n_known = int(known.sum())
    explained = int((errors.explained_by_formants == 1).sum())
    wrong_share, n_wrong = random_wrong_share(errors, stats)
    correct_share, n_correct = random_wrong_share(table[table["correct"].astype(bool)], stats)
    summary = {
        "test_vowels_with_formants": len(table),
        "misclassified": len(errors),
        "with_distances": n_known,
        "explained_by_formants": explained,
        "share_explained": explained / n_known if n_known else None,
        # base rates: the same share for a wrong class drawn at random, among the errors and
        # among the correctly classified vowels
        "errors_nearer_a_random_wrong_class": wrong_share,
        "errors_with_base_rate": n_wrong,
        "correct_nearer_a_random_wrong_class": correct_share,
        "correct_with_base_rate": n_correct,
        "class_stats": stats.reset_index().to_dict(orient="records"),
    }
    return errors.reset_index(drop=True), summary
