"""Every explanation method (studio.core.inspect.cams) on LeNet-5 and on a model with BatchNorm."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from studio.core.errors import ModelError
from studio.core.inspect import cams, pipeline
from studio.core.models import build_model
from studio.core.paths import DEMO_MODELS
from studio.core.runs import load_checkpoint


@pytest.fixture(scope="module")
def demo():
    return load_checkpoint(min(DEMO_MODELS.glob("*.pt")))


@pytest.fixture(scope="module")
def bn_model():
    torch.manual_seed(0)
    model = build_model("cifar10-model", (3, 32, 32), 10, {})
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    model.train()   # a model caught mid-training: the maps must not depend on (or change) its mode
    return model


def digit(demo, index=3):
    from studio.core.data import load_dataset
    from studio.core.pixels import prepare_batch

    test = load_dataset("mnist-sample").test
    x = prepare_batch(test.images[index:index + 1], demo.input_shape, demo.mean, demo.std)
    return x, int(test.labels[index])


@pytest.mark.parametrize("method", list(cams.METHODS))
def test_every_method_gives_a_finite_map_in_0_1_and_leaves_no_hook_on_lenet(demo, method):
    x, label = digit(demo)
    for layer in [None, *cams.conv_layers(demo.model)]:
        heat = cams.explain(demo, x, label, method, layer)
        assert heat.shape == (28, 28) and heat.dtype == np.float32
        assert np.isfinite(heat).all() and heat.min() >= 0 and heat.max() <= 1
        assert heat.max() > 0.99, "a trained model's map is not flat"
        assert not cams.has_hooks(demo.model)


@pytest.mark.parametrize("method", list(cams.METHODS))
def test_every_method_works_on_a_batchnorm_model_and_restores_its_mode(bn_model, method):
    torch.manual_seed(1)
    before = {k: v.clone() for k, v in bn_model.state_dict().items()}
    heat = cams.explain_model(bn_model, torch.randn(1, 3, 32, 32), 4, method, None)
    assert heat.shape == (32, 32) and np.isfinite(heat).all() and 0 <= heat.min() and heat.max() <= 1
    assert bn_model.training and all(m.training for m in bn_model.modules())
    assert not cams.has_hooks(bn_model)
    for key, value in bn_model.state_dict().items():   # running statistics untouched
        torch.testing.assert_close(value, before[key])


def test_methods_differ_and_layers_matter(demo):
    x, label = digit(demo)
    maps = {m: cams.explain(demo, x, label, m) for m in cams.METHODS}
    assert not np.allclose(maps["gradcam"], maps["saliency"])
    early = cams.explain(demo, x, label, "layercam", "features.0")
    late = cams.explain(demo, x, label, "layercam", "features.3")
    assert not np.allclose(early, late)


def test_input_gradients_are_zero_where_the_input_cannot_matter():
    """A model that looks only at the left half: the right half of the saliency map is exactly 0."""
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 1), torch.nn.Flatten(), torch.nn.LazyLinear(3))
    model(torch.zeros(1, 1, 4, 4))
    with torch.no_grad():
        model[2].weight.view(3, 2, 4, 4)[..., 2:] = 0
    heat = cams.explain_model(model, torch.randn(1, 1, 4, 4), 0, "saliency")
    assert (heat[:, 2:] == 0).all() and heat[:, :2].max() == 1


def test_a_layer_that_does_not_exist_is_a_clear_message(demo):
    x, label = digit(demo)
    with pytest.raises(ModelError, match="no layer named 'features.9'.*Did you mean"):
        cams.explain(demo, x, label, "gradcam++", "features.9")
    assert not cams.has_hooks(demo.model)
    with pytest.raises(ModelError, match="does not output 2-D feature maps"):
        cams.explain(demo, x, label, "scorecam", "classifier.0")
    assert not cams.has_hooks(demo.model)
    with pytest.raises(ModelError, match="Unknown explanation method"):
        cams.explain(demo, x, label, "deepdream")


def test_method_names_as_people_write_them():
    assert cams.method_key("Grad-CAM++") == "gradcam++"
    assert cams.method_key("SmoothGrad-CAM++") == "smoothgradcam++"
    assert cams.method_key("layer_cam") == "layercam"
    assert cams.method_key("input gradients") == "saliency"


def test_the_pipeline_explains_with_the_chosen_method_and_layer(demo, tmp_path):
    from PIL import Image

    _x, label = digit(demo)
    path = tmp_path / "digit.png"
    from studio.core.data import load_dataset

    Image.fromarray(load_dataset("mnist-sample").test.images[3, 0].numpy()).save(path)
    item = pipeline.InputItem(name=path.name, path=str(path))
    settings = pipeline.settings_for(demo)
    settings.cam_method, settings.cam_layer = "layercam", "features.0"
    detail = pipeline.explain_item(demo, item, settings)
    assert detail.cam_note == f"Layer-CAM for '{label}' at features.0"
    prepared = pipeline.prepare(demo, pipeline.decode(item), settings)
    np.testing.assert_allclose(detail.cam, cams.explain(demo, prepared.tensor, label, "layercam", "features.0"))
    settings.cam_layer = "nope"
    detail = pipeline.explain_item(demo, item, settings)
    assert detail.cam is None and "no layer named 'nope'" in detail.cam_note and detail.topk


def test_overlay_is_the_input_where_the_map_is_transparent():
    base = np.full((4, 4), 100, np.uint8)
    assert (cams.overlay(base, np.zeros((4, 4), np.float32), 0.0) == 100).all()
    hot = cams.overlay(base, np.ones((2, 2), np.float32), 1.0)
    assert hot.shape == (4, 4, 3) and (hot == cams.JET_LUT[255]).all()
