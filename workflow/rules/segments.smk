# Stage 3: what each vowel token is: one HDF5 store of fixed-size log-power spectrogram windows
# per experiment, and the formants of every vowel (Praat's Burg method, once for all experiments,
# and again at other Praat ceilings for the sensitivity check).


rule segments:
    input:
        phones=PHONES,
        clips=CLIPS,
    output:
        f"{RESULTS}/segments/{{experiment}}.h5",
    log:
        f"{LOGS}/segments/{{experiment}}.log",
    benchmark:
        f"{BENCH}/segments/{{experiment}}.tsv"
    # every store before any training: the scheduler can then start the costliest experiment's
    # models first instead of leaving its chain for the end (measured in the demo: 12 min late)
    priority: 2
    # under SLURM the store and its class balance (split_balance) are one submission
    group:
        "store_{experiment}"
    conda:
        ENV
    threads: threads_for("segments")
    resources:
        **resources_for("segments"),
    params:
        experiment=lambda wildcards: Experiment.pick(
            config["experiments"][wildcards.experiment], name=wildcards.experiment
        ),
        spectrogram=SpectrogramConfig.pick(config["spectrogram"]),
        sample_rate_hz=config["corpus"]["sample_rate_hz"],
        backend=BACKEND,
    script:
        "../scripts/segments.py"


rule formants:
    input:
        phones=PHONES,
        clips=CLIPS,
    output:
        table=f"{RESULTS}/formants/formants.tsv",
        summary=f"{RESULTS}/formants/summary.json",
    log:
        f"{LOGS}/formants/formants.log",
    benchmark:
        f"{BENCH}/formants/formants.tsv"
    # every vowel's formants unlock the evidence, sanity and causal jobs
    priority: 3
    conda:
        ENV
    threads: threads_for("formants")
    resources:
        **resources_for("formants"),
    params:
        formants=FormantConfig.pick(config["formants"]),
        speakers=config["corpus"]["speakers"],
        vowels=sorted(experiment_vowels(config)),
    script:
        "../scripts/formants.py"


rule formant_ceilings:
    input:
        formants=f"{RESULTS}/formants/formants.tsv",
        clips=CLIPS,
    output:
        table=f"{RESULTS}/formants/ceilings.tsv",
        moves=f"{RESULTS}/formants/ceilings_moves.tsv",
    log:
        f"{LOGS}/formants/ceilings.log",
    benchmark:
        f"{BENCH}/formants/ceilings.tsv"
    # every vowel's formants unlock the evidence, sanity and causal jobs
    priority: 3
    conda:
        ENV
    threads: threads_for("formant_ceilings")
    resources:
        **resources_for("formant_ceilings"),
    params:
        formants=FormantConfig.pick(config["formants"]),
        sensitivity=SensitivityConfig.pick(config["sensitivity"]),
    script:
        "../scripts/formant_ceilings.py"
