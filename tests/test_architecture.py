"""What keeps the code easy to change: registries that agree with the schema, config dataclasses
that name real keys, pinned environments that agree, one join key, whole-or-nothing writes,
small modules and no import cycles."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import pkgutil
import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest
import yaml

import spectrocam
from spectrocam.config import NETWORK_STAGES, Section, load_schema
from spectrocam.explain.methods import METHOD_NAMES, METHODS
from spectrocam.io import atomic_path
from spectrocam.keys import add_phone_ids, join
from spectrocam.model.network import ARCHS, STAGES, STRIDES
from spectrocam.phones import ARPABET_PHONES

from .conftest import REPO

PACKAGE = Path(spectrocam.__file__).parent
SCHEMA = load_schema()


def schema_node(path: str) -> dict:
    node = SCHEMA
    for part in path.split("."):
        node = node["additionalProperties"] if part == "<name>" else node["properties"][part]
    return node


def all_modules() -> list[str]:
    return [m.name for m in pkgutil.walk_packages([str(PACKAGE)], "spectrocam.")]


def test_the_schema_lists_exactly_the_registered_methods_stages_and_phones():
    explain = schema_node("explain")["properties"]
    assert explain["methods"]["items"]["enum"] == list(METHOD_NAMES)
    assert explain["methods"]["default"] == list(METHOD_NAMES)
    assert set(explain["stage"]["enum"]) == set(STAGES)
    classes = schema_node("experiments.<name>.classes")
    assert set(classes["additionalProperties"]["items"]["enum"]) == ARPABET_PHONES
    model = schema_node("model")["properties"]
    assert model["arch"]["enum"] == list(ARCHS)
    assert set(model["freq_stride"]["enum"]) == set(STRIDES) == set(model["time_stride"]["enum"])


def test_every_method_in_the_registry_is_complete():
    for name, method in METHODS.items():
        assert method.description and method.kind in ("weights", "gradient", "score"), name
        assert (method.fn is None) == (method.kind == "score"), name


def sections() -> list[type[Section]]:
    for module in all_modules():
        importlib.import_module(module)
    found, todo = [], list(Section.__subclasses__())
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    return sorted(found, key=lambda c: c.__name__)


def test_every_config_dataclass_names_schema_keys_with_the_schemas_defaults():
    classes = sections()
    names = {c.__name__ for c in classes}
    assert {"TrainConfig", "ExplainConfig", "AgreementConfig", "CausalConfig"} <= names
    for cls in classes:
        assert cls.SECTIONS, f"{cls.__name__} names no section"
        props = {}
        for path in cls.SECTIONS:
            props |= schema_node(path)["properties"]
        for f in dataclasses.fields(cls):
            if f.name in cls.EXTRA:
                continue
            assert f.name in props, f"{cls.__name__}.{f.name} is not a key of {cls.SECTIONS}"
            if "default" in props[f.name] and f.default is not dataclasses.MISSING:
                ours = list(f.default) if isinstance(f.default, tuple) else f.default
                assert ours == props[f.name]["default"], f"{cls.__name__}.{f.name}"


def test_a_section_takes_only_its_keys_and_refuses_a_missing_one():
    from spectrocam.evidence.agreement import AgreementConfig

    section = {"window_hz": 100, "bootstrap": 10, "permutations": 5, "seed": 1, "other": 0}
    cfg = AgreementConfig.from_config(section)
    assert cfg == AgreementConfig(100.0, 10, 5, 1) and isinstance(cfg.window_hz, float)
    assert AgreementConfig.pick(section) == {k: section[k] for k in AgreementConfig.keys()}
    with pytest.raises(ValueError, match="lacks permutations"):
        AgreementConfig.from_config({"window_hz": 1, "bootstrap": 1, "seed": 0})


def pins(lines: list[str]) -> dict[str, str]:
    out = {}
    for line in lines:
        m = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)==([^\s;]+)\s*", line)
        if m:
            out[m.group(1).lower()] = m.group(2)
    return out


def test_the_conda_env_pins_the_versions_of_pyproject_and_the_lock():
    env = yaml.safe_load((REPO / "envs/spectrocam.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    ours = pins(pip)
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    declared = pins(project["project"]["dependencies"])
    # the workflow engine runs the jobs, it is not needed inside their environment
    needed = {k: v for k, v in declared.items() if not k.startswith("snakemake")}
    assert ours == needed
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    locked = {p["name"].lower(): p["version"] for p in lock["package"]}
    for name, version in declared.items():
        assert locked[name] == version, name
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python.split("=")[1] in project["project"]["requires-python"]


def test_phone_ids_number_the_phones_of_each_clip_in_time_order():
    phones = pd.DataFrame(
        {"utt_id": ["b", "a", "a"], "phone": ["T", "AA1", "S"], "start_s": [0.0, 0.3, 0.1]}
    )
    table = add_phone_ids(phones)
    assert list(table.phone_id) == ["a/0", "a/1", "b/0"]
    assert list(table.phone) == ["S", "AA1", "T"]


def test_join_matches_on_the_phone_id_one_to_one_and_keeps_the_left_order():
    left = pd.DataFrame({"phone_id": ["u/2", "u/0", "v/0"], "x": [1, 2, 3]})
    right = pd.DataFrame({"phone_id": ["u/0", "u/2"], "f1_hz": [500.0, 300.0], "x": [9, 9]})
    joined = join(left, right)
    assert list(joined.phone_id) == ["u/2", "u/0"] and list(joined.f1_hz) == [300.0, 500.0]
    assert list(joined.x) == [1, 2]  # a column the left has is not taken unless named
    assert join(left, right, ["f1_hz"], how="left").f1_hz.isna().tolist() == [False, False, True]
    with pytest.raises(pd.errors.MergeError):
        join(left, pd.concat([right, right]))
    with pytest.raises(KeyError, match="phone_id"):
        join(left, right.drop(columns="phone_id"))


def test_atomic_path_renames_on_success_and_leaves_nothing_on_failure(tmp_path):
    out = tmp_path / "sub" / "table.tsv"
    with atomic_path(out) as tmp:
        tmp.write_text("a\n")
        assert not out.exists()
    assert out.read_text() == "a\n"
    with pytest.raises(RuntimeError):
        with atomic_path(out) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert out.read_text() == "a\n" and not tmp.exists()
    folder = tmp_path / "corpus"
    for content in ("first", "second"):  # a directory replaces the one before it
        with atomic_path(folder) as tmp:
            tmp.mkdir()
            (tmp / "x.lab").write_text(content)
    assert (folder / "x.lab").read_text() == "second" and not tmp.exists()


def test_an_empty_table_reads_back_as_an_empty_table(tmp_path):
    from spectrocam.io import read_table, write_table

    write_table(pd.DataFrame(), tmp_path / "e.tsv")  # a stage with nothing to say
    assert read_table(tmp_path / "e.tsv").empty
    write_table(pd.DataFrame({"a": [1.0, float("nan")], "b": ["x", ""]}), tmp_path / "t.tsv")
    back = read_table(tmp_path / "t.tsv")
    assert back["a"].isna().tolist() == [False, True] and back["b"].isna().tolist() == [False, True]


def module_sizes() -> dict[str, tuple[int, list[tuple[str, int]]]]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text()
        functions = [
            (node.name, node.end_lineno - node.lineno + 1)
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        out[str(path.relative_to(PACKAGE))] = (len(source.splitlines()), functions)
    return out


def test_modules_and_functions_stay_small():
    for name, (lines, functions) in module_sizes().items():
        assert lines <= 400, f"{name} has {lines} lines"
        for function, length in functions:
            assert length <= 80, f"{name}: {function} has {length} lines"


# The stages in the order the workflow runs them; the package's top-level modules (config, io,
# jobs, keys, phones, progress, stats, ...) are the ground floor under all of them.
STAGE_ORDER = ("corpus", "align", "segments", "model", "explain", "evidence", "report")


def import_graph(everywhere: bool) -> dict[str, set[str]]:
    """module -> the package's modules it imports: at module level only, or ``everywhere``
    (imports inside functions too, which may break a cycle but still depend on the module)."""
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        name = "spectrocam." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        name = name.removesuffix(".__init__")
        tree = ast.parse(path.read_text())
        deps = set()
        for node in ast.walk(tree) if everywhere else tree.body:
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("spectrocam"):
                # ``from spectrocam.evidence import verdict`` imports the module it names
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    known = (PACKAGE.parent / sub.replace(".", "/")).with_suffix(".py").exists()
                    package = (PACKAGE.parent / sub.replace(".", "/") / "__init__.py").exists()
                    deps.add(sub if known or package else node.module)
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.startswith("spectrocam.")}
        graph[name] = deps
    return graph


def stage_of(module: str) -> int:
    """0 for the ground floor, else 1 + the stage's place in :data:`STAGE_ORDER` (the stage's
    package itself included)."""
    parts = module.split(".")
    return STAGE_ORDER.index(parts[1]) + 1 if len(parts) > 1 and parts[1] in STAGE_ORDER else 0


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import of a later stage's module (or of a stage's module from the ground floor)."""
    return sorted(
        f"{module} -> {dep}"
        for module, deps in graph.items()
        for dep in deps
        if dep != "spectrocam" and stage_of(dep) > stage_of(module)
    )


