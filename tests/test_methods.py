"""Our batched CAM methods against pytorch-grad-cam on the same model and batch, and all methods
on a model whose evidence sits in a chosen band."""

import numpy as np
import pytest
import torch

from spectrocam.grid import cell_index
from spectrocam.methods import METHOD_NAMES, explain_batch
from spectrocam.model import build_model, stage_module

from .test_model_cam import STRIDE, PlantedModel, band_input

pgc = pytest.importorskip("pytorch_grad_cam")
from pytorch_grad_cam.utils.image import scale_cam_image  # noqa: E402
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget  # noqa: E402

THEIRS = {
    "gradcam": pgc.GradCAM,
    "gradcam++": pgc.GradCAMPlusPlus,
    "hirescam": pgc.HiResCAM,
    "layercam": pgc.LayerCAM,
    "scorecam": pgc.ScoreCAM,
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


@pytest.mark.parametrize("method", sorted(THEIRS))
@pytest.mark.parametrize("stage", ["layer4", "layer3"])
def test_methods_agree_with_pytorch_grad_cam(model_and_batch, method, stage):
    model, x, classes = model_and_batch
    if method == "scorecam" and stage == "layer3":
        pytest.skip("layer3 has 256 channels: one layer is enough for the slow method")
    _, maps = explain_batch(model, x, classes, [method], stage=stage, score_batch_size=32)
    # pytorch-grad-cam's post-processing, applied to ours: ReLU, scale to [0, 1] and resize to
    # the input, then (its multi-layer aggregation, one layer here) ReLU and scale again.
    size = (x.shape[-1], x.shape[-2])
    ours = scale_cam_image(
        np.maximum(scale_cam_image(np.maximum(maps[method].numpy(), 0), size), 0)
    )
    with THEIRS[method](model=model, target_layers=[stage_module(model, stage)]) as cam:
        if method == "scorecam":
            cam.batch_size = 32
        theirs = cam(input_tensor=x, targets=[ClassifierOutputTarget(c) for c in classes])
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
