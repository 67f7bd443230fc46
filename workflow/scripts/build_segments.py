"""Rule segments: the experiment's HDF5 store of spectrogram windows."""

from spectrocam.io import read_text_table
from spectrocam.jobs import job
from spectrocam.segments import Experiment, build_store
from spectrocam.spectrogram import SpectrogramConfig

smk = snakemake  # noqa: F821
with job(smk) as log:
    spec = SpectrogramConfig.from_config(smk.params.spectrogram)
    build_store(
        read_text_table(smk.input.phones),
        read_text_table(smk.input.clips),
        Experiment.from_config(smk.params.experiment),
        spec.stft(smk.params.sample_rate_hz),
        context_s=spec.context_s,
        out_path=smk.output[0],
        dtype=spec.dtype,
        threads=smk.threads,
        extra_attrs={"alignment_backend": smk.params.backend},
    )
