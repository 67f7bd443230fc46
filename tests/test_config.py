import copy

import pytest
import yaml

from spectrocam.config import (
    ConfigError,
    documented_table,
    enabled_experiments,
    load_schema,
    markdown_table,
    update_documented_table,
    validate_config,
)

from .conftest import REPO


def load(name: str) -> dict:
    with open(REPO / "config" / name, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def test_shipped_configs_are_valid():
    full = validate_config(load("config.yaml"))
    assert full["alignment"]["backend"] == "mfa"
    assert enabled_experiments(full) == [
        "vowels_full",
        "vowels_4k",
        "vowels_4k_isolated",
        "voicing_4k",
    ]
    assert full["experiments"]["consonant_voicing_4k"]["enabled"] is False
    demo = validate_config(load("demo.yaml"))
    assert demo["alignment"]["backend"] == "pocketsphinx"
    assert demo["experiments"]["voicing_4k"]["classes"]["unvoiced"] == [
        "P", "T", "K", "F", "TH", "S", "SH", "HH", "CH"
    ]  # fmt: skip


def test_defaults_are_filled_in():
    config = validate_config({"experiments": {"e": {"classes": {"a": ["IY"], "b": ["UW"]}}}})
    assert config["spectrogram"]["n_fft"] == 1024
    assert config["splits"]["fractions"] == {"train": 0.7, "validation": 0.15, "test": 0.15}
    assert config["experiments"]["e"]["fmin_hz"] == 0
    assert config["experiments"]["e"]["enabled"] is True


def _walk(schema: dict, path: str = ""):
    for key, sub in schema.get("properties", {}).items():
        yield f"{path}{key}", sub
        yield from _walk(sub, f"{path}{key}.")
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        yield from _walk(extra, f"{path}<name>.")


def test_every_schema_key_has_description_and_default():
    keys = list(_walk(load_schema()))
    assert len(keys) > 30
    for key, sub in keys:
        assert sub.get("description"), f"{key} has no description"
        if key != "experiments.<name>.classes":
            assert "default" in sub, f"{key} has no default"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda c: c["spectrogram"].update(hop=0.01), "'hop' under 'spectrogram'"),
        (lambda c: c["alignment"].update(backend="kaldi"), "'alignment.backend'"),
        (lambda c: c["experiments"]["vowels_4k"].update(fmax_hz=-1), "vowels_4k.fmax_hz"),
        (lambda c: c["experiments"]["vowels_4k"].update(fmax_hz=20000), "Nyquist"),
        (lambda c: c["experiments"]["vowels_4k"]["classes"].update(AE=["XX"]), "classes.AE"),
        (lambda c: c["experiments"]["vowels_4k"]["classes"].update(AE=["IY"]), "also in class"),
        (lambda c: c["splits"]["fractions"].update(test=0.3), "'splits.fractions'"),
        (lambda c: c["spectrogram"].update(n_fft=256), "'spectrogram.n_fft'"),
        (lambda c: c["corpus"].update(sample_rate_hz="fast"), "'corpus.sample_rate_hz'"),
        (lambda c: c.update(run="a b"), "'run'"),
        (lambda c: c["alignment"].update(backend="textgrids"), "alignment.textgrids_dir"),
    ],
)
def test_bad_values_name_their_key(change, named):
    config = copy.deepcopy(load("config.yaml"))
    change(config)
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    assert named in str(err.value)


def test_command_line_strings_are_typed():
    # Snakemake hands nested --config values over as strings.
    config = load("demo.yaml")
    config["alignment"]["shards"] = "8"
    config["corpus"]["dir"] = "null"
    config["spectrogram"]["win_s"] = "0.02"
    validate_config(config)
    assert config["alignment"]["shards"] == 8
    assert config["corpus"]["dir"] is None
    assert config["spectrogram"]["win_s"] == 0.02


def test_config_readme_documents_every_key():
    readme = (REPO / "config" / "README.md").read_text(encoding="utf-8")
    assert documented_table(readme) == markdown_table(), (
        "config/README.md's table is stale: python -m spectrocam.config --update config/README.md"
    )


def test_the_table_is_rewritten_between_its_markers(tmp_path):
    path = tmp_path / "README.md"
    path.write_text("# keys\n<!-- config-table:start -->\nold\n<!-- config-table:end -->\nend\n")
    assert update_documented_table(path) and not update_documented_table(path)
    text = path.read_text()
    assert text.startswith("# keys\n") and text.endswith("-->\nend\n")
    assert documented_table(text) == markdown_table()


def narrowband(**changes) -> dict:
    """The demo's configuration for a corpus used at its own 8 kHz."""
    config = load("demo.yaml")
    config["corpus"]["sample_rate_hz"] = 8000
    config["formants"] = {"max_formant_hz": 4000, "n_formants": 4}
    config["sensitivity"] = {"ceilings_hz": [3600, 4000]}
    for name in ("vowels_full",):
        config["experiments"][name]["enabled"] = False
    for key, value in changes.items():
        config[key] = value
    return config


def test_a_disabled_experiment_is_not_checked():
    config = validate_config(narrowband())  # vowels_full (to 11,025 Hz) is off
    assert enabled_experiments(config) == ["vowels_4k", "vowels_4k_isolated", "voicing_4k"]
    config = narrowband()
    config["experiments"]["vowels_full"]["enabled"] = True
    with pytest.raises(ConfigError, match="experiments.vowels_full.fmax_hz"):
        validate_config(config)


def test_too_many_formants_for_the_ceiling_is_refused_with_what_fits():
    config = narrowband(formants={"max_formant_hz": 4000, "n_formants": 5})
    with pytest.raises(ConfigError, match="n_formants 3.5 for this ceiling") as err:
        validate_config(config)
    assert "'formants.max_formant_hz': 5 formants below 4000 Hz are 800 Hz apart" in str(err.value)
    # a male speaker's ceiling is checked only when there is one, and against Nyquist too
    config = load("demo.yaml")
    config["corpus"]["speakers"] = {"bob": {"sex": "male"}, "kid": {"max_formant_hz": 12000}}
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    assert "'corpus.speakers.kid.max_formant_hz': 12000 Hz is above the Nyquist" in str(err.value)
    assert "max_formant_male_hz" not in str(err.value)  # 5,000 Hz and 5 formants are fine
    config = narrowband(sensitivity={"ceilings_hz": [4000, 5000]})
    with pytest.raises(ConfigError, match=r"'sensitivity.ceilings_hz\[1\]': 5000 Hz is above"):
        validate_config(config)


def test_stress_digits_in_classes_are_accepted_and_ignored():
    config = load("demo.yaml")
    config["experiments"]["vowels_4k"]["classes"] = {"IY": ["IY1", "IY0"], "AA": ["AA2"]}
    with pytest.raises(ConfigError, match="non-unique"):  # IY1 and IY0 are one phone
        validate_config(copy.deepcopy(config))
    config["experiments"]["vowels_4k"]["classes"] = {"IY": ["IY1"], "AA": ["AA2"]}
    valid = validate_config(config)
    assert valid["experiments"]["vowels_4k"]["classes"] == {"IY": ["IY"], "AA": ["AA"]}
