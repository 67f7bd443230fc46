# Stage 2: phone-level forced alignment. Every backend writes the same phone table,
# results/<run>/alignment/<backend>/phones.tsv (utt_id, word, phone, start_s, end_s), and a
# summary.json that counts aligned and unaligned clips, silences and out-of-vocabulary words.

ALIGN = f"{RESULTS}/alignment"


if BACKEND == "pocketsphinx":

    rule align_pocketsphinx:
        input:
            clips=CLIPS,
        output:
            phones=f"{ALIGN}/pocketsphinx/shards/{{shard}}.tsv",
            counts=f"{ALIGN}/pocketsphinx/shards/{{shard}}.json",
        log:
            f"{LOGS}/alignment/pocketsphinx/{{shard}}.log",
        benchmark:
            f"{BENCH}/alignment/pocketsphinx/{{shard}}.tsv"
        conda:
            ENV
        threads: threads_for("align_pocketsphinx")
        resources:
            **resources_for("align_pocketsphinx"),
        params:
            n_shards=config["alignment"]["shards"],
        script:
            "../scripts/align_pocketsphinx.py"

    rule merge_pocketsphinx:
        input:
            phones=expand(
                f"{ALIGN}/pocketsphinx/shards/{{shard}}.tsv", shard=get_shards()
            ),
            counts=expand(
                f"{ALIGN}/pocketsphinx/shards/{{shard}}.json", shard=get_shards()
            ),
        output:
            phones=PHONES,
            summary=ALIGNMENT_SUMMARY,
        log:
            f"{LOGS}/alignment/pocketsphinx/merge.log",
        conda:
            ENV
        resources:
            **resources_for("merge_pocketsphinx"),
        script:
            "../scripts/merge_pocketsphinx.py"


if BACKEND == "textgrids":

    rule phones_from_textgrids:
        input:
            clips=CLIPS,
            textgrids=config["alignment"]["textgrids_dir"],
        output:
            phones=PHONES,
            summary=ALIGNMENT_SUMMARY,
        log:
            f"{LOGS}/alignment/textgrids/phones.log",
        conda:
            ENV
        resources:
            **resources_for("phones_from_textgrids"),
        script:
            "../scripts/phones_from_textgrids.py"


