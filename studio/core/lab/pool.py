"""Pooling on a small grid: max, mean and Lp pooling (seed 001, lines 205-250).

Seed 001 names three pooling operators over a window V_1 ... V_n (line 223): max_i V_i,
(1/n) sum V_i and the l_p pooling (sum V_i^p)^(1/p); and its example (lines 232-247): a
2x2 window with stride [2, 2] over a 5 x 5 input gives a 3 x 3 output, because "an extra
column and row" of zeros is added, making the pooling space 6 x 6. The lecture shows no
numbers for the grid (its picture is not in the notes); the default grid here is seed 004's
signal_2d, torch.arange(1, 26).reshape(5, 5) (line 142), which gives
[[7, 9, 10], [17, 19, 20], [22, 24, 25]].

The outputs come from F.max_pool2d / F.avg_pool2d / F.lp_pool2d (in float64). The stepper
recomputes every window by hand with PyTorch's rules, so that both can be compared:

- the lecture's extra zeros are real zeros added with F.pad at the bottom and the right;
- `padding` P of max_pool2d is implicit -inf (a padded cell never wins); of avg_pool2d it is
  implicit zeros, counted in the divisor unless count_include_pad=False; F.lp_pool2d has no
  padding argument;
- ceil_mode rounds the output size up, so the last window may hang over the edge; PyTorch
  drops a window that would start in the right padding; cells past the padded input count
  for nothing (max), are left out of the divisor (avg) and, in F.lp_pool2d, which is
  k*k * avg_pool2d(V^p) raised to 1/p, scale the sum by k*k / (cells inside).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from studio.core.inspect import formulas
from studio.core.lab.conv import ConvLabError, format_number

KINDS = ("max", "avg", "lp")
KIND_TITLES = {"max": "Max pooling", "avg": "Mean (average) pooling", "lp": "Lp pooling"}
LECTURE_GRID = np.arange(1, 26, dtype=np.float64).reshape(5, 5)   # seed 004, line 142
LECTURE_OUTPUT = np.array([[7, 9, 10], [17, 19, 20], [22, 24, 25]], dtype=np.float64)
LECTURE_FORMULAS = {"max": "max_i V_i", "avg": "(1/n) Σ V_i", "lp": "(Σ V_i^p)^(1/p)"}

# Cell categories of the shown grid.
INPUT, EXTRA, PAD, OVER = 0, 1, 2, 3


@dataclass(frozen=True)
class PoolSettings:
    kind: str = "max"
    kernel: int = 2
    stride: int = 2
    padding: int = 0
    ceil_mode: bool = False
    p: float = 2.0
    extra: int = 1                      # the lecture's zero rows/columns at the bottom/right
    count_include_pad: bool = True      # avg_pool2d only


LECTURE_SETTINGS = PoolSettings()


def output_size(n: int, k: int, s: int, p: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size along one axis (dilation 1)."""
    return formulas.output_size(n, k, p, p, s, 1, ceil_mode)


def size_formula(name: str, n: int, k: int, s: int, p: int, ceil_mode: bool) -> list[str]:
    """Both roundings written out with the numbers; the one in use is marked."""
    return formulas.pool_rounding_lines(name, n, k, s, p, ceil_mode, format_number)


@dataclass
class PoolWindow:
    out_rc: tuple[int, int]
    cells: list[tuple[int, int]]        # shown-grid coordinates (row, col) the window covers
    value: float                        # computed by hand with PyTorch's rules
    text: str                           # the computation written out


@dataclass
class PoolResult:
    settings: PoolSettings
    input: np.ndarray                   # (H, W) as typed
    tensor: np.ndarray                  # what the pooling function gets: input + the lecture's zeros
    output: np.ndarray                  # from F.*_pool2d
    shown: np.ndarray                   # the grid shown: values, -inf for max padding, nan past the edge
    category: np.ndarray                # INPUT / EXTRA / PAD / OVER per shown cell
    offset: int                         # shown (r, c) = tensor (r - offset, c - offset)
    windows: list[PoolWindow] = field(default_factory=list)
    call: str = ""                      # the torch call, as code

    def stepper_output(self) -> np.ndarray:
        out = np.full(self.output.shape, np.nan)
        for w in self.windows:
            out[w.out_rc] = w.value
        return out


