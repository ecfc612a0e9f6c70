"""Correlation and convolution on small arrays, computed by the real torch ops.

The Convolution Lab shows students what `nn.Conv1d` / `nn.Conv2d` compute. Every number it
shows comes from `F.conv1d` / `F.conv2d` (and `F.pad` for the non-zero padding modes, which
is exactly how `nn.Conv2d` implements `padding_mode`), so what they see is what a network does.
Next to the result, a stepper walks the sliding window one output at a time and lists the
input taps, the products and their sum; the tests check those sums against `F.conv2d`.

Arrays are float64 numpy arrays laid out as torch expects, without the batch axis:
input (C_in, *spatial), weight (C_out, C_in // groups, *kernel), with 1 or 2 spatial axes.
Integer examples stay exact in float64, so the lectures' printed integers compare equal.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, replace
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from studio.core.errors import StudioError
from studio.core.inspect import formulas

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class ConvLabError(StudioError):
    """Settings the lab cannot compute (the message says why, in one sentence)."""


@dataclass(frozen=True)
class ConvSettings:
    """The knobs of `nn.Conv2d`, plus `flip` for true convolution (flipped kernel)."""

    padding: str | int = 0          # "same", "valid" or a number of cells on every side
    padding_mode: str = "zeros"     # zeros / reflect / replicate / circular
    stride: int = 1
    dilation: int = 1
    groups: int = 1
    flip: bool = False              # False: cross-correlation (what Conv2d computes); True: convolution

    def describe(self) -> str:
        pad = f"'{self.padding}'" if isinstance(self.padding, str) else str(self.padding)
        text = f"padding={pad}, stride={self.stride}, dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.padding_mode != "zeros":
            text += f", padding_mode='{self.padding_mode}'"
        return text


# ----------------------------------------------------------------------------------------
# Output size
# ----------------------------------------------------------------------------------------

def same_padding(kernel: int, dilation: int = 1) -> tuple[int, int]:
    """(before, after) padding torch uses for padding='same': the odd cell goes after."""
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2


def resolve_padding(padding: str | int, kernel: int, dilation: int = 1) -> tuple[int, int]:
    """(before, after) padding of one spatial axis for 'same', 'valid' or a number."""
    if padding == "same":
        return same_padding(kernel, dilation)
    if padding == "valid":
        return 0, 0
    if isinstance(padding, str):
        raise ConvLabError(f"Unknown padding {padding!r}: use 'same', 'valid' or a number.")
    p = int(padding)
    if p < 0:
        raise ConvLabError("Padding cannot be negative.")
    return p, p


def output_size(n_in: int, kernel: int, padding: str | int = 0, stride: int = 1,
                dilation: int = 1) -> int:
    """Output length along one axis, as torch computes it (may be <= 0 for impossible settings)."""
    before, after = resolve_padding(padding, kernel, dilation)
    return formulas.output_size(n_in, kernel, before, after, stride, dilation)


def output_size_text(n_in: int, kernel: int, padding: str | int = 0, stride: int = 1,
                     dilation: int = 1, name: str = "W") -> str:
    """The output-size formula with this layer's numbers filled in (studio.core.inspect.formulas).

    Torch's general form comes first; with dilation 1 the lectures' simpler form
    (W - F + 2P)/S + 1 follows (seed 001 line 271, seed 002/004's floor form).
    """
    before, after = resolve_padding(padding, kernel, dilation)
    lines = []
    if padding == "same":
        lines.append(f"padding='same': total padding D·(F−1) = {dilation}·({kernel}−1) = "
                     f"{before + after} → {before} before, {after} after")
    lines.append(formulas.general_size_text(n_in, kernel, before, after, stride, dilation, name))
    if before == after and dilation == 1:
        lines.append(formulas.lecture_size_line(n_in, kernel, before, stride, name))
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------
# The computation
# ----------------------------------------------------------------------------------------

@dataclass
class ConvResult:
    """What one correlation/convolution produced, with everything the views need."""

    output: np.ndarray           # (C_out, *out_spatial)
    padded: np.ndarray           # (C_in, *padded_spatial): the input the window slides over
    pads: tuple[tuple[int, int], ...]   # (before, after) per spatial axis
    weight_used: np.ndarray      # the kernel the window multiplies by (flipped for convolution)
    settings: ConvSettings

    @property
    def torch_shape(self) -> tuple[int, ...]:
        """The output's shape as torch reports it, batch axis included."""
        return (1, *self.output.shape)


def _as_input(x: np.ndarray, dims: int) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float64)   # torch.from_numpy refuses flipped views
    if x.ndim == dims:
        x = x[None]
    if x.ndim != dims + 1:
        raise ConvLabError(f"Expected a {dims}-D input with an optional channel axis, got shape {x.shape}.")
    return x


