"""Our batched CAM methods against pytorch-grad-cam on the same model and batch, and all methods
on a model whose evidence sits in a chosen band."""

import numpy as np
import pytest
import torch

from spectrocam.explain.grid import cell_index
from spectrocam.explain.methods import METHOD_NAMES, explain_batch
from spectrocam.model.network import build_model, stage_module

from .conftest import require_module
from .test_model_cam import STRIDE, PlantedModel, band_input

# pytorch-grad-cam's class of each method (imported by the one test that compares with it, so
# that the others run without the library)
THEIRS = {
    "gradcam": "GradCAM",
    "gradcam++": "GradCAMPlusPlus",
    "hirescam": "HiResCAM",
    "layercam": "LayerCAM",
    "scorecam": "ScoreCAM",
}
# Both sides go through pytorch-grad-cam's own post-processing, so the tolerance is on maps in
# [0, 1]; the differences seen are about 1e-6 (float32 summation order).
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def model_and_batch():
    torch.manual_seed(0)
    model = build_model("resnet18", 3).eval()
    # Leave the input standardisation at 0 / 1 so that masking the standardised input (ours)
    # and masking the input (theirs) are the same operation.
    x = torch.randn(4, 1, 96, 48)
    classes = [0, 2, 1, 2]
    return model, x, classes


# every method at the last stage and at layer3, but Score-CAM (256 channels: one layer is enough
# for the slow method)
PAIRS = [
    (m, s) for s in ("layer4", "layer3") for m in sorted(THEIRS) if (m, s) != ("scorecam", "layer3")
]


@pytest.mark.parametrize("method, stage", PAIRS)
def test_methods_agree_with_pytorch_grad_cam(model_and_batch, method, stage):
    pgc = require_module("pytorch_grad_cam")
    scale_cam_image = require_module("pytorch_grad_cam.utils.image").scale_cam_image
    targets = require_module("pytorch_grad_cam.utils.model_targets")
    model, x, classes = model_and_batch
    _, maps = explain_batch(model, x, classes, [method], stage=stage, score_batch_size=32)
    # pytorch-grad-cam's post-processing, applied to ours: ReLU, scale to [0, 1] and resize to
    # the input, then (its multi-layer aggregation, one layer here) ReLU and scale again.
    size = (x.shape[-1], x.shape[-2])
    ours = scale_cam_image(
        np.maximum(scale_cam_image(np.maximum(maps[method].numpy(), 0), size), 0)
    )
    theirs_class = getattr(pgc, THEIRS[method])
    with theirs_class(model=model, target_layers=[stage_module(model, stage)]) as cam:
        if method == "scorecam":
            cam.batch_size = 32
        theirs = cam(input_tensor=x, targets=[targets.ClassifierOutputTarget(c) for c in classes])
    assert ours.shape == theirs.shape == (4, 96, 48)
    diff = np.abs(ours - theirs).max()
    assert diff < TOLERANCE, f"{method}: max difference {diff}"


