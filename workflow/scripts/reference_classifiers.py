"""Rule reference_classifiers: the network's test figures beside the majority class and a
formant-only classifier's (for the vowel experiments)."""

from spectrocam.io import read_table, read_text_table, write_json
from spectrocam.jobs import job
from spectrocam.model.references import formant_features, reference_rows
from spectrocam.phones import VOWELS, strip_stress
from spectrocam.segments.store import read_classes, segment_split_table

smk = snakemake  # noqa: F821
with job(smk) as log:
    cfg = smk.params.evaluation
    # each segment's split, without the held-out tokens a word-disjoint experiment drops
    segments = segment_split_table(smk.input.segments, read_text_table(smk.input.splits))
    classes = read_classes(smk.input.segments)
    vowels = all(strip_stress(p) in VOWELS for phones in classes.values() for p in phones)
    formants = read_table(smk.input.formants)
    rows = reference_rows(
        segments,
        read_table(smk.input.predictions),
        formants,
        list(classes),
        vowels,
        cfg["bootstrap"],
        cfg["seed"],
    )
    for row in rows:
        log.info("%s: accuracy %.3f (n %d)", row["classifier"], row["accuracy"][0], row["n"])
    features = formant_features(formants)[0] if vowels else []
    write_json({"features": features, "rows": rows}, smk.output[0])
