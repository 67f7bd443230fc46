"""Rule segments: the experiment's HDF5 store of spectrogram windows."""

from spectrocam.io import read_text_table
from spectrocam.jobs import job
from spectrocam.segments.build import Experiment, bandwidth_warning, build_store
from spectrocam.segments.spectrogram import SpectrogramConfig

smk = snakemake  # noqa: F821
with job(smk) as log:
    spec = SpectrogramConfig.from_config(smk.params.spectrogram)
    experiment = Experiment.from_config(smk.params.experiment)
    clips = read_text_table(smk.input.clips)
    warning = bandwidth_warning(clips, experiment)
    if warning:
        log.warning("%s", warning)
    build_store(
        read_text_table(smk.input.phones),
        clips,
        experiment,
        spec.stft(smk.params.sample_rate_hz),
        context_s=spec.context_s,
        out_path=smk.output[0],
        dtype=spec.dtype,
        threads=smk.threads,
        extra_attrs={
            "alignment_backend": smk.params.backend,
            "corpus_bandwidth_hz": float(clips["bandwidth_hz"].median()),
            "bandwidth_warning": warning or "",
        },
    )
