"""Batch augmentation with random parameters PER SAMPLE, vectorised, on the batch's device.

torchvision's v2 transforms applied to a batch tensor draw ONE parameter set for the whole
batch (every image flipped, or none). Here each image gets its own flip, crop offset,
rotation, zoom, shift, colour change and noise, drawn in a handful of tensor ops:

    flip       a per-sample mask and torch.where
    crop       zero padding, then two gathers at per-sample integer offsets (exact pixels)
    affine     rotation, scale and translation in one (B, 2, 3) matrix -> affine_grid/grid_sample
    colour     per-sample brightness, contrast and (RGB) saturation factors
    noise      Gaussian, std given in normalised units when the dataset std is known

Input and output: float (B, C, H, W) in 0..1, before normalisation. Calling the augmenter
with the same torch.Generator state gives the same result.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from studio.core.config.train_config import AugmentConfig
from studio.core.pixels import LUMA
from studio.core.errors import StudioError


def build_augment(cfg: AugmentConfig | None, *, std: Sequence[float] | None = None) -> "BatchAugment | None":
    """The augmenter for `cfg`, or None when every augmentation is off.

    std: the dataset's per-channel std (0..1 units). When given, cfg.noise_std is in
    normalised units as AugmentConfig documents (noise of std noise_std * std is added to the
    0..1 pixels); without it, noise_std is in 0..1 pixel units.
    """
    if cfg is None or not cfg.any():
        return None
    _validate(cfg)
    return BatchAugment(cfg, std)


def _validate(cfg: AugmentConfig) -> None:
    problems = cfg.problems()  # one list of rules, shared with TrainConfig.validate
    if problems:
        raise StudioError("Invalid augmentation settings: " + "; ".join(problems) + ".")


class BatchAugment:
    """Callable: aug(x, generator=None) -> augmented copy of x (x is not modified)."""

    def __init__(self, cfg: AugmentConfig, std: Sequence[float] | None = None):
        self.cfg = cfg
        self.noise_scale = tuple(cfg.noise_std * float(s) for s in std) if std else (float(cfg.noise_std),)

    def __repr__(self) -> str:
        return f"BatchAugment({self.cfg})"

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if not x.is_floating_point() or x.dim() != 4:
            raise TypeError(f"augment expects a float batch B x C x H x W in 0..1, got {x.dtype} {tuple(x.shape)}")
        draw = _Draw(generator, x)
        cfg = self.cfg
        if cfg.crop_padding:
            x = _random_crop(x, int(cfg.crop_padding), draw)
        if cfg.hflip:
            x = _random_flip(x, draw)
        if cfg.rotation or cfg.scale or cfg.translate:
            x = _random_affine(x, cfg.rotation, cfg.scale, cfg.translate, draw)
        if cfg.color_jitter:
            x = _color_jitter(x, cfg.color_jitter, draw)
        if cfg.noise_std:
            x = _add_noise(x, self.noise_scale, draw)
        return x


class _Draw:
    """Random numbers from one generator, delivered on the batch's device.

    Small per-sample parameters are drawn where the generator lives (usually the CPU) and
    moved over; the big noise tensor is drawn on the batch's device from a generator seeded
    by this one, so a CPU generator still drives GPU batches deterministically.
    """

    def __init__(self, generator: torch.Generator | None, x: torch.Tensor):
        self.generator = generator
        self.device, self.dtype = x.device, x.dtype
        self.source_device = generator.device if generator is not None else torch.device("cpu")

    def uniform(self, n: int, low: float, high: float) -> torch.Tensor:
        values = torch.rand(n, generator=self.generator, device=self.source_device)
        return (low + (high - low) * values).to(self.device, self.dtype)

    def integers(self, n: int, high: int) -> torch.Tensor:
        """n integers in [0, high)."""
        return torch.randint(high, (n,), generator=self.generator, device=self.source_device).to(self.device)

    def normal(self, shape: torch.Size) -> torch.Tensor:
        if self.generator is None:
            return torch.randn(shape, device=self.device, dtype=self.dtype)
        if self.source_device == self.device:
            return torch.randn(shape, generator=self.generator, device=self.device, dtype=self.dtype)
        seed = int(torch.randint(2**62, (1,), generator=self.generator, device=self.source_device))
        local = torch.Generator(device=self.device).manual_seed(seed)
        return torch.randn(shape, generator=local, device=self.device, dtype=self.dtype)


def _random_flip(x: torch.Tensor, draw: _Draw) -> torch.Tensor:
    flip = draw.uniform(x.shape[0], 0.0, 1.0) < 0.5
    return torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)


def _random_crop(x: torch.Tensor, padding: int, draw: _Draw) -> torch.Tensor:
    """An H x W window of the zero-padded image at a per-sample integer offset (exact pixels).

    The padded batch is never built: with a large padding and batch it would be many times the
    batch's size (4,500 digits padded by 256 px: 5 GB). Out-of-image pixels are masked to zero.
    """
    b, c, h, w = x.shape
    top = draw.integers(b, 2 * padding + 1) - padding
    left = draw.integers(b, 2 * padding + 1) - padding
    rows = top.view(b, 1) + torch.arange(h, device=x.device)    # source row of each output row
    cols = left.view(b, 1) + torch.arange(w, device=x.device)
    out = x.gather(2, rows.clamp(0, h - 1).view(b, 1, h, 1).expand(b, c, h, w))
    out = out.gather(3, cols.clamp(0, w - 1).view(b, 1, 1, w).expand(b, c, h, w))
    inside = ((rows >= 0) & (rows < h)).view(b, 1, h, 1) & ((cols >= 0) & (cols < w)).view(b, 1, 1, w)
    return out * inside


def _random_affine(x: torch.Tensor, rotation: float, scale: float, translate: float, draw: _Draw) -> torch.Tensor:
    """Rotate by +-rotation degrees, zoom by 1 +- scale, shift by +- translate of the side."""
    b, _, h, w = x.shape
    angle = draw.uniform(b, -rotation, rotation) * (math.pi / 180.0)
    zoom = draw.uniform(b, 1.0 - scale, 1.0 + scale)
    tx = draw.uniform(b, -translate, translate)
    ty = draw.uniform(b, -translate, translate)
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    # theta maps output to input in normalised coordinates; the h/w factors keep the
    # rotation a rotation (not a shear) on non-square images.
    theta = torch.stack([
        torch.stack([cos, sin * (h / w), -2.0 * (cos * tx + sin * ty * (h / w))], 1),
        torch.stack([-sin * (w / h), cos, -2.0 * (-sin * tx * (w / h) + cos * ty)], 1),
    ], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _color_jitter(x: torch.Tensor, strength: float, draw: _Draw) -> torch.Tensor:
    b, c = x.shape[:2]
    brightness = draw.uniform(b, 1.0 - strength, 1.0 + strength).view(b, 1, 1, 1)
    contrast = draw.uniform(b, 1.0 - strength, 1.0 + strength).view(b, 1, 1, 1)
    x = x * brightness
    mean = _luma(x).mean((1, 2, 3), keepdim=True)
    x = (x - mean).mul_(contrast).add_(mean)
    if c == 3:
        saturation = draw.uniform(b, 1.0 - strength, 1.0 + strength).view(b, 1, 1, 1)
        gray = _luma(x)
        x = (x - gray).mul_(saturation).add_(gray)
    return x.clamp_(0.0, 1.0)


def _luma(x: torch.Tensor) -> torch.Tensor:
    if x.shape[1] != 3:
        return x.mean(1, keepdim=True)
    weights = torch.tensor(LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * weights).sum(1, keepdim=True)


def _add_noise(x: torch.Tensor, scale: tuple[float, ...], draw: _Draw) -> torch.Tensor:
    """Not clamped: the noise is meant to reach the model as drawn."""
    c = x.shape[1]
    if len(scale) not in (1, c):
        scale = (sum(scale) / len(scale),)
    sigma = torch.tensor(scale, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    return x + draw.normal(x.shape) * sigma
