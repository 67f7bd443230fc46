"""Rule verdict: every test of the run (the causal fits, the rank contrasts against the
shuffled-labels and randomised-weights models, per seed, method and cue) Holm-adjusted in its
stated family, and the verdict: one line per experiment."""

from spectrocam.evidence.verdict import adjust_tests, collect_tests, verdict_table
from spectrocam.io import read_json, read_table, write_table
from spectrocam.jobs import job

smk = snakemake  # noqa: F821
with job(smk) as log:
    names, models, primary = smk.params.experiments, smk.params.models, smk.params.primary

    def per_model(key, read):
        # expand(experiment=..., model=...) lists the models of each experiment in turn
        files = iter(smk.input.get(key, []))
        return {name: {model: read(next(files)) for model in models} for name in names}

    metrics = per_model("metrics", read_json)
    contrasts = per_model("contrasts", read_table) if "contrasts" in smk.input.keys() else {}
    experiments = {
        name: {
            "primary": primary,
            "metrics": metrics[name],
            "references": read_json(smk.input.references[k]),
            "needs": read_table(smk.input.needs[k]),
            "pairs": read_table(smk.input.pairs[k]),
            "contrasts": contrasts.get(name),
            "randomised": read_table(smk.input.randomised[k]),
        }
        for k, name in enumerate(names)
    }
    tests = adjust_tests(
        collect_tests(experiments),
        {name: primary for name in names},
        smk.params.method,
        smk.params.alpha,
    )
    table = verdict_table(experiments, tests, smk.params.method)
    for family, rows in tests.groupby("family"):
        log.info(
            "%s family: %d tests, %d with an interval above 0 and Holm p < %g",
            family,
            len(rows),
            int(rows.survives.sum()),
            smk.params.alpha,
        )
    for row in table.itertuples(index=False):
        log.info(
            "%s: %s",
            row[0],
            "; ".join(f"{k}: {v}" for k, v in zip(table.columns[1:], row[1:], strict=True)),
        )
    write_table(tests, smk.output.tests)
    write_table(table, smk.output.verdict)
