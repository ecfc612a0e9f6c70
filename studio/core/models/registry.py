"""Model registry: one name -> what the model is, what it is fed, and how to build it.

The trainer, the GUI's model picker, the CLI and checkpoint loading all go through
build_model(name, input_shape, num_classes, options), so a model is always rebuilt the same way.
model_input_shape tells the data layer which (C, H, W) to feed: the dataset's shape, resized
to a fixed size (AlexNet) or up to the smallest size the network survives, with 3 channels for
ImageNet-pretrained networks.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from studio.core.errors import ModelError
from studio.core.models import lectures, zoo
from studio.core.models.options import merge_options

Shape = tuple[int, int, int]
MAX_SIDE = 1024          # the largest image side a model is built for (probing bigger ones takes gigabytes)
MAX_CLASSES = 100_000    # ImageNet-21k has 21,841; more is a typo that would allocate a huge last layer


@dataclass(frozen=True)
class ModelSpec:
    name: str
    title: str
    source: str  # where it comes from: seed notebook and class, or torchvision
    description: str
    family: str  # "lecture" | "torchvision"
    fixed_size: tuple[int, int] | None  # every input is resized to this (H, W)
    min_size: int  # smaller images are upsampled to this side (with the default options)
    default_options: dict
    has_pretrained: bool
    # Smaller images are upsampled to min_size (fixed architectures). False: the options decide the
    # depth, so an image they shrink to nothing is the user's choice to revisit, not to hide.
    upsamples: bool = True


_LECTURE_SPECS = [
    ModelSpec("lenet5", "LeNet-5", "the convolution-in-PyTorch lecture, LeNet-5 in the list of popular architectures (classic layout)",
              "conv 6@5x5, pool, conv 16@5x5, pool, fc 120, fc 84: the 1998 digit reader. Modern variant with "
              "ReLU and max pooling; 28x28 inputs get padding 2 so they follow the 32x32 geometry.",
              "lecture", None, 12, {"activation": "relu", "pool": "max"}, False),
    ModelSpec("lecture-cnn", "Lecture CNN (3 blocks)", "the 3-block-CNN lecture, class CNN",
              "Three blocks of conv 3x3 + BatchNorm + ReLU + max pool (32, 64, 128 channels) and one linear layer.",
              "lecture", None, 8, {"activation": "relu"}, False),
    ModelSpec("cifar-cnn", "CifarCNN", "the CNN-basics lecture, class CifarCNN",
              "Six 3x3 convolutions in three blocks with BatchNorm, Dropout2d and a 4096-1024-512 classifier: "
              "5,852,170 parameters (22.33 MB) on CIFAR-10.",
              "lecture", None, 8, {}, False),
    ModelSpec("configurable-cnn", "Configurable CNN", "the convolution-in-PyTorch lecture, class PytorchCNN",
              "Choose the conv channels, kernel size and hidden layers; each conv block is conv + ReLU + max pool. "
              "The defaults give the notebook's 34,522-parameter example.",
              "lecture", None, 4, {"conv_channels": [8, 16], "kernel_size": 3, "hidden_sizes": [32]}, False,
              upsamples=False),
    ModelSpec("cifar10-model", "CIFAR10Model", "the padding-and-stride lecture, class CIFAR10Model",
              "Two valid 3x3 convolutions with BatchNorm, ReLU and max pooling, then global average pooling and "
              "one linear layer.",
              "lecture", None, 10, {}, False),
    ModelSpec("alexnet", "AlexNet", "the PyTorch-basics lecture, class AlexNet",
              "Five convolutions (11x11 stride 4 first) with overlapping max pooling and two 4096-wide linear "
              "layers with dropout 0.6 (Krizhevsky et al., 2012). Images are resized to 227x227.",
              "lecture", (227, 227), 227, {"dropout": 0.6}, False),
]

_LECTURE_BUILDERS: dict[str, Callable[[Shape, int, dict], nn.Module]] = {
    "lenet5": lectures.build_lenet5,
    "lecture-cnn": lectures.build_lecture_cnn,
    "cifar-cnn": lectures.build_cifar_cnn,
    "configurable-cnn": lectures.build_configurable_cnn,
    "cifar10-model": lectures.build_cifar10_model,
    "alexnet": lectures.build_alexnet,
}

_ZOO_SPECS = [
    ModelSpec(name, entry.title, f"torchvision.models.{name} ({entry.weights.split('.')[0]} for ImageNet weights)",
              entry.description, "torchvision", None, zoo.ZOO_MIN_SIZE, dict(zoo.DEFAULT_OPTIONS), True)
    for name, entry in zoo.ZOO.items()
]

_SPECS: dict[str, ModelSpec] = {spec.name: spec for spec in _LECTURE_SPECS + _ZOO_SPECS}


def list_models() -> list[ModelSpec]:
    """Every model, lecture models first, in a stable order."""
    return list(_SPECS.values())


def get_spec(name: str) -> ModelSpec:
    try:
        return _SPECS[name]
    except (KeyError, TypeError):
        raise ModelError(f"Unknown model {name!r}; choose one of: {', '.join(_SPECS)}.") from None


def _check_shape(shape, what: str) -> Shape:
    try:
        c, h, w = (int(v) for v in shape)
    except (TypeError, ValueError):
        raise ModelError(f"The {what} must be (channels, height, width), got {shape!r}.") from None
    if min(c, h, w) < 1 or c > 64:
        raise ModelError(f"The {what} {shape!r} is not a valid (channels, height, width).")
    if max(h, w) > MAX_SIDE:
        raise ModelError(f"The {what} {shape!r} is too large: at most {MAX_SIDE} pixels a side.")
    return c, h, w


def _min_size(spec: ModelSpec, options: dict | None) -> int:
    if spec.name == "configurable-cnn":
        return lectures.configurable_min_size(merge_options(spec.name, spec.default_options, options))
    return spec.min_size


def model_input_shape(name: str, data_shape: Shape, pretrained: bool = False, options: dict | None = None) -> Shape:
    """The (C, H, W) the model is fed for data of `data_shape` (options matter for configurable-cnn only)."""
    spec = get_spec(name)
    c, h, w = _check_shape(data_shape, "data shape")
    if pretrained:
        _check_pretrained(spec)
        c = 3
    if spec.fixed_size is not None:
        return c, *spec.fixed_size
    side = _min_size(spec, options)
    if not spec.upsamples and min(h, w) < side:
        raise ModelError(_vanishing_message(spec, options, h, w, side))
    return c, max(h, side), max(w, side)


def _vanishing_message(spec: ModelSpec, options: dict | None, h: int, w: int, side: int) -> str:
    merged = merge_options(spec.name, spec.default_options, options)
    conv, kernel, _ = lectures.configurable_options(merged)
    most = lectures.configurable_max_blocks(kernel, min(h, w))
    return (f"{spec.title} with {len(conv)} conv blocks shrinks {h}x{w} images to nothing: each block halves the "
            f"feature map, so {h}x{w} images allow at most {most} block(s) with kernel {kernel} "
            f"(or use images of at least {side} pixels a side).")


def _check_pretrained(spec: ModelSpec) -> None:
    if not spec.has_pretrained:
        raise ModelError(f"{spec.title} has no pretrained weights; train it from scratch "
                         "or pick a torchvision model for transfer learning.")


def build_model(name: str, input_shape: Shape, num_classes: int, options: dict | None = None,
                pretrained: bool = False, weights_dir: str | os.PathLike | None = None,
                progress=None) -> nn.Module:
    """A fresh model for `input_shape` (as returned by model_input_shape) and `num_classes` outputs.

    progress: callable(done_bytes, total_bytes) for weight downloads, False for silence,
    None for a progress bar on stderr.
    """
    spec = get_spec(name)
    shape = _check_shape(input_shape, "input shape")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ModelError(f"A classifier needs at least 2 classes, got {num_classes!r}.")
    if num_classes > MAX_CLASSES:
        raise ModelError(f"{num_classes:,} classes is more than the {MAX_CLASSES:,} a model can be built with.")
    merged = merge_options(name, spec.default_options, options)
    if min(shape[1:]) < _min_size(spec, merged):
        if not spec.upsamples:
            raise ModelError(_vanishing_message(spec, merged, shape[1], shape[2], _min_size(spec, merged)))
        raise ModelError(f"{spec.title} needs images of at least {_min_size(spec, merged)} pixels a side, got "
                         f"{shape[1]}x{shape[2]} (model_input_shape gives the size it is fed).")
    if spec.family == "torchvision":
        return zoo.build(name, shape, num_classes, merged, pretrained, weights_dir, progress)
    if pretrained:
        _check_pretrained(spec)
    return _LECTURE_BUILDERS[name](shape, num_classes, merged)


def model_facts(name: str, options: dict | None, pretrained: bool, data_shape: Shape,
                num_classes: int) -> tuple[int, Shape]:
    """(parameter count, input shape) of a model on a dataset: built once, without weights."""
    shape = tuple(model_input_shape(name, data_shape, pretrained, options))
    model = build_model(name, shape, num_classes, options, pretrained=False, progress=False)
    return sum(p.numel() for p in model.parameters()), shape
