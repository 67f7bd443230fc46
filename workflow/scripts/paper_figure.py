"""Rule paper_figure: the study's figure of an experiment (class-mean spectrogram with the
class-mean map, class-mean spectrum beside the map's profile) and its numbers."""

from spectrocam.explain.maps import MapFile
from spectrocam.io import read_table, write_table
from spectrocam.jobs import job
from spectrocam.report.colours import class_colours
from spectrocam.report.paper import class_means, means_table, plot_paper_figure
from spectrocam.segments.store import read_classes

smk = snakemake  # noqa: F821
with job(smk) as log:
    name = smk.wildcards.experiment
    maps = MapFile(smk.input.maps)
    means = class_means(
        maps,
        smk.input.segments,
        read_table(smk.input.formants),
        read_classes(smk.input.segments),
        smk.params.method,
    )
    cues = smk.params.cues.get(name)
    plot_paper_figure(means, smk.output.figure, name, cues, class_colours(maps.class_names))
    write_table(means_table(means), smk.output.means)
    log.info("%s: class means of %s", name, ", ".join(f"{k} ({n})" for k, n in means.n.items()))
