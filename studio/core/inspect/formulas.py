"""The output-size formula and the receptive-field text, written out with a layer's numbers.

One source for every place that shows them: the Model tab's table, the Lab's convolution,
pooling and photo-kernel sections. The lectures write the output size of a convolution or a
pooling layer as

    W_out = (W_in − F + 2P)/S + 1          (seed 001; ⌊ ⌋ when S does not divide, as torch floors)

torch's general form adds dilation D (a kernel of F taps spread over D·(F−1)+1 pixels) and
uneven padding (padding='same' with an even kernel), and pooling may round up (ceil_mode).
"""

from __future__ import annotations

from typing import Any

LECTURE_FORMULA = "W_out = (W_in − F + 2P)/S + 1"
FLOOR, CEIL = ("⌊", "⌋"), ("⌈", "⌉")


def output_size(n_in: int, kernel: int, before: int = 0, after: int | None = None, stride: int = 1,
                dilation: int = 1, ceil_mode: bool = False) -> int:
    """Output length along one axis, as torch computes it (may be <= 0 for impossible settings).

    before/after: the padding on each side (after=None: the same as before).
    """
    after = before if after is None else after
    num = n_in + before + after - dilation * (kernel - 1) - 1
    out = (-(-num // stride) if ceil_mode else num // stride) + 1
    if ceil_mode and (out - 1) * stride >= n_in + before:
        out -= 1            # the last window would start in the right padding: torch drops it
    return out


def _rounded(inner: str, stride: int, exact: bool, ceil: bool = False) -> str:
    """inner/S + 1, in floor (or ceiling) brackets when S does not divide."""
    if exact:
        return f"{inner}/{stride} + 1"
    lo, hi = CEIL if ceil else FLOOR
    return f"{lo}{inner}/{stride}{hi} + 1"


def size_text(n_in: int, kernel: int, padding: int = 0, stride: int = 1, dilation: int = 1) -> str:
    """The lecture's formula with numbers: "(28 − 5 + 2·2)/1 + 1 = 28", "⌊(8 − 3 + 2·0)/2⌋ + 1 = 3".

    With dilation the effective kernel D·(F−1)+1 stands in for F.
    """
    f_eff = dilation * (kernel - 1) + 1
    num = n_in - f_eff + 2 * padding
    inner = f"({n_in} − {f_eff} + 2·{padding})"
    return f"{_rounded(inner, stride, num % stride == 0)} = {num // stride + 1}"


def general_size_text(n_in: int, kernel: int, before: int, after: int, stride: int = 1, dilation: int = 1,
                      name: str = "W") -> str:
    """torch's form with numbers; uneven padding (before != after) is written out per side."""
    n_out = output_size(n_in, kernel, before, after, stride, dilation)
    if before != after:
        numer = n_in + before + after - dilation * (kernel - 1) - 1
        return (f"{name}_out = ⌊({name}_in + P_before + P_after − D·(F−1) − 1)/S⌋ + 1 = "
                f"⌊({n_in} + {before} + {after} − {dilation}·({kernel}−1) − 1)/{stride}⌋ + 1 = "
                f"⌊{numer}/{stride}⌋ + 1 = {n_out}")
    numer = n_in + 2 * before - dilation * (kernel - 1) - 1
    return (f"{name}_out = ⌊({name}_in + 2P − D·(F−1) − 1)/S⌋ + 1 = "
            f"⌊({n_in} + 2·{before} − {dilation}·({kernel}−1) − 1)/{stride}⌋ + 1 = "
            f"⌊{numer}/{stride}⌋ + 1 = {n_out}")


def lecture_size_line(n_in: int, kernel: int, padding: int = 0, stride: int = 1, name: str = "W") -> str:
    """ "lecture form: (W − F + 2P)/S + 1 = (28 − 5 + 2·2)/1 + 1 = 28" (dilation 1)."""
    return f"lecture form: ({name} − F + 2P)/S + 1 = {size_text(n_in, kernel, padding, stride)}"


def pool_rounding_lines(name: str, n: int, k: int, s: int, p: int, ceil_mode: bool,
                        format_number=lambda v: f"{v:g}") -> list[str]:
    """Pooling's formula with both roundings written out with the numbers; the one in use is marked."""
    num = n + 2 * p - k
    lines = []
    for ceil in (False, True):
        lo, hi = CEIL if ceil else FLOOR
        rounded = -(-num // s) if ceil else num // s
        text = (f"{name}_out = {lo}({n} + 2·{p} − {k})/{s}{hi} + 1 = {lo}{format_number(num / s)}{hi} + 1 "
                f"= {rounded + 1}")
        if ceil and output_size(n, k, p, p, s, 1, True) != rounded + 1:
            text += f" − 1 = {rounded} (the last window would start in the padding)"
        label = "ceil_mode=True " if ceil else "ceil_mode=False"
        lines.append(f"{label}  {text}{'   ← in use' if ceil == ceil_mode else ''}")
    return lines


# ---------------------------------------------------------------- a summary row's layer

def pair(v: Any) -> tuple | None:
    if v is None:
        return None
    if isinstance(v, (list, tuple)):
        return tuple(v) if len(v) > 1 else (v[0], v[0])
    return (v, v)


def _spatial(shape: Any) -> tuple[int, int] | None:
    """(H, W) of a 4-D shape (with batch) or 3-D shape (without)."""
    if not isinstance(shape, (list, tuple)) or len(shape) < 3:
        return None
    try:
        return int(shape[-2]), int(shape[-1])
    except (TypeError, ValueError):
        return None


def _is_conv_or_pool(type_name: str) -> bool:
    low = type_name.lower()
    return "conv" in low or "pool" in low


def layer_size_text(row: Any) -> str:
    """The lecture's formula filled in with a conv or pool layer's numbers ('' for other layers).

    row: a summary row (studio.core.inspect.summary) with type, input_shape, output_shape,
    kernel_size, stride, padding and dilation.
    """
    if not _is_conv_or_pool(str(row.type)):
        return ""
    hw_in, hw_out = _spatial(row.input_shape), _spatial(row.output_shape)
    if hw_in is None or hw_out is None:
        return ""
    k = pair(row.kernel_size)
    if k is None:
        return f"adaptive: {hw_in[1]} → {hw_out[1]}" if "adaptive" in row.type.lower() else ""
    s = pair(row.stride) or k
    pad = row.padding if isinstance(row.padding, str) else pair(row.padding) or (0, 0)
    if isinstance(pad, str):
        return f"padding '{pad}': {hw_in[1]} → {hw_out[1]}"
    d = pair(row.dilation) or (1, 1)
    try:
        numbers = [tuple(int(v) for v in (hw_in[i], k[i], pad[i], s[i], d[i])) for i in (0, 1)]
    except (TypeError, ValueError):
        return ""
    h_text, w_text = (size_text(n, f, p, st, dl) for n, f, p, st, dl in numbers)
    h_out, w_out = (output_size(n, f, p, p, st, dl) for n, f, p, st, dl in numbers)
    text = w_text if numbers[0] == numbers[1] else f"H: {h_text};  W: {w_text}"
    if d[1] != 1:
        text += f"   (dilation {d[1]}: F = {d[1]}·({k[1]}−1)+1)"
    if (h_out, w_out) != hw_out:
        text += f"   (ceil mode gives {hw_out[1]})"
    return text


def receptive_field_text(size: int | None) -> str:
    """ "5×5": how many input pixels (per side) one output value sees; '' when not a 2-D map."""
    return f"{size}×{size}" if size else ""
