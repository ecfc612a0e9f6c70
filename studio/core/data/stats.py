"""Per-channel mean and std of a uint8 image tensor, in 0..1 pixel units."""

from __future__ import annotations

import torch


def channel_stats(images: torch.Tensor, chunk: int = 4096) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Mean and (population) std per channel of N x C x H x W uint8 images.

    Summed in float64 chunks: exact for any dataset size without a float copy of it all.
    """
    if images.shape[0] == 0:
        raise ValueError("cannot compute statistics of an empty split")
    channels = images.shape[1]
    total = torch.zeros(channels, dtype=torch.float64)
    squares = torch.zeros(channels, dtype=torch.float64)
    for part in images.split(chunk):
        x = part.to(torch.float64).transpose(0, 1).reshape(channels, -1)
        total += x.sum(1)
        squares += (x * x).sum(1)
    count = images.numel() / channels
    mean = total / count
    var = (squares / count - mean * mean).clamp_min(0)
    mean, std = mean / 255.0, var.sqrt() / 255.0
    # A constant channel would divide by zero when normalising.
    std = std.clamp_min(1e-3)
    return tuple(round(float(v), 6) for v in mean), tuple(round(float(v), 6) for v in std)
