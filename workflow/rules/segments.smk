# Stage 3: one HDF5 store of fixed-size log-power spectrogram windows per experiment.


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
    conda:
        ENV
    threads: min(2, JOB_THREADS)
    resources:
        mem_mb=4000,
    params:
        experiment=lambda wildcards: Experiment.pick(
            config["experiments"][wildcards.experiment], name=wildcards.experiment
        ),
        spectrogram=SpectrogramConfig.pick(config["spectrogram"]),
        sample_rate_hz=config["corpus"]["sample_rate_hz"],
        backend=BACKEND,
    script:
        "../scripts/build_segments.py"
