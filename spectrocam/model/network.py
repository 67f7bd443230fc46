"""The classifier: a torchvision ResNet on one-channel spectrograms, with its CAM features exposed.

The network is torchvision's ResNet (ResNet-101 by default) with two changes: the first
convolution takes one channel (with ImageNet weights its kernels are the mean of the RGB kernels)
and the final layer has one output per class. The input is standardised inside the model with the
training set's mean and standard deviation (stored as buffers), so a saved model is self-contained.

``width`` (64 by default, torchvision's) sets the channels of the first stage; the stages double
it, so a ResNet-18 of width 32 has a 256-channel last stage and costs about a quarter of the
arithmetic. ImageNet weights fit width 64 only.

``freq_stride`` and ``time_stride`` (4, 8, 16 or 32) set how many input rows and frames one cell
of the last feature maps spans. Below 32, the later stages stop striding along that axis and
dilate their 3x3 convolutions along it instead, exactly as torchvision's
``replace_stride_with_dilation`` does on both axes (``freq_stride = time_stride = 8`` is its
output stride 8); the weights, and so ImageNet weights, fit unchanged. ResNet-18 and -34 (basic
blocks of two 3x3 convolutions, which torchvision's constructor refuses to dilate) dilate the
same way: a stage's first block strides in its first convolution with the previous dilation and
dilates its second; the other blocks dilate both. The class activation maps
become that much finer along frequency, where formants lie, and training that much slower.

A feature cell ``i`` of a ResNet whose convolutions are padded by half their kernel is centred on
input row ``i * stride``; :func:`spectrocam.explain.grid.cell_index` uses that to map cells onto the
input grid.
:attr:`SpectroResNet.stage_strides` gives (frequency, time) strides of every stage.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import torch
import torchvision
from torch import nn
from torchvision.models.resnet import BasicBlock

__all__ = [
    "ARCHS",
    "SpectroResNet",
    "build_model",
    "weights_url",
    "STAGES",
    "stage_module",
    "load_model",
]

ARCHS = ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152")
# The stages whose maps the explanation methods can use, first to last (modules of ``body``).
STAGES = ("layer1", "layer2", "layer3", "layer4")
_BODY = ("conv1", "bn1", "relu", "maxpool", *STAGES)
STRIDES = (4, 8, 16, 32)


def _restride(net: nn.Module, strides: tuple[int, int]) -> dict[str, tuple[int, int]]:
    """Stop ``layer2``-``layer4`` striding along an axis once its stride reaches ``strides``,
    dilating instead (torchvision's rule: a stage that stops striding keeps the previous
    dilation in its first block and doubles it for the others). Returns each stage's strides."""
    current, dilation = [4, 4], [1, 1]
    out = {"layer1": (4, 4)}
    for name in ("layer2", "layer3", "layer4"):
        layer = getattr(net, name)
        stride, previous = [2, 2], list(dilation)
        for axis in (0, 1):
            if current[axis] >= strides[axis]:
                stride[axis] = 1
                dilation[axis] *= 2
            else:
                current[axis] *= 2
        first = layer[0]
        if isinstance(first, BasicBlock):
            # two 3x3 convolutions, the first strides: it takes the previous dilation, the
            # second the new one (torchvision's BasicBlock refuses dilation only in __init__)
            first.conv1.stride = tuple(stride)
            first.conv1.dilation = first.conv1.padding = tuple(previous)
            first.conv2.dilation = first.conv2.padding = tuple(dilation)
        else:
            first.conv2.stride, first.conv2.dilation = tuple(stride), tuple(previous)
            first.conv2.padding = tuple(previous)
        if first.downsample is not None:
            first.downsample[0].stride = tuple(stride)
        for block in layer[1:]:
            for conv in (
                (block.conv1, block.conv2) if isinstance(block, BasicBlock) else (block.conv2,)
            ):
                conv.dilation = conv.padding = tuple(dilation)
        out[name] = (current[0], current[1])
    return out


def _narrow(net: torchvision.models.ResNet, width: int) -> None:
    """Rebuild ``net``'s stem and stages with ``width`` channels in the first stage instead of
    64 (the stages double it, as torchvision's do), with torchvision's own blocks and
    ``_make_layer``: the same network, its convolutions ``width / 64`` as wide."""
    block = type(net.layer1[0])
    depths = [len(getattr(net, name)) for name in STAGES]
    net.inplanes = width
    net.bn1 = nn.BatchNorm2d(width)
    for i, (name, depth) in enumerate(zip(STAGES, depths, strict=True)):
        setattr(net, name, net._make_layer(block, width * 2**i, depth, stride=1 if i == 0 else 2))
    net.fc = nn.Linear(width * 8 * block.expansion, net.fc.out_features)