def test_every_package_folder_is_a_stage_and_says_what_it_reads_and_writes():
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert folders == set(STAGE_ORDER)
    for folder in folders:
        doc = ast.get_docstring(ast.parse((PACKAGE / folder / "__init__.py").read_text()))
        assert doc and "Reads" in doc and "Writes" in doc, folder


def test_no_module_imports_a_later_stage():
    """corpus < align < segments < model < explain < evidence < report, the ground floor under
    all: counted with the imports inside functions, which a lazy import must not hide."""
    assert upward_imports(import_graph(everywhere=True)) == []


def test_the_stage_check_sees_an_upward_import():
    graph = {
        "spectrocam.segments.store": {"spectrocam.evidence.shares", "spectrocam.io"},
        "spectrocam.io": {"spectrocam.model.network"},
        "spectrocam.report.page": {"spectrocam.evidence.verdict", "spectrocam.keys"},
        "spectrocam.align.mfa": {"spectrocam.segments"},  # a stage's package is that stage
    }
    assert upward_imports(graph) == [
        "spectrocam.align.mfa -> spectrocam.segments",
        "spectrocam.io -> spectrocam.model.network",
        "spectrocam.segments.store -> spectrocam.evidence.shares",
    ]


def test_the_package_has_no_import_cycles():
    """Imports between the package's modules, those inside functions included, form no cycle."""
    graph = import_graph(everywhere=True)
    state: dict[str, str] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for dep in graph.get(node, ()):
            if state.get(dep) == "open":
                raise AssertionError("import cycle: " + " -> ".join([*trail, node, dep]))
            if dep not in state:
                visit(dep, [*trail, node])
        state[node] = "done"

    for module in graph:
        if module not in state:
            visit(module, [])


