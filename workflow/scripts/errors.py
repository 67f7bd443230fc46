"""Rule errors: misclassified test vowels, nearer the predicted class's formants or not."""

from spectrocam.evidence.errors import explain_errors
from spectrocam.io import read_table, read_text_table, write_json, write_table
from spectrocam.jobs import job
from spectrocam.segments.store import read_classes

smk = snakemake  # noqa: F821
with job(smk) as log:
    predictions = read_table(smk.input.predictions)
    formants = read_table(smk.input.formants)
    phones = read_text_table(smk.input.phones)
    splits = read_text_table(smk.input.splits)
    train_utts = set(splits.loc[splits.split == "train", "utt_id"])
    classes = read_classes(smk.input.segments)
    errors, summary = explain_errors(
        predictions, formants, phones, formants[formants.utt_id.isin(train_utts)], classes
    )
    log.info(
        "%d misclassified test vowels; %s nearer the predicted class's formants",
        summary["misclassified"],
        summary["explained_by_formants"],
    )
    write_table(errors, smk.output.table)
    write_json(summary, smk.output.summary)
