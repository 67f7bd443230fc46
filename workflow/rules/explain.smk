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
        model=MODEL_NAMES,
    # the first seed's jobs first: the causal tests, the sanity checks, the agreement and the
    # report wait on them
    priority: primary_first
    # with its model's training and test predictions (train, model.smk)
    group:
        "model_{experiment}_{model}"
    conda:
        ENV
    threads: threads_for("maps")
    resources:
        **resources_for("maps"),
    params:
        explain=ExplainConfig.pick(config["explain"]),
        inference=InferenceConfig.pick(config["training"]),
    script:
        "../scripts/maps.py"