LIGHT_CHECK = """
import ast, sys
from pathlib import Path
for script in sys.argv[1:]:
    tree = ast.parse(Path(script).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            __import__(node.module)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                __import__(alias.name)
    if "torch" in sys.modules:
        print(script)
        break
"""


def rule_scripts() -> dict[str, tuple[str, bool]]:
    """rule -> (its script, whether it runs a network: config.NETWORK_STAGES, which ask for
    training.gpus)."""
    out = {}
    for smk in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        for block in re.split(r"\n(?=[ ]*rule )", smk.read_text(encoding="utf-8")):
            name = re.match(r"[ ]*rule (\w+):", block)
            script = re.search(r'script:\s*\n\s*"\.\./scripts/([\w.]+)"', block)
            if name and script:
                out[name.group(1)] = (script.group(1), name.group(1) in NETWORK_STAGES)
    return out


def test_light_rules_do_not_import_torch():
    """Only the rules that run a network (those that ask for GPUs) pay torch's 600 MB and 4-5 s."""
    import subprocess
    import sys

    scripts = rule_scripts()
    assert {"train", "maps", "evidence", "verdict"} <= set(scripts)
    light = [str(REPO / "workflow" / "scripts" / s) for s, gpu in scripts.values() if not gpu]
    assert len(light) >= 15
    proc = subprocess.run(
        [sys.executable, "-c", LIGHT_CHECK, *light],
        capture_output=True,
        text=True,
        cwd=REPO / "workflow" / "scripts",
        env={**__import__("os").environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "", f"{proc.stdout.strip()} imports torch"


def test_each_rule_script_is_named_after_its_rule():
    """workflow/scripts/<rule>.py; the one script two rules share is named after the first."""
    shared = {"mfa_phones": "phones_from_textgrids.py"}
    scripts = rule_scripts()
    assert len(scripts) >= 30
    for rule, (script, _) in scripts.items():
        assert script == shared.get(rule, f"{rule}.py"), rule
    used = {s for s, _ in scripts.values()}
    assert {p.name for p in (REPO / "workflow" / "scripts").glob("*.py")} == used
