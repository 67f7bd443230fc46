# Stage 7: what the maps and the models show about the formants: the maps' agreement with the
# formants, the evidence beyond the energy and its sensitivity to the bands, the sanity checks,
# the causal tests and the misclassifications.


rule agreement:
    input:
        maps=f"{RESULTS}/maps/{{experiment}}/{PRIMARY}.h5",
        formants=f"{RESULTS}/formants/formants.tsv",
    output:
        segments=f"{RESULTS}/agreement/{{experiment}}_segments.tsv",
        summary=f"{RESULTS}/agreement/{{experiment}}_summary.tsv",
        null=f"{RESULTS}/agreement/{{experiment}}_null.tsv",
    log:
        f"{LOGS}/agreement/{{experiment}}.log",
    conda:
        ENV
    resources:
        **resources_for("agreement"),
    params:
        agreement=AgreementConfig.pick(config["agreement"]),
    script:
        "../scripts/agreement.py"


rule evidence:
    input:
        maps=f"{RESULTS}/maps/{{experiment}}/{{model}}.h5",
        segments=f"{RESULTS}/segments/{{experiment}}.h5",
        splits=f"{RESULTS}/splits/splits.tsv",
        formants=f"{RESULTS}/formants/formants.tsv",
    output:
        segments=f"{RESULTS}/evidence/{{experiment}}/{{model}}_segments.tsv",
        summary=f"{RESULTS}/evidence/{{experiment}}/{{model}}_summary.tsv",
        null=f"{RESULTS}/evidence/{{experiment}}/{{model}}_null.tsv",
    log:
        f"{LOGS}/evidence/{{experiment}}/{{model}}.log",
    benchmark:
        f"{BENCH}/evidence/{{experiment}}/{{model}}.tsv"
    wildcard_constraints:
        model=MODEL_NAMES,
    conda:
        ENV
    resources:
        **resources_for("evidence"),
    params:
        agreement=AgreementConfig.pick(config["agreement"]),
    script:
        "../scripts/evidence.py"


rule sensitivity:
    input:
        maps=f"{RESULTS}/maps/{{experiment}}/{PRIMARY}.h5",
        segments=f"{RESULTS}/segments/{{experiment}}.h5",
        formants=f"{RESULTS}/formants/formants.tsv",
        ceilings=f"{RESULTS}/formants/ceilings.tsv",
    output:
        f"{RESULTS}/sensitivity/{{experiment}}.tsv",
    log:
        f"{LOGS}/sensitivity/{{experiment}}.log",
    benchmark:
        f"{BENCH}/sensitivity/{{experiment}}.tsv"
    conda:
        ENV
    resources:
        **resources_for("sensitivity"),
    params:
        sensitivity=SensitivityConfig.pick(config["sensitivity"]),
        agreement=AgreementConfig.pick(config["agreement"]),
    script:
        "../scripts/sensitivity.py"


rule sanity:
    input:
        model=f"{RESULTS}/models/{{experiment}}/{PRIMARY}/best.pt",
        segments=f"{RESULTS}/segments/{{experiment}}.h5",
        splits=f"{RESULTS}/splits/splits.tsv",
        maps=f"{RESULTS}/maps/{{experiment}}/{PRIMARY}.h5",
        formants=f"{RESULTS}/formants/formants.tsv",
        evidence=f"{RESULTS}/evidence/{{experiment}}/{PRIMARY}_segments.tsv",
    output:
        f"{RESULTS}/sanity/{{experiment}}_randomised.tsv",
    log:
        f"{LOGS}/sanity/{{experiment}}.log",
    benchmark:
        f"{BENCH}/sanity/{{experiment}}.tsv"
    # long jobs near the end of the graph: started as soon as they can be
    priority: 1
    conda:
        ENV
    threads: threads_for("sanity")
    resources:
        **resources_for("sanity"),
    params:
        sanity=SanityConfig.pick(config["sanity"]),
        agreement=AgreementConfig.pick(config["agreement"]),
        inference=InferenceConfig.pick(config["training"]),
        bootstrap=config["agreement"]["bootstrap"],
    script:
        "../scripts/sanity.py"


rule sanity_shuffled:
    input:
        trained=f"{RESULTS}/evidence/{{experiment}}/{PRIMARY}_segments.tsv",
        shuffled=f"{RESULTS}/evidence/{{experiment}}/shuffled_segments.tsv",
    output:
        f"{RESULTS}/sanity/{{experiment}}_shuffled.tsv",
    log:
        f"{LOGS}/sanity/{{experiment}}_shuffled.log",
    conda:
        ENV
    resources:
        **resources_for("sanity_shuffled"),
    params:
        bootstrap=config["agreement"]["bootstrap"],
        seed=config["sanity"]["seed"],
    script:
        "../scripts/sanity_shuffled.py"


rule causal:
    input:
        model=f"{RESULTS}/models/{{experiment}}/{PRIMARY}/best.pt",
        segments=f"{RESULTS}/segments/{{experiment}}.h5",
        splits=f"{RESULTS}/splits/splits.tsv",
        maps=f"{RESULTS}/maps/{{experiment}}/{PRIMARY}.h5",
        formants=f"{RESULTS}/formants/formants.tsv",
        ceilings=f"{RESULTS}/formants/ceilings.tsv",
    output:
        occlusion=f"{RESULTS}/causal/{{experiment}}_occlusion.tsv",
        occlusion_summary=f"{RESULTS}/causal/{{experiment}}_occlusion_summary.tsv",
        occlusion_ceilings=f"{RESULTS}/causal/{{experiment}}_occlusion_ceilings.tsv",
        deletion=f"{RESULTS}/causal/{{experiment}}_deletion.tsv",
        deletion_summary=f"{RESULTS}/causal/{{experiment}}_deletion_summary.tsv",
    log:
        f"{LOGS}/causal/{{experiment}}.log",
    benchmark:
        f"{BENCH}/causal/{{experiment}}.tsv"
    # long jobs near the end of the graph: started as soon as they can be
    priority: 1
    conda:
        ENV
    threads: threads_for("causal")
    resources:
        **resources_for("causal"),
    params:
        causal=CausalConfig.pick(config["causal"]),
        inference=InferenceConfig.pick(config["training"]),
        window_hz=config["agreement"]["window_hz"],
        sensitivity=SensitivityConfig.pick(config["sensitivity"]),
    script:
        "../scripts/causal.py"


rule errors:
    input:
        predictions=f"{RESULTS}/evaluation/{{experiment}}/{PRIMARY}/predictions.tsv",
        formants=f"{RESULTS}/formants/formants.tsv",
        phones=PHONES,
        splits=f"{RESULTS}/splits/splits.tsv",
        segments=f"{RESULTS}/segments/{{experiment}}.h5",
    output:
        table=f"{RESULTS}/errors/{{experiment}}.tsv",
        summary=f"{RESULTS}/errors/{{experiment}}_summary.json",
    log:
        f"{LOGS}/errors/{{experiment}}.log",
    conda:
        ENV
    resources:
        **resources_for("errors"),
    script:
        "../scripts/errors.py"
