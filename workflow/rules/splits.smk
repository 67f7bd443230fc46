# Stage 4: train/validation/test by utterance (by chapter where the corpus has enough), the
# same for every experiment, and each experiment's class balance per split.


rule splits:
    input:
        clips=CLIPS,
    output:
        table=f"{RESULTS}/splits/splits.tsv",
        summary=f"{RESULTS}/splits/summary.json",
    log:
        f"{LOGS}/splits/splits.log",
    conda:
        ENV
    resources:
        **resources_for("splits"),
    params:
        splits=SplitConfig.pick(config["splits"]),
    script:
        "../scripts/splits.py"


rule split_balance:
    input:
        segments=f"{RESULTS}/segments/{{experiment}}.h5",
        splits=f"{RESULTS}/splits/splits.tsv",
    output:
        f"{RESULTS}/splits/{{experiment}}_balance.tsv",
    log:
        f"{LOGS}/splits/{{experiment}}_balance.log",
    # with its store (segments.smk)
    group:
        "store_{experiment}"
    conda:
        ENV
    resources:
        **resources_for("split_balance"),
    script:
        "../scripts/split_balance.py"
