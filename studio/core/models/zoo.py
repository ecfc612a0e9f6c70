"""torchvision's ImageNet classifiers, adapted to the studio's datasets.

Seed 001 loads torchvision's pretrained VGG16 with its weights enum and reads class names from
weights.meta["categories"]; seed 002 lists the families (VGG, GoogLeNet, ResNet, DenseNet,
MobileNet, EfficientNet, ConvNeXt). The adapters here:
- replace the classifier head when the dataset does not have ImageNet's 1000 classes;
- without pretrained weights, rebuild the first convolution for the data's channel count;
- with pretrained weights, keep 3 input channels (the data layer repeats gray images) and load
  the ImageNet weights from the studio's weights folder, downloading them once.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import nn

from studio.core.errors import ModelError
from studio.core.models import options as opt
from studio.core.models import weights as wfiles

Shape = tuple[int, int, int]


@dataclass(frozen=True)
class ZooEntry:
    title: str
    head: str  # dotted path of the final nn.Linear
    weights: str  # name of torchvision's weights enum member used for pretrained=True
    description: str


ZOO: dict[str, ZooEntry] = {
    "vgg16": ZooEntry("VGG-16", "classifier.6", "VGG16_Weights.IMAGENET1K_V1",
                      "Thirteen 3x3 convolutions in five blocks, then three large linear layers (Simonyan & "
                      "Zisserman, 2014). Seed 001 looks inside a pretrained VGG16 layer by layer."),
    "resnet18": ZooEntry("ResNet-18", "fc", "ResNet18_Weights.IMAGENET1K_V1",
                         "Residual blocks with skip connections (He et al., 2015): the smallest ResNet."),
    "mobilenet_v2": ZooEntry("MobileNetV2", "classifier.1", "MobileNet_V2_Weights.IMAGENET1K_V2",
                             "Inverted residual blocks with depthwise separable convolutions (Sandler et al., 2018)."),
    "mobilenet_v3_small": ZooEntry("MobileNetV3 Small", "classifier.3", "MobileNet_V3_Small_Weights.IMAGENET1K_V1",
                                   "A tiny, fast network found by architecture search (Howard et al., 2019)."),
    "densenet121": ZooEntry("DenseNet-121", "classifier", "DenseNet121_Weights.IMAGENET1K_V1",
                            "Each layer sees the feature maps of all earlier layers in its block "
                            "(Huang et al., 2017)."),
    "efficientnet_b0": ZooEntry("EfficientNet-B0", "classifier.1", "EfficientNet_B0_Weights.IMAGENET1K_V1",
                                "Depth, width and resolution scaled together (Tan & Le, 2019)."),
    "googlenet": ZooEntry("GoogLeNet (Inception v1)", "fc", "GoogLeNet_Weights.IMAGENET1K_V1",
                          "Inception modules run 1x1, 3x3 and 5x5 branches side by side (Szegedy et al., 2014). "
                          "Auxiliary classifiers are switched off."),
    "convnext_tiny": ZooEntry("ConvNeXt Tiny", "classifier.2", "ConvNeXt_Tiny_Weights.IMAGENET1K_V1",
                              "A ConvNet modernised with ideas from vision transformers (Liu et al., 2022)."),
}

# Measured smallest side that runs (eval mode, batch 1): vgg16 32, densenet121 29, convnext_tiny 32,
# googlenet 15, the others 1. All of them downsample by 32, so 32 is used for every one: a 28x28
# digit is upsampled to 32 and reaches the last stage as a 1x1 map instead of failing or vanishing.
ZOO_MIN_SIZE = 32
DEFAULT_OPTIONS = {"freeze_backbone": False}
# DenseNet checkpoints predate the ban on '.' in module names ('norm.1' -> 'norm1'); torchvision
# renames the keys the same way in densenet._load_state_dict.
_DENSENET_KEY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$")


def _tvm():
    """torchvision.models, imported on first use: importing torchvision takes seconds (it pulls in
    torch._dynamo), and the lectures' own models, which most runs use, never need it."""
    import torchvision.models

    return torchvision.models


def weights_enum(name: str):
    enum_name, member = ZOO[name].weights.split(".")
    return getattr(getattr(_tvm(), enum_name), member)


def weights_url(name: str) -> str:
    return weights_enum(name).url


