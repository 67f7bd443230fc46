"""Rule alignment_agreement: the alignment against reference TextGrids."""

from spectrocam.align.evaluate import compare_alignments, format_report
from spectrocam.align.phone_table import phones_from_textgrids
from spectrocam.io import read_text_table, write_json
from spectrocam.jobs import job

smk = snakemake  # noqa: F821
with job(smk) as log:
    clips = read_text_table(smk.input.clips)
    hyp = read_text_table(smk.input.phones)
    ref, _ = phones_from_textgrids(smk.input.reference, clips)
    report = compare_alignments(ref, hyp)
    write_json(report, smk.output.json)
    text = format_report(report)
    with open(smk.output.text, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    log.info("\n%s", text)
