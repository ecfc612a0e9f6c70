"""Convolution kernels (learned filters) as numpy arrays, and seed 001's way of showing them as colour tiles."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from studio.core.errors import ModelError
from studio.core.inspect._common import resolve_module


def conv_layer_names(model: nn.Module) -> list[str]:
    """Names of the model's Conv2d layers, in definition order (the first one sees the image)."""
    return [name for name, module in model.named_modules() if isinstance(module, nn.Conv2d)]


def get_kernels(model: nn.Module, name: str) -> np.ndarray:
    """A float32 copy of the weights of conv layer `name`: (out_channels, in_channels / groups, kh, kw)."""
    module = resolve_module(model, name)
    if not isinstance(module, nn.Conv2d):
        raise ModelError(f"Layer {name!r} is a {type(module).__name__}, not a Conv2d; it has no kernels to show.")
    return module.weight.detach().to(device="cpu", dtype=torch.float32, copy=True).numpy()


def rgb_tiles(weights: np.ndarray) -> np.ndarray:
    """(out, kh, kw, 3) images in 0..1, normalised per filter exactly as seed 001's "Visualizing CNN Filters":

        npimg = (npimg - np.mean(npimg)) / np.std(npimg)
        npimg = np.minimum(1, np.maximum(0, (npimg + 0.5)))
        npimg = npimg.transpose((1, 2, 0))

    The notebook shows 3-channel first-layer filters as RGB. Filters with another channel count are
    shown as gray: a single input channel as it is, more channels averaged (the notebook's
    to_grayscale idea: sum over channels / channel count) before normalising.
    """
    w = np.asarray(weights, dtype=np.float32)
    if w.ndim != 4:
        raise ModelError(f"Expected conv weights shaped (out, in, kh, kw), got {w.shape}.")
    if w.shape[1] != 3:
        w = w.mean(axis=1, keepdims=True)
    mean = w.mean(axis=(1, 2, 3), keepdims=True)
    std = w.std(axis=(1, 2, 3), keepdims=True)
    # A constant filter has std 0: the notebook would divide by zero; show it as mid-gray instead.
    z = np.divide(w - mean, std, out=np.zeros_like(w), where=std > 0)
    tiles = np.minimum(1, np.maximum(0, z + 0.5)).transpose(0, 2, 3, 1)
    if tiles.shape[-1] == 1:
        tiles = np.repeat(tiles, 3, axis=-1)
    return np.ascontiguousarray(tiles, dtype=np.float32)
