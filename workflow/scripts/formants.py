"""Rule formants: F1-F3 of every vowel segment of the experiments (Praat Burg, parselmouth),
each speaker's with their own ceiling, raw and Lobanov-normalised."""

from spectrocam.io import read_text_table, write_json, write_table
from spectrocam.jobs import job
from spectrocam.segments.formants import FormantConfig, formant_summary, measure_formants

smk = snakemake  # noqa: F821
with job(smk) as log:
    cfg = FormantConfig.from_config(smk.params.formants)
    clips = read_text_table(smk.input.clips)
    table = measure_formants(
        read_text_table(smk.input.phones),
        clips,
        set(smk.params.vowels),
        cfg,
        threads=smk.threads,
        speakers=smk.params.speakers,
    )
    summary = formant_summary(table) | {"settings": dict(smk.params.formants)}
    ceilings = table.groupby("speaker")["max_formant_hz"].first()
    bandwidth = clips.groupby("speaker")["bandwidth_hz"].median()
    summary["speakers"] = {
        s: {"max_formant_hz": float(c), "median_bandwidth_hz": float(bandwidth.get(s, "nan"))}
        for s, c in ceilings.items()
    }
    for speaker, ceiling in ceilings.items():
        if bandwidth.get(speaker, ceiling) < ceiling:
            log.warning(
                "speaker %s: the formant ceiling (%.0f Hz) lies above the audio's bandwidth "
                "(median %.0f Hz): the formants near the ceiling come from an empty band",
                speaker,
                ceiling,
                bandwidth[speaker],
            )
    log.info(
        "%d vowels; undefined: F1 %d, F2 %d, F3 %d; %d shorter than the physical window",
        summary["n_vowels"],
        *summary["nan"].values(),
        summary["n_short"],
    )
    write_json(summary, smk.output.summary)
    write_table(table, smk.output.table)
