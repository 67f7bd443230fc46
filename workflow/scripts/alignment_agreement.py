"""Rule alignment_agreement: the alignment against reference TextGrids."""

import pandas as pd

from spectrocam.alignment import phones_from_textgrids
from spectrocam.alignment_eval import compare_alignments, format_report
from spectrocam.io import write_json
from spectrocam.jobs import job

smk = snakemake  # noqa: F821
with job(smk) as log:
    clips = pd.read_csv(smk.input.clips, sep="\t", keep_default_na=False)
    hyp = pd.read_csv(smk.input.phones, sep="\t", keep_default_na=False)
    ref, _ = phones_from_textgrids(smk.input.reference, clips)
    report = compare_alignments(ref, hyp)
    write_json(report, smk.output.json)
    text = format_report(report)
    with open(smk.output.text, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    log.info("\n%s", text)
