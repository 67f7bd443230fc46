"""The map file of an experiment (``maps/<experiment>.h5``) and its one reader.

Every method's maps of the test segments, in one layout, on the feature cells of the stage they
come from. N test segments (in store order), C classes, F rows and T frames as in the segment
store; method ``m`` has maps of ``n_m`` of the segments on ``f_m x t_m`` cells:

======================  ===========  ========================================================
dataset                 shape        content
======================  ===========  ========================================================
segments/phone_id, ...  (N,)         the segments' fields as in the store (``phone_id``,
                                     ``utt_id``, ``word``, ``phone``, ``start_s``, ``end_s``,
                                     ``window_centre_s``), ``segment_index`` (row of the store),
                                     ``label`` and ``predicted`` (class indices)
segments/probabilities  (N, C)       the model's softmax
class_names             (C,)         class names in label order
freqs_hz, times_s       (F,), (T,)   the store's grid
<m>/rows                (n_m,)       which segments (rows of ``segments``) the method has
<m>/true                (n_m, f, t)  map of the true class, signed, on the cells
<m>/predicted           (n_m, f, t)  map of the predicted class (where computed)
======================  ===========  ========================================================

Each method's group has the attributes ``stage``, ``freq_stride``, ``time_stride`` (input rows
and frames per cell), ``hz_per_row``, ``hz_per_cell``, ``s_per_cell`` and ``description``; the
file has ``methods`` (in order), ``experiment`` and ``model_epoch``. The grid view of a map is
built on read (:meth:`MapFile.grid`, :meth:`MapFile.profiles`): each row and frame takes the
value of its nearest cell (:mod:`spectrocam.explain.grid`). A profile averages the time cells whose
centre lies inside the segment's phone (:meth:`MapFile.time_cells`; at least the nearest one).
The file is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd

from spectrocam.explain.grid import cell_index, cell_profiles, cell_times, to_grid, vowel_cells
from spectrocam.segments.store import FLOAT_FIELDS, STRING_FIELDS, H5Writer

__all__ = ["MapWriter", "MapFile", "WHICH"]

WHICH = ("true", "predicted")
_STR = h5py.string_dtype(encoding="utf-8")


class MapWriter(H5Writer):
    """Write a map file: the segments first, then each method's maps in blocks of rows.

    Use as a context manager; leaving the block with an exception deletes the temporary file.
    """

    def __init__(
        self,
        path: str | Path,
        segments: pd.DataFrame,
        probabilities: np.ndarray,
        class_names: Sequence[str],
        freqs_hz: np.ndarray,
        times_s: np.ndarray,
        attrs: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(path)
        self.freqs_hz, self.times_s = np.asarray(freqs_hz), np.asarray(times_s)
        self.methods: list[str] = []
        group = self.h5.create_group("segments")
        for name in STRING_FIELDS:
            values = segments[name].fillna("").astype(str).to_numpy(dtype=object)
            group.create_dataset(name, data=values, dtype=_STR)
        for name in FLOAT_FIELDS:
            group[name] = segments[name].to_numpy(np.float64)
        for name in ("segment_index", "label", "predicted"):
            group[name] = segments[name].to_numpy(np.int64)
        group["probabilities"] = np.asarray(probabilities, dtype=np.float32)
        self.h5.create_dataset(
            "class_names", data=np.array(list(class_names), dtype=object), dtype=_STR
        )
        self.h5["freqs_hz"], self.h5["times_s"] = self.freqs_hz, self.times_s
        self.h5.attrs.update(dict(attrs or {}))

    def add_method(
        self,
        method: str,
        rows: np.ndarray,
        cells: tuple[int, int],
        strides: tuple[int, int],
        stage: str,
        which: Sequence[str] = ("true",),
        description: str = "",
    ) -> None:
        """Create ``method``'s datasets for the segments ``rows`` on ``cells`` (f, t)."""
        group = self.h5.create_group(method)
        group["rows"] = np.asarray(rows, dtype=np.int64)
        for w in which:
            group.create_dataset(w, (len(rows), *cells), dtype=np.float32)
        hz_per_row = float(self.freqs_hz[1] - self.freqs_hz[0]) if len(self.freqs_hz) > 1 else 0.0
        s_per_frame = float(self.times_s[1] - self.times_s[0]) if len(self.times_s) > 1 else 0.0
        group.attrs.update(
            {
                "stage": stage,
                "freq_stride": int(strides[0]),
                "time_stride": int(strides[1]),
                "hz_per_row": hz_per_row,
                "hz_per_cell": hz_per_row * strides[0],
                "s_per_cell": s_per_frame * strides[1],
                "description": description,
            }
        )
        self.methods.append(method)

    def write(self, method: str, which: str, lo: int, cells: np.ndarray) -> None:
        """Maps of ``method`` for its rows ``lo`` to ``lo + len(cells)``."""
        self.h5[method][which][lo : lo + len(cells)] = cells

    def _finish(self) -> None:
        self.h5.attrs["methods"] = list(self.methods)


