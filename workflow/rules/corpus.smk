# Stage 1: the corpus. A local copy in LJSpeech's layout, or the full corpus downloaded
# (resumable, verified by size and sha256) and extracted safely into resources/.


rule download_corpus:
    output:
        protected("resources/LJSpeech-1.1.tar.bz2"),
    log:
        "resources/logs/download_corpus.log",
    conda:
        ENV
    resources:
        **resources_for("download_corpus"),
    params:
        url=config["corpus"]["download"]["url"],
        sha256=config["corpus"]["download"]["sha256"],
        size_bytes=config["corpus"]["download"]["size_bytes"],
    script:
        "../scripts/download_corpus.py"


rule extract_corpus:
    input:
        "resources/LJSpeech-1.1.tar.bz2",
    output:
        directory(DOWNLOADED_CORPUS),
    log:
        "resources/logs/extract_corpus.log",
    conda:
        ENV
    resources:
        **resources_for("extract_corpus"),
    params:
        subdir=config["corpus"]["download"]["subdir"],
    script:
        "../scripts/extract_corpus.py"


rule validate_corpus:
    input:
        unpack(get_corpus_input),
    output:
        clips=CLIPS,
        rejects=f"{RESULTS}/corpus/rejects.tsv",
        converted=directory(f"{RESULTS}/corpus/converted"),
    log:
        f"{LOGS}/corpus/validate_corpus.log",
    benchmark:
        f"{BENCH}/corpus/validate_corpus.tsv"
    conda:
        ENV
    resources:
        **resources_for("validate_corpus"),
    params:
        corpus_dir=corpus_dir(),
        corpus_name=CORPUS_NAME,
        sample_rate_hz=config["corpus"]["sample_rate_hz"],
        min_duration_s=config["corpus"]["min_duration_s"],
    script:
        "../scripts/validate_corpus.py"
