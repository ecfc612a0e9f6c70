"""Pixels -> model input and back: THE one way every part of the app prepares images.

prepare_batch runs once per batch in the training loop, so it is a handful of tensor ops on
whatever device the batch is on: no PIL, no per-image Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

# ITU-R 601 luma, the weights PIL's convert("L") uses.
LUMA = (0.299, 0.587, 0.114)


def prepare_batch(images: torch.Tensor, input_shape: Sequence[int], mean: Sequence[float],
                  std: Sequence[float]) -> torch.Tensor:
    """(B, C, H, W) uint8 (or float already in 0..1) -> float32 normalised (B, *input_shape).

    Channels are adapted (1 -> 3 by repeating, 3 -> 1 by luminance), H, W resized with
    antialiased bilinear interpolation only when they differ from input_shape, then
    (x - mean) / std. mean/std are the dataset's per-channel stats in 0..1 units (see
    `_stats_for`), so a 1-channel dataset can feed a 3-channel model and vice versa.
    """
    if images.dim() != 4:
        raise ValueError(f"expected a batch B x C x H x W, got shape {tuple(images.shape)}")
    channels, height, width = (int(v) for v in input_shape)
    owned = images.dtype == torch.uint8
    x = images.float().div_(255.0) if owned else images.float()
    # Resize the fewer channels: gray -> RGB after resizing, RGB -> gray before.
    if x.shape[1] < channels:
        x, owned = _resize(x, height, width, owned)
        x = _adapt_channels(x, channels)
    else:
        owned = owned or x.shape[1] != channels
        x = _adapt_channels(x, channels)
        x, owned = _resize(x, height, width, owned)
    shift, scale = _stats_for(_floats(mean), _floats(std), channels, x.device)
    if owned and x.is_contiguous():
        return x.sub_(shift).mul_(scale)
    return torch.sub(x, shift).mul_(scale)  # one new tensor, not two


def denormalize(x: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """Normalised (B, C, H, W) -> uint8 numpy (B, H, W, C) for display; (C, H, W) -> (H, W, C)."""
    single = x.dim() == 3
    batch = x.detach()[None] if single else x.detach()
    channels = batch.shape[1]
    shift, scale = _stats_for(_floats(mean), _floats(std), channels, batch.device)
    pixels = (batch.float() / scale + shift).clamp_(0, 1).mul_(255).round_().to(torch.uint8)
    out = pixels.permute(0, 2, 3, 1).cpu().numpy()
    return out[0] if single else out


def _floats(values: Sequence[float]) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


def _resize(x: torch.Tensor, height: int, width: int, owned: bool) -> tuple[torch.Tensor, bool]:
    if x.shape[-2:] == (height, width):
        return x, owned
    # antialias only changes the result when shrinking; upsampling is 2x faster without it.
    shrink = height < x.shape[-2] or width < x.shape[-1]
    return F.interpolate(x, size=(height, width), mode="bilinear", antialias=shrink, align_corners=False), True


def _adapt_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    have = x.shape[1]
    if have == channels:
        return x
    if have == 1 and channels == 3:
        return x.expand(-1, 3, -1, -1)
    if have == 3 and channels == 1:
        weights = torch.tensor(LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        return (x * weights).sum(1, keepdim=True)
    raise ValueError(f"cannot turn {have}-channel images into {channels}-channel model input")


@lru_cache(maxsize=64)
def _stats_for(mean: tuple[float, ...], std: tuple[float, ...], channels: int,
               device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel shift and 1/std for `channels`, as (1, C, 1, 1) tensors on `device`.

    Stats with one value serve 3 channels (a gray image repeated); 3-channel stats serve a
    1-channel input through the same luma weights as the pixels (exact for the mean, an
    upper bound for the std, tight because colour channels are strongly correlated).
    Cached so that a batch on the GPU does not copy the stats over every time.
    """
    if len(mean) != len(std) or not mean:
        raise ValueError(f"mean and std must have the same, non-zero length ({len(mean)} vs {len(std)})")
    if len(mean) == channels:
        m, s = list(mean), list(std)
    elif len(mean) == 1:
        m, s = list(mean) * channels, list(std) * channels
    elif len(mean) == 3 and channels == 1:
        m = [sum(w * v for w, v in zip(LUMA, mean))]
        s = [sum(w * v for w, v in zip(LUMA, std))]
    else:
        raise ValueError(f"{len(mean)}-channel statistics do not fit {channels}-channel input")
    if min(s) <= 0:
        raise ValueError("std must be positive")
    shift = torch.tensor(m, dtype=torch.float32, device=device).view(1, channels, 1, 1)
    scale = torch.tensor([1.0 / v for v in s], dtype=torch.float32, device=device).view(1, channels, 1, 1)
    return shift, scale


def display_image(chw) -> np.ndarray:
    """A Split image (C, H, W) uint8 as (H, W) or (H, W, 3), the shape a picture shows."""
    chw = np.asarray(chw)
    return chw[0] if chw.shape[0] == 1 else np.ascontiguousarray(chw.transpose(1, 2, 0))
