# Stage 5: classifiers per experiment, one per training seed (models/<experiment>/seed<N>/) and
# one trained on shuffled labels for the sanity check (models/<experiment>/shuffled/), each
# checkpointed every epoch and selected on validation; then each one's test-set figures and the
# classifiers on the formants alone that they are compared with.


rule download_weights:
    output:
        protected("resources/weights/{arch}-imagenet.pth"),
    log:
        "resources/logs/download_weights_{arch}.log",
    conda:
        ENV
    resources:
        **resources_for("download_weights"),
    params:
        url=lambda wildcards: weights_url(wildcards.arch),
    script:
        "../scripts/download_weights.py"


rule train:
    input:
        unpack(get_train_input),
    output:
        model=f"{RESULTS}/models/{{experiment}}/{{model}}/best.pt",
        history=f"{RESULTS}/models/{{experiment}}/{{model}}/history.tsv",
    log:
        f"{LOGS}/models/{{experiment}}/{{model}}_train.log",
    benchmark:
        f"{BENCH}/models/{{experiment}}/{{model}}_train.tsv"
    wildcard_constraints:
        model=MODEL_NAMES,
    # the first seed's jobs first: the causal tests, the sanity checks, the agreement and the
    # report wait on them
    priority: primary_first
    # under SLURM a model's training, test predictions and maps run as one submission, one after
    # the other (group jobs; Snakemake ignores groups on one machine)
    group:
        "model_{experiment}_{model}"
    conda:
        ENV
    threads: threads_for("train")
    resources:
        **resources_for("train"),
    params:
        training=lambda wildcards: TrainConfig.pick(
            config["model"], config["training"], seed=model_seed(wildcards.model)
        ),
        shuffle_labels=lambda wildcards: wildcards.model == "shuffled",
        checkpoint_dir=lambda wildcards: f"{RESULTS}/models/{wildcards.experiment}/{wildcards.model}/checkpoint",
    script:
        "../scripts/train.py"


rule test_model:
    input:
        model=f"{RESULTS}/models/{{experiment}}/{{model}}/best.pt",
        segments=f"{RESULTS}/segments/{{experiment}}.h5",
        splits=f"{RESULTS}/splits/splits.tsv",
    output:
        metrics=f"{RESULTS}/evaluation/{{experiment}}/{{model}}/metrics.json",
        confusion=f"{RESULTS}/evaluation/{{experiment}}/{{model}}/confusion.csv",
        per_class=f"{RESULTS}/evaluation/{{experiment}}/{{model}}/per_class.csv",
        predictions=f"{RESULTS}/evaluation/{{experiment}}/{{model}}/predictions.tsv",
    log:
        f"{LOGS}/evaluation/{{experiment}}/{{model}}.log",
    benchmark:
        f"{BENCH}/evaluation/{{experiment}}/{{model}}.tsv"
    wildcard_constraints:
        model=MODEL_NAMES,
    # the first seed's jobs first: the causal tests, the sanity checks, the agreement and the
    # report wait on them
    priority: primary_first
    # with its training and maps (train)
    group:
        "model_{experiment}_{model}"
    conda:
        ENV
    threads: threads_for("test_model")
    resources:
        **resources_for("test_model"),
    params:
        inference=InferenceConfig.pick(config["training"]),
        evaluation=EvaluationConfig.pick(config["evaluation"]),
    script:
        "../scripts/test_model.py"


rule reference_classifiers:
    input:
        segments=f"{RESULTS}/segments/{{experiment}}.h5",
        splits=f"{RESULTS}/splits/splits.tsv",
        predictions=f"{RESULTS}/evaluation/{{experiment}}/{PRIMARY}/predictions.tsv",
        formants=f"{RESULTS}/formants/formants.tsv",
    output:
        f"{RESULTS}/evaluation/{{experiment}}/references.json",
    log:
        f"{LOGS}/evaluation/{{experiment}}_references.log",
    conda:
        ENV
    resources:
        **resources_for("reference_classifiers"),
    params:
        evaluation=EvaluationConfig.pick(config["evaluation"]),
    script:
        "../scripts/reference_classifiers.py"
