"""Rule verdict: every energy-keeping test of the run (each experiment, seed, method and band)
Holm-adjusted as one family, and the verdict table per experiment and method."""

from spectrocam.io import read_json, read_table, write_table
from spectrocam.jobs import job
from spectrocam.verdict import adjust_tests, verdict_table

smk = snakemake  # noqa: F821
with job(smk) as log:
    names, models = smk.params.experiments, smk.params.models

    def per_model(key, read):
        # expand(experiment=..., model=...) lists the models of each experiment in turn
        files = iter(smk.input[key])
        return {name: {model: read(next(files)) for model in models} for name in names}

    metrics, evidence = per_model("metrics", read_json), per_model("evidence", read_table)
    nulls = per_model("nulls", read_table)
    tests = adjust_tests({(n, m): nulls[n][m] for n in names for m in models})
    experiments = {
        name: {
            "models": {
                m: {"metrics": metrics[name][m], "evidence": evidence[name][m]} for m in models
            },
            "references": read_json(smk.input.references[k]),
            "sanity": read_table(smk.input.sanity[k]),
            "shuffled": read_table(smk.input.shuffled[k]) if smk.params.shuffled else None,
        }
        for k, name in enumerate(names)
    }
    table = verdict_table(experiments, tests)
    log.info("%d tests in the family; %d survive Holm", len(tests), int(tests.survives.sum()))
    write_table(tests, smk.output.tests)
    write_table(table, smk.output.verdict)
