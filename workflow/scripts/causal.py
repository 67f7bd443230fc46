"""Rule causal: the verdict's causal statement on the first seed's model: every band that tiles the
axis and each cue's own band occluded on every test token with cues (or causal.max_segments of
them), the drop of log p fitted against the dB removed with token effects, per half-width, and in
its discriminative form at the headline half-width; the headline fit again with the formants of
each Praat ceiling of sensitivity.ceilings_hz; and the deletion curves of every method."""

import numpy as np
import pandas as pd

from spectrocam.evidence.causal import (
    CausalConfig,
    causal_tokens,
    half_widths,
    needs_at_ceilings,
    run_needs,
)
from spectrocam.evidence.cues import EvidenceConfig, cue_intervals
from spectrocam.evidence.deletion import map_deletion_orders, run_deletion, summarise_deletion
from spectrocam.evidence.sensitivity import CONFIGURED, SensitivityConfig, formant_sets
from spectrocam.explain.maps import MapFile
from spectrocam.io import read_table, write_table
from spectrocam.jobs import job
from spectrocam.model.device import autocast_dtype
from spectrocam.model.inference import trained_model
from spectrocam.progress import bar
from spectrocam.segments.store import SegmentReader

smk = snakemake  # noqa: F821
with job(smk) as log:
    cfg = CausalConfig.from_config(smk.params.causal)
    ev = EvidenceConfig.from_config(smk.params.evidence)
    name, regions, headline_hz = smk.wildcards.experiment, smk.params.cues, smk.params.window_hz
    widths = half_widths(cfg, headline_hz)
    inference = smk.params.inference
    model, _, device, _ = trained_model(smk)
    dtype = autocast_dtype(inference["precision"], device)
    batch = inference["eval_batch_size"]
    maps = MapFile(smk.input.maps)
    formants = read_table(smk.input.formants)
    cues = cue_intervals(maps.segments, name, regions, formants, headline_hz)
    chosen = causal_tokens(maps.segments, cues, cfg.max_segments, cfg.seed)
    tokens = maps.segments.iloc[chosen].reset_index(drop=True)
    cues = {k: v[chosen] for k, v in cues.items()}
    log.info(
        "causal fit on %d of %d test tokens (cues %s), half-widths %s Hz",
        len(tokens),
        len(maps.segments),
        ", ".join(cues),
        ", ".join(f"{w:g}" for w in widths),
    )
    sens = SensitivityConfig.from_config(smk.params.sensitivity)
    sets = {}
    if name not in regions:  # the formants at the other Praat ceilings
        sets = formant_sets(formants, read_table(smk.input.ceilings), sens.ceilings_hz)
    cues_at = {
        label: cue_intervals(tokens, name, regions, t, headline_hz)
        for label, t in sets.items()
        if label != CONFIGURED
    }
    with SegmentReader(smk.input.segments) as reader:
        n_passes = len(tokens) * len(widths)
        with bar(n_passes, "band occlusion", "token") as progress:
            bands, needs, pairs = run_needs(
                model, reader, tokens, cues, cfg, widths, headline_hz, ev.cluster, device,
                batch, dtype, progress.update,
            )  # fmt: skip
        headline = needs[needs.headline].drop(columns=["half_width_hz", "headline"])
        # a ceiling whose formants are the configured ones (5,500 Hz in the demo) shares its fit
        ceilings = needs_at_ceilings(
            model, reader, tokens, bands, cues_at, headline, cfg, headline_hz, ev.cluster,
            device, batch, dtype, configured=cues,
        )  # fmt: skip
        rows = maps.common_rows()
        if cfg.deletion_segments and len(rows) > cfg.deletion_segments:
            pick = np.random.default_rng(cfg.seed).choice(len(rows), cfg.deletion_segments, False)
            rows = rows[np.sort(pick)]
        orders = map_deletion_orders(maps, rows, np.random.default_rng(cfg.seed))
        with bar(len(rows), "deletion curves", "token") as progress:
            deletions = run_deletion(
                model, reader, maps.segments.segment_index.to_numpy()[rows], orders,
                cfg.deletion_steps, cfg.fill_percentile, device, batch, dtype, progress.update,
            )  # fmt: skip
    for r in headline.itertuples():
        log.info(
            "+/- %g Hz, %s: beyond the energy it removes, occluding it drops log p by %.3f "
            "[%.3f, %.3f] more (p %.2g; %d tokens, %d clusters, %d bands over it)",
            headline_hz, r.cue, r.beta, r.low, r.high, r.p, r.n_tokens, r.n_clusters,
            r.n_overlapping,
        )  # fmt: skip
    for (cue, call), g in ceilings.groupby(["cue", "call"], sort=False):
        log.info("%s at the ceilings %s: %s", cue, ", ".join(g.ceiling), call)
    dele = pd.DataFrame(deletions)
    if len(dele):
        dele.insert(0, "utt_id", maps.segments.utt_id.to_numpy()[rows][dele["row"]])
    columns = ["token", "segment_index", "half_width_hz", "band", "centre_hz", "low_hz", "high_hz"]
    bands.insert(0, "phone_id", tokens.phone_id.to_numpy()[bands["token"]])
    bands = bands[["phone_id", *columns] + [c for c in bands if c not in columns + ["phone_id"]]]
    write_table(bands, smk.output.bands)
    write_table(needs, smk.output.needs)
    write_table(pairs, smk.output.pairs)
    write_table(ceilings, smk.output.ceilings)
    write_table(dele, smk.output.deletion)
    write_table(
        summarise_deletion(dele, cfg.bootstrap, cfg.seed) if len(dele) else dele,
        smk.output.deletion_summary,
    )
