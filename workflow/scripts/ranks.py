"""Rule ranks: the verdict's map statement for one trained model: per vowel and method, the AUC of
the cue cells against the others, for this model's maps and the shuffled-labels model's (same
method, same cells), their mean difference with a cluster-bootstrap interval and a sign-flip p;
methods whose maps are identical counted once; each class's contrastive template."""

import pandas as pd

from spectrocam.evidence.cues import EvidenceConfig, cue_intervals
from spectrocam.evidence.ranks import auc_tables, identical_map_groups, rank_contrasts
from spectrocam.evidence.templates import map_file_templates
from spectrocam.explain.maps import MapFile
from spectrocam.io import read_table, write_table
from spectrocam.jobs import job

smk = snakemake  # noqa: F821
with job(smk) as log:
    cfg = EvidenceConfig.from_config(smk.params.evidence)
    name, regions = smk.wildcards.experiment, smk.params.cues
    formants = read_table(smk.input.formants)

    def cues_of(tokens):
        return cue_intervals(tokens, name, regions, formants, smk.params.window_hz)

    trained, control = MapFile(smk.input.trained), MapFile(smk.input.shuffled)
    methods = [m for m in trained.methods if m in control.methods]
    groups = identical_map_groups(trained, methods)
    aucs = {"trained": auc_tables(trained, cues_of, methods)}
    aucs["shuffled labels"] = auc_tables(control, cues_of, methods)
    contrasts, templates, classes = [], [], []
    for group in groups:
        m = group[0]
        c = rank_contrasts(
            aucs["trained"][m],
            aucs["shuffled labels"][m],
            None,
            cfg.cluster,
            cfg.bootstrap,
            cfg.sign_flips,
            cfg.seed,
        )
        contrasts.append(
            c.assign(method=m, same_maps=" ".join(group[1:]), control="shuffled labels")
        )
        for model, maps in (("trained", trained), ("shuffled labels", control)):
            t, k = map_file_templates(maps, m, formants=None if name in regions else formants)
            templates.append(t.assign(method=m, model=model))
            classes.append(k.assign(method=m, model=model))
        row = c[c.cue == "any"].iloc[0]
        log.info(
            "%s%s: AUC of the cue cells %.3f, shuffled-labels model %.3f, difference %.3f "
            "[%.3f, %.3f], p %.2g (n %d in %d clusters)",
            m,
            f" (= {', '.join(group[1:])})" if len(group) > 1 else "",
            row.auc_trained,
            row.auc_control,
            row.difference,
            row.low,
            row.high,
            row.p,
            row.n_tokens,
            row.n_clusters,
        )
    per_token = pd.concat(
        [t.assign(model=model, method=m) for model, by in aucs.items() for m, t in by.items()],
        ignore_index=True,
    )
    front = ["method", "control", "same_maps", "cue"]
    contrasts = pd.concat(contrasts, ignore_index=True)
    write_table(contrasts[front + [c for c in contrasts if c not in front]], smk.output.contrasts)
    write_table(per_token, smk.output.tokens)
    write_table(pd.concat(templates, ignore_index=True), smk.output.templates)
    write_table(pd.concat(classes, ignore_index=True), smk.output.classes)
