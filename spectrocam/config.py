"""Configuration: JSON-Schema validation with defaults, and checks the schema cannot express.

The schema (``workflow/schemas/config.schema.yaml``) gives every key a description and a default.
:func:`validate_config` fills the defaults in place and raises :class:`ConfigError` with a message
that names the offending key (``experiments.vowels_4k.fmax_hz``) before any job starts.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar, get_type_hints

import jsonschema
import yaml

from spectrocam.exceptions import ExpectedError
from spectrocam.phones import VOWELS, strip_stress

__all__ = [
    "ConfigError",
    "Section",
    "SCHEMA_PATH",
    "load_schema",
    "validate_config",
    "enabled_experiments",
    "experiment_vowels",
    "schema_keys",
    "markdown_table",
    "documented_table",
    "update_documented_table",
    "check_ceiling",
    "NETWORK_STAGES",
]

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"


# The stages (rules) that run a network: their jobs' threads are training.threads and their GPUs
# training.gpus, never resources.<stage> (spectrocam.resources).
NETWORK_STAGES = ("train", "test_model", "maps", "sanity", "causal")


class ConfigError(ExpectedError, ValueError):
    """The configuration is invalid; the message names the key."""


S = TypeVar("S", bound="Section")


class Section:
    """Base of the frozen dataclasses that hold one step's settings.

    Each field is a key of the configuration's section(s) named in ``SECTIONS`` (dotted schema
    paths, ``experiments.<name>`` for a mapping's entries), with the schema's names and units;
    ``EXTRA`` names fields that are not config keys (an experiment's name). A rule passes
    :meth:`pick` of the section as a param (only the keys the step uses, so that a change of
    another key reruns nothing), and the script builds the dataclass with :meth:`from_config`,
    which refuses a missing key. A test checks every field against the schema.
    """

    SECTIONS: ClassVar[tuple[str, ...]] = ()
    EXTRA: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]

    @classmethod
    def pick(cls, *sections: Mapping, **extra: Any) -> dict:
        """The keys of ``sections`` (merged, later ones win) that this step uses, and ``extra``."""
        merged: dict = {}
        for section in sections:
            merged |= dict(section)
        merged |= extra
        missing = [k for k in cls.keys() if k not in merged]
        if missing:
            raise ConfigError(f"{cls.__name__}: the configuration lacks {', '.join(missing)}")
        return {k: merged[k] for k in cls.keys()}

    @classmethod
    def from_config(cls: type[S], section: Mapping) -> S:
        """The dataclass of :meth:`pick`'s keys; an integer given for a float field becomes a
        float (YAML writes ``lr: 1`` as an integer)."""
        values = cls.pick(section)
        hints = get_type_hints(cls)
        for k, v in values.items():
            if hints.get(k) is float and isinstance(v, int) and not isinstance(v, bool):
                values[k] = float(v)
        return cls(**values)


# Below this many Hz of ceiling per formant, Burg's method finds spurious formants (a 4,000 Hz
# ceiling with 5 formants put F2 of AE at 1,083 Hz, 1,860 Hz with 4): an adult vocal tract has
# one formant per 1,000-1,200 Hz.
MIN_HZ_PER_FORMANT = 900.0


def check_ceiling(max_formant_hz: float, n_formants: float, where: str = "") -> str | None:
    """A message when ``n_formants`` formants are too many below ``max_formant_hz``, else None."""
    if max_formant_hz / n_formants >= MIN_HZ_PER_FORMANT:
        return None
    fit = max(1.0, round(max_formant_hz / 1100 * 2) / 2)
    return (
        f"{where}{n_formants:g} formants below {max_formant_hz:g} Hz are "
        f"{max_formant_hz / n_formants:.0f} Hz apart, fewer than {MIN_HZ_PER_FORMANT:.0f}: Burg's "
        f"method then finds spurious formants; use formants.n_formants {fit:g} for this ceiling"
    )


def load_schema(path: str | Path = SCHEMA_PATH) -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _with_defaults(validator_class: type) -> type:
    """A validator class that also fills in each property's ``default``."""
    validate_properties = validator_class.VALIDATORS["properties"]
    validate_additional = validator_class.VALIDATORS["additionalProperties"]

    def set_defaults(validator, properties, instance, schema) -> Iterator:
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    def additional_defaults(validator, additional, instance, schema) -> Iterator:
        # Schemas of mapping values (e.g. each experiment) get their defaults too.
        if isinstance(instance, dict) and isinstance(additional, dict):
            known = schema.get("properties", {})
            for name, value in instance.items():
                if name not in known and isinstance(value, dict):
                    for key, sub in additional.get("properties", {}).items():
                        if "default" in sub and key not in value:
                            value[key] = copy.deepcopy(sub["default"])
        yield from validate_additional(validator, additional, instance, schema)

    return jsonschema.validators.extend(
        validator_class,
        {"properties": set_defaults, "additionalProperties": additional_defaults},
    )


def _key(path: Any) -> str:
    parts = [str(p) for p in path]
    return ".".join(parts) if parts else "(top level)"


def _message(error: jsonschema.ValidationError) -> str:
    key = _key(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        where = "" if key == "(top level)" else f" under '{key}'"
        return (
            f"unknown key {', '.join(repr(e) for e in extra)}{where}; allowed keys: "
            f"{', '.join(allowed)}"
        )
    if error.validator == "enum":
        return f"'{key}': {error.instance!r} is not one of {error.validator_value}"
    if error.validator == "required":
        return f"'{key}': {error.message}"
    return f"'{key}': {error.message}"


def validate_config(config: dict, schema: Mapping | None = None) -> dict:
    """Validate ``config`` in place, filling defaults; return it.

    Raises :class:`ConfigError` listing every problem found, each naming its key.
    """
    if not isinstance(config, dict):
        raise ConfigError("the configuration must be a mapping of keys to values")
    schema = load_schema() if schema is None else schema
    _coerce_strings(config, schema)
    # before the defaults are filled in: a network stage's threads are training.threads
    given = config.get("resources")
    network_threads = [
        f"'resources.{stage}.threads': the threads of {stage} jobs are training.threads"
        for stage in NETWORK_STAGES
        if isinstance(given, dict) and "threads" in (given.get(stage) or {})
    ]
    _strip_class_stress(config)
    cls = _with_defaults(jsonschema.validators.validator_for(schema))
    validator = cls(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    problems = [_message(e) for e in errors] + network_threads
    if not problems:
        problems = list(_semantic_problems(config))
    if problems:
        raise ConfigError("invalid configuration:\n  - " + "\n  - ".join(problems))
    return config


def _strip_class_stress(config: dict) -> None:
    """Stress digits in the experiments' classes are accepted and ignored: ``IY1`` -> ``IY``."""
    experiments = config.get("experiments")
    if not isinstance(experiments, dict):
        return
    for exp in experiments.values():
        classes = exp.get("classes") if isinstance(exp, dict) else None
        if isinstance(classes, dict):
            for name, phones in classes.items():
                if isinstance(phones, list):
                    classes[name] = [strip_stress(p) if isinstance(p, str) else p for p in phones]


def _coerce_strings(instance: Any, schema: Mapping) -> None:
    """Give typed values to strings where the schema wants no string.

    Snakemake parses nested ``--config`` values (``alignment={shards: 8}``) with YAML's base
    loader, which leaves every scalar a string; this turns ``"8"`` into 8 and ``"null"`` into None
    where the schema does not allow a string, so command-line overrides work as they read.
    """
    if not isinstance(instance, dict):
        return
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    for key, value in list(instance.items()):
        sub = props.get(key, extra if isinstance(extra, dict) else None)
        if sub is None:
            continue
        types = sub.get("type", [])
        types = [types] if isinstance(types, str) else types
        if isinstance(value, str) and "string" not in types and "enum" not in sub:
            try:
                instance[key] = yaml.safe_load(value)
            except yaml.YAMLError:
                pass
        elif isinstance(value, str) and "null" in types and value in ("null", "~", "None"):
            instance[key] = None
        elif isinstance(value, dict):
            _coerce_strings(value, sub)
        elif isinstance(value, list) and isinstance(sub.get("items"), dict):
            for item in value:
                _coerce_strings(item, sub["items"])


def _semantic_problems(config: dict) -> Iterator[str]:
    fractions = config["splits"]["fractions"]
    total = sum(fractions.values())
    if abs(total - 1.0) > 1e-6:
        yield f"'splits.fractions': train + validation + test must be 1, not {total:g}"
    nyquist = config["corpus"]["sample_rate_hz"] / 2
    spec = config["spectrogram"]
    win_samples = round(spec["win_s"] * config["corpus"]["sample_rate_hz"])
    if spec["n_fft"] < win_samples:
        yield (
            f"'spectrogram.n_fft': {spec['n_fft']} is shorter than the window "
            f"({win_samples} samples = win_s x corpus.sample_rate_hz)"
        )
    if round(spec["hop_s"] * config["corpus"]["sample_rate_hz"]) < 1:
        yield "'spectrogram.hop_s': shorter than one sample"
    alignment = config["alignment"]
    if alignment["backend"] == "textgrids" and not alignment["textgrids_dir"]:
        yield "'alignment.textgrids_dir': must be set when alignment.backend is 'textgrids'"
    yield from _formant_problems(config, nyquist)
    if not enabled_experiments(config):
        yield "'experiments': no enabled experiment"
    for name in enabled_experiments(config):  # a disabled experiment is not checked
        exp = config["experiments"][name]
        where = f"experiments.{name}"
        if exp["fmax_hz"] > nyquist:
            yield (
                f"'{where}.fmax_hz': {exp['fmax_hz']:g} Hz is above the Nyquist frequency "
                f"({nyquist:g} Hz at corpus.sample_rate_hz)"
            )
        if exp["fmin_hz"] >= exp["fmax_hz"]:
            yield f"'{where}.fmin_hz': {exp['fmin_hz']:g} must be below fmax_hz"
        owner: dict[str, str] = {}
        for cls_name, phones in exp["classes"].items():
            for phone in phones:
                base = strip_stress(phone)
                if base in owner:
                    yield (
                        f"'{where}.classes.{cls_name}': phone {phone} is also in class "
                        f"{owner[base]}; classes must not share phones"
                    )
                owner[base] = cls_name


def _formant_problems(config: dict, nyquist: float) -> Iterator[str]:
    """Every formant ceiling (the female and male defaults, each speaker's own, those of the
    sensitivity check) below the Nyquist frequency, with enough Hz per formant for Burg's method."""
    formants, speakers = config["formants"], config["corpus"]["speakers"]
    sexes = {
        formants["default_sex"],
        *(f.get("sex", formants["default_sex"]) for f in speakers.values()),
    }
    ceilings = {}
    if "female" in sexes:
        ceilings["formants.max_formant_hz"] = formants["max_formant_hz"]
    if "male" in sexes:
        ceilings["formants.max_formant_male_hz"] = formants["max_formant_male_hz"]
    for speaker, facts in speakers.items():
        if facts.get("max_formant_hz"):
            ceilings[f"corpus.speakers.{speaker}.max_formant_hz"] = facts["max_formant_hz"]
    for k, ceiling in enumerate(config.get("sensitivity", {}).get("ceilings_hz", [])):
        ceilings[f"sensitivity.ceilings_hz[{k}]"] = ceiling
    for key, ceiling in ceilings.items():
        if ceiling > nyquist:
            yield f"'{key}': {ceiling:g} Hz is above the Nyquist frequency ({nyquist:g} Hz)"
        problem = check_ceiling(ceiling, formants["n_formants"])
        if problem:
            yield f"'{key}': {problem}"


def enabled_experiments(config: Mapping) -> list[str]:
    """Names of the experiments the run builds, in config order."""
    return [name for name, exp in config["experiments"].items() if exp.get("enabled", True)]


def experiment_vowels(config: Mapping) -> set[str]:
    """The vowel phones (no stress) in the classes of the enabled experiments."""
    phones = {
        strip_stress(p)
        for name in enabled_experiments(config)
        for members in config["experiments"][name]["classes"].values()
        for p in members
    }
    return phones & VOWELS


def schema_keys(schema: Mapping | None = None) -> list[tuple[str, dict]]:
    """Every key of the schema as ``(dotted path, sub-schema)``, ``<name>`` for mapping keys."""
    schema = load_schema() if schema is None else schema
    out: list[tuple[str, dict]] = []

    def walk(node: Mapping, prefix: str) -> None:
        for key, sub in node.get("properties", {}).items():
            out.append((prefix + key, sub))
            walk(sub, f"{prefix}{key}.")
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            walk(extra, f"{prefix}<name>.")

    walk(schema, "")
    return out


TABLE_START, TABLE_END = "<!-- config-table:start -->\n", "\n<!-- config-table:end -->"


def markdown_table(schema: Mapping | None = None) -> str:
    """The configuration keys as a Markdown table (for config/README.md)."""
    rows = ["| key | default | description |", "| --- | --- | --- |"]
    for key, sub in schema_keys(schema):
        if sub.get("type") == "object" and "properties" in sub:
            default = ""
        else:
            default = "(required)" if "default" not in sub else f"`{json.dumps(sub['default'])}`"
        text = " ".join(str(sub.get("description", "")).split()).replace("|", "\\|")
        rows.append(f"| `{key}` | {default} | {text} |")
    return "\n".join(rows)


def documented_table(text: str) -> str:
    """The table between the markers ``<!-- config-table:start -->`` and ``...:end -->``."""
    if TABLE_START not in text or TABLE_END not in text:
        raise ValueError("no <!-- config-table:start --> ... <!-- config-table:end --> markers")
    return text.split(TABLE_START, 1)[1].split(TABLE_END, 1)[0]


def update_documented_table(path: str | Path) -> bool:
    """Rewrite the table between the markers of ``path`` (config/README.md) from the schema;
    whether it changed."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    old = documented_table(text)
    new = markdown_table()
    if old != new:
        path.write_text(text.replace(TABLE_START + old + TABLE_END, TABLE_START + new + TABLE_END))
    return old != new


if __name__ == "__main__":
    # python -m spectrocam.config: print the table; --update FILE: rewrite it in FILE
    if sys.argv[1:2] == ["--update"] and len(sys.argv) == 3:
        changed = update_documented_table(sys.argv[2])
        print(f"{sys.argv[2]}: {'updated' if changed else 'up to date'}")
    else:
        print(markdown_table())
