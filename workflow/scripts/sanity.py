"""Rule sanity: maps of the first seed's network with its weights randomised (cascading from the
last layer), on every test token the trained maps have (CAM on all, the other methods on their
subset; Score-CAM left out for its cost), against the trained network's maps: per step and
distinct method, the mean per-token difference of the cue cells' AUC, trained minus randomised,
with its interval and sign-flip p (no token dropped); and the class templates of the most
randomised model."""

import tempfile
from pathlib import Path

import pandas as pd

from spectrocam.evidence.cues import EvidenceConfig, cue_intervals
from spectrocam.evidence.ranks import auc_tables, identical_map_groups, rank_contrasts
from spectrocam.evidence.sanity import SanityConfig, randomised
from spectrocam.evidence.templates import map_file_templates
from spectrocam.explain.maps import MapFile
from spectrocam.explain.methods import METHODS, compute_maps
from spectrocam.io import read_table, write_table
from spectrocam.jobs import job
from spectrocam.model.inference import trained_model
from spectrocam.segments.store import SegmentReader

smk = snakemake  # noqa: F821
with job(smk) as log:
    cfg = SanityConfig.from_config(smk.params.sanity)
    ev = EvidenceConfig.from_config(smk.params.evidence)
    name, regions = smk.wildcards.experiment, smk.params.cues
    formants = read_table(smk.input.formants)

    def cues_of(tokens):
        return cue_intervals(tokens, name, regions, formants, smk.params.window_hz)

    model, meta, device, split = trained_model(smk)
    maps = MapFile(smk.input.maps)
    methods = [m for m in maps.methods if METHODS[m].kind != "score"]
    others = [m for m in methods if METHODS[m].kind != "weights"]
    subset = maps.rows(others[0]) if others else None
    stage = maps.method_attrs(others[0] if others else "cam")["stage"]
    groups = identical_map_groups(maps, methods)
    trained = auc_tables(maps, cues_of, methods)
    contrasts, templates = [], pd.DataFrame()
    out = Path(smk.output.contrasts)
    out.parent.mkdir(parents=True, exist_ok=True)
    with (
        SegmentReader(smk.input.segments) as reader,
        tempfile.TemporaryDirectory(dir=out.parent) as tmp,
    ):
        for step in cfg.steps:
            log.info("maps of %s with weights randomised down to %s", ", ".join(methods), step)
            path = Path(tmp) / f"{step}.h5"
            compute_maps(
                randomised(model, step, cfg.seed),
                reader,
                maps.segments,
                maps.probabilities,
                path,
                methods,
                device,
                stage=stage,
                subset=subset,
            )
            random = MapFile(path)
            aucs = auc_tables(random, cues_of, methods)
            for group in groups:
                m = group[0]
                c = rank_contrasts(
                    trained[m], aucs[m], None, ev.cluster, ev.bootstrap, ev.sign_flips, ev.seed
                )
                c = c.assign(step=step, method=m, same_maps=" ".join(group[1:]))
                contrasts.append(c)
                row = c[c.cue == "any"].iloc[0]
                log.info(
                    "%s, %s: trained minus randomised AUC %.3f [%.3f, %.3f] (n %d)",
                    step,
                    m,
                    row.difference,
                    row.low,
                    row.high,
                    row.n_tokens,
                )
            if step == cfg.steps[-1]:  # the most randomised model's templates
                fm = None if name in regions else formants
                parts = [map_file_templates(random, g[0], formants=fm) for g in groups]
                templates = pd.concat(
                    [
                        k.assign(method=g[0], step=step)
                        for g, (_, k) in zip(groups, parts, strict=True)
                    ],
                    ignore_index=True,
                )
    table = pd.concat(contrasts, ignore_index=True)
    front = ["step", "method", "same_maps", "cue"]
    write_table(table[front + [c for c in table if c not in front]], smk.output.contrasts)
    write_table(templates, smk.output.templates)
