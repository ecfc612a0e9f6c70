"""Export: each format written, loaded back by its own runtime and compared with PyTorch on real images."""

import importlib.util
import json

import numpy as np
import pytest
import torch

from studio.core.errors import CheckpointError
from studio.core.images import decode_image
from studio.core.inspect.preprocess import model_input
from studio.core.paths import DEMO_MODELS, RESOURCES
from studio.core.runs import load_checkpoint
from studio.core.runs.export import ExportError, export_model
from studio.core.runs.safetensors_format import sidecar_path

DEMO = DEMO_MODELS / "lenet5-mnist-sample.pt"


@pytest.fixture(scope="module")
def demo():
    return load_checkpoint(DEMO)


@pytest.mark.parametrize("fmt", ["onnx", "torchscript", "safetensors"])
def test_every_format_matches_pytorch_on_held_out_test_images(demo, tmp_path, fmt):
    if fmt == "onnx" and importlib.util.find_spec("onnxruntime") is None:
        pytest.skip("onnxruntime is not installed")
    result = export_model(demo, fmt, tmp_path / f"demo.{fmt}", limit=200)
    assert result.images == 200 and "mnist-sample" in result.images_source
    assert result.top1_agree == 200
    assert result.max_prob_diff <= 1e-4
    assert result.passed and all(f.is_file() for f in result.files)
    assert "verified" in result.summary()


def test_onnx_has_a_dynamic_batch_and_states_its_opset(demo, tmp_path):
    pytest.importorskip("onnxruntime")
    import onnxruntime

    result = export_model(demo, "onnx", tmp_path / "demo.onnx", limit=8)
    assert "opset 18" in result.notes
    session = onnxruntime.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    for batch in (1, 7):
        out = session.run(None, {session.get_inputs()[0].name: np.zeros((batch, 1, 28, 28), np.float32)})[0]
        assert out.shape == (batch, 10)


def test_safetensors_reads_back_through_the_one_loader_and_predicts_the_same(demo, tmp_path):
    out = tmp_path / "demo.safetensors"
    export_model(demo, "safetensors", out, limit=8)
    sidecar = json.loads(sidecar_path(out).read_text())
    assert sidecar["model_name"] == "lenet5" and sidecar["classes"] == demo.classes
    assert sidecar["input_shape"] == [1, 28, 28]
    again = load_checkpoint(out)
    photo = decode_image(RESOURCES / "images" / "horse.png")
    with torch.inference_mode():
        a = torch.softmax(demo.model(model_input(photo, demo)), 1)
        b = torch.softmax(again.model(model_input(photo, again)), 1)
    assert torch.equal(a, b)


def test_safetensors_without_its_sidecar_says_what_is_missing(demo, tmp_path):
    out = tmp_path / "demo.safetensors"
    export_model(demo, "safetensors", out, limit=8)
    sidecar_path(out).unlink()
    with pytest.raises(CheckpointError, match="sidecar demo.json"):
        load_checkpoint(out)


def test_damaged_or_non_finite_safetensors_are_refused(demo, tmp_path):
    from safetensors.torch import save_file

    out = tmp_path / "demo.safetensors"
    export_model(demo, "safetensors", out, limit=8)
    state = {k: v.clone() for k, v in demo.model.state_dict().items()}
    next(iter(state.values()))[...] = float("nan")
    save_file(state, str(out))
    with pytest.raises(CheckpointError, match="not finite"):
        load_checkpoint(out)
    out.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_checkpoint(out)


def test_a_missing_optional_package_is_named(demo, tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnx" else real(name, *a))
    with pytest.raises(ExportError, match=r"'onnx' package: pip install \"cnn-studio\[export\]\""):
        export_model(demo, "onnx", tmp_path / "demo.onnx", limit=8)


def test_a_model_without_its_dataset_is_checked_on_the_sample_photos(demo, tmp_path):
    demo_no_data = load_checkpoint(DEMO)
    demo_no_data.checkpoint = {"config": {"dataset": "cifar10"}}  # not downloaded here
    result = export_model(demo_no_data, "torchscript", tmp_path / "demo.ts", data_dir=tmp_path / "empty")
    assert result.images_source == "sample photos" and result.images == 5 and result.passed