def _as_weight(w: np.ndarray, dims: int) -> np.ndarray:
    w = np.ascontiguousarray(w, dtype=np.float64)
    while w.ndim < dims + 2:
        w = w[None]
    if w.ndim != dims + 2:
        raise ConvLabError(f"Expected a {dims}-D kernel, got shape {w.shape}.")
    return w


def flip_kernel(w: np.ndarray, dims: int) -> np.ndarray:
    """Flip the spatial axes: convolution = correlation with the flipped kernel."""
    return np.ascontiguousarray(np.flip(w, axis=tuple(range(w.ndim - dims, w.ndim))))


def validate(x_shape: tuple[int, ...], w_shape: tuple[int, ...], s: ConvSettings) -> None:
    """Raise ConvLabError with a readable sentence for settings torch would refuse."""
    dims = len(w_shape) - 2
    c_in, c_out, c_per_group = x_shape[0], w_shape[0], w_shape[1]
    if s.stride < 1:
        raise ConvLabError("Stride must be at least 1.")
    if s.dilation < 1:
        raise ConvLabError("Dilation must be at least 1.")
    if s.groups < 1:
        raise ConvLabError("Groups must be at least 1.")
    if s.padding_mode not in PADDING_MODES:
        raise ConvLabError(f"Unknown padding mode {s.padding_mode!r}: use one of {', '.join(PADDING_MODES)}.")
    if c_in % s.groups or c_out % s.groups:
        raise ConvLabError(f"groups={s.groups} must divide both the input channels ({c_in}) "
                           f"and the output channels ({c_out}).")
    if c_per_group * s.groups != c_in:
        raise ConvLabError(f"The kernel sees {c_per_group} channels per group but the input has "
                           f"{c_in} channels in {s.groups} groups.")
    if s.padding == "same" and s.stride != 1:
        raise ConvLabError("padding='same' works only with stride 1 (torch refuses 'same' for "
                           "strided convolutions): choose a number or 'valid'.")
    names = ("W",) if dims == 1 else ("H", "W")
    for axis, name in enumerate(names):
        n, k = x_shape[1 + axis], w_shape[2 + axis]
        before, after = resolve_padding(s.padding, k, s.dilation)
        _check_mode_padding(s.padding_mode, max(before, after), n, name)
        span = s.dilation * (k - 1) + 1
        if span > n + before + after:
            raise ConvLabError(
                f"The dilated kernel spans {span} cells along {name} (D·(F−1)+1 = "
                f"{s.dilation}·({k}−1)+1) but the padded input is only {n + before + after} wide: "
                "lower the dilation or kernel size, or pad more.")


def _check_mode_padding(mode: str, pad: int, n: int, name: str) -> None:
    if mode == "reflect" and pad >= n:
        raise ConvLabError(f"Reflect padding of {pad} needs an input longer than {pad} along {name} "
                           f"(it is {n}).")
    if mode == "circular" and pad > n:
        raise ConvLabError(f"Circular padding of {pad} wraps around more than once along {name} "
                           f"(input length {n}).")


