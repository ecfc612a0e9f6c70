"""Kernels on a photo: presets, the lecture's LoG kernel, pooling and the loop-vs-torch timing.

Seed 000 builds its Laplacian-of-Gaussian kernel by running scipy's `gaussian_laplace` on an
impulse image of size 2·ceil(3σ)+1 (lines 452-457). scipy is not a dependency of the studio, so
`log_kernel` repeats scipy's arithmetic in numpy: a separable Gaussian-derivative filter with
radius int(4σ + 0.5) and 'reflect' (half-sample symmetric) borders. A test compares it with
scipy where scipy is installed.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from studio.core.inspect.formulas import size_text
from studio.core.lab.conv import ConvLabError

# ----------------------------------------------------------------------------------------
# Laplacian of Gaussian, as seed 000 builds it
# ----------------------------------------------------------------------------------------


def log_kernel_size(sigma: float) -> int:
    """Seed 000 line 453: kernel_size = int(2 * np.ceil(3 * sigma) + 1)."""
    return int(2 * np.ceil(3 * sigma) + 1)


def _gaussian_kernel1d(sigma: float, order: int, radius: int) -> np.ndarray:
    # scipy.ndimage._filters._gaussian_kernel1d: the Gaussian times a Hermite-like polynomial.
    exponent_range = np.arange(order + 1)
    sigma2 = sigma * sigma
    x = np.arange(-radius, radius + 1)
    phi_x = np.exp(-0.5 / sigma2 * x ** 2)
    phi_x = phi_x / phi_x.sum()
    if order == 0:
        return phi_x
    q = np.zeros(order + 1)
    q[0] = 1
    d = np.diag(exponent_range[1:], 1)
    p = np.diag(np.ones(order) / -sigma2, -1)
    q_deriv = d + p
    for _ in range(order):
        q = q_deriv.dot(q)
    q = (x[:, None] ** exponent_range).dot(q)
    return q * phi_x


def _filter1d(a: np.ndarray, weights: np.ndarray, axis: int) -> np.ndarray:
    """Correlate along one axis with scipy's 'reflect' border (d c b a | a b c d | d c b a)."""
    radius = len(weights) // 2
    moved = np.moveaxis(a, axis, -1)
    padded = np.pad(moved, [(0, 0)] * (moved.ndim - 1) + [(radius, radius)], mode="symmetric")
    n = moved.shape[-1]
    out = np.zeros_like(moved)
    for i, w in enumerate(weights):
        out += w * padded[..., i:i + n]
    return np.moveaxis(out, -1, axis)


def gaussian_laplace(image: np.ndarray, sigma: float, truncate: float = 4.0) -> np.ndarray:
    """numpy copy of scipy.ndimage.gaussian_laplace for 2-D float input, mode='reflect'."""
    image = np.asarray(image, dtype=np.float64)
    radius = int(truncate * float(sigma) + 0.5)
    # scipy's gaussian_filter1d reverses the kernel before correlating.
    smooth = _gaussian_kernel1d(sigma, 0, radius)[::-1]
    second = _gaussian_kernel1d(sigma, 2, radius)[::-1]
    d_rows = _filter1d(_filter1d(image, second, 0), smooth, 1)
    d_cols = _filter1d(_filter1d(image, smooth, 0), second, 1)
    return d_rows + d_cols