def _fmt(v: float) -> str:
    if v == -math.inf:
        return "−∞"
    text = format_number(v)
    return f"({text.replace('-', '−')})" if v < 0 else text


def check_settings(h: int, w: int, st: PoolSettings) -> None:
    if st.kind not in KINDS:
        raise ConvLabError(f"Unknown pooling {st.kind!r}; use max, avg or lp.")
    if st.kernel < 1 or st.stride < 1 or st.padding < 0 or st.extra < 0:
        raise ConvLabError("Kernel and stride must be at least 1, padding at least 0.")
    if st.kind == "lp" and st.padding:
        raise ConvLabError("F.lp_pool2d has no padding argument: set padding to 0 "
                           "(the lecture's extra zeros still work).")
    if st.kind == "lp" and not (math.isfinite(st.p) and st.p > 0):
        raise ConvLabError("p must be a positive number.")
    if 2 * st.padding > st.kernel:
        raise ConvLabError(f"PyTorch allows padding of at most half the kernel: {st.kernel} // 2 = "
                           f"{st.kernel // 2}.")
    for name, n in (("height", h + st.extra), ("width", w + st.extra)):
        if n + 2 * st.padding < st.kernel:
            raise ConvLabError(f"A {st.kernel}×{st.kernel} window does not fit: the padded {name} is "
                               f"{n + 2 * st.padding}.")


def torch_pool(t: np.ndarray, st: PoolSettings) -> tuple[np.ndarray, str]:
    """The pooling function itself on (H', W') float64; returns the output and the call as code."""
    x = torch.from_numpy(np.ascontiguousarray(t, dtype=np.float64))[None, None]
    ceil = f", ceil_mode={st.ceil_mode}" if st.ceil_mode else ""
    if st.kind == "max":
        out = F.max_pool2d(x, st.kernel, st.stride, st.padding, ceil_mode=st.ceil_mode)
        call = f"F.max_pool2d(x, kernel_size={st.kernel}, stride={st.stride}, padding={st.padding}{ceil})"
    elif st.kind == "avg":
        out = F.avg_pool2d(x, st.kernel, st.stride, st.padding, ceil_mode=st.ceil_mode,
                           count_include_pad=st.count_include_pad)
        cip = "" if st.count_include_pad else ", count_include_pad=False"
        call = f"F.avg_pool2d(x, kernel_size={st.kernel}, stride={st.stride}, padding={st.padding}{ceil}{cip})"
    else:
        out = F.lp_pool2d(x, st.p, st.kernel, st.stride, ceil_mode=st.ceil_mode)
        call = f"F.lp_pool2d(x, norm_type={format_number(st.p)}, kernel_size={st.kernel}, stride={st.stride}{ceil})"
    if st.extra:
        call = f"x = F.pad(x, (0, {st.extra}, 0, {st.extra}))   # the lecture's extra zeros\n" + call
    return out[0, 0].numpy().copy(), call


