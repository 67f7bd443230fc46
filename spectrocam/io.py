"""Files written whole or not at all, and the tables every stage reads and writes.

Every output of the workflow is written under a temporary name beside its final path and renamed
when complete (:func:`atomic_path`), so a file with its final name is always whole: a job that
is killed leaves at most a ``*.tmp`` file, which the next run overwrites.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = [
    "atomic_path",
    "temporary_path",
    "commit",
    "discard",
    "write_text",
    "read_text_table",
    "read_table",
    "write_table",
    "write_json",
    "read_json",
]


@contextmanager
def atomic_path(path: str | Path, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` when the block succeeds.

    The parent directory is created. When the block raises, the temporary file (or directory)
    is removed and ``path`` is left as it was. ``suffix`` keeps a file type that a writer
    recognises by its name (``.tmp.wav``).
    """
    tmp = temporary_path(path, suffix)
    try:
        yield tmp
    except BaseException:
        discard(tmp)
        raise
    commit(tmp, path)


def temporary_path(path: str | Path, suffix: str = ".tmp") -> Path:
    """The temporary name of ``path`` (a leftover of an interrupted run is removed); its parent
    directory is created. For writers that stay open across calls (the HDF5 stores), which
    :func:`commit` or :func:`discard` when they are closed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + suffix)
    discard(tmp)
    return tmp


def commit(tmp: Path, path: str | Path) -> None:
    """Give the complete temporary file (or directory) ``tmp`` its final name ``path``."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    tmp.replace(path)


def discard(path: Path) -> None:
    """Remove a temporary file or directory, if there is one."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def write_text(text: str, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def read_text_table(path: str | Path):
    """A TSV with every cell kept as written, none read as NaN: for the clip, phone and split
    tables, whose text cells (a word, a note) may be empty and must stay strings."""
    import pandas as pd

    return pd.read_csv(path, sep="\t", keep_default_na=False)


def read_table(path: str | Path):
    """A TSV written by :func:`write_table`, with empty and "nan" cells read as NaN, in string
    columns too (an empty string comes back as NaN); other strings, such as "NA" or "null",
    stay strings. An empty table (written from a frame with no columns) reads as one."""
    import pandas as pd

    if Path(path).stat().st_size <= 1:
        return pd.DataFrame()
    return pd.read_csv(path, sep="\t", keep_default_na=False, na_values=["", "nan", "NaN"])


def write_table(table, path: str | Path, sep: str = "\t", index: bool = False) -> None:
    """Write a pandas table (TSV by default) through a temporary file (never half-written)."""
    with atomic_path(path) as tmp:
        table.to_csv(tmp, sep=sep, index=index)


def write_json(data: Any, path: str | Path) -> None:
    write_text(json.dumps(data, indent=2, default=str) + "\n", path)


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))