def log_kernel(sigma: float) -> np.ndarray:
    """Seed 000's create_log_kernel(sigma).astype(np.float32), lines 452-457 and 475."""
    if not sigma > 0:
        raise ConvLabError("σ must be positive.")
    size = log_kernel_size(sigma)
    impulse = np.zeros((size, size))
    impulse[size // 2, size // 2] = 1
    return gaussian_laplace(impulse, sigma).astype(np.float32)


# ----------------------------------------------------------------------------------------
# Other presets
# ----------------------------------------------------------------------------------------


def gaussian_kernel(size: int, sigma: float) -> np.ndarray:
    """Normalised 2-D Gaussian (sums to 1) of odd size."""
    r = size // 2
    ax = np.arange(-r, r + 1, dtype=np.float64)
    g = np.exp(-(ax ** 2) / (2 * sigma * sigma))
    k = np.outer(g, g)
    return (k / k.sum()).astype(np.float32)


def box_kernel(size: int) -> np.ndarray:
    return np.full((size, size), 1.0 / (size * size), dtype=np.float32)


_FIXED = {
    "sobel-x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "sobel-y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
    "vertical-edge": [[1, 0, -1], [1, 0, -1], [1, 0, -1]],
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
}


@dataclass(frozen=True)
class KernelPreset:
    key: str
    title: str
    uses_sigma: bool = False
    uses_size: bool = False
    note: str = ""


PRESETS: tuple[KernelPreset, ...] = (
    KernelPreset("log", "Laplacian of Gaussian (σ)", uses_sigma=True,
                 note="notebook 000: gaussian_laplace of an impulse, size 2·ceil(3σ)+1"),
    KernelPreset("sobel-x", "Sobel x", note="horizontal gradient: vertical edges"),
    KernelPreset("sobel-y", "Sobel y", note="vertical gradient: horizontal edges"),
    KernelPreset("laplacian", "Laplacian", note="second derivative, 4-neighbour"),
    KernelPreset("gaussian", "Gaussian blur (σ, size)", uses_sigma=True, uses_size=True,
                 note="weights sum to 1"),
    KernelPreset("box", "Box blur (size)", uses_size=True, note="the mean of the window"),
    KernelPreset("sharpen", "Sharpen", note="identity plus a negative Laplacian"),
    KernelPreset("emboss", "Emboss", note="a diagonal gradient"),
    KernelPreset("vertical-edge", "Vertical edge (seeds 002/004)", note="[[1, 0, -1]] × 3"),
    KernelPreset("identity", "Identity", note="a 1 in the middle: the image comes back"),
)


def make_kernel(key: str, sigma: float = 2.0, size: int = 5) -> np.ndarray:
    """The preset's kernel as float32 (sigma and size only for the presets that use them)."""
    if key == "log":
        return log_kernel(sigma)
    if key in ("gaussian", "box"):
        if size < 1 or size % 2 == 0:
            raise ConvLabError("Blur kernels need an odd size of at least 1.")
        if key == "box":
            return box_kernel(size)
        if not sigma > 0:
            raise ConvLabError("σ must be positive.")
        return gaussian_kernel(size, sigma)
    if key in _FIXED:
        return np.asarray(_FIXED[key], dtype=np.float32)
    raise ConvLabError(f"No kernel preset called {key!r}.")


# ----------------------------------------------------------------------------------------
# Photo through a kernel, pooling
# ----------------------------------------------------------------------------------------


def to_gray_float(image: np.ndarray) -> np.ndarray:
    """uint8 gray or RGB -> float32 gray in 0..1, like seed 000's imread(GRAYSCALE) / 255.

    RGB is weighted with ITU-R 601 luma (what cv2 and PIL use for grayscale).
    """
    a = np.asarray(image)
    if a.ndim == 3:
        a = a[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    return (a.astype(np.float32) / 255.0).astype(np.float32)


def filter_image(image: np.ndarray, kernel: np.ndarray, flip: bool = False) -> np.ndarray:
    """F.conv2d of a 2-D float image with a 2-D kernel, output the same size as the input.

    Seed 000 pads with kernel_size // 2 (line 598); for odd kernels that is padding='same',
    which also keeps even kernels the same size. flip=True gives true convolution.
    """
    k = np.asarray(kernel, dtype=np.float32)
    if k.ndim != 2 or min(k.shape) < 1:
        raise ConvLabError("The kernel must be a 2-D grid.")
    if not np.all(np.isfinite(k)):
        raise ConvLabError("The kernel has a cell that is not a number.")
    if flip:
        k = np.ascontiguousarray(k[::-1, ::-1])
    x = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))[None, None]
    w = torch.from_numpy(k)[None, None]
    if k.shape[0] % 2 and k.shape[1] % 2:
        out = F.conv2d(x, w, padding=(k.shape[0] // 2, k.shape[1] // 2))
    else:
        out = F.conv2d(x, w, padding="same")
    return out[0, 0].numpy()


def pool(image: np.ndarray, kind: str = "max", kernel: int = 8, stride: int = 8) -> np.ndarray:
    """F.max_pool2d / F.avg_pool2d (seed 000 line 624: kernel_size=8, stride=8)."""
    if kernel < 1 or stride < 1:
        raise ConvLabError("Pooling kernel and stride must be at least 1.")
    h, w = np.asarray(image).shape
    if kernel > min(h, w):
        raise ConvLabError(f"A {kernel}×{kernel} pooling window does not fit in a {h}×{w} image.")
    x = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))[None, None]
    fn = {"max": F.max_pool2d, "avg": F.avg_pool2d}.get(kind)
    if fn is None:
        raise ConvLabError(f"Unknown pooling {kind!r}: use 'max' or 'avg'.")
    return fn(x, kernel_size=kernel, stride=stride)[0, 0].numpy()


