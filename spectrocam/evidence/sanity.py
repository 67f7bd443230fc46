"""The randomised-weights controls after Adebayo et al. (2018): the same network with its weights
re-initialised, cascading from the last layer.

:data:`CASCADE` lists the steps: step ``k`` re-initialises (PyTorch's default initialisation,
seeded) ``fc`` and every stage down to ``CASCADE[k]``; the input standardisation stays. Their
maps are compared with the trained network's by the verdict's map statement
(:mod:`spectrocam.evidence.ranks`: the per-token AUC of the cue cells, trained minus randomised,
on every token that has maps, none dropped), as the model trained on shuffled labels
(:func:`spectrocam.model.sampling.shuffled_labels`) is: a contrast with its interval, never a
gate. What survives the randomisation is what the input and the architecture give any map.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from spectrocam.config import Section

__all__ = ["CASCADE", "SanityConfig", "randomised"]

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


@dataclass(frozen=True)
class SanityConfig(Section):
    """The ``sanity`` section."""

    SECTIONS = ("sanity",)

    steps: tuple[str, ...] = CASCADE
    seed: int = 0
