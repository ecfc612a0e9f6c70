"""Inspection: summaries agree with real activations, receptive fields follow the recurrence,
hooks never stay behind, kernels, Grad-CAM and predictions behave."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from studio.core.errors import ModelError
from studio.core.inspect import activations, kernels, predict, saliency
from studio.core.inspect.receptive_field import adaptive_geometry, stack_receptive_fields
from studio.core.inspect.summary import model_summary
from studio.core.models import build_model


def no_hooks_left(model: nn.Module) -> bool:
    return all(not m._forward_hooks and not m._forward_pre_hooks and not m._backward_hooks
               for m in model.modules())


def modes(model: nn.Module) -> list[bool]:
    return [m.training for m in model.modules()]


@pytest.fixture(scope="module")
def cifar_cnn() -> nn.Module:
    torch.manual_seed(0)
    return build_model("cifar-cnn", (3, 32, 32), 10)


# --------------------------------------------------------------------------- summary

@pytest.mark.parametrize("name, shape", [("cifar-cnn", (3, 32, 32)), ("alexnet", (3, 227, 227)),
                                         ("resnet18", (3, 64, 64)), ("lenet5", (1, 28, 28))])
def test_summary_shapes_equal_real_activations(name, shape):
    model = build_model(name, shape, 10)
    summary = model_summary(model, shape)
    acts = activations.capture(model, torch.randn(1, *shape))
    leaves = [row for row in summary.rows if row.is_leaf]
    assert [row.name for row in leaves] == list(acts)  # same layers, same call order
    for row in leaves:
        assert row.output_shape == acts[row.name].shape, row.name
    assert summary.total_params == sum(p.numel() for p in model.parameters())
    assert summary.total_macs == sum(row.macs for row in leaves) > 0
    assert no_hooks_left(model)


def test_summary_of_cifar_cnn(cifar_cnn):
    before = modes(cifar_cnn)
    summary = model_summary(cifar_cnn, (3, 32, 32))
    assert modes(cifar_cnn) == before and no_hooks_left(cifar_cnn)
    assert round(summary.size_mb, 2) == 22.33
    assert summary.total_params == summary.trainable_params == 5_852_170
    first = summary.rows[1]
    assert (first.name, first.type, first.depth) == ("conv_layer.0", "Conv2d", 2)
    assert (first.kernel_size, first.stride, first.padding, first.dilation) == ((3, 3), (1, 1), (1, 1), (1, 1))
    assert (first.input_shape, first.params, first.macs) == ((1, 3, 32, 32), 896, 896 * 32 * 32)
    container = summary.rows[0]
    assert container.name == "conv_layer" and not container.is_leaf
    assert container.macs == sum(r.macs for r in summary.rows if r.name.startswith("conv_layer.") and r.is_leaf)
    assert "Conv2d" in summary.text and "Total params: 5,852,170" in summary.text
    linear = next(r for r in summary.rows if r.type == "Linear")
    assert linear.receptive_field is None and linear.kernel_size is None
    with pytest.raises(ModelError, match="cannot run"):
        model_summary(cifar_cnn, (1, 32, 32))


def test_alexnet_shared_relu_calls_get_their_own_rows():
    model = build_model("alexnet", (3, 227, 227), 10)
    names = [row.name for row in model_summary(model, (3, 227, 227)).rows]
    assert names[:4] == ["conv1", "relu", "pool1", "conv2"]
    assert [n for n in names if n.startswith("relu")] == ["relu"] + [f"relu#{i}" for i in range(2, 8)]


# -------------------------------------------------------------------- receptive field

def test_receptive_field_recurrence():
    assert stack_receptive_fields([(3, 1), (3, 1)])[-1] == (5, 1)
    assert stack_receptive_fields([(3, 1), (2, 2), (3, 1)]) == [(3, 1), (4, 2), (8, 2)]
    assert stack_receptive_fields([(3, 1, 2)]) == [(5, 1)]  # dilation 2 spreads a 3x3 over 5 pixels
    assert adaptive_geometry(7, 1) == (7, 7) and adaptive_geometry(6, 6) == (1, 1)


def test_receptive_field_of_known_stacks_in_a_summary():
    two_convs = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Conv2d(2, 2, 3))
    assert [r.receptive_field for r in model_summary(two_convs, (1, 16, 16)).rows] == [3, 5]
    with_pool = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(2, 2, 3))
    rows = model_summary(with_pool, (1, 16, 16)).rows
    assert [(r.receptive_field, r.jump) for r in rows] == [(3, 1), (3, 1), (4, 2), (8, 2)]


def test_receptive_field_follows_resnet_branches():
    """ResNet-18's last block sees 435 px (a known value); the 1x1 shortcut convs must not add to the main path."""
    model = build_model("resnet18", (3, 64, 64), 10)
    rows = {r.name: r for r in model_summary(model, (3, 64, 64)).rows}
    assert (rows["layer4.1.conv2"].receptive_field, rows["layer4.1.conv2"].jump) == (435, 32)
    assert rows["layer4.0.downsample.0"].receptive_field == rows["layer3.1.relu#2"].receptive_field
    assert rows["layer4"].receptive_field == 435


