# Helpers shared by the stage files: configuration validation, paths and input functions.
import os
import shutil
import sys

from snakemake.logging import logger

# The repository: two levels above this file, whichever Snakefile (the root one or
# workflow/Snakefile) was run.
REPO = os.path.dirname(
    os.path.dirname(os.path.abspath(workflow.current_basedir.get_path_or_uri(True)))
)


def check_conda():
    """A run that deploys its software with conda (--sdm conda, or --use-conda) needs conda on
    PATH: say so, and what to do, before any job starts (Snakemake itself would stop only after
    planning every job, with "Error running conda info"). Checked first: it needs no import.
    """
    methods = getattr(workflow.deployment_settings, "deployment_method", ()) or ()
    if "CONDA" not in {m.name for m in methods} or shutil.which("conda"):
        return
    # before validation (which imports torch, seconds): the schema's default backend is mfa
    alignment = config.get("alignment")
    backend = (alignment if isinstance(alignment, dict) else {}).get("backend", "mfa")
    if backend == "mfa":
        why = (
            "alignment.backend is mfa: the Montreal Forced Aligner runs from envs/mfa.yaml,\n"
            "    which only conda installs. Install conda (Miniforge: "
            "https://conda-forge.org/download/)\n"
            "    and put it on PATH (conda activate base), or align without conda:\n"
            "    --config alignment='{backend: pocketsphinx}' (offline, nothing to install) or\n"
            "    backend textgrids with alignment.textgrids_dir, and leave --sdm conda out."
        )
    else:
        why = (
            "Install conda (Miniforge: https://conda-forge.org/download/) and put it on PATH\n"
            "    (conda activate base), or leave --sdm conda out: with the backend "
            f"{backend},\n"
            "    every rule runs in the project's own environment (make env)."
        )
    raise WorkflowError(
        "conda is not on PATH, and this run deploys its software with conda "
        f"(--sdm conda or --use-conda).\n    {why}"
    )


check_conda()


# The Snakefile imports the package from the repository. Jobs import it through the link
# workflow/scripts/spectrocam -> ../../spectrocam, since Snakemake puts a script's folder on its sys.path
# (which keeps conda environments and cluster nodes working without installing the package).
sys.path.insert(0, REPO)

from spectrocam.config import (
    ConfigError,
    enabled_experiments,
    experiment_vowels,
    load_schema,
    validate_config,
)
from spectrocam.evidence.agreement import AgreementConfig
from spectrocam.evidence.causal import CausalConfig
from spectrocam.evidence.cues import EvidenceConfig
from spectrocam.evidence.sanity import SanityConfig
from spectrocam.evidence.sensitivity import SensitivityConfig
from spectrocam.explain.methods import ExplainConfig
from spectrocam.model.device import InferenceConfig
from spectrocam.model.evaluation import EvaluationConfig
from spectrocam.model.network import weights_url
from spectrocam.model.training import TrainConfig
from spectrocam.report.explorer_data import ExplorerConfig
from spectrocam.resources import largest_node, misfits, stage_resources
from spectrocam.segments.build import Experiment
from spectrocam.segments.formants import FormantConfig
from spectrocam.segments.spectrogram import SpectrogramConfig
from spectrocam.segments.splits import SplitConfig

try:
    validate_config(
        config,
        load_schema(os.path.join(REPO, "workflow/schemas/config.schema.yaml")),
    )
except ConfigError as exc:
    raise WorkflowError(str(exc)) from None


def check_paths():
    """Paths the configuration names must exist before any job starts."""
    wanted = [
        ("corpus.dir", config["corpus"]["dir"], "metadata.csv"),
        ("corpus.clips", config["corpus"]["clips"], None),
        ("alignment.reference_dir", config["alignment"]["reference_dir"], None),
        ("report.hillenbrand", config["report"]["hillenbrand"], None),
    ]
    if config["alignment"]["backend"] == "textgrids":
        wanted.append(
            ("alignment.textgrids_dir", config["alignment"]["textgrids_dir"], None)
        )
    for key, path, inside in wanted:
        if path and not os.path.exists(os.path.join(path, inside) if inside else path):
            what = (
                f"{path} has no {inside}"
                if os.path.isdir(path)
                else f"{path} does not exist"
            )
            raise WorkflowError(f"invalid configuration:\n  - '{key}': {what}")


check_paths()


