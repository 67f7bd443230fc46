# Stage 7: what the maps and the models show about the formants. The verdict's two statements:
# the causal one (causal: does the first seed's model need the cues beyond the energy an
# occlusion removes?) and the map one (ranks: do a seed's maps rank the cue cells higher than
# the shuffled-labels model's? sanity: than the randomised-weights model's?); their sensitivity
# to the bands; and descriptions: agreement, evidence (shares beside the spectrum), deletion
# curves and misclassifications.


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
        power=config["agreement"]["spectrum_power"],
    script:
        "../scripts/evidence.py"


rule ranks:
    input:
        trained=f"{RESULTS}/maps/{{experiment}}/{{model}}.h5",
        shuffled=f"{RESULTS}/maps/{{experiment}}/shuffled.h5",
        formants=f"{RESULTS}/formants/formants.tsv",
    output:
        contrasts=f"{RESULTS}/evidence/{{experiment}}/{{model}}_contrasts.tsv",
        tokens=f"{RESULTS}/evidence/{{experiment}}/{{model}}_ranks.tsv",
        templates=f"{RESULTS}/evidence/{{experiment}}/{{model}}_templates.tsv",
        classes=f"{RESULTS}/evidence/{{experiment}}/{{model}}_template_peaks.tsv",
    log:
        f"{LOGS}/evidence/{{experiment}}/{{model}}_ranks.log",
    benchmark:
        f"{BENCH}/evidence/{{experiment}}/{{model}}_ranks.tsv"
    wildcard_constraints:
        model=r"seed\d+",
    conda:
        ENV
    resources:
        **resources_for("ranks"),
    params:
        evidence=EvidenceConfig.pick(config["evidence"]),
        cues=lambda wildcards: experiment_cues(wildcards.experiment),
        window_hz=config["agreement"]["window_hz"],
    script:
        "../scripts/ranks.py"


rule sensitivity:
    input:
        unpack(get_sensitivity_input),
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
        evidence=EvidenceConfig.pick(config["evidence"]),
        cues=lambda wildcards: experiment_cues(wildcards.experiment),
        window_hz=config["agreement"]["window_hz"],
    script:
        "../scripts/sensitivity.py"


rule sanity:
    input:
        model=f"{RESULTS}/models/{{experiment}}/{PRIMARY}/best.pt",
        segments=f"{RESULTS}/segments/{{experiment}}.h5",
        splits=f"{RESULTS}/splits/splits.tsv",
        maps=f"{RESULTS}/maps/{{experiment}}/{PRIMARY}.h5",
        formants=f"{RESULTS}/formants/formants.tsv",
    output:
        contrasts=f"{RESULTS}/sanity/{{experiment}}_randomised.tsv",
        templates=f"{RESULTS}/sanity/{{experiment}}_randomised_template_peaks.tsv",
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
        evidence=EvidenceConfig.pick(config["evidence"]),
        cues=lambda wildcards: experiment_cues(wildcards.experiment),
        window_hz=config["agreement"]["window_hz"],
        inference=InferenceConfig.pick(config["training"]),
    script:
        "../scripts/sanity.py"


rule causal:
    input:
        model=f"{RESULTS}/models/{{experiment}}/{PRIMARY}/best.pt",
        segments=f"{RESULTS}/segments/{{experiment}}.h5",
        splits=f"{RESULTS}/splits/splits.tsv",
        maps=f"{RESULTS}/maps/{{experiment}}/{PRIMARY}.h5",
        formants=f"{RESULTS}/formants/formants.tsv",
        ceilings=f"{RESULTS}/formants/ceilings.tsv",
    output:
        bands=f"{RESULTS}/causal/{{experiment}}_bands.tsv",
        needs=f"{RESULTS}/causal/{{experiment}}_needs.tsv",
        pairs=f"{RESULTS}/causal/{{experiment}}_pairs.tsv",
        ceilings=f"{RESULTS}/causal/{{experiment}}_needs_ceilings.tsv",
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
        causal=lambda wildcards: causal_settings(wildcards.experiment),
        evidence=EvidenceConfig.pick(config["evidence"]),
        cues=lambda wildcards: experiment_cues(wildcards.experiment),
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
