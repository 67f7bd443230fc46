"""Rule train: one of an experiment's models (a seed, or the shuffled-labels check),
resumable from its last epoch's checkpoint."""

from spectrocam.io import read_text_table
from spectrocam.jobs import job
from spectrocam.model.training import TrainConfig, train

smk = snakemake  # noqa: F821
with job(smk) as log:
    cfg = TrainConfig.from_config(smk.params.training)
    train(
        cfg,
        smk.input.segments,
        read_text_table(smk.input.splits),
        checkpoint_dir=smk.params.checkpoint_dir,
        best_path=smk.output.model,
        history_path=smk.output.history,
        threads=cfg.threads,  # training.threads, not the scheduler's: the figures depend on it
        weights_path=smk.input.get("weights"),
        meta={"experiment": smk.wildcards.experiment, "model": smk.wildcards.model},
        shuffle_labels=smk.params.shuffle_labels,
    )
