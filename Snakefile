# The workflow is workflow/Snakefile (the layout of the Snakemake workflow catalog); this file lets
# `snakemake` run from the repository root and adds no rule of its own but the default target.
include: "workflow/Snakefile"


# the target runs nothing: never a cluster job
localrules:
    default,


# An included file's rules are never the default target: from the root, `snakemake` builds what
# workflow/Snakefile's `rule all` lists.
rule default:
    default_target: True
    input:
        rules.all.input,
