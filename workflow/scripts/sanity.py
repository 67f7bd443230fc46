"""Rule sanity: maps of the network with its weights randomised (cascading from the last layer)
on the segments every method has maps of, scored against the trained network's."""

import tempfile
from pathlib import Path

from spectrocam.evidence.agreement import AgreementConfig
from spectrocam.evidence.sanity import SanityConfig, randomised, sanity_summary
from spectrocam.evidence.shares import evidence_table
from spectrocam.explain.maps import MapFile
from spectrocam.explain.methods import METHODS, compute_maps
from spectrocam.io import read_table, write_table
from spectrocam.jobs import job
from spectrocam.model.inference import trained_model
from spectrocam.segments.store import SegmentReader, read_spectrogram_block

smk = snakemake  # noqa: F821
with job(smk) as log:
    cfg = SanityConfig.from_config(smk.params.sanity)
    window_hz = AgreementConfig.from_config(smk.params.agreement).window_hz
    model, meta, device, split = trained_model(smk)
    maps = MapFile(smk.input.maps)
    rows = maps.common_rows()
    segments = maps.segments.iloc[rows].reset_index(drop=True)
    methods = [m for m in maps.methods if METHODS[m].kind != "score"]
    stage = maps.method_attrs(next((m for m in methods if m != "cam"), "cam"))["stage"]
    formants = read_table(smk.input.formants)
    spectrograms = read_spectrogram_block(smk.input.segments, segments.segment_index)
    random = {}
    out = Path(smk.output[0])
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
                segments,
                maps.probabilities[rows],
                path,
                methods,
                device,
                stage=stage,
            )
            random[step] = evidence_table(MapFile(path), spectrograms, formants, window_hz)[0]
    # the trained maps' shares: the evidence rule's table of the same segments
    trained = read_table(smk.input.evidence)
    summary = sanity_summary(trained, random, smk.params.bootstrap, cfg.seed)
    for row in summary[summary.band == "any"].itertuples():
        log.info("%s, %s: %s (difference %.3f)", row.step, row.method, row.verdict, row.difference)
    write_table(summary, smk.output[0])
