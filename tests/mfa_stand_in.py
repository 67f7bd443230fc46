"""A stand-in for MFA 3.x's ``mfa``: the commands the MFA rules run, their arguments read by role
as MFA 3.x's command line defines them, and every argument checked for what that role needs.

MFA 3.x (click commands, options anywhere among the positional arguments):

- ``mfa align CORPUS_DIRECTORY DICTIONARY_PATH ACOUSTIC_MODEL_PATH OUTPUT_DIRECTORY``: the
  corpus an existing directory (with its ``.lab`` transcripts), the dictionary a pronunciation
  dictionary (``.dict``, ``.txt`` or ``.yaml``: MFA refuses another extension for it), the
  acoustic model a ``.zip`` archive, the output a directory other than the corpus; ``--beam``
  and ``--retry_beam`` go to the aligner's configuration as integers;
- ``mfa train CORPUS_DIRECTORY DICTIONARY_PATH OUTPUT_MODEL_PATH`` with ``--output_directory``
  for the alignments: the model is written as a ``.zip`` archive (a file, not a directory);
- ``mfa model download MODEL_TYPE MODEL_NAME...``: a type of model and the names of published
  models (without a name MFA lists the models and downloads nothing);
- the common options ``-j``/``--num_jobs`` (an integer), ``-t``/``--temporary_directory``,
  ``--clean``, ``--single_speaker``; ``--output_format`` one of MFA's formats.

Stricter than MFA where MFA would go on with a wrong run: an unknown option, an option without
its value, a relative path, a file whose contents do not fit its role (a dictionary that is no
``WORD PHONE...`` text, an acoustic model that is no zip archive), ``--retry_beam`` not above
``--beam``, and an ``MFA_ROOT_DIR`` that is unset, relative, missing or outside the run's
resources/ are errors. Each call is recorded (``MFA_STANDIN_RECORD``: one JSON line with the
arguments by role); each failure too, beside it (``.errors``). What it writes is what MFA would,
where MFA would: the alignments are the reference TextGrids of the corpus's utterances
(``MFA_STANDIN_TEXTGRIDS``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import zipfile
from pathlib import Path

FORMATS = ["long_textgrid", "short_textgrid", "json", "csv"]
MODEL_TYPES = ["acoustic", "dictionary", "g2p", "ivector", "language_model", "tokenizer"]
# the published models the rules may name (MFA refuses a name it cannot find remotely)
PUBLISHED = {"acoustic": {"english_us_arpa", "english_mfa"}, "dictionary": {"english_us_arpa"}}
DICTIONARY_SUFFIXES = (".dict", ".txt", ".yaml")
STAND_IN_DICTIONARY = "THE\tDH AH0\nCAT\tK AE1 T\n"


def fail(message: str):
    record = os.environ.get("MFA_STANDIN_RECORD")
    if record:
        with open(Path(record).with_suffix(".errors"), "a", encoding="utf-8") as fh:
            fh.write(f"{sys.argv[1:]}: {message}\n")
    sys.exit(f"mfa stand-in: {message}")


class Parser(argparse.ArgumentParser):
    def error(self, message):
        fail(f"{self.prog}: {message}")


def parser_for(argv: list[str]) -> tuple[str, Parser, list[str]]:
    """The command, its parser (MFA 3.x's arguments and the options the rules use) and the
    arguments after the command's name."""
    if argv[:1] == ["model"] and argv[1:2] == ["download"]:
        parser = Parser(prog="mfa model download")
        parser.add_argument("model_type", choices=MODEL_TYPES)
        parser.add_argument("model_name", nargs="*")
        parser.add_argument("--ignore_cache", action="store_true")
        return "download", parser, argv[2:]
    if argv[:1] not in (["align"], ["train"]):
        fail(f"{argv[:2]} is not a command of MFA 3.x that the rules use")
    command = argv[0]
    parser = Parser(prog=f"mfa {command}")
    parser.add_argument("corpus_directory")
    parser.add_argument("dictionary_path")
    if command == "align":
        parser.add_argument("acoustic_model_path")
        parser.add_argument("output_directory")
        parser.add_argument("--beam", type=int)
        parser.add_argument("--retry_beam", type=int)
    else:
        parser.add_argument("output_model_path")
        parser.add_argument("--output_directory")
    parser.add_argument("--output_format", choices=FORMATS, default="long_textgrid")
    parser.add_argument("--clean", action="store_true")
    parser.add_argument("--single_speaker", action="store_true")
    parser.add_argument("-j", "--num_jobs", type=int)
    parser.add_argument("-t", "--temporary_directory")
    return command, parser, argv[1:]


def mfa_root() -> Path:
    root = os.environ.get("MFA_ROOT_DIR")
    if not root or not os.path.isabs(root) or not os.path.isdir(root):
        fail(f"MFA_ROOT_DIR is {root!r}, not an existing absolute directory")
    resources = Path(os.environ["MFA_STANDIN_RESOURCES"]).resolve()
    if not Path(root).resolve().is_relative_to(resources):
        fail(f"MFA_ROOT_DIR {root} is not under {resources}")
    return Path(root)


def check_dictionary(path: Path) -> None:
    """A pronunciation dictionary: by its extension, as MFA checks it, and by its contents."""
    if path.suffix.lower() not in DICTIONARY_SUFFIXES:
        fail(f"the dictionary {path} has not a dictionary's extension {DICTIONARY_SUFFIXES}")
    if not path.is_file():
        fail(f"no dictionary {path}")
    try:
        lines = [line.split() for line in path.read_text(encoding="utf-8").splitlines()]
    except UnicodeDecodeError:
        fail(f"the dictionary {path} is not text")
    entries = [line for line in lines if line]
    if not entries or any(len(line) < 2 for line in entries):
        fail(f"{path} is not a pronunciation dictionary (WORD PHONE... per line)")


def check_acoustic_model(path: Path) -> None:
    if path.suffix.lower() != ".zip" or not zipfile.is_zipfile(path):
        fail(f"the acoustic model {path} is not a .zip archive")


def check_paths(command: str, args: argparse.Namespace) -> dict[str, str]:
    """Every path absolute, each argument fit for its role; the paths by role."""
    paths = {
        key: value
        for key, value in vars(args).items()
        if key.endswith(("_directory", "_path")) and value is not None
    }
    for key, value in paths.items():
        if not os.path.isabs(value):
            fail(f"{key} {value!r} is not an absolute path")
    corpus = Path(args.corpus_directory)
    if not corpus.is_dir() or not any(corpus.glob("*.lab")):
        fail(f"the corpus directory {corpus} is no directory of .lab transcripts")
    check_dictionary(Path(args.dictionary_path))
    if args.output_directory is None:
        fail(f"mfa {command} without an output directory exports no alignments")
    out = Path(args.output_directory)
    if out.resolve() == corpus.resolve() or out.is_file():
        fail(f"the output directory {out} is the corpus or a file")
    if command == "align":
        check_acoustic_model(Path(args.acoustic_model_path))
        if args.beam is None or args.retry_beam is None or not 0 < args.beam < args.retry_beam:
            fail(f"--beam {args.beam} and --retry_beam {args.retry_beam}: 0 < beam < retry_beam")
    else:
        model = Path(args.output_model_path)
        if model.suffix.lower() != ".zip" or model.is_dir():
            fail(f"the output model {model} is not a .zip file to write")
    return paths


def download(root: Path, args: argparse.Namespace) -> None:
    if not args.model_name:
        fail(f"mfa model download {args.model_type} without a model name downloads nothing")
    for name in args.model_name:
        if name not in PUBLISHED.get(args.model_type, set()):
            fail(f"no published {args.model_type} model {name!r}")
        folder = root / "pretrained_models" / args.model_type
        folder.mkdir(parents=True, exist_ok=True)
        if args.model_type == "acoustic":
            with zipfile.ZipFile(folder / f"{name}.zip", "w") as z:
                z.writestr(f"{name}/meta.json", json.dumps({"version": "3.0.0"}))
        else:
            (folder / f"{name}.dict").write_text(STAND_IN_DICTIONARY, encoding="utf-8")


def align(command: str, root: Path, args: argparse.Namespace) -> None:
    corpus = Path(args.corpus_directory)
    # MFA links its alignment archives across the temporary directory by the paths built from -t
    tmp = Path(args.temporary_directory or root) / corpus.name
    (tmp / "ali").mkdir(parents=True, exist_ok=True)
    (tmp / "ali" / "ali.1.ark").write_bytes(b"")
    (tmp / "sat_ali").mkdir(exist_ok=True)
    link = tmp / "sat_ali" / "ali.1.ark"
    link.unlink(missing_ok=True)
    link.symlink_to(tmp / "ali" / "ali.1.ark")
    if not link.exists():
        fail(f"{link} points nowhere")
    out_dir = Path(args.output_directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    textgrids = Path(os.environ["MFA_STANDIN_TEXTGRIDS"])
    for lab in sorted(corpus.glob("*.lab")):
        shutil.copy(textgrids / f"{lab.stem}.TextGrid", out_dir / f"{lab.stem}.TextGrid")
    if command == "train":
        model = Path(args.output_model_path)
        model.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(model, "w") as z:
            z.writestr(f"{model.stem}/meta.json", json.dumps({"version": "3.0.0"}))


def main(argv: list[str]) -> None:
    command, parser, rest = parser_for(argv)
    args = parser.parse_intermixed_args(rest)
    root = mfa_root()
    paths = {} if command == "download" else check_paths(command, args)
    call = {"argv": argv, "root": str(root), "paths": paths, "args": vars(args)}
    with open(os.environ["MFA_STANDIN_RECORD"], "a", encoding="utf-8") as fh:
        fh.write(json.dumps(call) + "\n")
    # what MFA itself keeps in its root on every run
    (root / "global_config.yaml").write_text(f"temporary_directory: {root}\n")
    (root / "joblib_cache").mkdir(exist_ok=True)
    if command == "download":
        download(root, args)
    else:
        align(command, root, args)


if __name__ == "__main__":
    main(sys.argv[1:])