def _window(t: np.ndarray, st: PoolSettings, oi: int, oj: int) -> PoolWindow:
    """One output cell by hand, with PyTorch's rules for padding and windows over the edge."""
    th, tw = t.shape
    k, s, p = st.kernel, st.stride, st.padding
    r0, c0 = oi * s - p, oj * s - p
    rows, cols = range(r0, r0 + k), range(c0, c0 + k)
    cells = [(r + p, c + p) for r in rows for c in cols]
    inside = [t[r, c] for r in rows for c in cols if 0 <= r < th and 0 <= c < tw]
    # Cells of the (implicitly) padded input, not past it: what avg_pool2d's count_include_pad counts.
    padded = sum(1 for r in rows for c in cols if -p <= r < th + p and -p <= c < tw + p)
    n_pad = padded - len(inside)
    name = f"out[{oi}, {oj}]"
    if st.kind == "max":
        value = max(inside)
        shown = [_fmt(v) for v in inside] + ["−∞"] * n_pad
        text = f"{name} = max({', '.join(shown)}) = {_fmt(value)}"
        return PoolWindow((oi, oj), cells, float(value), text)
    if st.kind == "avg":
        divisor = padded if st.count_include_pad else len(inside)
        terms = [_fmt(v) for v in inside] + (["0"] * n_pad if st.count_include_pad else [])
        value = math.fsum(inside) / divisor
        text = f"{name} = ({' + '.join(terms)}) / {divisor} = {_fmt(value)}"
        return PoolWindow((oi, oj), cells, float(value), text)
    pw = st.p
    with np.errstate(invalid="ignore"):
        powers = np.power(np.asarray(inside, dtype=np.float64), pw)
        total = float(np.sum(powers))
        scale = (k * k) / len(inside)
        value = float(np.power(scale * total, 1.0 / pw))
    pt = format_number(pw)
    body = ' + '.join(f"{_fmt(v)}^{pt}" for v in inside)
    if len(inside) == k * k:
        text = f"{name} = ({body})^(1/{pt}) = {format_number(total)}^(1/{pt}) = {_fmt(value)}"
    else:
        text = (f"{name} = ({k * k}/{len(inside)} · ({body}))^(1/{pt}) = {_fmt(value)}"
                f"   (F.lp_pool2d is k·k × mean(V^p) over the {len(inside)} cells inside, so a window "
                f"over the edge is scaled by {k * k}/{len(inside)})")
    return PoolWindow((oi, oj), cells, value, text)


def pool(values: np.ndarray, st: PoolSettings) -> PoolResult:
    """Pool a 2-D grid; see the module docstring."""
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 2 or x.size == 0:
        raise ConvLabError("Pooling here takes a 2-D grid of numbers.")
    if not np.all(np.isfinite(x)):
        raise ConvLabError("Every cell must be a finite number.")
    h, w = x.shape
    check_settings(h, w, st)
    t = np.pad(x, ((0, st.extra), (0, st.extra)))           # the lecture's zeros (F.pad in the call)
    th, tw = t.shape
    oh = output_size(th, st.kernel, st.stride, st.padding, st.ceil_mode)
    ow = output_size(tw, st.kernel, st.stride, st.padding, st.ceil_mode)
    out, call = torch_pool(t, st)
    if out.shape != (oh, ow):
        raise ConvLabError(f"Internal check failed: PyTorch gave {out.shape}, the formula {(oh, ow)}.")
    p = st.padding
    sh = max(th + p, (oh - 1) * st.stride - p + st.kernel) + p
    sw = max(tw + p, (ow - 1) * st.stride - p + st.kernel) + p
    category = np.full((sh, sw), OVER, dtype=np.int8)
    category[: th + 2 * p, : tw + 2 * p] = PAD
    category[p: p + th, p: p + tw] = EXTRA
    category[p: p + h, p: p + w] = INPUT
    shown = np.full((sh, sw), np.nan)
    shown[category == PAD] = -np.inf if st.kind == "max" else 0.0
    shown[p: p + th, p: p + tw] = t
    windows = [_window(t, st, i, j) for i in range(oh) for j in range(ow)]
    return PoolResult(settings=st, input=x.copy(), tensor=t, output=out, shown=shown, category=category,
                      offset=p, windows=windows, call=call)


def describe_shapes(r: PoolResult) -> str:
    """'5×5 input + 1 zero row/column = 6×6 → 3×3 output'."""
    h, w = r.input.shape
    th, tw = r.tensor.shape
    oh, ow = r.output.shape
    text = f"{h}×{w} input"
    if r.settings.extra:
        text += f" + {r.settings.extra} zero row/column (bottom/right) = {th}×{tw}"
    if r.settings.padding:
        text += f", padding {r.settings.padding} on every side → {th + 2 * r.settings.padding}×" \
                f"{tw + 2 * r.settings.padding}"
    return text + f" → {oh}×{ow} output"