# --------------------------------------------------------------------------- hooks

class Exploding(nn.Module):
    def forward(self, x):
        raise ValueError("boom")


def test_hooks_removed_after_capture_even_when_forward_raises():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), Exploding())
    with pytest.raises(ValueError, match="boom"):
        activations.capture(model, torch.zeros(1, 1, 8, 8))
    assert no_hooks_left(model)
    with pytest.raises(ValueError, match="boom"):
        saliency.grad_cam(model, torch.zeros(1, 1, 8, 8))
    assert no_hooks_left(model)
    with pytest.raises(ModelError):
        model_summary(model, (1, 8, 8))
    assert no_hooks_left(model) and model.training


# --------------------------------------------------------------------- activations

def test_capture_copies_outputs_before_inplace_relu(cifar_cnn):
    before = modes(cifar_cnn)
    acts = activations.capture(cifar_cnn, torch.randn(2, 3, 32, 32), ["conv_layer.1", "conv_layer.2", "fc_layer.6"])
    assert list(acts) == ["conv_layer.1", "conv_layer.2", "fc_layer.6"]
    # ReLU(inplace=True) overwrites BatchNorm's output tensor; the captured copy still has negatives
    assert acts["conv_layer.1"].min() < 0 <= acts["conv_layer.2"].min()
    assert all(a.dtype == np.float32 and a.shape[0] == 2 for a in acts.values())
    assert modes(cifar_cnn) == before and no_hooks_left(cifar_cnn)
    means = activations.layer_means(acts)
    assert set(means) == {"conv_layer.1", "conv_layer.2"}  # the linear layer has no 2-D map
    np.testing.assert_allclose(means["conv_layer.2"], acts["conv_layer.2"][0].mean(axis=0), rtol=1e-6)
    assert activations.channel_maps(acts, "conv_layer.2").shape == (32, 32, 32)
    with pytest.raises(ModelError, match="Did you mean"):
        activations.capture(cifar_cnn, torch.randn(1, 3, 32, 32), ["conv_layer.99"])


def test_capture_works_on_torchvision_vgg16():
    model = build_model("vgg16", (3, 32, 32), 10)
    acts = activations.capture(model, torch.randn(1, 3, 32, 32))
    assert len(acts) == 39 and acts["features.0"].shape == (1, 64, 32, 32)
    assert acts["features.0"].min() < 0 <= acts["features.1"].min()  # conv output kept from before the ReLU
    assert acts["classifier.6"].shape == (1, 10)
    assert no_hooks_left(model)


def test_capture_of_one_call_of_a_shared_module():
    model = build_model("alexnet", (1, 227, 227), 10)
    acts = activations.capture(model, torch.randn(1, 1, 227, 227), ["relu#2", "conv5"])
    assert list(acts) == ["relu#2", "conv5"]
    assert acts["relu#2"].shape == (1, 256, 27, 27)


# ------------------------------------------------------------------------- kernels

def test_kernels(cifar_cnn):
    names = kernels.conv_layer_names(cifar_cnn)
    assert names == [f"conv_layer.{i}" for i in (0, 3, 6, 9, 13, 16)]
    weights = kernels.get_kernels(cifar_cnn, names[0])
    assert weights.shape == (32, 3, 3, 3) and weights.dtype == np.float32
    weights[:] = 0  # a copy: the model is untouched
    assert cifar_cnn.conv_layer[0].weight.abs().sum() > 0
    assert kernels.get_kernels(cifar_cnn, "conv_layer.16").shape == (256, 256, 3, 3)
    with pytest.raises(ModelError, match="not a Conv2d"):
        kernels.get_kernels(cifar_cnn, "conv_layer.1")


