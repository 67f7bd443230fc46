"""Rule maps: the map file of the test segments: CAM of the true and the predicted class of every
segment, and each other method's map of the true class of a seeded subset."""

from spectrocam.explain.methods import ExplainConfig, compute_maps
from spectrocam.io import read_table
from spectrocam.jobs import job
from spectrocam.keys import join
from spectrocam.model.evaluation import predicted_labels
from spectrocam.model.inference import trained_model
from spectrocam.model.sampling import subset_per_class
from spectrocam.segments.store import SegmentReader, read_segment_table

smk = snakemake  # noqa: F821
with job(smk) as log:
    cfg = ExplainConfig.from_config(smk.params.explain)
    model, meta, device, split = trained_model(smk)
    test = split["test"]
    segments = read_segment_table(smk.input.segments).iloc[test].reset_index(drop=True)
    segments["segment_index"] = test
    predictions = read_table(smk.input.predictions)
    with SegmentReader(smk.input.segments) as reader:
        segments = join(
            segments, predictions, ["p_" + c for c in reader.class_names] + ["predicted"]
        )
        if len(segments) != len(test):
            raise ValueError(f"{smk.input.predictions} does not cover the test split")
        predicted, probabilities = predicted_labels(segments, reader.class_names)
        segments["predicted"] = predicted
        subset = subset_per_class(segments["label"].to_numpy(), cfg.max_per_class, cfg.seed)
        # CAM, the study's method, is always computed: the report is built on it.
        methods = list(dict.fromkeys(["cam", *cfg.methods]))
        log.info(
            "CAM of %d test segments; %s of %d", len(segments), ", ".join(methods), len(subset)
        )
        compute_maps(
            model,
            reader,
            segments,
            probabilities,
            smk.output[0],
            methods,
            device,
            stage=cfg.stage,
            subset=subset,
            batch_size=cfg.batch_size,
            score_channels=cfg.score_cam_channels,
            attrs={"experiment": smk.wildcards.experiment, "model_epoch": meta["epoch"]},
        )
