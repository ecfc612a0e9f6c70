"""Multichannel convolution at any size (seed 000, "Multichannel Convolution"): a 32x32x3 input
and 16 filters of 3x3x3 give 30x30x16 without padding.

The editable Lab grid stops at 12x14 cells and 4 channels, so this section shows a summary
instead of every cell: the shapes, the output-size formula with the numbers, a few output cells
written out as their sum over channels and kernel taps, and every output channel as a picture.
The numbers come from F.conv2d; the written-out cells are recomputed by hand and must agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from studio.core.lab.conv import (
    ConvLabError,
    format_number,
    output_size,
    output_size_text,
)

MAX_SIDE = 512
MAX_CHANNELS = 256
LECTURE = {"height": 32, "width": 32, "in_channels": 3, "out_channels": 16, "kernel": 3, "padding": 0,
           "stride": 1}


@dataclass
class MultichannelResult:
    input: np.ndarray               # (C_in, H, W) float32
    weight: np.ndarray              # (C_out, C_in, k, k)
    bias: np.ndarray                # (C_out,)
    output: np.ndarray              # (C_out, H', W') from F.conv2d
    padding: int
    stride: int
    formula: str                    # the output-size formula with the numbers, both axes
    cells: list[tuple[tuple[int, int, int], str, float]] = field(default_factory=list)  # (pos, sum text, value)

    @property
    def shapes_text(self) -> str:
        c, h, w = self.input.shape
        o, _, k, _ = self.weight.shape
        _, ho, wo = self.output.shape
        return (f"input {h}×{w}×{c}  *  {o} filters of {k}×{k}×{c}  →  output {ho}×{wo}×{o}   "
                f"(torch: input {[1, c, h, w]}, weight {list(self.weight.shape)}, "
                f"output {[1, o, ho, wo]})")

    @property
    def params(self) -> int:
        return int(self.weight.size + self.bias.size)


def demo_input(height: int, width: int, channels: int, image: np.ndarray | None = None,
               seed: int = 0) -> np.ndarray:
    """(C, H, W) in 0..1: the photo resized (channels cycled through R, G, B), else seeded noise."""
    if image is None:
        g = torch.Generator().manual_seed(seed)
        return torch.rand(channels, height, width, generator=g).numpy()
    rgb = np.asarray(image, dtype=np.float32) / 255.0
    if rgb.ndim == 2:
        rgb = rgb[..., None]
    t = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None]
    t = F.interpolate(t, size=(height, width), mode="area")[0]
    return torch.stack([t[i % t.shape[0]] for i in range(channels)]).numpy()


def run_multichannel(x: np.ndarray, out_channels: int, kernel: int, padding: int = 0, stride: int = 1,
                     seed: int = 0, cells: int = 3) -> MultichannelResult:
    """Correlate x (C_in, H, W) with `out_channels` seeded random k×k×C_in filters (PyTorch's default init)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim != 3:
        raise ConvLabError("The input must be (channels, height, width).")
    c, h, w = x.shape
    if not (1 <= c <= MAX_CHANNELS and 1 <= out_channels <= MAX_CHANNELS):
        raise ConvLabError(f"Use 1 to {MAX_CHANNELS} channels in and out.")
    if max(h, w) > MAX_SIDE or min(h, w) < 1:
        raise ConvLabError(f"Use images of 1 to {MAX_SIDE} pixels a side.")
    if kernel < 1 or stride < 1 or padding < 0:
        raise ConvLabError("Kernel and stride must be at least 1, padding at least 0.")
    ho, wo = output_size(h, kernel, padding, stride), output_size(w, kernel, padding, stride)
    if ho < 1 or wo < 1:
        raise ConvLabError(f"A {kernel}×{kernel} kernel does not fit in {h}×{w} with padding {padding}.")
    g = torch.Generator().manual_seed(seed)
    bound = 1.0 / np.sqrt(c * kernel * kernel)       # nn.Conv2d's default: U(±1/√fan_in)
    weight = (torch.rand(out_channels, c, kernel, kernel, generator=g) * 2 - 1) * bound
    bias = (torch.rand(out_channels, generator=g) * 2 - 1) * bound
    out = F.conv2d(torch.from_numpy(x)[None], weight, bias, stride=stride, padding=padding)[0]
    formula = "\n".join((output_size_text(h, kernel, padding, stride, name="H"),
                         output_size_text(w, kernel, padding, stride, name="W")))
    result = MultichannelResult(x, weight.numpy(), bias.numpy(), out.numpy(), padding, stride, formula)
    positions = [(0, 0, 0), (min(1, out_channels - 1), ho // 2, wo // 2), (out_channels - 1, ho - 1, wo - 1)]
    result.cells = [_cell(result, pos) for pos in positions[:cells]]
    return result


def _cell(r: MultichannelResult, pos: tuple[int, int, int]) -> tuple[tuple[int, int, int], str, float]:
    """One output value by hand: the sum over input channels of each channel's window · kernel, plus the bias."""
    o, i, j = pos
    k = r.weight.shape[2]
    padded = np.pad(r.input, ((0, 0), (r.padding, r.padding), (r.padding, r.padding)))
    r0, c0 = i * r.stride, j * r.stride
    parts, total = [], float(r.bias[o])
    for ch in range(r.input.shape[0]):
        s = float(np.sum(padded[ch, r0:r0 + k, c0:c0 + k].astype(np.float64) * r.weight[o, ch]))
        total += s
        parts.append(_signed(s))
    shown = parts if len(parts) <= 6 else parts[:5] + [f"… {len(parts) - 5} more"]
    text = (f"out[{o}, {i}, {j}] = Σ over {r.input.shape[0]} channels of (window · kernel) + bias = "
            f"{' + '.join(shown)} + {_signed(float(r.bias[o]))} = {format_number(total)}")
    return pos, text, total


def _signed(v: float) -> str:
    text = format_number(v)
    return f"({text})" if v < 0 else text


def lecture_example(image: np.ndarray | None = None) -> MultichannelResult:
    """Seed 000's example: 32×32×3, 16 filters of 3×3×3, no padding, stride 1 → 30×30×16."""
    x = demo_input(LECTURE["height"], LECTURE["width"], LECTURE["in_channels"], image)
    return run_multichannel(x, LECTURE["out_channels"], LECTURE["kernel"], LECTURE["padding"], LECTURE["stride"])
