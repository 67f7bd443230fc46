"""Rule verdict: every energy-keeping test of the run (each experiment, seed, method and band)
Holm-adjusted as one family, and the verdict table per experiment and method."""

from spectrocam.evidence.verdict import adjust_tests, smallest_adjusted_p, verdict_table
from spectrocam.io import read_json, read_table, write_table
from spectrocam.jobs import job

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
    for family, rows in tests.groupby("family_name"):
        log.info("%s: %d tests, %d survive Holm", family, len(rows), int(rows.survives.sum()))
    least = smallest_adjusted_p(tests, smk.params.permutations)
    if least >= 0.05:
        log.warning(
            "with agreement.permutations %d no headline test can survive Holm (least adjusted p "
            "%.3f): raise it to at least %d",
            smk.params.permutations,
            least,
            int(20 * least * (smk.params.permutations + 1)) + 1,
        )
    write_table(tests, smk.output.tests)
    write_table(table, smk.output.verdict)
