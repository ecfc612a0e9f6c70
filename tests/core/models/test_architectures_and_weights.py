"""Model registry: the lectures' architectures as the notebooks define them, torchvision adapters,
option checking, and pretrained weights from the weights folder (no network in these tests)."""

from __future__ import annotations

import io
from urllib.error import URLError

import pytest
import torch
import torchvision.models as tvm
from torch import nn

from studio.core.errors import DownloadError, ModelError
from studio.core.inspect.summary import model_summary
from studio.core.models import (build_model, get_spec, imagenet_classes, list_models, model_input_shape,
                                weights_file)
from studio.core.models import weights as wfiles

ALL_MODELS = [spec.name for spec in list_models()]


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.fixture
def offline(monkeypatch):
    """Every download attempt fails as if the machine were offline; records the URLs tried."""
    tried = []

    def fail(request, *args, **kwargs):
        tried.append(request.full_url)
        raise URLError("network is unreachable")

    monkeypatch.setattr(wfiles, "urlopen", fail)
    return tried


# ------------------------------------------------------------------ registry basics

def test_registry_lists_every_contract_model():
    assert ALL_MODELS == ["lenet5", "lecture-cnn", "cifar-cnn", "configurable-cnn", "cifar10-model", "alexnet",
                          "vgg16", "resnet18", "mobilenet_v2", "mobilenet_v3_small", "densenet121",
                          "efficientnet_b0", "googlenet", "convnext_tiny"]
    for spec in list_models():
        assert spec.family in ("lecture", "torchvision")
        assert spec.source and spec.title and spec.description
        assert spec.has_pretrained == (spec.family == "torchvision")
    assert get_spec("alexnet").fixed_size == (227, 227)
    with pytest.raises(ModelError, match="Unknown model 'nope'"):
        get_spec("nope")


@pytest.mark.parametrize("data_shape", [(1, 28, 28), (3, 32, 32)])
@pytest.mark.parametrize("name", ALL_MODELS)
def test_every_model_builds_and_runs_on_its_input_shape(name, data_shape):
    shape = model_input_shape(name, data_shape)
    assert shape[0] == data_shape[0]  # without pretrained weights the model takes the data's channels
    model = build_model(name, shape, 10).eval()
    with torch.no_grad():
        out = model(torch.randn(2, *shape))
    assert out.shape == (2, 10)
    assert torch.isfinite(out).all()


def test_model_input_shape_resizes_where_needed():
    assert model_input_shape("alexnet", (1, 28, 28)) == (1, 227, 227)
    assert model_input_shape("lenet5", (1, 28, 28)) == (1, 28, 28)
    assert model_input_shape("cifar-cnn", (3, 32, 32)) == (3, 32, 32)
    assert model_input_shape("vgg16", (1, 28, 28)) == (1, 32, 32)
    assert model_input_shape("resnet18", (1, 28, 28), pretrained=True) == (3, 32, 32)
    assert model_input_shape("resnet18", (3, 96, 64)) == (3, 96, 64)
    # four conv blocks halve four times: 16 px is the least that survives. The depth is the user's
    # choice, so 8 px data is refused with the reason instead of being silently blown up to 16 px.
    assert model_input_shape("configurable-cnn", (1, 16, 16), options={"conv_channels": [4, 4, 4, 4]}) == (1, 16, 16)
    with pytest.raises(ModelError, match="at most 3 block"):
        model_input_shape("configurable-cnn", (1, 8, 8), options={"conv_channels": [4, 4, 4, 4]})
    with pytest.raises(ModelError, match="no pretrained weights"):
        model_input_shape("lenet5", (1, 28, 28), pretrained=True)
    with pytest.raises(ModelError, match="channels, height, width"):
        model_input_shape("lenet5", (28, 28))


# ------------------------------------------------------------- lecture architectures

