"""Rule segments: the experiment's HDF5 store of spectrogram windows."""

import pandas as pd

from spectrocam.jobs import job
from spectrocam.segments import Experiment, build_store
from spectrocam.spectrogram import StftParams

smk = snakemake  # noqa: F821
with job(smk) as log:
    spec = smk.params.spectrogram
    params = StftParams(
        sample_rate_hz=smk.params.sample_rate_hz,
        win_s=spec["win_s"],
        hop_s=spec["hop_s"],
        n_fft=spec["n_fft"],
        window=spec["window"],
        floor_db=spec["floor_db"],
    )
    build_store(
        pd.read_csv(smk.input.phones, sep="\t", keep_default_na=False),
        pd.read_csv(smk.input.clips, sep="\t", keep_default_na=False),
        Experiment.from_config(smk.wildcards.experiment, smk.params.experiment),
        params,
        context_s=spec["context_s"],
        out_path=smk.output[0],
        dtype=spec["dtype"],
        threads=smk.threads,
        extra_attrs={"alignment_backend": smk.params.backend},
    )