RESULTS = f"results/{config['run']}"
LOGS = f"{RESULTS}/logs"
REPORT = f"{RESULTS}/report"
BENCH = f"{RESULTS}/benchmarks"
ENV = "../../envs/spectrocam.yaml"
MFA_ENV = "../../envs/mfa.yaml"
EXPERIMENTS = enabled_experiments(config)
BACKEND = config["alignment"]["backend"]
DOWNLOADED_CORPUS = f"resources/{config['corpus']['download']['subdir']}"
CLIPS = f"{RESULTS}/corpus/clips.tsv"
PHONES = f"{RESULTS}/alignment/{BACKEND}/phones.tsv"
ALIGNMENT_SUMMARY = f"{RESULTS}/alignment/{BACKEND}/summary.json"


# The categories of `snakemake --report` (it lists them in this order) and the report flag of an
# experiment's figures and tables (report.smk).
# the summary page, the verdict and every test
VERDICT = "1. Verdict"
# one subcategory per experiment, each figure and table labelled
EXPERIMENTS_CATEGORY = "2. Experiments"
FORMANTS = "3. Formants"
EXPLORER = "4. Explorer"


def experiment_figure(path, name, figure):
    """An experiment's figure or table in the report: its subcategory is the experiment."""
    return report(
        f"{REPORT}/{{experiment}}/{path}",
        caption=f"../report/{name}.rst",
        category=EXPERIMENTS_CATEGORY,
        subcategory="{experiment}",
        labels={"figure": figure},
    )


# The models of an experiment: one per training seed, and one trained on shuffled labels (the
# sanity check; with the first seed). The rules with a {model} wildcard constrain it to
# MODEL_NAMES (the MFA rules have a {model} wildcard of their own). The figures that are not
# repeated per seed (agreement, causal tests, randomised weights, report figures, explorer) use
# the first seed's, PRIMARY.
SEEDS = config["training"]["seeds"]
MODELS = [f"seed{seed}" for seed in SEEDS]
PRIMARY = MODELS[0]
SHUFFLED = ["shuffled"] if config["sanity"]["shuffled_labels"] else []


MODEL_NAMES = r"seed\d+|shuffled"


def primary_first(wildcards):
    """The priority of a model's jobs: the first seed's first, since every figure that is not
    repeated per seed waits on them."""
    return 1 if wildcards.model == PRIMARY else 0


def model_seed(model):
    """The training seed of a model directory's name (seed<N>, or shuffled: the first seed)."""
    return SEEDS[0] if model == "shuffled" else int(model[len("seed") :])


wildcard_constraints:
    experiment="|".join(EXPERIMENTS) or "no-experiment",
    shard=r"\d+",


def corpus_dir():
    """The corpus directory: the configured one, or the downloaded full corpus."""
    return config["corpus"]["dir"] or DOWNLOADED_CORPUS


# The corpus's name in the report, and its one speaker's when metadata.csv names none.
CORPUS_NAME = config["corpus"]["name"] or os.path.basename(
    os.path.normpath(os.path.abspath(corpus_dir()))
)


def get_corpus_input(wildcards):
    inputs = {}
    if config["corpus"]["dir"]:
        inputs["metadata"] = os.path.join(config["corpus"]["dir"], "metadata.csv")
    else:
        inputs["corpus"] = DOWNLOADED_CORPUS
    if config["corpus"]["clips"]:
        inputs["clip_list"] = config["corpus"]["clips"]
    return inputs


def get_shards():
    return [f"{i:03d}" for i in range(config["alignment"]["shards"])]


def get_train_input(wildcards):
    inputs = {
        "segments": f"{RESULTS}/segments/{wildcards.experiment}.h5",
        "splits": f"{RESULTS}/splits/splits.tsv",
    }
    if config["model"]["weights"] == "imagenet":
        inputs["weights"] = f"resources/weights/{config['model']['arch']}-imagenet.pth"
    return inputs


def get_explorer_input(wildcards):
    """Every file the explorer reads (the page itself then plays the clips' wav files)."""
    per_experiment = {
        "maps": f"maps/{{experiment}}/{PRIMARY}.h5",
        "segments": "segments/{experiment}.h5",
        "agreement": "agreement/{experiment}_segments.tsv",
    }
    inputs = {
        key: expand(f"{RESULTS}/{path}", experiment=EXPERIMENTS)
        for key, path in per_experiment.items()
    }
    inputs |= {
        "formants": f"{RESULTS}/formants/formants.tsv",
        "clips": CLIPS,
        "phones": PHONES,
    }
    if config["report"]["hillenbrand"]:
        inputs["hillenbrand"] = config["report"]["hillenbrand"]
    return inputs