def pool_output_text(n_in: int, kernel: int, stride: int, name: str = "W") -> str:
    """Seed 000 line 558's H' = (H − k)/s + 1 (no padding), floored as torch does."""
    return f"{name}_out = {size_text(n_in, kernel, 0, stride)}"


def downscale(image: np.ndarray, max_side: int) -> np.ndarray:
    """Area-average the image so its longer side is at most max_side (for the slow loop)."""
    h, w = image.shape
    scale = max_side / max(h, w)
    if scale >= 1:
        return np.ascontiguousarray(image, dtype=np.float32)
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    x = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))[None, None]
    return F.interpolate(x, size=size, mode="area")[0, 0].numpy()


# ----------------------------------------------------------------------------------------
# The naive loop vs F.conv2d (seed 000's %%time cells)
# ----------------------------------------------------------------------------------------


def convolve_gray(image: np.ndarray, kernel: np.ndarray,
                  should_stop: Callable[[], bool] | None = None,
                  progress: Callable[[int, int], None] | None = None) -> np.ndarray | None:
    """Seed 000's convolve_gray (lines 482-513): zero padding k//2, flipped kernel, two loops.

    Kept slow on purpose: it is the thing being timed. Returns None if stopped.
    """
    img_h, img_w = image.shape
    kernel_h, kernel_w = kernel.shape
    pad_h, pad_w = kernel_h // 2, kernel_w // 2
    padded_image = np.pad(image, ((pad_h, pad_h), (pad_w, pad_w)), mode="constant", constant_values=0)
    output = np.zeros((img_h, img_w), dtype=np.float32)
    kernel = np.flipud(np.fliplr(kernel))
    for i in range(img_h):
        if should_stop is not None and should_stop():
            return None
        if progress is not None:
            progress(i, img_h)
        for j in range(img_w):
            patch = padded_image[i:i + kernel_h, j:j + kernel_w]
            output[i, j] = np.sum(patch * kernel)
    return output


@dataclass
class TimingResult:
    shape: tuple[int, int]
    kernel_shape: tuple[int, int]
    loop_seconds: float
    torch_seconds: float
    max_abs_diff: float
    loop_output: np.ndarray

    @property
    def speedup(self) -> float:
        return self.loop_seconds / self.torch_seconds if self.torch_seconds > 0 else math.inf

    def summary(self) -> str:
        h, w = self.shape
        return (f"{h}×{w} image, {self.kernel_shape[0]}×{self.kernel_shape[1]} kernel: "
                f"Python loop {format_seconds(self.loop_seconds)}, F.conv2d "
                f"{format_seconds(self.torch_seconds)} ({self.speedup:,.0f}× faster); "
                f"largest difference {self.max_abs_diff:.2g}")


def format_seconds(s: float) -> str:
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.1f} ms"
    return f"{s * 1e6:.0f} µs"


def time_loop_vs_torch(image: np.ndarray, kernel: np.ndarray,
                       should_stop: Callable[[], bool] | None = None,
                       progress: Callable[[int, int], None] | None = None,
                       torch_repeats: int = 5) -> TimingResult | None:
    """Time seed 000's loop and F.conv2d on the same image and kernel.

    The loop flips the kernel (true convolution) and F.conv2d does not, so F.conv2d gets the
    flipped kernel, as the lecture's symmetric LoG kernel made unnecessary. F.conv2d is timed
    as the best of a few runs (the first call also pays one-off setup).
    """
    image = np.ascontiguousarray(image, dtype=np.float32)
    kernel = np.ascontiguousarray(kernel, dtype=np.float32)
    t0 = time.perf_counter()
    loop_out = convolve_gray(image, kernel, should_stop, progress)
    loop_s = time.perf_counter() - t0
    if loop_out is None:
        return None
    x = torch.from_numpy(image)[None, None]
    w = torch.from_numpy(np.ascontiguousarray(kernel[::-1, ::-1]))[None, None]
    best = math.inf
    with torch.inference_mode():
        for _ in range(max(1, torch_repeats)):
            t0 = time.perf_counter()
            out = F.conv2d(x, w, padding=(kernel.shape[0] // 2, kernel.shape[1] // 2))
            best = min(best, time.perf_counter() - t0)
    torch_out = out[0, 0].numpy()
    h, wd = image.shape
    # For even kernels F.conv2d's output is one cell larger; its top-left part is the loop's.
    diff = float(np.max(np.abs(torch_out[:h, :wd] - loop_out)))
    return TimingResult(shape=(h, wd), kernel_shape=tuple(kernel.shape), loop_seconds=loop_s,
                        torch_seconds=best, max_abs_diff=diff, loop_output=loop_out)
