"""Rule verdict: every energy-keeping test of the run Holm-adjusted as one family, and the
verdict table per experiment and method."""

from spectrocam.io import read_json, read_table, write_table
from spectrocam.jobs import job
from spectrocam.verdict import adjust_tests, verdict_table

smk = snakemake  # noqa: F821
with job(smk) as log:
    names = smk.params.experiments
    tests = adjust_tests({n: read_table(p) for n, p in zip(names, smk.input.nulls, strict=True)})
    experiments = {
        name: {
            "metrics": read_json(smk.input.metrics[k]),
            "references": read_json(smk.input.references[k]),
            "evidence": read_table(smk.input.evidence[k]),
            "sanity": read_table(smk.input.sanity[k]),
        }
        for k, name in enumerate(names)
    }
    table = verdict_table(experiments, tests)
    log.info("%d tests in the family; %d survive Holm", len(tests), int(tests.survives.sum()))
    write_table(tests, smk.output.tests)
    write_table(table, smk.output.verdict)
