"""Rule test_model: the kept model's predictions and metrics on the test split."""

import torch

from spectrocam.io import read_table
from spectrocam.jobs import job
from spectrocam.model.evaluation import token_subsets, write_evaluation
from spectrocam.model.inference import predict, trained_model
from spectrocam.segments.store import SegmentReader, segment_split_table

smk = snakemake  # noqa: F821
with job(smk) as log:
    model, meta, device, split = trained_model(smk)
    test = split["test"]
    if not len(test):
        raise ValueError(f"the test split of {smk.input.segments} has no segments")
    log.info("model of epoch %d (validation macro-F1 %.3f)", meta["epoch"], meta["val_macro_f1"])
    with SegmentReader(smk.input.segments) as reader:
        logits = predict(model, reader, test, smk.params.inference["eval_batch_size"], device)
        names = reader.class_names
    table = segment_split_table(smk.input.segments, read_table(smk.input.splits))
    subsets = {k: v[test] for k, v in token_subsets(table).items()}
    for name, mask in subsets.items():
        log.info("test tokens of %s: %d of %d", name, mask.sum(), len(test))
    write_evaluation(
        table.drop(columns=["split", "unseen_word"]).iloc[test],
        logits.argmax(1),
        torch.softmax(torch.from_numpy(logits), 1).numpy(),
        names,
        meta,
        metrics_path=smk.output.metrics,
        confusion_path=smk.output.confusion,
        per_class_path=smk.output.per_class,
        predictions_path=smk.output.predictions,
        n_boot=smk.params.evaluation["bootstrap"],
        seed=smk.params.evaluation["seed"],
        subsets=subsets,
    )
