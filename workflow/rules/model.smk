# Stage 5: one classifier per experiment (checkpointed every epoch, selected on validation),
# then its test-set figures, and the map file of every explanation method (maps/).


rule download_weights:
    output:
        protected("resources/weights/{arch}-imagenet.pth"),
    log:
        "resources/logs/download_weights_{arch}.log",
    conda:
        ENV
    params:
        url=lambda wildcards: weights_url(wildcards.arch),
    script:
        "../scripts/download_weights.py"


rule train:
    input:
        unpack(get_train_input),
    output:
        model=f"{RESULTS}/models/{{experiment}}/best.pt",
        history=f"{RESULTS}/models/{{experiment}}/history.tsv",
    log:
        f"{LOGS}/models/{{experiment}}_train.log",
    benchmark:
        f"{BENCH}/models/{{experiment}}_train.tsv"
    conda:
        ENV
    threads: 8
    resources:
        gpu=config["training"]["gpus"],
        mem_mb=8000,
    params:
        training=TrainConfig.pick(config["model"], config["training"]),
        checkpoint_dir=lambda wildcards: f"{RESULTS}/models/{wildcards.experiment}/checkpoint",
    script:
        "../scripts/train_model.py"


rule test_model:
    input:
        model=f"{RESULTS}/models/{{experiment}}/best.pt",
        segments=f"{RESULTS}/segments/{{experiment}}.h5",
        splits=f"{RESULTS}/splits/splits.tsv",
    output:
        metrics=f"{RESULTS}/evaluation/{{experiment}}/metrics.json",
        confusion=f"{RESULTS}/evaluation/{{experiment}}/confusion.csv",
        per_class=f"{RESULTS}/evaluation/{{experiment}}/per_class.csv",
        predictions=f"{RESULTS}/evaluation/{{experiment}}/predictions.tsv",
    log:
        f"{LOGS}/evaluation/{{experiment}}.log",
    benchmark:
        f"{BENCH}/evaluation/{{experiment}}.tsv"
    conda:
        ENV
    threads: 8
    resources:
        gpu=config["training"]["gpus"],
        mem_mb=8000,
    params:
        inference=InferenceConfig.pick(config["training"]),
        evaluation=EvaluationConfig.pick(config["evaluation"]),
    script:
        "../scripts/evaluate_model.py"


rule reference_classifiers:
    input:
        segments=f"{RESULTS}/segments/{{experiment}}.h5",
        splits=f"{RESULTS}/splits/splits.tsv",
        predictions=f"{RESULTS}/evaluation/{{experiment}}/predictions.tsv",
        formants=f"{RESULTS}/formants/formants.tsv",
    output:
        f"{RESULTS}/evaluation/{{experiment}}/references.json",
    log:
        f"{LOGS}/evaluation/{{experiment}}_references.log",
    conda:
        ENV
    params:
        evaluation=EvaluationConfig.pick(config["evaluation"]),
    script:
        "../scripts/reference_classifiers.py"


rule maps:
    input:
        model=f"{RESULTS}/models/{{experiment}}/best.pt",
        segments=f"{RESULTS}/segments/{{experiment}}.h5",
        splits=f"{RESULTS}/splits/splits.tsv",
        predictions=f"{RESULTS}/evaluation/{{experiment}}/predictions.tsv",
    output:
        f"{RESULTS}/maps/{{experiment}}.h5",
    log:
        f"{LOGS}/maps/{{experiment}}.log",
    benchmark:
        f"{BENCH}/maps/{{experiment}}.tsv"
    conda:
        ENV
    threads: 8
    resources:
        gpu=config["training"]["gpus"],
        mem_mb=8000,
    params:
        explain=ExplainConfig.pick(config["explain"]),
        inference=InferenceConfig.pick(config["training"]),
    script:
        "../scripts/method_maps.py"
