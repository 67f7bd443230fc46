"""Class-contrastive templates: where in frequency a model's maps of one class differ from its
maps of the other classes.

A map that follows the energy, the architecture or the method's smoothing does so for every
class; what is left after subtracting the other classes is what the map of a class has of its
own. Per token, the frequency profile is the signed map averaged over its time cells inside the
phone (:func:`frequency_profiles`), z-scored over frequency cells (so neither a token's scale nor
its offset counts; a constant profile gives zeros); class c's template is the mean of its
tokens' z-profiles minus the mean, over the other classes, of their class means. The template's
peak (centre Hz of its largest cell) is set beside the class's mean F1, F2, F3: a height contrast
(IY/UW against AA/AE) should show in F1, a front/back one (IY/AE against UW/AO) in F2. The same
function takes any model's maps (trained, shuffled labels, randomised weights).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from spectrocam.evidence.cues import FORMANT_HZ
from spectrocam.evidence.ranks import method_cells
from spectrocam.explain.maps import MapFile
from spectrocam.keys import PHONE_ID, join

__all__ = ["frequency_profiles", "class_templates", "map_file_templates"]


def frequency_profiles(maps: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """(N, f, t) signed maps -> (N, f) their mean over each token's inside time cells."""
    mask = np.asarray(inside, dtype=bool)[:, None, :]
    total = np.where(mask, np.asarray(maps, dtype=float), 0.0).sum(-1)
    return total / np.maximum(mask.sum(-1), 1)


def _zscored(profiles: np.ndarray) -> np.ndarray:
    """Each profile minus its mean over frequency cells, over its standard deviation; a
    constant profile gives zeros."""
    centred = profiles - profiles.mean(1, keepdims=True)
    sd = profiles.std(1, keepdims=True)
    flat = np.ptp(profiles, axis=1, keepdims=True) == 0
    return np.where(flat, 0.0, centred / np.where(flat, 1.0, sd))


def class_templates(
    maps: np.ndarray,
    cell_hz: np.ndarray,
    inside: np.ndarray,
    class_names: Sequence[str],
    formants_hz: np.ndarray | None = None,
    classes: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Class-contrastive templates of any model's maps.

    Each token's frequency profile (:func:`frequency_profiles`) is z-scored over its frequency
    cells; class c's template is the mean of its tokens' z-profiles minus the mean, over the
    other classes, of their class means (NaN with one class). Returns ``(templates, classes)``:
    ``templates`` has one row per class and frequency cell (``class_name``, ``cell``,
    ``freq_hz`` the cell's centre in Hz, ``template``); ``classes`` one per class
    (``class_name``, ``n_tokens``, ``peak_hz``: centre of the template's largest cell, and with
    ``formants_hz`` (N, 3) the class's mean ``f1_hz``, ``f2_hz``, ``f3_hz``). Classes in the order
    of ``classes`` (those with tokens), else of first appearance."""
    z = _zscored(frequency_profiles(maps, inside))
    names = np.asarray(class_names).astype(str)
    order = list(dict.fromkeys(names.tolist()))
    if classes is not None:
        order = [c for c in classes if c in set(order)]
    means = np.stack([z[names == c].mean(0) for c in order]) if order else np.zeros((0, 0))
    cell_hz = np.asarray(cell_hz, dtype=float)
    templates, classes = [], []
    for k, c in enumerate(order):
        others = np.delete(means, k, axis=0)
        template = means[k] - (others.mean(0) if len(others) else np.nan)
        templates.append(
            pd.DataFrame(
                {
                    "class_name": c,
                    "cell": np.arange(len(cell_hz)),
                    "freq_hz": cell_hz,
                    "template": template,
                }
            )
        )
        row = {"class_name": c, "n_tokens": int((names == c).sum())}
        finite = np.isfinite(template)
        row["peak_hz"] = float(cell_hz[np.nanargmax(template)]) if finite.any() else np.nan
        if formants_hz is not None:
            fm = np.asarray(formants_hz, dtype=float)[names == c]
            for j, col in enumerate(FORMANT_HZ):
                row[col] = float(np.nanmean(fm[:, j])) if np.isfinite(fm[:, j]).any() else np.nan
        classes.append(row)
    empty = pd.DataFrame(columns=["class_name", "cell", "freq_hz", "template"])
    return (pd.concat(templates, ignore_index=True) if templates else empty), pd.DataFrame(classes)


def map_file_templates(
    maps: MapFile,
    method: str,
    rows=None,
    formants: pd.DataFrame | None = None,
    which: str = "true",
) -> tuple[pd.DataFrame, pd.DataFrame]:  # pragma: no mutate block
    """:func:`class_templates` of ``method``'s maps of the map file's ``rows`` (default: all the
    method has), by the tokens' true class, in the file's class order; ``formants``: a table
    with ``phone_id`` and ``f1_hz``, ``f2_hz``, ``f3_hz`` (matched by ``phone_id``; a token
    without a row has none)."""
    rows, cells, cell_hz, inside = method_cells(maps, method, rows, which)
    seg = maps.segments.iloc[rows]
    fm = None
    if formants is not None:
        fm = join(seg[[PHONE_ID]], formants, list(FORMANT_HZ), how="left")
        fm = fm[list(FORMANT_HZ)].to_numpy(float)
    names = seg["class_name"].to_numpy()
    return class_templates(cells, cell_hz, inside, names, fm, maps.class_names)
