# Stage 8: figures per experiment, the formant table, the explorer and the summary page. They
# are also in `snakemake --report report.zip` (captions in workflow/report/, its introduction
# workflow/report/workflow.rst), under the categories of common.smk, in REPORT (common.smk).


rule report_experiment:
    input:
        metrics=f"{RESULTS}/evaluation/{{experiment}}/{PRIMARY}/metrics.json",
        history=f"{RESULTS}/models/{{experiment}}/{PRIMARY}/history.tsv",
        maps=f"{RESULTS}/maps/{{experiment}}/{PRIMARY}.h5",
        segments=f"{RESULTS}/segments/{{experiment}}.h5",
        formants=f"{RESULTS}/formants/formants.tsv",
        agreement=f"{RESULTS}/agreement/{{experiment}}_summary.tsv",
    output:
        confusion=experiment_figure("confusion.png", "confusion", "confusion matrix"),
        confusion_svg=f"{REPORT}/{{experiment}}/confusion.svg",
        history=experiment_figure("history.png", "history", "training curves"),
        history_svg=f"{REPORT}/{{experiment}}/history.svg",
        profiles=experiment_figure(
            "profiles.png", "profiles", "CAM profiles and formants"
        ),
        profiles_svg=f"{REPORT}/{{experiment}}/profiles.svg",
        examples=experiment_figure("examples.png", "examples", "example spectrograms"),
        examples_svg=f"{REPORT}/{{experiment}}/examples.svg",
        agreement=experiment_figure("agreement.tsv", "agreement", "agreement table"),
    log:
        f"{LOGS}/report/{{experiment}}.log",
    conda:
        ENV
    resources:
        **resources_for("report_experiment"),
    params:
        examples=config["report"]["examples"],
        hillenbrand=config["report"]["hillenbrand"],
        corpus=CORPUS_NAME,
        description=lambda wildcards: config["experiments"][wildcards.experiment][
            "description"
        ],
    script:
        "../scripts/report_experiment.py"


rule report_methods:
    input:
        unpack(get_contrasts_input),
        maps=f"{RESULTS}/maps/{{experiment}}/{PRIMARY}.h5",
        segments=f"{RESULTS}/segments/{{experiment}}.h5",
        formants=f"{RESULTS}/formants/formants.tsv",
        agreement=f"{RESULTS}/agreement/{{experiment}}_summary.tsv",
        null=f"{RESULTS}/agreement/{{experiment}}_null.tsv",
        deletion=f"{RESULTS}/causal/{{experiment}}_deletion_summary.tsv",
        errors=f"{RESULTS}/errors/{{experiment}}.tsv",
    output:
        profiles=experiment_figure("methods.png", "methods", "every method's profiles"),
        profiles_svg=f"{REPORT}/{{experiment}}/methods.svg",
        chart=experiment_figure("vowel_chart.png", "vowel_chart", "F1-F2 vowel chart"),
        chart_svg=f"{REPORT}/{{experiment}}/vowel_chart.svg",
        comparison=experiment_figure(
            "comparison.tsv", "comparison", "comparison of the methods"
        ),
    log:
        f"{LOGS}/report/{{experiment}}_methods.log",
    conda:
        ENV
    resources:
        **resources_for("report_methods"),
    params:
        hillenbrand=config["report"]["hillenbrand"],
        corpus=CORPUS_NAME,
    script:
        "../scripts/report_methods.py"


rule paper_figure:
    input:
        maps=f"{RESULTS}/maps/{{experiment}}/{PRIMARY}.h5",
        segments=f"{RESULTS}/segments/{{experiment}}.h5",
        formants=f"{RESULTS}/formants/formants.tsv",
    output:
        figure=experiment_figure("paper.png", "paper", "class-mean spectrogram and map"),
        svg=f"{REPORT}/{{experiment}}/paper.svg",
        means=f"{REPORT}/{{experiment}}/class_means.tsv",
    log:
        f"{LOGS}/report/{{experiment}}_paper.log",
    conda:
        ENV
    resources:
        **resources_for("paper_figure"),
    params:
        method=config["evidence"]["method"],
        cues=config["evidence"]["cues"],
    script:
        "../scripts/paper_figure.py"


rule report_formants:
    input:
        formants=f"{RESULTS}/formants/formants.tsv",
    output:
        report(
            f"{REPORT}/formants.tsv",
            caption="../report/formants.rst",
            category=FORMANTS,
            labels={"table": "formant means beside Hillenbrand's"},
        ),
    log:
        f"{LOGS}/report/formants.log",
    conda:
        ENV
    resources:
        **resources_for("report_formants"),
    params:
        hillenbrand=config["report"]["hillenbrand"],
    script:
        "../scripts/report_formants.py"


rule verdict:
    input:
        unpack(get_verdict_input),
    output:
        verdict=report(
            f"{REPORT}/verdict.tsv",
            caption="../report/verdict.rst",
            category=VERDICT,
            labels={
                "file": "verdict.tsv",
                "what": "the verdict, one line per experiment",
            },
        ),
        tests=report(
            f"{REPORT}/tests.tsv",
            caption="../report/tests.rst",
            category=VERDICT,
            labels={
                "file": "tests.tsv",
                "what": "every test, Holm-adjusted per family",
            },
        ),
    log:
        f"{LOGS}/report/verdict.log",
    conda:
        ENV
    resources:
        **resources_for("verdict"),
    params:
        experiments=EXPERIMENTS,
        models=MODELS,
        primary=PRIMARY,
        method=config["evidence"]["method"],
        alpha=config["evidence"]["alpha"],
    script:
        "../scripts/verdict.py"


rule explorer:
    input:
        unpack(get_explorer_input),
    output:
        report(
            directory(f"{REPORT}/explorer"),
            htmlindex="index.html",
            caption="../report/explorer.rst",
            category=EXPLORER,
            labels={"page": "every test token of every experiment"},
        ),
    log:
        f"{LOGS}/report/explorer.log",
    conda:
        ENV
    resources:
        **resources_for("explorer"),
    params:
        run=config["run"],
        experiments=EXPERIMENTS,
        descriptions={e: config["experiments"][e]["description"] for e in EXPERIMENTS},
        explorer=ExplorerConfig.pick(config["report"]["explorer"]),
    script:
        "../scripts/explorer.py"


rule summary:
    input:
        unpack(get_summary_input),
    output:
        page=f"{REPORT}/index.html",
        summary=f"{REPORT}/summary.json",
    log:
        f"{LOGS}/report/summary.log",
    conda:
        ENV
    resources:
        **resources_for("summary"),
    params:
        experiments=EXPERIMENTS,
        descriptions={e: config["experiments"][e]["description"] for e in EXPERIMENTS},
        # each experiment's definition: the context comparison matches experiments on it
        definitions={
            e: Experiment.pick(config["experiments"][e], name=e) for e in EXPERIMENTS
        },
        settings=summary_settings(),
        examples=config["report"]["examples"],
    script:
        "../scripts/summary.py"


rule summary_page:
    input:
        page=f"{REPORT}/index.html",
    output:
        report(
            f"{REPORT}/summary_page.html",
            caption="../report/summary_page.rst",
            category=VERDICT,
            labels={
                "file": "summary page",
                "what": "the summary page, figures inlined",
            },
        ),
    log:
        f"{LOGS}/report/summary_page.log",
    conda:
        ENV
    resources:
        **resources_for("summary_page"),
    script:
        "../scripts/summary_page.py"
