"""The per-experiment HDF5 segment store.

Layout of ``segments/<experiment>.h5`` (N segments, F frequency rows, T frames):

=================  ===========  ==========================================================
dataset            shape        meaning
=================  ===========  ==========================================================
spectrograms       (N, F, T)    log power, dB (float32 or float16), one chunk per segment
labels             (N,)         class index into ``class_names`` (int16)
class_names        (C,)         class names, in label order
phone_id           (N,)         the phone's key, ``<utt_id>/<k>`` (:mod:`spectrocam.keys`)
utt_id             (N,)         clip id
word               (N,)         word the phone belongs to (may be empty)
phone              (N,)         aligned phone label (ARPAbet, stress as the aligner gave it)
start_s, end_s     (N,)         the phone's interval in the clip, seconds
window_centre_s    (N,)         time in the clip of the window's middle frame, seconds
stress, ...        (N,)         token attributes (:data:`TOKEN_FIELDS`, from
                                :func:`spectrocam.segments.tokens.token_attributes`): stress digit,
                                function word, previous and next phone, rhotic context;
                                absent from stores written without them
freqs_hz           (F,)         exact frequency of each row, Hz
times_s            (T,)         time of each frame relative to ``window_centre_s``, seconds
=================  ===========  ==========================================================

Attributes on the file record every parameter (sample rate, window, hop, n_fft, band, floor,
the class -> phones mapping as JSON, the experiment's token filters, context and
``split_words``, ...). The file is written under a temporary name and
renamed when complete, so a file with the final name is always whole.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd

from spectrocam.io import commit, discard, temporary_path
from spectrocam.segments.splits import SPLITS, segment_splits, unseen_words

__all__ = [
    "STRING_FIELDS",
    "FLOAT_FIELDS",
    "H5Writer",
    "SegmentStoreWriter",
    "read_segment_table",
    "read_store",
    "SegmentReader",
    "MemorySegments",
    "split_indices",
    "read_classes",
    "read_spectrograms",
    "read_spectrogram_block",
    "TOKEN_FIELDS",
    "segment_split_table",
]

STRING_FIELDS = ("phone_id", "utt_id", "word", "phone")
FLOAT_FIELDS = ("start_s", "end_s", "window_centre_s")
# Token attributes, written when the writer is given them (the pipeline's stores always are).
TOKEN_FIELDS = {
    "stress": np.int8,
    "function_word": np.int8,
    "prev_phone": "str",
    "next_phone": "str",
    "rhotic": np.int8,
}
_STR = h5py.string_dtype(encoding="utf-8")


class H5Writer:
    """An HDF5 file written under a temporary name and renamed by :meth:`close`; leaving
    its ``with`` block with an exception deletes it (:meth:`abort`)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.tmp_path = temporary_path(self.path)
        self.h5 = h5py.File(self.tmp_path, "w")

    def _finish(self) -> None:
        """Last writes and checks before the file is closed and renamed."""

    def close(self) -> None:
        self._finish()
        self.h5.close()
        commit(self.tmp_path, self.path)

    def abort(self) -> None:
        self.h5.close()
        discard(self.tmp_path)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class SegmentStoreWriter(H5Writer):
    """Write a segment store in one pass: create with the final N, ``write`` row blocks, ``close``.

    Use as a context manager; leaving the block with an exception deletes the temporary file.
    """

    def __init__(
        self,
        path: str | Path,
        n_segments: int,
        freqs_hz: np.ndarray,
        times_s: np.ndarray,
        class_names: list[str],
        dtype: str = "float32",
        attrs: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(path)
        self.n = n_segments
        self.filled = 0
        shape = (n_segments, len(freqs_hz), len(times_s))
        self.h5.create_dataset(
            "spectrograms",
            shape=shape,
            dtype=np.dtype(dtype),
            chunks=(1, shape[1], shape[2]) if n_segments else None,
        )
        self.h5.create_dataset("labels", shape=(n_segments,), dtype=np.int16)
        for name in STRING_FIELDS:
            self.h5.create_dataset(name, shape=(n_segments,), dtype=_STR)
        for name in FLOAT_FIELDS:
            self.h5.create_dataset(name, shape=(n_segments,), dtype=np.float64)
        self.h5.create_dataset("class_names", data=np.array(class_names, dtype=object), dtype=_STR)
        self.h5.create_dataset("freqs_hz", data=np.asarray(freqs_hz, dtype=np.float64))
        self.h5.create_dataset("times_s", data=np.asarray(times_s, dtype=np.float64))
        for key, value in (attrs or {}).items():
            self.h5.attrs[key] = json.dumps(value) if isinstance(value, dict | list) else value

    def write(self, spectrograms: np.ndarray, labels: np.ndarray, fields: Mapping) -> None:
        """Append a block of segments; ``fields`` holds the STRING_FIELDS and FLOAT_FIELDS, and
        either all the TOKEN_FIELDS or none, the same in every block."""
        k = len(labels)
        lo, hi = self.filled, self.filled + k
        if hi > self.n:
            raise ValueError(f"more segments than announced ({hi} > {self.n})")
        self._write_tokens(lo, hi, fields)
        self.h5["spectrograms"][lo:hi] = spectrograms
        self.h5["labels"][lo:hi] = labels
        for name in STRING_FIELDS:
            self.h5[name][lo:hi] = np.asarray(fields[name], dtype=object)
        for name in FLOAT_FIELDS:
            self.h5[name][lo:hi] = np.asarray(fields[name], dtype=np.float64)
        self.filled = hi

    def _write_tokens(self, lo: int, hi: int, fields: Mapping) -> None:
        given = [name in fields for name in TOKEN_FIELDS]
        created = "stress" in self.h5
        if any(given) and not all(given):
            missing = [n for n, g in zip(TOKEN_FIELDS, given, strict=True) if not g]
            raise ValueError(f"token fields missing from the block: {', '.join(missing)}")
        if lo and any(given) != created:
            raise ValueError("every block must hold the token fields, or none")
        if not any(given):
            return
        for name, dtype in TOKEN_FIELDS.items():
            if not created:
                self.h5.create_dataset(
                    name, shape=(self.n,), dtype=_STR if dtype == "str" else dtype
                )
            value = np.asarray(fields[name], dtype=object if dtype == "str" else dtype)
            self.h5[name][lo:hi] = value

    def _finish(self) -> None:
        if self.filled != self.n:
            raise ValueError(f"store incomplete: {self.filled} of {self.n} segments written")


def read_segment_table(path: str | Path) -> pd.DataFrame:
    """The per-segment fields of a store (no spectrograms) as a table, with ``label`` and
    ``class_name`` columns."""
    with h5py.File(path, "r") as h5:
        names = [s.decode() if isinstance(s, bytes) else s for s in h5["class_names"][:]]
        table = pd.DataFrame(
            {name: h5[name].asstr()[:] for name in STRING_FIELDS}
            | {name: h5[name][:] for name in FLOAT_FIELDS}
        )
        table["label"] = h5["labels"][:].astype(int)
        for name, dtype in TOKEN_FIELDS.items():
            if name in h5:
                table[name] = h5[name].asstr()[:] if dtype == "str" else h5[name][:].astype(int)
    table["class_name"] = [names[i] for i in table["label"]]
    return table


def read_store(path: str | Path) -> dict[str, Any]:
    """Everything in a store, loaded into memory (for tests and small stores)."""
    with h5py.File(path, "r") as h5:
        out: dict[str, Any] = {
            "spectrograms": h5["spectrograms"][:],
            "labels": h5["labels"][:],
            "class_names": list(h5["class_names"].asstr()[:]),
            "freqs_hz": h5["freqs_hz"][:],
            "times_s": h5["times_s"][:],
            "attrs": {k: h5.attrs[k] for k in h5.attrs},
        }
        for name in STRING_FIELDS:
            out[name] = h5[name].asstr()[:]
        for name in FLOAT_FIELDS:
            out[name] = h5[name][:]
        for name, dtype in TOKEN_FIELDS.items():
            if name in h5:
                out[name] = h5[name].asstr()[:] if dtype == "str" else h5[name][:]
    return out


class SegmentReader:
    """Batches of spectrograms from a segment store, as float32 tensors (B, 1, F, T)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.h5 = h5py.File(self.path, "r")
        self.data = self.h5["spectrograms"]
        self.labels = self.h5["labels"][:].astype(int)
        self.class_names = list(self.h5["class_names"].asstr()[:])
        self.freqs_hz = self.h5["freqs_hz"][:]
        self.times_s = self.h5["times_s"][:]

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.data.shape[1:])

    def batch(self, indices: np.ndarray):
        """Spectrograms ``indices`` as a float32 tensor (B, 1, F, T) (torch is imported here, so
        that readers of the table alone do not pay for it)."""
        import torch

        # h5py reads strictly increasing indices; a draw with replacement may repeat one.
        unique, inverse = np.unique(np.asarray(indices, dtype=int), return_inverse=True)
        block = self.data[unique].astype(np.float32)[inverse]
        return torch.from_numpy(block).unsqueeze(1)

    def close(self) -> None:
        self.h5.close()

    def __enter__(self) -> SegmentReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class MemorySegments:
    """Some of a store's segments read once into memory (host or ``device``), with the reader's
    interface (``batch``, ``labels``, ``class_names``, ``shape``, ``freqs_hz``, ``path``), so that
    a training loop never indexes HDF5. Spectrograms stay in the store's dtype (float16 halves
    the memory) and are converted to float32 per batch; a batch of store indices not loaded is
    an error. ``labels`` may replace the store's (training on shuffled labels)."""

    def __init__(self, reader: SegmentReader, indices, device=None, labels=None) -> None:
        import torch

        self.path, self.class_names = reader.path, reader.class_names
        self.freqs_hz, self.times_s = reader.freqs_hz, reader.times_s
        self.labels = np.asarray(reader.labels if labels is None else labels, dtype=int)
        self.indices = np.unique(np.asarray(indices, dtype=int))
        self._row = np.full(len(reader.labels), -1, dtype=np.int64)
        self._row[self.indices] = np.arange(len(self.indices))
        block = reader.data[self.indices] if len(self.indices) else np.zeros((0, *reader.shape))
        self.data = torch.from_numpy(np.ascontiguousarray(block)).to(device or "cpu")

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.data.shape[1:])

    @property
    def nbytes(self) -> int:
        return self.data.element_size() * self.data.nelement()

    def batch(self, indices: np.ndarray):
        """Spectrograms ``indices`` (store indices) as a float32 tensor (B, 1, F, T) on the
        data's device."""
        import torch

        rows = self._row[np.asarray(indices, dtype=int)]
        if (rows < 0).any():
            raise IndexError("a batch asks for segments that were not loaded into memory")
        picked = self.data[torch.from_numpy(rows).to(self.data.device)]
        return picked.float().unsqueeze(1)


