"""Test-set figures of a model: metrics, confusion matrix, per-class figures and predictions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from spectrocam.config import Section
from spectrocam.io import write_json, write_table
from spectrocam.metrics import classification_metrics, metric_intervals
from spectrocam.store import STRING_FIELDS

__all__ = ["PREDICTION_FIELDS", "EvaluationConfig", "write_evaluation", "predicted_labels"]

PREDICTION_FIELDS = (*STRING_FIELDS, "start_s", "end_s")


def write_evaluation(
    segments: pd.DataFrame,
    predicted: np.ndarray,
    probabilities: np.ndarray,
    class_names: Sequence[str],
    meta: Mapping,
    metrics_path: str | Path,
    confusion_path: str | Path,
    per_class_path: str | Path,
    predictions_path: str | Path,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict:
    """Metrics (JSON), confusion matrix and per-class figures (CSV), predictions (TSV) of the
    test ``segments`` (store fields with ``label``), the ``predicted`` class indices (N,) and
    the model's softmax ``probabilities`` (N, C). ``metrics["intervals"]`` holds accuracy,
    macro-F1 and balanced accuracy with 95 % intervals from ``n_boot`` resamples of utterances."""
    names = list(class_names)
    labels = segments["label"].to_numpy(int)
    predicted = np.asarray(predicted, dtype=int)
    metrics = classification_metrics(labels, predicted, names)
    metrics["intervals"] = metric_intervals(
        labels, predicted, names, segments["utt_id"].to_numpy(), n_boot, seed
    )
    metrics["split"] = "test"
    metrics["model"] = {
        "arch": meta["arch"],
        "freq_stride": meta["freq_stride"],
        "time_stride": meta["time_stride"],
        "precision": meta.get("precision", "float32"),
        "epoch": meta["epoch"],
        "val_macro_f1": meta["val_macro_f1"],
        "val_accuracy": meta["val_accuracy"],
    }
    confusion = pd.DataFrame(
        metrics["confusion"],
        index=pd.Index(names, name="true \\ predicted"),
        columns=names,
    )
    per_class = pd.DataFrame(metrics["per_class"]).T.rename_axis("class_name").reset_index()
    predictions = segments[list(PREDICTION_FIELDS)].reset_index(drop=True)
    predictions["true"] = [names[i] for i in labels]
    predictions["predicted"] = [names[i] for i in predicted]
    predictions["correct"] = labels == predicted
    for i, name in enumerate(names):
        predictions[f"p_{name}"] = probabilities[:, i]
    write_table(confusion, confusion_path, sep=",", index=True)
    write_table(per_class, per_class_path, sep=",")
    write_table(predictions, predictions_path)
    write_json(metrics, metrics_path)
    return metrics


def predicted_labels(
    predictions: pd.DataFrame, class_names: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """From a predictions table: the predicted class indices (N,) and probabilities (N, C)."""
    index = {name: i for i, name in enumerate(class_names)}
    predicted = predictions["predicted"].map(index).to_numpy(int)
    probs = predictions[[f"p_{name}" for name in class_names]].to_numpy(np.float32)
    return predicted, probs


@dataclass(frozen=True)
class EvaluationConfig(Section):
    """The ``evaluation`` section."""

    SECTIONS = ("evaluation",)

    bootstrap: int = 1000
    seed: int = 0