class MapFile:
    """A map file, read: the segments as a table, and each method's maps and their grid."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        with h5py.File(self.path, "r") as h5:
            self.attrs = {k: h5.attrs[k] for k in h5.attrs}
            self.methods = [str(m) for m in h5.attrs["methods"]]
            self.class_names = list(h5["class_names"].asstr()[:])
            self.freqs_hz, self.times_s = h5["freqs_hz"][:], h5["times_s"][:]
            group = h5["segments"]
            table = {name: group[name].asstr()[:] for name in STRING_FIELDS}
            table |= {name: group[name][:] for name in FLOAT_FIELDS}
            table |= {name: group[name][:] for name in ("segment_index", "label", "predicted")}
            self.probabilities = group["probabilities"][:]
            self._method_attrs = {m: dict(h5[m].attrs) for m in self.methods}
            self._rows = {m: h5[m]["rows"][:] for m in self.methods}
            self._which = {m: [w for w in WHICH if w in h5[m]] for m in self.methods}
        segments = pd.DataFrame(table)
        segments["class_name"] = [self.class_names[i] for i in segments["label"]]
        segments["predicted_name"] = [self.class_names[i] for i in segments["predicted"]]
        segments["correct"] = segments["label"] == segments["predicted"]
        self.segments = segments
        self._cells: dict[tuple[str, str], np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.segments)

    def method_attrs(self, method: str) -> dict:
        return self._method_attrs[self._known(method)]

    def rows(self, method: str) -> np.ndarray:
        """The rows of :attr:`segments` that ``method`` has maps of."""
        return self._rows[self._known(method)]

    def which(self, method: str) -> list[str]:
        """The classes (``true``, ``predicted``) whose maps ``method`` has."""
        return self._which[self._known(method)]

    def common_rows(self, methods: Sequence[str] | None = None) -> np.ndarray:
        """The rows that every one of ``methods`` (default: all) has, in order."""
        rows = [set(self.rows(m).tolist()) for m in (methods or self.methods)]
        return np.array(sorted(set.intersection(*rows)) if rows else [], dtype=np.int64)

    def cells(self, method: str, which: str = "true") -> np.ndarray:
        """(n_m, f, t) maps of ``method`` on its cells, for its :meth:`rows`."""
        key = (self._known(method), which)
        if key not in self._cells:
            if which not in self.which(method):
                raise KeyError(f"{self.path.name}: {method} has no maps of the {which} class")
            with h5py.File(self.path, "r") as h5:
                self._cells[key] = h5[method][which][:]
        return self._cells[key]

    def cell_grid(self, method: str, n_cells: tuple[int, int] | None = None):
        """(row_cell, frame_cell): the cell each row and frame of the grid takes its value from."""
        attrs = self.method_attrs(method)
        f, t = n_cells or self.cells(method, self.which(method)[0]).shape[1:]
        return (
            cell_index(len(self.freqs_hz), f, int(attrs["freq_stride"])),
            cell_index(len(self.times_s), t, int(attrs["time_stride"])),
        )

    def grid(self, method: str, which: str, k: int) -> np.ndarray:
        """The ``k``-th map of ``method`` (row ``rows(method)[k]``) on the (F, T) grid."""
        cells = self.cells(method, which)
        return to_grid(cells[k], *self.cell_grid(method, cells.shape[1:]))

    def positions(self, method: str, rows) -> np.ndarray:
        """Where the map file's ``rows`` sit among ``method``'s maps (a KeyError for a row that
        the method has no map of)."""
        position = {int(r): k for k, r in enumerate(self.rows(method))}
        return np.array([position[int(r)] for r in rows], dtype=np.int64)

    def _selected(self, method: str, rows) -> tuple[np.ndarray, np.ndarray]:
        """(positions among ``method``'s maps, rows of :attr:`segments`) of ``rows`` (all)."""
        own = self.rows(method)
        if rows is None:
            return np.arange(len(own)), own
        keep = self.positions(method, rows)
        return keep, own[keep]

    def time_cells(self, method: str, rows=None) -> list[np.ndarray]:
        """For each of ``method``'s maps (of all its :meth:`rows`, or of the map file's ``rows``),
        the time cells whose centre lies inside the segment's phone (at least the nearest)."""
        _, own = self._selected(method, rows)
        n_cells = self.cells(method, self.which(method)[0]).shape[2]
        centres = cell_times(self.times_s, n_cells, int(self.method_attrs(method)["time_stride"]))
        seg = self.segments.iloc[own]
        return [
            vowel_cells(centres, c, s, e)
            for c, s, e in zip(seg.window_centre_s, seg.start_s, seg.end_s, strict=True)
        ]

    def n_cells(self, method: str, rows=None) -> np.ndarray:
        """How many time cells each profile of :meth:`profiles` averages."""
        return np.array([len(c) for c in self.time_cells(method, rows)], dtype=np.int64)

    def profiles(self, method: str, which: str = "true", rows=None) -> np.ndarray:
        """(n, F) frequency profiles of ``method``'s maps over the time cells inside each
        segment's phone (:meth:`time_cells`): of all its :meth:`rows`, or of the map file's
        ``rows``, in that order."""
        keep, _ = self._selected(method, rows)
        cells = self.cells(method, which)[keep]
        row_cell = self.cell_grid(method, cells.shape[1:])[0]
        return cell_profiles(cells, row_cell, self.time_cells(method, rows))

    def _known(self, method: str) -> str:
        if method not in self._rows:
            known = ", ".join(self.methods)
            raise KeyError(f"{self.path.name} has no maps of {method!r} ({known})")
        return method
