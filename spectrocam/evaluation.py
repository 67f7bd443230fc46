"""Test-set figures of a model, from the predictions stored beside its CAMs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import h5py
import pandas as pd

from spectrocam.io import write_json, write_table
from spectrocam.metrics import classification_metrics

__all__ = ["write_evaluation"]


def _write_csv(table: pd.DataFrame, path: str | Path, index: bool) -> None:
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    table.to_csv(tmp, index=index)
    tmp.replace(path)


def write_evaluation(
    cams_path: str | Path,
    meta: Mapping,
    metrics_path: str | Path,
    confusion_path: str | Path,
    per_class_path: str | Path,
    predictions_path: str | Path,
) -> dict:
    """Metrics (JSON), confusion matrix and per-class figures (CSV), predictions (TSV)."""
    with h5py.File(cams_path, "r") as h5:
        names = list(h5["class_names"].asstr()[:])
        labels = h5["labels"][:].astype(int)
        predicted = h5["predicted"][:].astype(int)
        probs = h5["probabilities"][:]
        fields = {k: h5[k].asstr()[:] for k in ("utt_id", "word", "phone")}
        fields |= {k: h5[k][:] for k in ("start_s", "end_s")}
    metrics = classification_metrics(labels, predicted, names)
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
    predictions = pd.DataFrame(fields)
    predictions["true"] = [names[i] for i in labels]
    predictions["predicted"] = [names[i] for i in predicted]
    predictions["correct"] = labels == predicted
    for i, name in enumerate(names):
        predictions[f"p_{name}"] = probs[:, i]
    _write_csv(confusion, confusion_path, index=True)
    _write_csv(per_class, per_class_path, index=False)
    write_table(predictions, predictions_path)
    write_json(metrics, metrics_path)
    return metrics
