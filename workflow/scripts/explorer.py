"""Rule explorer: the page to look at every test token, with its spectrogram, maps, formants,
probabilities and sound."""

from spectrocam.io import read_table, read_text_table
from spectrocam.jobs import job
from spectrocam.report.explorer import write_explorer
from spectrocam.report.explorer_data import ExperimentData, ExplorerConfig
from spectrocam.report.reference import hillenbrand_women_means
from spectrocam.segments.store import read_classes

smk = snakemake  # noqa: F821
with job(smk) as log:
    experiments = [
        ExperimentData(
            name=name,
            description=smk.params.descriptions[name],
            maps=smk.input.maps[k],
            segments=smk.input.segments[k],
            agreement=read_table(smk.input.agreement[k]),
            classes=read_classes(smk.input.segments[k]),
        )
        for k, name in enumerate(smk.params.experiments)
    ]
    hillenbrand = smk.input.get("hillenbrand")
    sizes = write_explorer(
        smk.output[0],
        f"spectrocam explorer: {smk.params.run}",
        experiments,
        read_text_table(smk.input.phones),
        read_table(smk.input.formants),
        read_text_table(smk.input.clips),
        hillenbrand_women_means(hillenbrand) if hillenbrand else None,
        ExplorerConfig.from_config(smk.params.explorer),
    )
    log.info(
        "explorer written: %.1f MB to open, %.1f MB in all (%s)",
        sizes["opened_bytes"] / 1e6,
        sizes["total_bytes"] / 1e6,
        ", ".join(f"{k}: {v['tokens']} tokens" for k, v in sizes["experiments"].items()),
    )
