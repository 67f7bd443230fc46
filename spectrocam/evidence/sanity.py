"""Sanity checks after Adebayo et al. (2018): maps of the same network with its weights
randomised, cascading from the last layer, must lose the agreement that the trained network's
maps have; otherwise the method shows the input, not the model.

:data:`CASCADE` lists the steps: step ``k`` re-initialises (PyTorch's default initialisation,
seeded) ``fc`` and every stage down to ``CASCADE[k]``; the input standardisation stays. The
model trained on shuffled labels (:func:`spectrocam.model.sampling.shuffled_labels`) is compared the
same way, as one more step. The check compares, per segment, the trained map's share of mass
on the formants beyond the spectrum's with the other map's (:func:`sanity_summary`): it
*passes* when the trained map's is higher, with a 95 % interval over utterances above 0, and
says *nothing to lose* when the trained map has no agreement beyond the spectrum to lose.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spectrocam.config import Section
from spectrocam.stats import cluster_bootstrap_ci

__all__ = ["CASCADE", "SanityConfig", "randomised", "sanity_summary"]

CASCADE = ("fc", "layer4", "layer3", "layer2", "layer1", "conv1")


def randomised(model, step: str, seed: int = 0):
    """A copy of ``model`` whose ``fc`` and stages from the last down to ``step`` are
    re-initialised (``step`` one of :data:`CASCADE`). (torch is imported here: the shuffled-labels
    check reads tables only.)"""
    import torch
    from torch import nn

    if step not in CASCADE:
        raise ValueError(f"step must be one of {', '.join(CASCADE)}, not {step!r}")
    out = copy.deepcopy(model)
    torch.manual_seed(seed)
    targets = [out.fc] + [getattr(out.body, name) for name in CASCADE[1 : CASCADE.index(step) + 1]]
    for module in targets:
        for m in module.modules():
            if hasattr(m, "reset_parameters"):
                m.reset_parameters()
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.reset_running_stats()
    return out.eval()


def sanity_summary(
    trained: pd.DataFrame, random: dict[str, pd.DataFrame], n_boot: int = 2000, seed: int = 0
) -> pd.DataFrame:
    """Per cascade step, method and band: the trained and the randomised maps' mean share
    beyond the spectrum's, their paired difference with a 95 % interval over utterances, and
    the verdict (``passed``, ``failed`` or ``nothing to lose``). ``trained`` and each of
    ``random``'s tables are :func:`spectrocam.evidence.shares.evidence_table` outputs."""
    rows = []
    own = _beyond(trained)
    for step, table in random.items():
        other = _beyond(table)
        for (method, band), a in own.groupby(["method", "band"], sort=False):
            b = other[(other.method == method) & (other.band == band)]
            pair = a.merge(b, on=["phone_id", "utt_id"], suffixes=("", "_random"))
            if pair.empty:
                continue
            diff = (pair.beyond - pair.beyond_random).to_numpy(float)
            if not np.isfinite(diff).any():
                continue  # a band no segment has (F3 undefined everywhere)
            mean, low, high = cluster_bootstrap_ci(diff, pair.utt_id, n_boot, 0.95, seed)
            t_mean, t_low, _ = cluster_bootstrap_ci(pair.beyond, pair.utt_id, n_boot, 0.95, seed)
            verdict = "nothing to lose" if not t_low > 0 else ("passed" if low > 0 else "failed")
            rows.append(
                {
                    "step": step,
                    "method": method,
                    "band": band,
                    "n_segments": int(np.isfinite(diff).sum()),
                    "trained_beyond_spectrum": t_mean,
                    "randomised_beyond_spectrum": float(pair.beyond_random.mean()),
                    "difference": mean,
                    "difference_low": low,
                    "difference_high": high,
                    "verdict": verdict,
                }
            )
    return pd.DataFrame(rows)


def _beyond(table: pd.DataFrame) -> pd.DataFrame:
    """Long table (method, band, phone_id, utt_id, beyond): the map's share minus the
    spectrum's, per segment."""
    frames = []
    for method, g in table.groupby("method", sort=False):
        own = g[g.source == method].set_index("phone_id")
        spectrum = g[g.source == "spectrum"].set_index("phone_id").reindex(own.index)
        for band in ("F1", "F2", "F3", "any"):
            col = f"share_{band}"
            frames.append(
                pd.DataFrame(
                    {
                        "method": method,
                        "band": band,
                        "phone_id": own.index,
                        "utt_id": own.utt_id.to_numpy(),
                        "beyond": (own[col] - spectrum[col]).to_numpy(float),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


@dataclass(frozen=True)
class SanityConfig(Section):
    """The ``sanity`` section."""

    SECTIONS = ("sanity",)

    steps: tuple[str, ...] = CASCADE
    seed: int = 0