def test_methods_do_not_depend_on_the_batch(model_and_batch):
    model, x, classes = model_and_batch
    _, together = explain_batch(model, x, classes, METHOD_NAMES)
    _, alone = explain_batch(model, x[2:3], classes[2:3], METHOD_NAMES)
    for method in METHOD_NAMES:
        assert torch.allclose(together[method][2:3], alone[method], atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_every_method_finds_the_planted_band(method):
    model = PlantedModel().eval()
    n_rows, n_frames, centre = 400, 21, 224
    x = torch.cat([band_input(n_rows, n_frames, centre), band_input(n_rows, n_frames, 96)])
    _, maps = explain_batch(model, x, [0, 0], [method], stage="layer4")
    for k, c in enumerate((centre, 96)):
        cells = maps[method][k].numpy()
        peak_cell = int(np.argmax(cells.mean(axis=1)))
        assert cell_index(n_rows, cells.shape[0], STRIDE)[c] == peak_cell, method


def test_cam_only_on_the_last_stage_and_unknown_methods_fail(model_and_batch):
    model, x, classes = model_and_batch
    with pytest.raises(ValueError, match="last stage"):
        explain_batch(model, x, classes, ["cam"], stage="layer3")
    with pytest.raises(ValueError, match="unknown CAM method"):
        explain_batch(model, x, classes, ["smoothgrad"])


def _score_cam_one_by_one(model, x, classes, stage, channels=None):
    """Score-CAM as it was first written here: segment by segment, one forward pass per chosen
    channel (the reference the batched one must reproduce)."""
    captured = {}
    handle = stage_module(model, stage).register_forward_hook(
        lambda module, inputs, output: captured.__setitem__("acts", output)
    )
    with torch.no_grad():
        model(x)
    handle.remove()
    acts = captured["acts"]
    n, k = acts.shape[:2]
    up = torch.nn.functional.interpolate(
        acts, size=x.shape[-2:], mode="bilinear", align_corners=True
    )
    flat = up.flatten(2)
    lo, hi = flat.min(-1).values[..., None, None], flat.max(-1).values[..., None, None]
    masks = (up - lo) / (hi - lo + 1e-8)
    maps = torch.zeros(n, *acts.shape[2:])
    with torch.no_grad():
        for i in range(n):
            chosen = (
                torch.arange(k)
                if channels is None
                else acts[i].mean(dim=(1, 2)).topk(channels).indices
            )
            z = (x[i] - model.input_mean) / model.input_std
            logits = model(z[None] * masks[i, chosen, None] * model.input_std + model.input_mean)
            weights = torch.softmax(logits[:, classes[i]], dim=0)
            maps[i] = (weights[:, None, None] * acts[i, chosen]).sum(0)
    return maps


@pytest.mark.parametrize("channels", [None, 20])
def test_batched_score_cam_reproduces_the_one_by_one_passes(channels):
    torch.manual_seed(1)
    model = build_model("resnet18", 3).eval()
    model.input_mean.fill_(-40.0)  # a dB-like input: masking the standardised input matters
    model.input_std.fill_(12.0)
    x = -40.0 + 12.0 * torch.randn(2, 1, 64, 16)
    classes = [2, 0]
    expected = _score_cam_one_by_one(model, x, classes, "layer4", channels)
    acts = {}
    handle = model.body.layer4.register_forward_hook(lambda m, i, o: acts.__setitem__("a", o))
    _, maps = explain_batch(
        model, x, classes, ["scorecam"], score_batch_size=50, score_channels=channels
    )
    handle.remove()
    # the shortcuts are taken: some channels are constant (ReLU zeros) on this 2 x 1 grid, and
    # with two cells every other map is one of two masks up to scale
    flat = acts["a"].flatten(2)
    assert (flat.amax(-1) == flat.amin(-1)).any()
    got = maps["scorecam"]
    assert got.shape == expected.shape == (2, 2, 1)
    assert torch.allclose(got, expected, rtol=1e-4, atol=1e-5 * expected.abs().max())


def test_score_cam_in_bfloat16_is_near_float32():
    torch.manual_seed(2)
    model = build_model("resnet18", 3).eval()
    x = torch.randn(2, 1, 96, 48)
    kw = {"score_channels": 64, "score_batch_size": 128}
    _, exact = explain_batch(model, x, [0, 1], ["scorecam"], **kw)
    _, fast = explain_batch(model, x, [0, 1], ["scorecam"], score_dtype=torch.bfloat16, **kw)
    a, b = exact["scorecam"].flatten(1), fast["scorecam"].flatten(1)
    assert torch.nn.functional.cosine_similarity(a, b).min() > 0.99


class _NanInBfloat16(torch.nn.Module):
    """A model whose logits are NaN for every other input under autocast (as oneDNN's bfloat16
    kernels sometimes give): Score-CAM must redo those passes in float32."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.body, self.fc = model.body, model.fc
        self.input_mean, self.input_std = model.input_mean, model.input_std

    def forward_with_features(self, x):
        return self.model.forward_with_features(x)

    def forward(self, x):
        out = self.model(x)
        if torch.is_autocast_enabled("cpu"):
            out = out.float().clone()
            out[::2] = float("nan")
        return out


def test_score_cam_redoes_non_finite_bfloat16_passes_in_float32():
    torch.manual_seed(3)
    model = build_model("resnet18", 3).eval()
    x = torch.randn(2, 1, 64, 16)
    kw = {"score_channels": 16, "score_batch_size": 8}
    _, exact = explain_batch(model, x, [0, 1], ["scorecam"], **kw)
    wrapped = _NanInBfloat16(model)
    _, fast = explain_batch(wrapped, x, [0, 1], ["scorecam"], score_dtype=torch.bfloat16, **kw)
    assert torch.isfinite(fast["scorecam"]).all()
    a, b = exact["scorecam"].flatten(1), fast["scorecam"].flatten(1)
    assert torch.nn.functional.cosine_similarity(a, b).min() > 0.99
