"""The one key that ties a phone's rows together across tables: ``phone_id``.

``phone_id = "<utt_id>/<k>"``, ``k`` the phone's position (0, 1, ...) among the aligned phones of
its clip in time order. It is made once, with the phone table (:func:`add_phone_ids`), and
carried unchanged through the segment store, the formant table, the predictions and the map
file, so that tables are joined on a string, never on rounded float times. :func:`join` is the
one way two of them are merged: on ``phone_id``, checked one-to-one.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

__all__ = ["PHONE_ID", "add_phone_ids", "join"]

PHONE_ID = "phone_id"


def add_phone_ids(phones: pd.DataFrame) -> pd.DataFrame:
    """The phone table sorted by clip and start time, with ``phone_id`` as its first column."""
    table = phones.drop(columns=[PHONE_ID], errors="ignore")
    table = table.sort_values(["utt_id", "start_s"], kind="stable").reset_index(drop=True)
    k = table.groupby("utt_id", sort=False).cumcount()
    table.insert(0, PHONE_ID, table["utt_id"].astype(str) + "/" + k.astype(str))
    return table


def join(
    left: pd.DataFrame,
    right: pd.DataFrame,
    columns: Sequence[str] | None = None,
    how: str = "inner",
) -> pd.DataFrame:
    """``left`` with the ``columns`` of ``right`` (all its other columns when None), matched on
    ``phone_id``; each phone may appear at most once on each side (a ``MergeError`` otherwise).

    Columns of ``right`` that ``left`` already has are not taken unless named in ``columns``, in
    which case they come back with the suffix ``_right``. The order of ``left`` is kept.
    """
    for name, table in (("left", left), ("right", right)):
        if PHONE_ID not in table:
            raise KeyError(f"the {name} table has no {PHONE_ID} column")
    if columns is None:
        columns = [c for c in right.columns if c not in left.columns]
    taken = right[[PHONE_ID, *[c for c in columns if c != PHONE_ID]]]
    return left.merge(
        taken, on=PHONE_ID, how=how, validate="one_to_one", suffixes=("", "_right"), sort=False
    )