def experiment_cues(name):
    """The experiment's fixed cue regions ({experiment: {cue: [low, high]}}), or {}: F1-F3."""
    regions = config["evidence"]["cues"]
    return {name: regions[name]} if name in regions else {}


def causal_settings(name):
    """The causal section for one experiment, its max_segments from causal.max_segments_of."""
    section = dict(config["causal"])
    section["max_segments"] = section["max_segments_of"].get(
        name, section["max_segments"]
    )
    return CausalConfig.pick(section)


def get_contrasts_input(wildcards):
    """The first seed's rank contrast against the shuffled-labels model, where there is one."""
    if not SHUFFLED:
        return {}
    return {
        "contrasts": f"{RESULTS}/evidence/{wildcards.experiment}/{PRIMARY}_contrasts.tsv"
    }


def get_sensitivity_input(wildcards):
    """The first seed's maps, the shuffled-labels model's (where there is one) and the formants
    at every ceiling."""
    inputs = {
        "maps": f"{RESULTS}/maps/{wildcards.experiment}/{PRIMARY}.h5",
        "formants": f"{RESULTS}/formants/formants.tsv",
        "ceilings": f"{RESULTS}/formants/ceilings.tsv",
    }
    if SHUFFLED:
        inputs["shuffled"] = f"{RESULTS}/maps/{wildcards.experiment}/shuffled.h5"
    return inputs


def get_verdict_input(wildcards):
    """Per experiment: every seed's test metrics and rank contrast against the shuffled-labels
    model (when it is trained); the reference classifiers; the first seed's causal fits and its
    contrasts against the randomised-weights models."""
    per_model = {"metrics": "evaluation/{experiment}/{model}/metrics.json"}
    if SHUFFLED:
        per_model["contrasts"] = "evidence/{experiment}/{model}_contrasts.tsv"
    inputs = {
        key: expand(f"{RESULTS}/{path}", experiment=EXPERIMENTS, model=MODELS)
        for key, path in per_model.items()
    }
    per_experiment = {
        "references": "evaluation/{experiment}/references.json",
        "needs": "causal/{experiment}_needs.tsv",
        "pairs": "causal/{experiment}_pairs.tsv",
        "randomised": "sanity/{experiment}_randomised.tsv",
    }
    inputs |= {
        key: expand(f"{RESULTS}/{path}", experiment=EXPERIMENTS)
        for key, path in per_experiment.items()
    }
    return inputs


def get_summary_input(wildcards):
    """Every file the summary page reads; the alignment's agreement where there is one."""
    per_experiment = {
        "metrics": f"evaluation/{{experiment}}/{PRIMARY}/metrics.json",
        "references": "evaluation/{experiment}/references.json",
        "agreement": "agreement/{experiment}_summary.tsv",
        "figures": "report/{experiment}/confusion.png",
        "paper": "report/{experiment}/paper.png",
        "comparison": "report/{experiment}/comparison.tsv",
        "errors": "errors/{experiment}.tsv",
        "error_summaries": "errors/{experiment}_summary.json",
        "maps": f"maps/{{experiment}}/{PRIMARY}.h5",
        "sensitivity": "sensitivity/{experiment}.tsv",
        "evidence": f"evidence/{{experiment}}/{PRIMARY}_summary.tsv",
        "needs": "causal/{experiment}_needs.tsv",
        "pairs": "causal/{experiment}_pairs.tsv",
        "needs_ceilings": "causal/{experiment}_needs_ceilings.tsv",
        "randomised": "sanity/{experiment}_randomised.tsv",
        "randomised_peaks": "sanity/{experiment}_randomised_template_peaks.tsv",
    }
    if SHUFFLED:
        per_experiment["contrasts"] = f"evidence/{{experiment}}/{PRIMARY}_contrasts.tsv"
        per_experiment["peaks"] = (
            f"evidence/{{experiment}}/{PRIMARY}_template_peaks.tsv"
        )
    inputs = {
        key: expand(f"{RESULTS}/{path}", experiment=EXPERIMENTS)
        for key, path in per_experiment.items()
    }
    inputs |= {
        "formants": f"{REPORT}/formants.tsv",
        "ceiling_moves": f"{RESULTS}/formants/ceilings_moves.tsv",
        "formant_summary": f"{RESULTS}/formants/summary.json",
        "alignment": ALIGNMENT_SUMMARY,
        "splits": f"{RESULTS}/splits/summary.json",
        "verdict": f"{REPORT}/verdict.tsv",
        "tests": f"{REPORT}/tests.tsv",
        # the page links to it
        "explorer": f"{REPORT}/explorer",
    }
    if config["alignment"]["reference_dir"]:
        inputs["alignment_agreement"] = f"{RESULTS}/alignment/{BACKEND}/agreement.json"
    return inputs