def test_cifar_cnn_is_seed_001_exactly():
    model = build_model("cifar-cnn", (3, 32, 32), 10)
    assert n_params(model) == 5_852_170
    assert round(model_summary(model, (3, 32, 32)).size_mb, 2) == 22.33
    layers = [type(m).__name__ for m in model.conv_layer]
    assert layers == ["Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "ReLU", "MaxPool2d",
                      "Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "ReLU", "MaxPool2d", "Dropout2d",
                      "Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "ReLU", "MaxPool2d"]
    fc = model.fc_layer
    assert [type(m).__name__ for m in fc] == ["Dropout", "Linear", "ReLU", "Linear", "ReLU", "Dropout", "Linear"]
    assert (fc[0].p, fc[5].p, model.conv_layer[12].p) == (0.1, 0.1, 0.05)
    assert (fc[1].in_features, fc[1].out_features, fc[3].out_features) == (4096, 1024, 512)


def test_cifar_cnn_loads_a_seed_001_style_checkpoint():
    """The notebook saves {'net': model.state_dict()}; the keys (conv_layer.N / fc_layer.N) must match."""
    notebook = build_model("cifar-cnn", (3, 32, 32), 10)
    buffer = io.BytesIO()
    torch.save({"net": notebook.state_dict()}, buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)["net"]
    assert "conv_layer.0.weight" in state and "fc_layer.6.bias" in state
    fresh = build_model("cifar-cnn", (3, 32, 32), 10)
    fresh.load_state_dict(state)  # strict: same keys, same shapes
    assert torch.equal(fresh.fc_layer[1].weight, notebook.fc_layer[1].weight)


def test_cifar_cnn_flattened_size_follows_the_input():
    model = build_model("cifar-cnn", (1, 28, 28), 7)
    assert model.conv_layer[0].in_channels == 1
    assert model.fc_layer[1].in_features == 256 * 3 * 3
    assert model.fc_layer[6].out_features == 7


def test_configurable_cnn_is_seed_002_example():
    model = build_model("configurable-cnn", (3, 32, 32), 10)
    assert n_params(model) == 34_522
    assert [type(m).__name__ for m in model.features] == ["Conv2d", "ReLU", "MaxPool2d"] * 2
    assert [m.out_features for m in model.classifier if isinstance(m, nn.Linear)] == [32, 10]


def test_configurable_cnn_options_change_the_network():
    model = build_model("configurable-cnn", (1, 28, 28), 10,
                        {"conv_channels": [4, 8, 16], "kernel_size": 4, "hidden_sizes": []})
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [4, 8, 16] and convs[0].kernel_size == (4, 4)
    assert len([m for m in model.classifier if isinstance(m, nn.Linear)]) == 1
    # even kernels grow the map by one before each pool; the measured flatten size still fits
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    text_form = build_model("configurable-cnn", (3, 32, 32), 10, {"conv_channels": "8, 16", "hidden_sizes": "32"})
    assert n_params(text_form) == 34_522


def test_lenet5_geometry_on_28_and_32_pixels():
    for side, padding in ((28, 2), (32, 0)):
        model = build_model("lenet5", (1, side, side), 10)
        assert model.features[0].padding == (padding, padding)
        assert model.features(torch.zeros(1, 1, side, side)).shape == (1, 16, 5, 5)
        assert [m.out_features for m in model.classifier if isinstance(m, nn.Linear)] == [120, 84, 10]
    classic = build_model("lenet5", (1, 32, 32), 10, {"activation": "tanh", "pool": "avg"})
    assert isinstance(classic.features[1], nn.Tanh) and isinstance(classic.features[2], nn.AvgPool2d)
    assert n_params(classic) == 61_706  # LeCun's conv/fc sizes: 156 + 2416 + 48120 + 10164 + 850


def test_lecture_cnn_is_seed_003_cnn():
    model = build_model("lecture-cnn", (3, 32, 32), 10)
    for block, channels in ((model.layer1, 32), (model.layer2, 64), (model.layer3, 128)):
        assert [type(m).__name__ for m in block] == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d"]
        assert block[0].out_channels == channels and block[0].padding == (1, 1)
    assert model.fc.in_features == 128 * 4 * 4
    leaky = build_model("lecture-cnn", (3, 32, 32), 10, {"activation": "leaky_relu"})
    assert isinstance(leaky.layer2[2], nn.LeakyReLU)


def test_cifar10_model_matches_seed_004_summary():
    model = build_model("cifar10-model", (3, 32, 32), 10)
    rows = {r.name: r for r in model_summary(model, (3, 32, 32)).rows}
    assert rows["feature_extractor.0"].output_shape == (1, 32, 30, 30)
    assert rows["feature_extractor.3"].output_shape == (1, 32, 15, 15)
    assert rows["feature_extractor.4"].output_shape == (1, 64, 13, 13)
    assert rows["feature_extractor.7"].output_shape == (1, 64, 6, 6)
    assert rows["feature_extractor.8"].output_shape == (1, 64, 1, 1)
    assert [rows[f"feature_extractor.{i}"].params for i in (0, 1, 4, 5)] == [896, 64, 18_496, 128]
    assert rows["classifier.0"].params == 650


def test_alexnet_is_seed_000_alexnet():
    model = build_model("alexnet", (3, 227, 227), 10)
    for name in ("conv1", "conv2", "conv3", "conv4", "conv5", "pool1", "pool2", "pool5", "fc1", "fc2", "fc3"):
        assert hasattr(model, name)
    assert model.conv1.kernel_size == (11, 11) and model.conv1.stride == (4, 4)
    assert model.fc1.in_features == 256 * 6 * 6
    assert model.dropout.p == 0.6 and model.relu.inplace
    assert build_model("alexnet", (3, 227, 227), 10, {"dropout": 0.2}).dropout.p == 0.2


# -------------------------------------------------------------------- bad input

@pytest.mark.parametrize("name, options, message", [
    ("cifar-cnn", {"dropout": 0.5}, "takes no options"),
    ("lenet5", {"activaton": "relu"}, "Did you mean 'activation'"),
    ("lenet5", {"activation": "sigmoid"}, "must be one of relu, tanh"),
    ("configurable-cnn", {"kernel_size": 0}, "kernel_size"),
    ("configurable-cnn", {"kernel_size": True}, "kernel_size"),
    ("configurable-cnn", {"conv_channels": []}, "conv_channels"),
    ("configurable-cnn", {"conv_channels": "8,x"}, "separated by commas"),
    ("configurable-cnn", {"hidden_sizes": [32, -1]}, "hidden_sizes"),
    ("alexnet", {"dropout": 1.5}, "dropout"),
    ("resnet18", {"freeze_backbone": "yes"}, "true or false"),
    ("resnet18", {"freeze_backbone": True}, "needs pretrained weights"),
])
def test_bad_options_are_readable_model_errors(name, options, message):
    with pytest.raises(ModelError, match=message):
        build_model(name, model_input_shape(name, (3, 32, 32)), 10, options)


def test_bad_shapes_and_class_counts_are_model_errors():
    with pytest.raises(ModelError, match="at least 2 classes"):
        build_model("lenet5", (1, 28, 28), 1)
    with pytest.raises(ModelError, match="at least 8 pixels"):
        build_model("cifar-cnn", (3, 4, 4), 10)
    with pytest.raises(ModelError, match="must be a mapping"):
        build_model("lenet5", (1, 28, 28), 10, options=["relu"])
    with pytest.raises(ModelError, match="3-channel"):
        build_model("resnet18", (1, 32, 32), 10, pretrained=True)
    with pytest.raises(ModelError, match="no pretrained weights"):
        build_model("lenet5", (1, 28, 28), 10, pretrained=True)


# ------------------------------------------------------------- pretrained weights

def test_imagenet_classes():
    classes = imagenet_classes()
    assert len(classes) == 1000 and classes[0] == "tench" and classes[281] == "tabby"


def test_pretrained_without_cached_weights_raises_download_error_naming_the_folder(tmp_path, offline):
    expected = weights_file("resnet18", tmp_path)
    with pytest.raises(DownloadError) as info:
        build_model("resnet18", (3, 32, 32), 10, pretrained=True, weights_dir=tmp_path)
    message = str(info.value)
    assert "resnet18-f37072fd.pth" in message and str(expected.parent) in message
    assert "https://download.pytorch.org/models/resnet18-f37072fd.pth" in message
    assert offline == ["https://download.pytorch.org/models/resnet18-f37072fd.pth"]
    assert list(expected.parent.iterdir()) == []  # no half-written file left behind


def _save_random_imagenet_weights(name: str, folder, **kwargs) -> dict:
    state = tvm.get_model(name, weights=None, num_classes=1000, **kwargs).state_dict()
    path = weights_file(name, folder)
    torch.save(state, path)
    return state


def test_cached_weights_are_used_without_network(tmp_path, offline):
    state = _save_random_imagenet_weights("mobilenet_v3_small", tmp_path)
    assert weights_file("mobilenet_v3_small", tmp_path).name == "mobilenet_v3_small-047dcff4.pth"

    imagenet = build_model("mobilenet_v3_small", (3, 64, 64), 1000, pretrained=True, weights_dir=tmp_path,
                           progress=False)
    assert offline == []
    for key, value in imagenet.state_dict().items():
        assert torch.equal(value, state[key]), key

    fine_tune = build_model("mobilenet_v3_small", (3, 64, 64), 5, {"freeze_backbone": True}, pretrained=True,
                            weights_dir=tmp_path)
    assert torch.equal(fine_tune.features[0][0].weight, state["features.0.0.weight"])
    assert fine_tune.classifier[3].out_features == 5
    trainable = {n for n, p in fine_tune.named_parameters() if p.requires_grad}
    assert trainable == {"classifier.3.weight", "classifier.3.bias"}
    assert offline == []


def test_cached_googlenet_weights_load_and_aux_heads_go(tmp_path, offline):
    state = _save_random_imagenet_weights("googlenet", tmp_path, aux_logits=True, init_weights=False)
    model = build_model("googlenet", (3, 64, 64), 10, pretrained=True, weights_dir=tmp_path).eval()
    assert model.aux1 is None and model.aux2 is None and model.transform_input
    assert torch.equal(model.conv1.conv.weight, state["conv1.conv.weight"])
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 64, 64)).shape == (1, 10)