def pad_input(x: np.ndarray, pads: tuple[tuple[int, int], ...], mode: str) -> np.ndarray:
    """The padded input, by F.pad with the same mode nn.Conv2d uses for padding_mode."""
    flat = [p for before_after in reversed(pads) for p in before_after]  # F.pad wants last axis first
    t = torch.from_numpy(np.ascontiguousarray(x))[None]
    if not any(flat):
        return np.array(x, copy=True)
    if mode == "zeros":
        return F.pad(t, flat, mode="constant", value=0.0)[0].numpy()
    return F.pad(t, flat, mode=mode)[0].numpy()


def run_conv(x: np.ndarray, w: np.ndarray, settings: ConvSettings = ConvSettings(),
             dims: int | None = None) -> ConvResult:
    """Correlate (or convolve, settings.flip) x with w exactly as F.conv1d / F.conv2d do.

    x: (*spatial) or (C_in, *spatial); w: (*kernel), (C_in/groups, *kernel) or
    (C_out, C_in/groups, *kernel). dims (1 or 2) defaults to the kernel's number of axes
    when the kernel has no channel axes.
    """
    w_arr = np.asarray(w, dtype=np.float64)
    if dims is None:
        if w_arr.ndim > 2:
            raise ConvLabError("Say dims=1 or dims=2 for a kernel with channel axes.")
        dims = w_arr.ndim
    if dims not in (1, 2):
        raise ConvLabError("Only 1-D and 2-D correlation are supported.")
    xa, wa = _as_input(x, dims), _as_weight(w_arr, dims)
    validate(xa.shape, wa.shape, settings)
    if settings.flip:
        wa = flip_kernel(wa, dims)
    pads = tuple(resolve_padding(settings.padding, k, settings.dilation) for k in wa.shape[2:])
    padded = pad_input(xa, pads, settings.padding_mode)
    output = _torch_conv(xa, wa, settings, padded, dims)
    return ConvResult(output=output, padded=padded, pads=pads, weight_used=wa, settings=settings)


def _torch_conv(x: np.ndarray, w: np.ndarray, s: ConvSettings, padded: np.ndarray,
                dims: int) -> np.ndarray:
    conv = F.conv1d if dims == 1 else F.conv2d
    wt = torch.from_numpy(w)
    try:
        with warnings.catch_warnings():
            # torch warns that 'same' with an even kernel copies the input; harmless here.
            warnings.simplefilter("ignore", UserWarning)
            if s.padding_mode == "zeros":
                pad_arg = s.padding if isinstance(s.padding, str) else int(s.padding)
                out = conv(torch.from_numpy(x)[None], wt, stride=s.stride, padding=pad_arg,
                           dilation=s.dilation, groups=s.groups)
            else:
                # nn.Conv2d with padding_mode != 'zeros' pads with F.pad and convolves unpadded.
                out = conv(torch.from_numpy(padded)[None], wt, stride=s.stride, padding=0,
                           dilation=s.dilation, groups=s.groups)
    except RuntimeError as exc:  # a case validate() missed: still a sentence, not a traceback
        raise ConvLabError(f"torch refused these settings: {exc}") from exc
    return out[0].numpy()


def correlate(x: np.ndarray, kernel: np.ndarray, settings: ConvSettings = ConvSettings()) -> np.ndarray:
    """Cross-correlation of a plain 1-D or 2-D array with a kernel of the same rank."""
    x = np.asarray(x, dtype=np.float64)
    s = replace(settings, flip=False)
    return run_conv(x, kernel, s, dims=x.ndim).output[0]


def convolve(x: np.ndarray, kernel: np.ndarray, settings: ConvSettings = ConvSettings()) -> np.ndarray:
    """True convolution (flipped kernel) of a plain 1-D or 2-D array."""
    x = np.asarray(x, dtype=np.float64)
    s = replace(settings, flip=True)
    return run_conv(x, kernel, s, dims=x.ndim).output[0]