@lru_cache(maxsize=1)
def _imagenet_categories() -> tuple[str, ...]:
    return tuple(_tvm().ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


def imagenet_classes() -> list[str]:
    """The 1000 ImageNet class names, in the order of the pretrained models' outputs."""
    return list(_imagenet_categories())


def build(name: str, shape: Shape, num_classes: int, options: dict, pretrained: bool = False,
          weights_dir: str | os.PathLike | None = None, progress=None) -> nn.Module:
    freeze = opt.flag(name, "freeze_backbone", options["freeze_backbone"])
    if freeze and not pretrained:
        raise ModelError(f"Option 'freeze_backbone' of {name} needs pretrained weights: freezing random "
                         "features leaves only the last layer to learn.")
    if pretrained:
        if shape[0] != 3:
            raise ModelError(f"Pretrained {name} takes 3-channel images, got {shape[0]}; "
                             "gray images are repeated to 3 channels by the data layer.")
        model = _pretrained(name, weights_dir, progress)
        if num_classes != len(_imagenet_categories()):
            _replace_head(model, ZOO[name].head, num_classes)
        if freeze:
            _freeze_all_but(model, ZOO[name].head)
    else:
        model = _random(name, num_classes)
        if shape[0] != 3:
            _adapt_first_conv(model, shape[0])
    return model


def _constructor_kwargs(name: str, *, pretrained: bool) -> dict:
    if name != "googlenet":
        return {}
    # What torchvision's googlenet() does for pretrained weights: aux heads present while loading
    # (they are in the file), removed afterwards; inputs re-normalised the way the weights expect.
    if pretrained:
        return {"aux_logits": True, "transform_input": True, "init_weights": False}
    return {"aux_logits": False, "init_weights": True}


def _random(name: str, num_classes: int) -> nn.Module:
    return _tvm().get_model(name, weights=None, num_classes=num_classes, **_constructor_kwargs(name, pretrained=False))


def _pretrained(name: str, weights_dir, progress) -> nn.Module:
    path = wfiles.fetch(weights_url(name), weights_dir, progress)
    state = wfiles.load_state_dict(path)
    if name == "densenet121":
        state = rename_densenet_keys(state)
    model = _tvm().get_model(name, weights=None, num_classes=len(_imagenet_categories()),
                          **_constructor_kwargs(name, pretrained=True))
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ModelError(f"The weights file {path} does not fit {name}; delete it so it is downloaded again.") from exc
    if name == "googlenet":
        model.aux_logits = False
        model.aux1 = None
        model.aux2 = None
    return model


def rename_densenet_keys(state: dict) -> dict:
    return {_DENSENET_KEY.sub(r"\1\2", key): value for key, value in state.items()}


def _parent(model: nn.Module, dotted: str) -> tuple[nn.Module, str]:
    parent_name, _, child = dotted.rpartition(".")
    return (model.get_submodule(parent_name) if parent_name else model), child


def _replace_head(model: nn.Module, head: str, num_classes: int) -> None:
    old = model.get_submodule(head)
    parent, child = _parent(model, head)
    setattr(parent, child, nn.Linear(old.in_features, num_classes))


def _freeze_all_but(model: nn.Module, head: str) -> None:
    model.requires_grad_(False)
    model.get_submodule(head).requires_grad_(True)


def _adapt_first_conv(model: nn.Module, channels: int) -> None:
    """Rebuild the first Conv2d for `channels` inputs, reusing the model's own initialisation."""
    name, conv = next((n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d))
    new = nn.Conv2d(channels, conv.out_channels, conv.kernel_size, stride=conv.stride, padding=conv.padding,
                    dilation=conv.dilation, groups=conv.groups, bias=conv.bias is not None,
                    padding_mode=conv.padding_mode)
    with torch.no_grad():
        # Channel i takes the (random) filters of RGB channel i % 3: same distribution as the model's init.
        new.weight.copy_(conv.weight[:, [i % 3 for i in range(channels)]])
        if conv.bias is not None:
            new.bias.copy_(conv.bias)
    parent, child = _parent(model, name)
    setattr(parent, child, new)


def weights_file(name: str, weights_dir: str | os.PathLike | None = None):
    """Where the ImageNet weights of `name` are (or will be) stored: <weights_dir>/hub/checkpoints/<file>."""
    if name not in ZOO:
        raise ModelError(f"{name!r} has no pretrained weights; models with weights: {', '.join(ZOO)}.")
    return wfiles.checkpoints_dir(weights_dir) / wfiles.file_name(weights_url(name))
