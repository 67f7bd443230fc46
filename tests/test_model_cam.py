"""The classifier and its class activation maps: definition, grid mapping, a planted answer."""

import h5py
import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from spectrocam.cam import class_activation_maps, compute_test_cams, read_cams, to_grid
from spectrocam.model import SpectroResNet, build_model, cell_index
from spectrocam.store import SegmentStoreWriter

STRIDE = 32


class PlantedModel(SpectroResNet):
    """A SpectroResNet whose feature stage is fixed by hand: channel 0 is the local mean of the
    input over a 33 x 33 neighbourhood (cell i centred on row 32 i, as in a ResNet), channel 1
    its negative. The last layer is set by hand: class 0 = channel 0, class 1 = channel 1."""

    def __init__(self) -> None:
        super().__init__("resnet18", 2)
        conv = nn.Conv2d(
            1, 2, kernel_size=STRIDE + 1, stride=STRIDE, padding=STRIDE // 2, bias=False
        )
        with torch.no_grad():
            conv.weight[0].fill_(1.0 / (STRIDE + 1) ** 2)
            conv.weight[1].fill_(-1.0 / (STRIDE + 1) ** 2)
        # The last of eight modules, as in a ResNet's body, so that it is "layer4".
        self.body = nn.Sequential(*[nn.Identity() for _ in range(7)], conv)
        self.fc = nn.Linear(2, 2)
        with torch.no_grad():
            self.fc.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
            self.fc.bias.copy_(torch.tensor([-0.5, 0.5]))  # no evidence: class 1


def band_input(n_rows: int, n_frames: int, centre_row: int, width: int = 6) -> torch.Tensor:
    x = torch.zeros(1, 1, n_rows, n_frames)
    x[..., max(0, centre_row - width) : centre_row + width + 1, :] = 200.0
    return x


def test_cell_index_follows_the_cell_centres():
    idx = cell_index(100, 4, 32)
    assert idx[0] == 0 and idx[16] == 0 and idx[17] == 1 and idx[48] == 1 and idx[49] == 2
    assert idx[-1] == 3  # clipped to the last cell


def test_cam_definition_on_a_real_resnet():
    torch.manual_seed(0)
    model = build_model("resnet18", 3).eval()
    x = torch.randn(2, 1, 96, 40)
    with torch.no_grad():
        logits, cams = class_activation_maps(model, x)
        maps = model.features(x)
        assert torch.allclose(logits, model(x), atol=1e-5)
    w = model.fc.weight
    explicit = torch.stack(
        [sum(w[c, k] * maps[:, k] for k in range(maps.shape[1])) for c in range(3)], dim=1
    )
    assert torch.allclose(cams, explicit, atol=1e-4)
    # The mean of a class's map plus its bias is its logit: maps and predictions agree.
    assert torch.allclose(cams.mean(dim=(2, 3)) + model.fc.bias, logits, atol=1e-4)


@pytest.mark.parametrize("centre_row", [0, 96, 160, 320])
def test_cam_peaks_where_the_evidence_was_planted(centre_row):
    model = PlantedModel().eval()
    n_rows, n_frames = 400, 21
    x = band_input(n_rows, n_frames, centre_row)
    with torch.no_grad():
        logits, cams = class_activation_maps(model, x)
    cells = cams[0].numpy()
    row_cell = cell_index(n_rows, cells.shape[1], STRIDE)
    frame_cell = cell_index(n_frames, cells.shape[2], STRIDE)
    grid = to_grid(cells, row_cell, frame_cell)
    assert grid.shape == (2, n_rows, n_frames)
    profile = grid[0].mean(axis=1)
    peak_rows = np.flatnonzero(profile == profile.max())
    assert peak_rows.min() <= centre_row <= peak_rows.max()  # the peak cell holds the band
    assert len(peak_rows) <= STRIDE + 1  # and is one cell wide, not smeared
    assert np.argmin(grid[1].mean(axis=1)) in peak_rows  # the other class: the opposite
    assert int(logits.argmax()) == 0


