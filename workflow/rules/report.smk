# Stage 8: figures per experiment, the formant table, the explorer and the summary page. The
# figures and the explorer are also in `snakemake --report` (captions in workflow/report/).

REPORT = f"{RESULTS}/report"


rule report_experiment:
    input:
        metrics=f"{RESULTS}/evaluation/{{experiment}}/{PRIMARY}/metrics.json",
        history=f"{RESULTS}/models/{{experiment}}/{PRIMARY}/history.tsv",
        maps=f"{RESULTS}/maps/{{experiment}}/{PRIMARY}.h5",
        segments=f"{RESULTS}/segments/{{experiment}}.h5",
        formants=f"{RESULTS}/formants/formants.tsv",
        agreement=f"{RESULTS}/agreement/{{experiment}}_summary.tsv",
    output:
        confusion=report(
            f"{REPORT}/{{experiment}}/confusion.png",
            caption="../report/confusion.rst",
            category="{experiment}",
        ),
        confusion_svg=f"{REPORT}/{{experiment}}/confusion.svg",
        history=report(
            f"{REPORT}/{{experiment}}/history.png",
            caption="../report/history.rst",
            category="{experiment}",
        ),
        history_svg=f"{REPORT}/{{experiment}}/history.svg",
        profiles=report(
            f"{REPORT}/{{experiment}}/profiles.png",
            caption="../report/profiles.rst",
            category="{experiment}",
        ),
        profiles_svg=f"{REPORT}/{{experiment}}/profiles.svg",
        examples=report(
            f"{REPORT}/{{experiment}}/examples.png",
            caption="../report/examples.rst",
            category="{experiment}",
        ),
        examples_svg=f"{REPORT}/{{experiment}}/examples.svg",
        agreement=report(
            f"{REPORT}/{{experiment}}/agreement.tsv",
            caption="../report/agreement.rst",
            category="{experiment}",
        ),
    log:
        f"{LOGS}/report/{{experiment}}.log",
    conda:
        ENV
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
        profiles=report(
            f"{REPORT}/{{experiment}}/methods.png",
            caption="../report/methods.rst",
            category="{experiment}",
        ),
        profiles_svg=f"{REPORT}/{{experiment}}/methods.svg",
        chart=report(
            f"{REPORT}/{{experiment}}/vowel_chart.png",
            caption="../report/vowel_chart.rst",
            category="{experiment}",
        ),
        chart_svg=f"{REPORT}/{{experiment}}/vowel_chart.svg",
        comparison=report(
            f"{REPORT}/{{experiment}}/comparison.tsv",
            caption="../report/comparison.rst",
            category="{experiment}",
        ),
    log:
        f"{LOGS}/report/{{experiment}}_methods.log",
    conda:
        ENV
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
        figure=report(
            f"{REPORT}/{{experiment}}/paper.png",
            caption="../report/paper.rst",
            category="{experiment}",
        ),
        svg=report(
            f"{REPORT}/{{experiment}}/paper.svg",
            caption="../report/paper.rst",
            category="{experiment}",
        ),
        means=f"{REPORT}/{{experiment}}/class_means.tsv",
    log:
        f"{LOGS}/report/{{experiment}}_paper.log",
    conda:
        ENV
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
            category="formants",
        ),
    log:
        f"{LOGS}/report/formants.log",
    conda:
        ENV
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
            category="verdict",
        ),
        tests=f"{REPORT}/tests.tsv",
    log:
        f"{LOGS}/report/verdict.log",
    conda:
        ENV
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
            category="explorer",
        ),
    log:
        f"{LOGS}/report/explorer.log",
    conda:
        ENV
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