def weights_url(arch: str) -> str:
    """URL of torchvision's ImageNet weights for ``arch`` (the current default weights)."""
    enum = torchvision.models.get_model_weights(arch)
    return enum.DEFAULT.url


class SpectroResNet(nn.Module):
    """A ResNet whose ``features`` (the last stage's maps) and ``fc`` make the logits."""

    def __init__(
        self,
        arch: str,
        n_classes: int,
        freq_stride: int = 32,
        time_stride: int = 32,
        width: int = 64,
    ) -> None:
        super().__init__()
        if arch not in ARCHS:
            raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHS)}")
        for name, value in (("freq_stride", freq_stride), ("time_stride", time_stride)):
            if value not in STRIDES:
                raise ValueError(f"{name} must be one of {STRIDES}, not {value}")
        if width < 1:
            raise ValueError(f"width must be a positive number of channels, not {width}")
        net = getattr(torchvision.models, arch)(weights=None)
        if width != 64:
            _narrow(net, width)
        self.stage_strides = (
            _restride(net, (freq_stride, time_stride))
            if (freq_stride, time_stride) != (32, 32)
            else {"layer1": (4, 4), "layer2": (8, 8), "layer3": (16, 16), "layer4": (32, 32)}
        )
        net.conv1 = nn.Conv2d(1, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.arch, self.width = arch, width
        self.freq_stride, self.time_stride = freq_stride, time_stride
        self.body = nn.Sequential(OrderedDict((name, getattr(net, name)) for name in _BODY))
        self.fc = nn.Linear(net.fc.in_features, n_classes)
        self.register_buffer("input_mean", torch.zeros(()))
        self.register_buffer("input_std", torch.ones(()))

    @property
    def n_classes(self) -> int:
        return self.fc.out_features

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, F, T) spectrograms in dB -> (B, C, f, t) maps of the last stage."""
        return self.body((x - self.input_mean) / self.input_std)

    def forward_with_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        maps = self.features(x)
        return self.fc(maps.mean(dim=(2, 3))), maps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_features(x)[0]

    def load_imagenet(self, state: dict) -> None:
        """Copy torchvision ImageNet weights in: RGB first kernels averaged, ``fc`` left new."""
        mine = {}
        for key, value in state.items():
            head, _, rest = key.partition(".")
            if head == "fc":
                continue
            if key == "conv1.weight":
                value = value.mean(dim=1, keepdim=True)
            mine[f"body.{head}.{rest}"] = value
        missing, unexpected = self.load_state_dict(mine, strict=False)
        left = [k for k in missing if not k.startswith(("fc.", "input_"))]
        if left or unexpected:
            raise ValueError(
                f"ImageNet weights do not fit {self.arch}: missing {left[:3]}, "
                f"unexpected {unexpected[:3]}"
            )


def build_model(
    arch: str,
    n_classes: int,
    freq_stride: int = 32,
    time_stride: int = 32,
    weights: str = "scratch",
    weights_path: str | Path | None = None,
    width: int = 64,
) -> SpectroResNet:
    """A new model; ``weights="imagenet"`` loads torchvision's weights from ``weights_path``
    (which fit ``width`` 64 only)."""
    model = SpectroResNet(arch, n_classes, freq_stride, time_stride, width)
    if weights == "imagenet":
        if width != 64:
            raise ValueError(f"ImageNet weights need model.width 64, not {width}")
        if not weights_path:
            raise ValueError("weights 'imagenet' need the downloaded weights file")
        model.load_imagenet(torch.load(weights_path, map_location="cpu", weights_only=True))
    elif weights != "scratch":
        raise ValueError(f"weights must be scratch or imagenet, not {weights!r}")
    return model


def stage_module(model: SpectroResNet, stage: str) -> nn.Module:
    """The module of ``model`` whose output is the maps of ``stage`` (one of :data:`STAGES`)."""
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {', '.join(STAGES)}, not {stage!r}")
    return getattr(model.body, stage)


def load_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[SpectroResNet, dict]:
    """A model saved by training (``best.pt``) and its metadata."""
    saved = torch.load(path, map_location="cpu", weights_only=False)
    meta = saved["meta"]
    model = SpectroResNet(
        meta["arch"],
        len(meta["class_names"]),
        meta["freq_stride"],
        meta["time_stride"],
        meta.get("width", 64),  # models saved before model.width had torchvision's
    )
    model.load_state_dict(saved["model"])
    return model.to(device).eval(), meta
