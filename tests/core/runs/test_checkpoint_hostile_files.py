"""runs.load_checkpoint on real notebooks' files and on hostile ones (found in a review)."""

import io
import os
import zipfile

import numpy as np
import pytest
import torch
import torchvision

from studio.core.errors import CheckpointError, ModelError
from studio.core.inspect.predict import topk
from studio.core.models import build_model
from studio.core.runs import load_checkpoint, save_checkpoint


def _save(path, obj):
    torch.save(obj, path)
    return path


@pytest.mark.parametrize("name, shape", [
    ("lenet5", (1, 28, 28)), ("lecture-cnn", (3, 32, 32)), ("cifar-cnn", (3, 32, 32)),
    ("configurable-cnn", (3, 32, 32)), ("cifar10-model", (3, 32, 32)), ("cifar10-model", (1, 28, 28)),
])
def test_a_bare_state_dict_of_each_lecture_model_loads_and_predicts(tmp_path, name, shape):
    state = build_model(name, shape, 10).state_dict()
    loaded = load_checkpoint(_save(tmp_path / "bare.pt", state), model_name=name)
    assert loaded.input_shape == shape
    assert len(topk(loaded.model, torch.zeros(1, *shape), loaded.classes, k=3)) == 3


def test_configurable_cnn_options_are_read_back_from_the_tensors(tmp_path):
    options = {"conv_channels": [16, 32, 64], "kernel_size": 5, "hidden_sizes": [64, 32]}
    state = build_model("configurable-cnn", (1, 28, 28), 10, options).state_dict()
    loaded = load_checkpoint(_save(tmp_path / "pytorchcnn.pt", state), model_name="configurable-cnn")
    assert loaded.model_options == options and loaded.input_shape == (1, 28, 28)


def test_resnet18_state_dicts_with_1000_and_10_classes(tmp_path):
    imagenet = load_checkpoint(_save(tmp_path / "r1000.pt", torchvision.models.resnet18().state_dict()),
                               model_name="resnet18")
    assert imagenet.input_shape == (3, 224, 224)   # torchvision's natural size, not the first that "fits"
    assert len(imagenet.classes) == 1000 and imagenet.classes[0] != "0"
    ten = load_checkpoint(_save(tmp_path / "r10.pt", torchvision.models.resnet18(num_classes=10).state_dict()),
                          model_name="resnet18")
    assert len(ten.classes) == 10


def test_a_data_parallel_checkpoint_under_net_loads(tmp_path):
    model = build_model("lecture-cnn", (3, 32, 32), 10)
    state = torch.nn.DataParallel(model).state_dict()
    assert all(k.startswith("module.") for k in state)
    loaded = load_checkpoint(_save(tmp_path / "dp.pt", {"net": state, "epoch": 7}), model_name="lecture-cnn")
    assert loaded.epoch == 7


def test_nan_weights_are_refused_by_name(tmp_path):
    # Issue 12: NaN weights used to load and predict "nan %"; now the file is refused, saying why.
    state = {k: torch.full_like(v, float("nan")) if v.is_floating_point() else v
             for k, v in build_model("lecture-cnn", (3, 32, 32), 10).state_dict().items()}
    with pytest.raises(CheckpointError, match="nan.pt holds weights that are not numbers"):
        load_checkpoint(_save(tmp_path / "nan.pt", state), model_name="lecture-cnn")


def test_half_precision_weights_load(tmp_path):
    state = {k: v.half() if v.is_floating_point() else v
             for k, v in build_model("lenet5", (1, 28, 28), 10).state_dict().items()}
    assert load_checkpoint(_save(tmp_path / "half.pt", state), model_name="lenet5").model is not None


@pytest.mark.parametrize("convert, words", [
    (lambda v: v.to(torch.complex64), "complex64"),
    (lambda v: v.long(), "int64"),
    (lambda v: v.bool(), "bool"),
    (lambda v: v.to_sparse() if v.ndim == 2 else v, "sparse"),
])
def test_tensors_of_the_wrong_kind_are_refused_by_name(tmp_path, convert, words):
    state = {k: convert(v) if v.is_floating_point() else v
             for k, v in build_model("lenet5", (1, 28, 28), 10).state_dict().items()}
    with pytest.raises(CheckpointError, match=words):
        load_checkpoint(_save(tmp_path / "odd.pt", state), model_name="lenet5")