if BACKEND == "mfa":
    MFA = f"{ALIGN}/mfa"
    # MFA's root (MFA_ROOT_DIR) holds its global_config.yaml, joblib_cache/ and what `mfa model
    # download` fetches, pretrained_models/<kind>/<name>.<ext>. Every MFA rule creates it before
    # MFA starts: unset or empty, MFA_ROOT_DIR makes MFA write into ~/Documents/MFA or the checkout.
    MFA_ROOT = "resources/mfa"
    MFA_MODELS = f"{MFA_ROOT}/pretrained_models"
    # MFA is given absolute paths only (params, computed in the working directory): it builds
    # links and database paths from them, and with a relative -t the links in sat_ali/ point
    # nowhere and the export fails.

    rule mfa_corpus:
        input:
            clips=CLIPS,
        output:
            directory(f"{MFA}/corpus"),
        log:
            f"{LOGS}/alignment/mfa/corpus.log",
        conda:
            ENV
        resources:
            **resources_for("mfa_corpus"),
        script:
            "../scripts/mfa_corpus.py"

    rule mfa_phones:
        input:
            clips=CLIPS,
            textgrids=f"{MFA}/textgrids",
        output:
            phones=PHONES,
            summary=ALIGNMENT_SUMMARY,
        log:
            f"{LOGS}/alignment/mfa/phones.log",
        conda:
            ENV
        resources:
            **resources_for("mfa_phones"),
        script:
            "../scripts/phones_from_textgrids.py"

    if config["alignment"]["mfa"]["mode"] == "pretrained":

        rule mfa_download_acoustic_model:
            output:
                f"{MFA_MODELS}/acoustic/{{model}}.zip",
            log:
                "resources/logs/mfa_download_acoustic_{model}.log",
            conda:
                MFA_ENV
            resources:
                **resources_for("mfa_download_acoustic_model"),
            params:
                root=os.path.abspath(MFA_ROOT),
            shell:
                "mkdir -p {params.root:q} && export MFA_ROOT_DIR={params.root:q} && "
                "mfa model download acoustic {wildcards.model} > {log} 2>&1"

        rule mfa_download_dictionary:
            output:
                f"{MFA_MODELS}/dictionary/{{model}}.dict",
            log:
                "resources/logs/mfa_download_dictionary_{model}.log",
            conda:
                MFA_ENV
            resources:
                **resources_for("mfa_download_dictionary"),
            params:
                root=os.path.abspath(MFA_ROOT),
            shell:
                "mkdir -p {params.root:q} && export MFA_ROOT_DIR={params.root:q} && "
                "mfa model download dictionary {wildcards.model} > {log} 2>&1"

        rule mfa_align:
            input:
                corpus=f"{MFA}/corpus",
                dictionary=f"{MFA_MODELS}/dictionary/{config['alignment']['mfa']['dictionary']}.dict",
                acoustic_model=f"{MFA_MODELS}/acoustic/{config['alignment']['mfa']['acoustic_model']}.zip",
            output:
                textgrids=directory(f"{MFA}/textgrids"),
            log:
                f"{LOGS}/alignment/mfa/align.log",
            benchmark:
                f"{BENCH}/alignment/mfa/align.tsv"
            conda:
                MFA_ENV
            threads: threads_for("mfa_align")
            resources:
                **resources_for("mfa_align"),
            params:
                beam=config["alignment"]["mfa"]["beam"],
                retry_beam=config["alignment"]["mfa"]["retry_beam"],
                root=os.path.abspath(MFA_ROOT),
                tmp=os.path.abspath(f"{MFA}/tmp"),
                corpus=lambda wildcards, input: os.path.abspath(input.corpus),
                dictionary=lambda wildcards, input: os.path.abspath(input.dictionary),
                acoustic_model=lambda wildcards, input: os.path.abspath(
                    input.acoustic_model
                ),
                textgrids=lambda wildcards, output: os.path.abspath(output.textgrids),
            shell:
                "mkdir -p {params.root:q} && export MFA_ROOT_DIR={params.root:q} && "
                "mfa align --clean --single_speaker --output_format long_textgrid "
                "--beam {params.beam} --retry_beam {params.retry_beam} "
                "-j {threads} -t {params.tmp:q} "
                "{params.corpus:q} {params.dictionary:q} {params.acoustic_model:q} "
                "{params.textgrids:q} > {log} 2>&1"

    else:

        rule mfa_cmudict_dictionary:
            input:
                clips=CLIPS,
            output:
                dictionary=f"{MFA}/cmudict.dict",
                oov=f"{MFA}/oov_words.txt",
            log:
                f"{LOGS}/alignment/mfa/cmudict_dictionary.log",
            conda:
                ENV
            resources:
                **resources_for("mfa_cmudict_dictionary"),
            script:
                "../scripts/mfa_cmudict_dictionary.py"

        rule mfa_train:
            input:
                corpus=f"{MFA}/corpus",
                dictionary=f"{MFA}/cmudict.dict",
            output:
                textgrids=directory(f"{MFA}/textgrids"),
                acoustic_model=f"{MFA}/acoustic_model.zip",
            log:
                f"{LOGS}/alignment/mfa/train.log",
            benchmark:
                f"{BENCH}/alignment/mfa/train.tsv"
            conda:
                MFA_ENV
            threads: threads_for("mfa_train")
            resources:
                **resources_for("mfa_train"),
            params:
                root=os.path.abspath(MFA_ROOT),
                tmp=os.path.abspath(f"{MFA}/tmp"),
                corpus=lambda wildcards, input: os.path.abspath(input.corpus),
                dictionary=lambda wildcards, input: os.path.abspath(input.dictionary),
                textgrids=lambda wildcards, output: os.path.abspath(output.textgrids),
                acoustic_model=lambda wildcards, output: os.path.abspath(
                    output.acoustic_model
                ),
            shell:
                "mkdir -p {params.root:q} && export MFA_ROOT_DIR={params.root:q} && "
                "mfa train --clean --single_speaker --output_format long_textgrid "
                "-j {threads} -t {params.tmp:q} --output_directory {params.textgrids:q} "
                "{params.corpus:q} {params.dictionary:q} {params.acoustic_model:q} "
                "> {log} 2>&1"


rule alignment_agreement:
    input:
        phones=PHONES,
        clips=CLIPS,
        reference=config["alignment"]["reference_dir"] or [],
    output:
        json=f"{ALIGN}/{BACKEND}/agreement.json",
        text=f"{ALIGN}/{BACKEND}/agreement.txt",
    log:
        f"{LOGS}/alignment/{BACKEND}/agreement.log",
    conda:
        ENV
    resources:
        **resources_for("alignment_agreement"),
    script:
        "../scripts/alignment_agreement.py"
