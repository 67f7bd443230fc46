"""Test-set figures of a model: metrics, confusion matrix, per-class figures and predictions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from spectrocam.config import Section
from spectrocam.io import write_json, write_table
from spectrocam.model.metrics import classification_metrics, metric_intervals
from spectrocam.segments.store import STRING_FIELDS
from spectrocam.segments.tokens import TOKEN_SUBSETS

__all__ = [
    "PREDICTION_FIELDS",
    "EvaluationConfig",
    "token_subsets",
    "write_evaluation",
    "predicted_labels",
]

PREDICTION_FIELDS = (*STRING_FIELDS, "start_s", "end_s")


# the token subsets of spectrocam.segments.tokens.TOKEN_SUBSETS that the test figures are also
# given on
SUBSETS = ("words unseen in training", "stressed content words")


def token_subsets(segments: pd.DataFrame) -> dict[str, np.ndarray]:
    """Boolean masks over ``segments`` (a store's segment table with its splits,
    :func:`spectrocam.segments.store.segment_split_table`) of the :data:`SUBSETS` whose columns it
    has: ``words unseen in training`` (word types that no training token has: what a
    word-disjoint split keeps) and ``stressed content words`` (primary stress, not in
    :data:`spectrocam.segments.tokens.FUNCTION_WORDS`)."""
    out = {}
    for name in SUBSETS:
        columns, chosen = TOKEN_SUBSETS[name]
        if set(columns) <= set(segments.columns):
            out[name] = chosen(segments).to_numpy(bool)
    return out


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
    subsets: Mapping[str, np.ndarray] | None = None,
) -> dict:
    """Metrics (JSON), confusion matrix and per-class figures (CSV), predictions (TSV) of the
    test ``segments`` (store fields with ``label``), the ``predicted`` class indices (N,) and
    the model's softmax ``probabilities`` (N, C). ``metrics["intervals"]`` holds accuracy,
    macro-F1 and balanced accuracy with 95 % intervals from ``n_boot`` resamples of utterances;
    ``metrics["subsets"]`` the same figures on each of ``subsets`` (name -> boolean mask over
    the test segments, :func:`token_subsets`), with their n."""
    names = list(class_names)
    labels = segments["label"].to_numpy(int)
    predicted = np.asarray(predicted, dtype=int)
    metrics = classification_metrics(labels, predicted, names)
    metrics["intervals"] = metric_intervals(
        labels, predicted, names, segments["utt_id"].to_numpy(), n_boot, seed
    )
    utts = segments["utt_id"].to_numpy()
    metrics["subsets"] = {}
    for name, mask in (subsets or {}).items():
        mask = np.asarray(mask, dtype=bool)
        metrics["subsets"][name] = {
            "n": int(mask.sum()),
            "n_utterances": int(len(set(utts[mask]))),
            **(
                metric_intervals(labels[mask], predicted[mask], names, utts[mask], n_boot, seed)
                if mask.any()
                else {}
            ),
        }
    metrics["split"] = "test"
    metrics["model"] = {
        "arch": meta["arch"],
        "freq_stride": meta["freq_stride"],
        "time_stride": meta["time_stride"],
        "width": meta.get("width", 64),
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