def segment_split_table(store_path: str | Path, splits: pd.DataFrame) -> pd.DataFrame:
    """The store's segment table with each segment's ``split``: its utterance's, or
    ``dropped`` for a held-out token whose word type is also a training token's when the
    store's experiment has ``split_words: disjoint``
    (:func:`spectrocam.segments.splits.segment_splits`);
    ``unassigned`` for an utterance without a split; and ``unseen_word``, True for a segment
    whose word type no training segment has (:func:`spectrocam.segments.splits.unseen_words`)."""
    table = read_segment_table(store_path)
    with h5py.File(store_path, "r") as h5:
        words = str(h5.attrs.get("split_words", "shared"))
    table["split"] = segment_splits(table, splits, words)
    table["unseen_word"] = unseen_words(table, table["split"])
    return table


def split_indices(store_path: str | Path, splits: pd.DataFrame) -> dict[str, np.ndarray]:
    """Indices of the store's segments in each split (by the segment's utterance; without the
    dropped tokens of a word-disjoint experiment, :func:`segment_split_table`)."""
    table = segment_split_table(store_path, splits)
    missing = sorted(set(table.loc[table["split"] == "unassigned", "utt_id"]))
    if missing:
        raise ValueError(f"{len(missing)} utterances of the store have no split ({missing[:3]})")
    assigned = table["split"].to_numpy()
    return {s: np.flatnonzero(assigned == s) for s in SPLITS}


def read_classes(path: str | Path) -> dict[str, list[str]]:
    """The store's class -> phones mapping (its ``classes`` attribute)."""
    with h5py.File(path, "r") as h5:
        return json.loads(h5.attrs["classes"])


def _read_block(path: str | Path, indices: np.ndarray) -> np.ndarray:
    """The spectrograms of ``indices`` in that order, as stored (one read of the sorted unique
    indices: h5py reads strictly increasing ones)."""
    with h5py.File(path, "r") as h5:
        data = h5["spectrograms"]
        if not len(indices):
            return np.zeros((0, *data.shape[1:]), dtype=data.dtype)
        unique, inverse = np.unique(indices, return_inverse=True)
        return data[unique][inverse]


def read_spectrograms(path: str | Path, indices) -> dict[int, np.ndarray]:
    """A few segments' spectrograms (F, T) as stored, by store index."""
    indices = np.asarray(indices, dtype=int)
    return dict(zip(indices.tolist(), _read_block(path, indices), strict=True))


def read_spectrogram_block(path: str | Path, indices) -> np.ndarray:
    """(len(indices), F, T) float32 spectrograms of the store's segments ``indices``, in that
    order."""
    return _read_block(path, np.asarray(indices, dtype=int)).astype(np.float32)
