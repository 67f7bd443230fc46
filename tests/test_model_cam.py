"""The classifier and its class activation maps: definition, grid mapping, a planted answer,
and the map file."""

from collections import OrderedDict

import numpy as np
import pandas as pd
import pytest
import torch
import torchvision
from torch import nn

from spectrocam.explain.grid import cell_index, to_grid
from spectrocam.explain.maps import MapFile
from spectrocam.explain.methods import compute_maps, explain_batch
from spectrocam.model.network import STAGES, SpectroResNet, build_model, load_model
from spectrocam.segments.store import SegmentReader, SegmentStoreWriter, read_segment_table

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
        # The module named "layer4", as in a ResNet's body; the others do nothing.
        names = ["conv1", "bn1", "relu", "maxpool", *STAGES[:-1]]
        self.body = nn.Sequential(
            OrderedDict([*((n, nn.Identity()) for n in names), ("layer4", conv)])
        )
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


def all_class_cams(model, x):
    """Logits and the CAM of every class (B, C, f, t)."""
    per_class = []
    for c in range(model.n_classes):
        logits, maps = explain_batch(model, x, [c] * len(x), ["cam"])
        per_class.append(maps["cam"])
    return logits, torch.stack(per_class, dim=1)


def test_cam_definition_on_a_real_resnet():
    torch.manual_seed(0)
    model = build_model("resnet18", 3).eval()
    x = torch.randn(2, 1, 96, 40)
    with torch.no_grad():
        logits, cams = all_class_cams(model, x)
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
        logits, cams = all_class_cams(model, x)
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
    conv1 = reference["conv1.weight"].mean(dim=1, keepdim=True)
    assert torch.allclose(model.body.conv1.weight, conv1)
    assert torch.equal(model.body.layer4[1].conv2.weight, reference["layer4.1.conv2.weight"])
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


@pytest.mark.parametrize("arch", ["resnet18", "resnet34"])
def test_basic_block_resnets_dilate_too(arch):
    x = torch.zeros(1, 1, 256, 64)
    for stride, cells in ((32, 8), (8, 32), (4, 64)):
        model = build_model(arch, 2, freq_stride=stride).eval()
        with torch.no_grad():
            assert model.features(x).shape[2:] == (cells, 2)
    first, second = model.body.layer4[0], model.body.layer4[1]
    # freq_stride 4: layer2 stops striding along frequency (dilation 2), layer3 4, layer4 8
    assert first.conv1.stride == (1, 2) and first.conv1.dilation == (4, 1)
    assert first.conv2.dilation == (8, 1) and second.conv1.dilation == (8, 1)
    assert first.conv1.padding == first.conv1.dilation  # "same" padding keeps cells centred


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
                "phone_id": [f"LJ001-{i:04d}/0" for i in range(n)],
                "utt_id": [f"LJ001-{i:04d}" for i in range(n)],
                "word": ["w"] * n,
                "phone": ["IY1"] * n,
                "start_s": np.full(n, 0.96),
                "end_s": np.full(n, 1.04),
                "window_centre_s": np.full(n, 1.0),
            },
        )
    return freqs


def test_map_file_holds_every_method_on_its_cells_and_the_grid_on_read(tmp_path):
    centres = [32, 128, 224, 320, 352]
    store = tmp_path / "s.h5"
    freqs = write_band_store(store, centres, labels=[0, 1, 0, 1, 0])
    model = PlantedModel()
    test = np.array([4, 0, 2])
    segments = read_segment_table(store).iloc[test].reset_index(drop=True)
    segments["segment_index"] = test
    segments["predicted"] = [0, 1, 0]  # as an evaluation might have found
    probabilities = np.array([[0.9, 0.1], [0.4, 0.6], [0.8, 0.2]])
    out = tmp_path / "maps.h5"
    with SegmentReader(store) as reader:
        compute_maps(
            model, reader, segments, probabilities, out, ["cam", "gradcam"],
            torch.device("cpu"), subset=np.array([0, 2]), batch_size=2,
        )  # fmt: skip
    assert not out.with_name("maps.h5.tmp").exists()
    maps = MapFile(out)
    assert maps.methods == ["cam", "gradcam"]
    assert list(maps.segments.segment_index) == [4, 0, 2]
    assert list(maps.segments.phone_id) == ["LJ001-0004/0", "LJ001-0000/0", "LJ001-0002/0"]
    assert list(maps.segments.correct) == [True, False, True]
    assert np.array_equal(maps.freqs_hz, freqs)
    # CAM: true and predicted class of every segment; gradcam: the true class of the subset
    assert maps.which("cam") == ["true", "predicted"] and maps.which("gradcam") == ["true"]
    assert maps.cells("cam", "predicted").shape == (3, 13, 1)
    assert list(maps.rows("gradcam")) == [0, 2] and list(maps.common_rows()) == [0, 2]
    assert maps.method_attrs("cam")["hz_per_cell"] == pytest.approx(320.0)
    assert maps.method_attrs("cam")["stage"] == "layer4"
    assert maps.grid("cam", "true", 0).shape == (400, 21)
    profiles = maps.profiles("cam", "true")
    assert profiles.shape == (3, 400)
    for k, centre in enumerate([352, 32, 224]):  # class 0 (the band) is the true class
        top = np.flatnonzero(profiles[k] == profiles[k].max())
        assert freqs[top.min()] <= freqs[centre] <= freqs[top.max()]
        assert np.allclose(profiles[k], np.clip(maps.grid("cam", "true", k), 0, None).mean(1))
    # the predicted class of segment 1 is class 1: its map is the opposite of class 0's
    assert np.allclose(maps.cells("cam", "predicted")[1], -maps.cells("cam", "true")[1])
    assert isinstance(maps.segments, pd.DataFrame) and len(maps) == 3


def test_a_narrower_network_has_fewer_channels_and_loads_back(tmp_path):
    wide, narrow = build_model("resnet18", 5, 8), build_model("resnet18", 5, 8, width=16)
    x = torch.randn(2, 1, 32, 11)
    assert wide.features(x).shape[1] == 512 and narrow.features(x).shape[1] == 128
    assert narrow.stage_strides == wide.stage_strides
    assert narrow.features(x).shape[2:] == wide.features(x).shape[2:]  # the same CAM grid
    n_params = [sum(p.numel() for p in m.parameters()) for m in (wide, narrow)]
    assert n_params[1] < n_params[0] / 10
    assert build_model("resnet50", 3, width=32).fc.in_features == 1024
    meta = {"arch": "resnet18", "class_names": list("abcde"), "freq_stride": 8}
    torch.save(
        {"model": narrow.state_dict(), "meta": meta | {"time_stride": 32, "width": 16}},
        tmp_path / "m.pt",
    )
    loaded, _ = load_model(tmp_path / "m.pt")
    assert loaded.width == 16 and torch.equal(loaded.eval()(x), narrow.eval()(x))
    with pytest.raises(ValueError, match="width 64"):
        build_model("resnet18", 5, weights="imagenet", weights_path="x.pth", width=32)