def test_rgb_tiles_use_seed_001_normalisation(cifar_cnn):
    weights = kernels.get_kernels(cifar_cnn, "conv_layer.0")
    tiles = kernels.rgb_tiles(weights)
    assert tiles.shape == (32, 3, 3, 3) and tiles.min() >= 0 and tiles.max() <= 1
    npimg = np.array(weights[5], np.float32)  # the notebook's loop body, for filter 5
    npimg = (npimg - np.mean(npimg)) / np.std(npimg)
    npimg = np.minimum(1, np.maximum(0, (npimg + 0.5)))
    np.testing.assert_allclose(tiles[5], npimg.transpose((1, 2, 0)), rtol=1e-5, atol=1e-6)
    gray = kernels.rgb_tiles(np.random.randn(6, 1, 5, 5))
    assert gray.shape == (6, 5, 5, 3) and np.array_equal(gray[..., 0], gray[..., 2])
    assert np.all(kernels.rgb_tiles(np.ones((2, 3, 3, 3))) == 0.5)  # constant filter: mid-gray, no NaN


# ------------------------------------------------------------------------ Grad-CAM

def test_grad_cam_shape_range_and_cleanup(cifar_cnn):
    before = modes(cifar_cnn)
    heat = saliency.grad_cam(cifar_cnn, torch.randn(1, 3, 32, 32))
    assert heat.shape == (32, 32) and heat.dtype == np.float32
    assert 0 <= heat.min() and heat.max() <= 1
    assert no_hooks_left(cifar_cnn) and modes(cifar_cnn) == before
    assert all(p.grad is None for p in cifar_cnn.parameters())  # inspecting leaves no gradients behind
    assert torch.is_grad_enabled()
    with pytest.raises(ModelError, match="out of range"):
        saliency.grad_cam(cifar_cnn, torch.randn(1, 3, 32, 32), class_idx=10)
    with pytest.raises(ModelError, match="2-D feature maps"):
        saliency.grad_cam(cifar_cnn, torch.randn(1, 3, 32, 32), layer="fc_layer.1")
    assert no_hooks_left(cifar_cnn)


def test_grad_cam_points_at_the_evidence():
    """Class 0's score is the mean brightness seen by a 1x1 conv: Grad-CAM must light up the bright square."""
    conv = nn.Conv2d(1, 1, 1)
    head = nn.Linear(1, 2)
    with torch.no_grad():
        conv.weight.fill_(1.0), conv.bias.zero_()
        head.weight.copy_(torch.tensor([[1.0], [-1.0]])), head.bias.zero_()
    model = nn.Sequential(conv, nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), head)
    model.requires_grad_(False)  # frozen models work too (seed 001 freezes its VGG16)
    image = torch.zeros(1, 1, 16, 16)
    image[..., 2:6, 9:13] = 1.0
    heat = saliency.grad_cam(model, image, class_idx=np.int64(0))  # as np.argmax returns it
    assert heat.shape == (16, 16)
    assert heat[2:6, 9:13].min() > 0.9 and heat[10:, :6].max() < 0.1


def test_grad_cam_on_resnet18_picks_the_last_conv_stage():
    model = build_model("resnet18", (3, 64, 64), 10)
    x = torch.randn(1, 3, 64, 64)
    assert saliency.last_conv_name(model) == "layer4.1.conv2"
    assert saliency.default_layer(model, x) == "layer4"  # the stage's output: after the shortcut add and ReLU
    assert saliency.default_layer(model, torch.randn(1, 3, 32, 32)) == "layer3"  # layer4 is 1x1 there
    heat = saliency.grad_cam(model, x, class_idx=3)
    assert heat.shape == (64, 64) and 0 <= heat.min() and heat.max() <= 1
    explicit = saliency.grad_cam(model, x, class_idx=3, layer="layer4.1.conv2")
    assert explicit.shape == (64, 64)
    assert no_hooks_left(model)


# ---------------------------------------------------------------------- predictions

def test_topk_and_probabilities(cifar_cnn):
    cifar_cnn.train()
    classes = [f"class {i}" for i in range(10)]
    top = predict.topk(cifar_cnn, torch.randn(1, 3, 32, 32), classes, k=3)
    assert len(top) == 3 and all(name in classes for name, _ in top)
    probs = [p for _, p in top]
    assert probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-6
    assert cifar_cnn.training  # eval for the prediction only
    x = torch.randn(4, 3, 32, 32)
    p = predict.probabilities(cifar_cnn, x)
    assert p.shape == (4, 10) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(p, predict.probabilities(cifar_cnn, x), rtol=1e-6)  # eval: no dropout noise
    assert len(predict.topk(cifar_cnn, x[0], classes, k=50)) == 10
    with pytest.raises(ModelError, match="10 scores but 3 class names"):
        predict.topk(cifar_cnn, x[:1], ["a", "b", "c"])
    with pytest.raises(ModelError, match="normalised float"):
        predict.probabilities(cifar_cnn, torch.zeros(1, 3, 32, 32, dtype=torch.uint8))
