# Stage 6: the map file of every explanation method (maps/<experiment>/<model>.h5), per model.


rule maps:
    input:
        model=f"{RESULTS}/models/{{experiment}}/{{model}}/best.pt",
        segments=f"{RESULTS}/segments/{{experiment}}.h5",
        splits=f"{RESULTS}/splits/splits.tsv",
        predictions=f"{RESULTS}/evaluation/{{experiment}}/{{model}}/predictions.tsv",
    output:
        f"{RESULTS}/maps/{{experiment}}/{{model}}.h5",
    log:
        f"{LOGS}/maps/{{experiment}}/{{model}}.log",
    benchmark:
        f"{BENCH}/maps/{{experiment}}/{{model}}.tsv"
    wildcard_constraints:
        model=OTHER_MODELS,
    conda:
        ENV
    threads: JOB_THREADS
    resources:
        gpu=config["training"]["gpus"],
        mem_mb=8000,
    params:
        explain=ExplainConfig.pick(config["explain"]),
        inference=InferenceConfig.pick(config["training"]),
    script:
        "../scripts/maps.py"


# The first seed's maps before the other models' (as train_primary, model.smk).
use rule maps as maps_primary with:
    wildcard_constraints:
        model=PRIMARY,
    priority: 1
