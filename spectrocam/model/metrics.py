"""Classification metrics from true and predicted labels (no scikit-learn needed)."""

from __future__ import annotations

import numpy as np

__all__ = ["confusion_matrix", "classification_metrics", "metric_intervals"]


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """(C, C) counts: row = true class, column = predicted class."""
    y_true = np.asarray(y_true, dtype=int)
    y_pred = np.asarray(y_pred, dtype=int)
    matrix = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def classification_metrics(y_true, y_pred, class_names: list[str]) -> dict:
    """Accuracy, macro-F1, balanced accuracy, per-class precision/recall/F1/support, confusion.

    A class without true segments has recall NaN (not 0) and is left out of the macro means; a
    class never predicted has precision NaN. F1 is 0 when precision and recall are both 0.
    """
    n = len(class_names)
    matrix = confusion_matrix(y_true, y_pred, n)
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    tp = np.diag(matrix).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(support > 0, tp / support, np.nan)
        precision = np.where(predicted > 0, tp / predicted, np.nan)
        p0, r0 = np.nan_to_num(precision), np.nan_to_num(recall)
        f1 = np.where(support > 0, np.where(p0 + r0 > 0, 2 * p0 * r0 / (p0 + r0), 0.0), np.nan)
    present = support > 0
    total = int(matrix.sum())
    return {
        "n": total,
        "accuracy": float(tp.sum() / total) if total else float("nan"),
        "macro_f1": float(np.mean(f1[present])) if present.any() else float("nan"),
        "balanced_accuracy": float(np.mean(recall[present])) if present.any() else float("nan"),
        "class_names": list(class_names),
        "per_class": {
            name: {
                "support": int(support[i]),
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
            }
            for i, name in enumerate(class_names)
        },
        "confusion": matrix.tolist(),
    }


def metric_intervals(
    y_true, y_pred, class_names: list[str], clusters, n_boot: int = 1000, seed: int = 0
) -> dict[str, list[float]]:
    """Accuracy, macro-F1 and balanced accuracy as ``[value, low, high]``: 95 % percentile
    intervals from resampling ``clusters`` (the utterances) with replacement."""
    from spectrocam.stats import cluster_bootstrap

    y_true, y_pred = np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)
    out = {}
    for key in ("accuracy", "macro_f1", "balanced_accuracy"):

        def statistic(idx, key=key):
            return classification_metrics(y_true[idx], y_pred[idx], class_names)[key]

        out[key] = list(cluster_bootstrap(statistic, clusters, n_boot, seed=seed))
    return out
