"""Rule test_model: test-set metrics and class activation maps, from the same forward passes."""

import pandas as pd

from spectrocam.cam import compute_test_cams
from spectrocam.evaluation import write_evaluation
from spectrocam.jobs import job
from spectrocam.model import load_model
from spectrocam.training import choose_device, split_indices

smk = snakemake  # noqa: F821
with job(smk) as log:
    device = choose_device(smk.params.training["device"], smk.threads)
    model, meta = load_model(smk.input.model, device)
    splits = pd.read_csv(smk.input.splits, sep="\t", keep_default_na=False)
    test = split_indices(smk.input.segments, splits)["test"]
    if not len(test):
        raise ValueError(f"the test split of {smk.input.segments} has no segments")
    log.info("model of epoch %d (validation macro-F1 %.3f)", meta["epoch"], meta["val_macro_f1"])
    result = compute_test_cams(
        model,
        smk.input.segments,
        test,
        smk.output.cams,
        device,
        batch_size=smk.params.training["eval_batch_size"],
        attrs={"experiment": smk.wildcards.experiment, "model_epoch": meta["epoch"]},
    )
    write_evaluation(
        smk.output.cams,
        meta,
        metrics_path=smk.output.metrics,
        confusion_path=smk.output.confusion,
        per_class_path=smk.output.per_class,
        predictions_path=smk.output.predictions,
    )
