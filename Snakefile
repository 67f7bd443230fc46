# spectrocam: what a ResNet learns from speech spectrograms, against the formants.
# This file is a table of contents; the rules live in workflow/rules/<stage>.smk.
from snakemake.utils import min_version

min_version("9.27")  # a priority that depends on the wildcards (primary_first)


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/corpus.smk"
include: "workflow/rules/alignment.smk"
include: "workflow/rules/segments.smk"
include: "workflow/rules/splits.smk"
include: "workflow/rules/model.smk"
include: "workflow/rules/explain.smk"
include: "workflow/rules/evidence.smk"
include: "workflow/rules/report.smk"


check_job_sizes()


# the target runs nothing: never a cluster job
localrules:
    all,


rule all:
    default_target: True
    input:
        get_final_outputs(),
