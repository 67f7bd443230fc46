"""Rule test_model: test-set metrics and class activation maps, from the same forward passes."""

from spectrocam.cam import compute_test_cams
from spectrocam.evaluation import write_evaluation
from spectrocam.jobs import job, trained_model

smk = snakemake  # noqa: F821
with job(smk) as log:
    model, meta, device, split = trained_model(smk)
    test = split["test"]
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
