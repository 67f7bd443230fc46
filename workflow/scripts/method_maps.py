"""Rule maps: every selected CAM method's map of the true class, for the test segments."""

import numpy as np

from spectrocam.jobs import job, trained_model
from spectrocam.methods import compute_method_maps
from spectrocam.store import SegmentReader

smk = snakemake  # noqa: F821
with job(smk) as log:
    cfg = smk.params.explain
    model, meta, device, split = trained_model(smk)
    test = split["test"]
    if cfg["max_per_class"]:
        # A seeded subset of each class's test segments, in store order.
        with SegmentReader(smk.input.segments) as reader:
            labels = reader.labels[test]
        rng = np.random.default_rng(cfg["seed"])
        keep = []
        for c in np.unique(labels):
            members = test[labels == c]
            keep += list(rng.choice(members, min(len(members), cfg["max_per_class"]), False))
        test = np.sort(np.array(keep, dtype=int))
    stages = {m: ("layer4" if m == "cam" else cfg["stage"]) for m in cfg["methods"]}
    log.info("maps of %s for %d test segments", ", ".join(cfg["methods"]), len(test))
    compute_method_maps(
        model,
        smk.input.segments,
        test,
        smk.output[0],
        cfg["methods"],
        device,
        stages=stages,
        batch_size=cfg["batch_size"],
        score_channels=cfg["score_cam_channels"],
        attrs={"experiment": smk.wildcards.experiment, "model_epoch": meta["epoch"]},
    )