def test_imagenet_weights_are_averaged_over_rgb():
    reference = torchvision.models.resnet18(weights=None).state_dict()
    model = build_model("resnet18", 4)
    model.load_imagenet(reference)
    assert torch.allclose(model.body[0].weight, reference["conv1.weight"].mean(dim=1, keepdim=True))
    assert torch.equal(model.body[7][1].conv2.weight, reference["layer4.1.conv2.weight"])
    assert model.fc.out_features == 4
    with pytest.raises(ValueError, match="do not fit"):
        build_model("resnet34", 4).load_imagenet(reference)


def test_dilation_makes_finer_cells_along_frequency_only():
    x = torch.zeros(1, 1, 256, 64)
    for stride, cells in ((32, 8), (16, 16), (8, 32), (4, 64)):
        model = build_model("resnet50", 2, freq_stride=stride).eval()
        with torch.no_grad():
            assert model.features(x).shape[2:] == (cells, 2)
        assert model.stage_strides["layer4"] == (stride, 32)
    with pytest.raises(ValueError, match="cannot dilate"):
        build_model("resnet18", 2, freq_stride=8)


def test_strides_of_8_are_torchvisions_output_stride_8():
    torch.manual_seed(0)
    reference = torchvision.models.resnet50(replace_stride_with_dilation=[False, True, True])
    reference.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)
    reference.eval()
    ours = build_model("resnet50", 3, freq_stride=8, time_stride=8).eval()
    ours.load_imagenet(reference.state_dict())
    x = torch.randn(1, 1, 96, 40)
    body = nn.Sequential(*list(reference.children())[:-2])
    with torch.no_grad():
        assert torch.equal(body(x), ours.features(x))


def write_band_store(path, centres, n_rows=400, n_frames=21, labels=None):
    freqs = np.arange(n_rows) * 10.0
    times = (np.arange(n_frames) - n_frames // 2) * 0.005
    n = len(centres)
    with SegmentStoreWriter(path, n, freqs, times, ["high", "low"], "float32") as writer:
        spectra = np.concatenate([band_input(n_rows, n_frames, c).numpy()[0] for c in centres])
        writer.write(
            spectra,
            np.asarray(labels if labels is not None else [0] * n),
            {
                "utt_id": [f"LJ001-{i:04d}" for i in range(n)],
                "word": ["w"] * n,
                "phone": ["IY1"] * n,
                "start_s": np.full(n, 0.96),
                "end_s": np.full(n, 1.04),
                "window_centre_s": np.full(n, 1.0),
            },
        )
    return freqs


def test_test_cams_file_holds_maps_on_the_store_grid(tmp_path):
    centres = [32, 128, 224, 320, 352]
    freqs = write_band_store(tmp_path / "s.h5", centres, labels=[0, 1, 0, 1, 0])
    model = PlantedModel()
    out = tmp_path / "cams.h5"
    result = compute_test_cams(
        model, tmp_path / "s.h5", np.array([4, 0, 2]), out, torch.device("cpu"), batch_size=2
    )
    assert not out.with_name("cams.h5.tmp").exists()
    cams = read_cams(out)
    assert cams["cam_predicted"].shape == (3, 400, 21)
    assert np.array_equal(cams["freqs_hz"], freqs)
    assert list(cams["segment_index"]) == [4, 0, 2]
    assert list(cams["labels"]) == [0, 0, 0]
    assert list(result["predicted"]) == [0, 0, 0]
    assert np.allclose(cams["probabilities"].sum(axis=1), 1.0, atol=1e-5)
    assert cams["hz_per_cell"] == pytest.approx(320.0)
    for k, centre in enumerate([352, 32, 224]):
        profile = cams["cam_predicted"][k].mean(axis=1)
        top = np.flatnonzero(profile == profile.max())
        assert freqs[top.min()] <= freqs[centre] <= freqs[top.max()]
    with h5py.File(out) as h5:
        assert h5["cells_true"].shape == (3, 13, 1)