def summary_settings():
    """The settings the summary page states (and only those, so that no other change reruns it)."""
    return {
        "run": config["run"],
        "corpus": CORPUS_NAME,
        "backend": BACKEND,
        "model": {
            k: config["model"][k]
            for k in ("arch", "weights", "freq_stride", "time_stride")
        },
        "training": {
            k: config["training"][k] for k in ("epochs", "lr", "batch_size", "seeds")
        },
        "agreement": {k: config["agreement"][k] for k in ("window_hz", "bootstrap")},
        "evidence": {
            k: config["evidence"][k] for k in ("alpha", "cluster", "method", "cues")
        },
    }


def get_final_outputs():
    outputs = [
        CLIPS,
        f"{RESULTS}/corpus/rejects.tsv",
        PHONES,
        ALIGNMENT_SUMMARY,
        f"{RESULTS}/splits/splits.tsv",
    ]
    if config["alignment"]["reference_dir"]:
        outputs.append(f"{RESULTS}/alignment/{BACKEND}/agreement.json")
    outputs += expand(f"{RESULTS}/segments/{{experiment}}.h5", experiment=EXPERIMENTS)
    outputs += expand(
        f"{RESULTS}/splits/{{experiment}}_balance.tsv", experiment=EXPERIMENTS
    )
    outputs += [
        f"{REPORT}/index.html",
        f"{REPORT}/summary_page.html",
        f"{REPORT}/explorer",
    ]
    return outputs


# What each job asks its scheduler for: threads, memory, run time and GPUs from the
# configuration alone (resources.<rule>; training.threads and training.gpus for the network
# stages: spectrocam.resources), declared where the rule is, so that a copy of a rule (use rule
# ... as ...) inherits all of it and no profile sizes jobs by rule name. A rule says
#     threads: threads_for("<rule>")        (where it runs more than one thread)
#     resources:
#         **resources_for("<rule>"),
# tests/test_resources.py checks every job of a dry run against it, under every profile.
#
# When jobs go to a cluster (--jobs, as in the SLURM profile), every stage must fit the
# cluster's largest node (sinfo): SLURM leaves a job that asks for more pending forever, so the
# run stops at start-up instead (check_job_sizes, at the end of the Snakefile).
CLUSTER_RUN = (
    workflow.resource_settings.nodes is not None
    and not workflow.remote_exec
    and not workflow.subprocess_exec
)
NODE, NODE_SOURCE = largest_node() if CLUSTER_RUN else (None, "not a cluster run")
TOO_LARGE = []


def threads_for(stage):
    """The threads of a job of ``stage`` (training.threads for the network stages)."""
    return stage_resources(config, stage).threads


def resources_for(stage):
    """The resources of a job of ``stage``: mem_mb (from its inputs' size where the stage says
    so), runtime in minutes, and gpu for the network stages."""
    wanted = stage_resources(config, stage)
    if NODE is not None:
        TOO_LARGE.extend(misfits(wanted, NODE))
    resources = {"runtime": wanted.runtime, "mem_mb": wanted.mem_mb}
    if wanted.sized_by_input:

        def mem_mb(wildcards, input):
            problems = misfits(wanted, NODE, input.size_mb) if NODE is not None else []
            if problems:
                raise WorkflowError(
                    f"a job is larger than the cluster's largest node ({NODE}):\n  - "
                    + "\n  - ".join(problems)
                )
            return wanted.memory(input.size_mb)

        resources["mem_mb"] = mem_mb
    if wanted.network:
        resources["gpu"] = wanted.gpus
    return resources


def check_job_sizes():
    """Stop a cluster run whose stages ask for more than the cluster's largest node has."""
    if TOO_LARGE:
        raise WorkflowError(
            f"jobs larger than the cluster's largest node ({NODE}) would wait forever; change "
            "these keys (or run on larger nodes):\n  - " + "\n  - ".join(TOO_LARGE)
        )
    if CLUSTER_RUN:
        logger.info(
            f"cluster's largest node: {NODE}; every stage fits"
            if NODE is not None
            else f"cluster's largest node unknown ({NODE_SOURCE}): job sizes not checked"
        )