def _studio_checkpoint(path, **changes):
    model = build_model("lenet5", (1, 28, 28), 10)
    save_checkpoint(path, model, model_name="lenet5", model_options={}, classes=[str(i) for i in range(10)],
                    input_shape=(1, 28, 28), mean=(0.13,), std=(0.31,), epoch=3)
    data = torch.load(path, weights_only=True)
    data.update(changes)
    return _save(path, data)


def test_a_checkpoint_from_a_newer_format_version_loads_when_its_fields_do(tmp_path):
    loaded = load_checkpoint(_studio_checkpoint(tmp_path / "v9.pt", format_version=9))
    assert loaded.epoch == 3
    with pytest.raises(CheckpointError, match="newer CNN Studio"):
        load_checkpoint(_studio_checkpoint(tmp_path / "v9b.pt", format_version=9, state_dict={"x": 1}))


@pytest.mark.parametrize("field, value", [
    ("classes", None), ("classes", "0123456789"), ("classes", ["only"]), ("input_shape", "1,28,28"),
    ("input_shape", [28, 28]), ("mean", None), ("mean", [0.1, 0.2, 0.3]), ("std", [0.0]), ("std", [float("nan")]),
    ("state_dict", [1, 2]), ("model_name", 5), ("model_options", [1]),
])
def test_damaged_fields_of_a_studio_checkpoint_are_named(tmp_path, field, value):
    with pytest.raises(CheckpointError, match=field):
        load_checkpoint(_studio_checkpoint(tmp_path / "bad.pt", **{field: value}))


def test_a_truncated_checkpoint_says_it_is_damaged(tmp_path):
    path = _save(tmp_path / "whole.pt", build_model("lenet5", (1, 28, 28), 10).state_dict())
    cut = tmp_path / "cut.pt"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="damaged"):
        load_checkpoint(cut, model_name="lenet5")


def test_a_text_file_is_not_called_code(tmp_path):
    path = tmp_path / "notes.pt"
    path.write_text("not a checkpoint")
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path, model_name="lenet5")
    assert "code" not in str(info.value) and "not a PyTorch checkpoint" in str(info.value)


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_reduce_payload_inside_net_never_runs(tmp_path):
    marker = tmp_path / "MARKER"
    path = _save(tmp_path / "evil.pt", {"net": _Payload(str(marker)), "epoch": 1})
    with pytest.raises(CheckpointError, match="code"):
        load_checkpoint(path, model_name="cifar-cnn")
    assert not marker.exists()


def test_a_zip_bomb_is_refused_before_unpacking(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
        archive.writestr("archive/data/0", b"\0" * (256 * 1024**2))  # 256 MB of zeros in a few hundred kB
    path = tmp_path / "bomb.pt"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(CheckpointError, match="zip bomb"):
        load_checkpoint(path, model_name="lenet5")


def test_folders_and_special_files_are_not_checkpoints(tmp_path):
    with pytest.raises(CheckpointError, match="folder"):
        load_checkpoint(tmp_path, model_name="lenet5")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.pt")
        with pytest.raises(CheckpointError, match="regular file"):
            load_checkpoint(tmp_path / "pipe.pt", model_name="lenet5")


def test_oversized_models_are_refused_before_allocating():
    with pytest.raises(ModelError, match="fully connected"):
        build_model("cifar-cnn", (3, 512, 512), 10)          # 4 GB of FC weights
    with pytest.raises(ModelError, match="at most"):
        build_model("lenet5", (1, 5000, 5000), 10)
    with pytest.raises(ModelError, match="classes"):
        build_model("lenet5", (1, 28, 28), 10**7)
    assert np.isclose(sum(p.numel() for p in build_model("cifar-cnn", (3, 32, 32), 10).parameters()), 5_852_170)