# ----------------------------------------------------------------------------------------
# The stepper
# ----------------------------------------------------------------------------------------

@dataclass
class Step:
    """One output position: which padded-input cells the window touches and what they give."""

    index: int                                   # 0-based position in the stepping order
    out_pos: tuple[int, ...]                     # (out_channel, *spatial)
    taps: list[tuple[int, ...]] = field(default_factory=list)       # (in_channel, *padded spatial)
    kernel_pos: list[tuple[int, ...]] = field(default_factory=list)  # (in_channel_in_group, *kernel)
    values: list[float] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    products: list[float] = field(default_factory=list)
    total: float = 0.0

    def equation(self, fmt=None) -> str:
        """'1·2 + 2·1 + 3·2 = 10' with the numbers of this window."""
        fmt = fmt or format_number
        def par(x: float) -> str:
            text = fmt(x)
            return f"({text})" if text.startswith("-") else text

        terms = [f"{par(v)}·{par(w)}" for v, w in zip(self.values, self.weights)]
        return " + ".join(terms) + f" = {fmt(self.total)}"


def stepper(result: ConvResult) -> Iterator[Step]:
    """Yield every output position in row-major order, with its taps, products and sum.

    Sums use the padded input and the kernel actually applied, one multiply-add at a time
    like a hand calculation; they equal F.conv2d's output (tests check several settings).
    """
    out = result.output
    for index, out_pos in enumerate(np.ndindex(*out.shape)):
        yield step_at(result, index, out_pos)


def step_count(result: ConvResult) -> int:
    return int(result.output.size)


def step_at(result: ConvResult, index: int, out_pos: tuple[int, ...] | None = None) -> Step:
    """The step for the index-th output position (row-major over channel, then space)."""
    s, w = result.settings, result.weight_used
    if out_pos is None:
        out_pos = tuple(int(i) for i in np.unravel_index(index, result.output.shape))
    o, spatial = out_pos[0], out_pos[1:]
    per_group = w.shape[1]
    group = o // (w.shape[0] // s.groups)
    step = Step(index=index, out_pos=tuple(int(i) for i in out_pos))
    total = 0.0
    for k_pos in np.ndindex(*w.shape[1:]):
        c = group * per_group + k_pos[0]
        cell = tuple(p * s.stride + kk * s.dilation for p, kk in zip(spatial, k_pos[1:]))
        value = float(result.padded[(c, *cell)])
        weight = float(w[(o, *k_pos)])
        step.taps.append((c, *cell))
        step.kernel_pos.append(tuple(int(i) for i in k_pos))
        step.values.append(value)
        step.weights.append(weight)
        step.products.append(value * weight)
        total += value * weight
    step.total = total
    return step


def format_number(v: float, digits: int = 4) -> str:
    """Integers without a decimal point (the lectures print ints); others to a few digits."""
    if not math.isfinite(v):
        return str(v)
    if abs(v - round(v)) < 1e-9 and abs(v) < 1e12:
        return str(int(round(v)))
    return f"{v:.{digits}g}"


# ----------------------------------------------------------------------------------------
# The lectures' examples
# ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LectureExample:
    """An example from the lecture notebooks with the output they print (or state)."""

    key: str
    title: str
    source: str                    # seed file, cell and lines it comes from
    signal: np.ndarray             # (L,) or (H, W)
    kernel: np.ndarray             # same rank as signal
    settings: ConvSettings
    expected: np.ndarray | None = None              # the full printed/stated output
    expected_cells: tuple = ()                      # ((index), value) pairs when only some are stated
    note: str = ""

    @property
    def dims(self) -> int:
        return self.signal.ndim