def test_damaged_cached_file_is_a_model_error(tmp_path, offline):
    weights_file("resnet18", tmp_path).write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="cannot be read"):
        build_model("resnet18", (3, 32, 32), 10, pretrained=True, weights_dir=tmp_path)


class _FakeResponse(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}


def test_download_reports_progress_and_writes_atomically(tmp_path, monkeypatch):
    payload = b"x" * (3 * wfiles._CHUNK + 10)
    monkeypatch.setattr(wfiles, "urlopen", lambda request, timeout: _FakeResponse(payload))
    seen = []
    target = tmp_path / "weights.pth"
    wfiles.download("https://example.invalid/weights.pth", target, lambda done, total: seen.append((done, total)))
    assert target.read_bytes() == payload
    assert seen[-1] == (len(payload), len(payload)) and len(seen) == 4


def test_download_with_wrong_checksum_is_rejected(tmp_path, monkeypatch):
    monkeypatch.setattr(wfiles, "urlopen", lambda request, timeout: _FakeResponse(b"tampered"))
    with pytest.raises(DownloadError, match="damaged"):
        build_model("resnet18", (3, 32, 32), 10, pretrained=True, weights_dir=tmp_path, progress=False)
    assert list(weights_file("resnet18", tmp_path).parent.iterdir()) == []


def test_old_densenet_checkpoint_keys_are_renamed():
    from studio.core.models.zoo import rename_densenet_keys

    old = {"features.denseblock1.denselayer1.norm.1.weight": 1, "features.denseblock4.denselayer16.conv.2.weight": 2,
           "features.norm5.bias": 3, "classifier.weight": 4}
    assert rename_densenet_keys(old) == {"features.denseblock1.denselayer1.norm1.weight": 1,
                                         "features.denseblock4.denselayer16.conv2.weight": 2,
                                         "features.norm5.bias": 3, "classifier.weight": 4}
    current = set(tvm.densenet121(weights=None).state_dict())
    assert set(rename_densenet_keys(old)) - {"features.norm5.bias", "classifier.weight"} <= current