def _a(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


_SIGNAL_1D = _a(range(1, 10))
_KERNEL_1D = _a([2, 1, 2])
_IMAGE_5x5 = _a(range(1, 26)).reshape(5, 5)
_VERTICAL_EDGE = _a([[1, 0, -1], [1, 0, -1], [1, 0, -1]])
_S1 = "notebook 004, In [5] (lines 107-109), printed lines 116-118; same code in notebook 002 lines 308-338"
_S2 = "notebook 004, In [7]-[8] (lines 142-149); same code in notebook 002 lines 361-373 (plotted, not printed)"

EXAMPLES: tuple[LectureExample, ...] = (
    LectureExample("1d-same", "1D: signal 1..9 * [2, 1, 2], padding='same'", _S1,
                   _SIGNAL_1D, _KERNEL_1D, ConvSettings(padding="same"),
                   expected=_a([5, 10, 15, 20, 25, 30, 35, 40, 25])),
    LectureExample("1d-valid", "1D: signal 1..9 * [2, 1, 2], padding='valid'", _S1,
                   _SIGNAL_1D, _KERNEL_1D, ConvSettings(padding="valid"),
                   expected=_a([10, 15, 20, 25, 30, 35, 40])),
    LectureExample("1d-pad2-stride2", "1D: signal 1..9 * [2, 1, 2], padding=2, stride=2", _S1,
                   _SIGNAL_1D, _KERNEL_1D, ConvSettings(padding=2, stride=2),
                   expected=_a([2, 10, 20, 30, 40, 18])),
    LectureExample("2d-edge-same", "2D: 5×5 arange image, vertical-edge kernel, padding='same'", _S2,
                   _IMAGE_5x5, _VERTICAL_EDGE, ConvSettings(padding="same"),
                   note="The notebooks only plot this one; the values come from F.conv2d."),
    LectureExample("2d-edge-valid", "2D: 5×5 arange image, vertical-edge kernel, padding='valid'", _S2,
                   _IMAGE_5x5, _VERTICAL_EDGE, ConvSettings(padding="valid"),
                   note="Every window sees columns c and c+2 of a ramp: 3·(−2) = −6 everywhere."),
    LectureExample("2d-edge-pad1-stride2", "2D: 5×5 arange image, vertical-edge kernel, padding=1, stride=2",
                   _S2, _IMAGE_5x5, _VERTICAL_EDGE, ConvSettings(padding=1, stride=2)),
    LectureExample("2d-seed001", "2D: notebook 001's numerical example, 3×3 * 2×2", "notebook 001, line 69",
                   _a([[12, 3, 19], [25, 10, 1], [9, 7, 17]]), _a([[1, 2], [3, 4]]),
                   ConvSettings(padding="valid"), expected=_a([[133, 75], [100, 101]]),
                   note="\"In our course, we will treat 2D convolution as cross-correlation\" (notebook 001 line 64)."),
    LectureExample("2d-seed001-half", "2D: notebook 001's sliding window, 0.5 × each node (2×2 window)",
                   "notebook 001, lines 53-62",
                   _a([[2.0, 3.0, 0.0, 5.0, 2.5], [2.0, 1.5, 0.5, 0.0, 7.0], [1.5, 5.0, 5.0, 3.0, 2.0],
                       [3.0, 5.0, 7.0, 1.5, 0.0], [2.0, 5.0, 2.0, 1.5, 2.0]]),
                   _a([[0.5, 0.5], [0.5, 0.5]]), ConvSettings(padding="valid"),
                   expected_cells=(((0, 0), 4.25), ((0, 1), 2.5)),
                   note="The lecture shows the first two outputs: out₁ = 4.25, out₂ = 2.5."),
)


def get_example(key: str) -> LectureExample:
    for ex in EXAMPLES:
        if ex.key == key:
            return ex
    raise ConvLabError(f"No lecture example called {key!r}.")


def run_example(example: LectureExample, flip: bool = False) -> ConvResult:
    s = replace(example.settings, flip=flip)
    return run_conv(example.signal, example.kernel, s, dims=example.dims)
