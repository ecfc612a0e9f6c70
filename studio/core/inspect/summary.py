"""Layer-by-layer summary of a model: shapes, parameters, mult-adds (torchinfo), conv/pool
geometry and receptive fields, from one forward pass on a zero image.

Seed 002 and seed 004 print torchinfo tables; `text` is that same table. The size in MB is
seed 001's "model size": bytes of parameters and buffers / 1024**2 (cifar-cnn: 22.33).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torchinfo
from torch import nn
from torchinfo.torchinfo import clear_cached_forward_pass

from studio.core.errors import ModelError
from studio.core.inspect._common import CallNames, eval_mode, model_device
from studio.core.inspect.receptive_field import ReceptiveFieldTracker, geometry

Dims = tuple[int, ...]
MAX_INPUT_VALUES = 2**21  # 2M input values: seed 002's batch of 100 at 3x32x32 is 307,200
_COLUMNS = ("input_size", "output_size", "num_params", "kernel_size", "mult_adds")


@dataclass
class LayerRow:
    name: str  # dotted module name; "name#2" for a module's second call in one forward pass
    type: str  # class name, e.g. "Conv2d"
    depth: int  # nesting depth (1 = direct child of the model)
    input_shape: Dims | None  # with the batch axis (batch of 1)
    output_shape: Dims | None
    params: int  # parameters of the module and its children (0 on repeated calls)
    macs: int  # torchinfo mult-adds of this call
    kernel_size: tuple[int, int] | None  # conv and pooling layers only
    stride: tuple[int, int] | None
    padding: tuple[int, int] | None
    dilation: tuple[int, int] | None
    receptive_field: int | None  # input pixels one output pixel sees (larger axis); None if not a 2-D map
    jump: int | None  # input pixels between neighbouring outputs
    is_leaf: bool


@dataclass
class ModelSummary:
    rows: list[LayerRow]
    total_params: int
    trainable_params: int
    size_mb: float
    total_macs: int
    text: str


def model_size_mb(model: nn.Module) -> float:
    """Seed 001's model size: (parameter bytes + buffer bytes) / 1024**2."""
    size = sum(p.nelement() * p.element_size() for p in model.parameters())
    size += sum(b.nelement() * b.element_size() for b in model.buffers())
    return size / 1024**2


def _input_shape(input_shape) -> tuple[int, int, int]:
    shape = tuple(int(v) for v in input_shape)
    if len(shape) == 4 and shape[0] == 1:
        shape = shape[1:]
    if len(shape) != 3 or min(shape) < 1:
        raise ModelError(f"The input shape must be (channels, height, width), got {tuple(input_shape)!r}.")
    return shape  # type: ignore[return-value]


def model_summary(model: nn.Module, input_shape, batch_size: int = 1) -> ModelSummary:
    """Summary for a batch of `input_shape` (C, H, W) images; the model's train/eval flags are left as they were.

    batch_size only changes the table's shapes, mult-adds and memory (seed 002 summarises a batch
    of 100, seed 004 a batch of 3); parameters and receptive fields do not depend on it.
    """
    shape = _input_shape(input_shape)
    if batch_size < 1:
        raise ModelError(f"The batch size must be at least 1, got {batch_size}.")
    if batch_size * shape[0] * shape[1] * shape[2] > MAX_INPUT_VALUES:
        # The forward pass holds every layer's output for the whole batch: a big one takes the machine's memory.
        raise ModelError(f"A batch of {batch_size:,} images of {shape[0]}x{shape[1]}x{shape[2]} is too large to "
                         "summarise; the table scales with the batch, so a small one shows the same layers.")
    param = next(model.parameters(), None)
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    x = torch.zeros(batch_size, *shape, device=model_device(model), dtype=dtype)
    depth = max((name.count(".") + 1 for name, _ in model.named_modules() if name), default=1)
    tracker = ReceptiveFieldTracker()
    try:
        with eval_mode(model), tracker.attached(model):
            stats = torchinfo.summary(model, input_data=[x], col_names=_COLUMNS, depth=depth, mode="eval",
                                      row_settings=("var_names",), verbose=0)
    except RuntimeError as exc:
        cause = exc.__cause__ or exc
        raise ModelError(f"The model cannot run on {shape[1]}x{shape[2]} images with {shape[0]} channels: "
                         f"{cause}") from exc
    finally:
        clear_cached_forward_pass()  # torchinfo keeps the last summary (and the model) alive otherwise
    rows = _rows(model, stats.summary_list, tracker)
    return ModelSummary(
        rows=rows,
        total_params=sum(p.numel() for p in model.parameters()),
        trainable_params=sum(p.numel() for p in model.parameters() if p.requires_grad),
        size_mb=model_size_mb(model),
        total_macs=int(stats.total_mult_adds),
        text=_readable_units(str(stats)),
    )


def _readable_units(table: str) -> str:
    """torchinfo 1.8 on Python 3.11 prints its unit enum ("Total mult-adds (Units.MEGABYTES)"): say M, G..."""
    for enum_name, short in (("Units.KILOBYTES", "k"), ("Units.MEGABYTES", "M"), ("Units.GIGABYTES", "G"),
                             ("Units.TERABYTES", "T"), ("Units.NONE", "")):
        table = table.replace(f"({enum_name})", f"({short})" if short else "")
    return table


def _rows(model: nn.Module, summary_list: list, tracker: ReceptiveFieldTracker) -> list[LayerRow]:
    namer = CallNames(model)
    rows = []
    for info in summary_list:
        if info.depth == 0:
            continue  # the model itself: its totals are in ModelSummary
        if info.executed:
            name = namer.next(info.module)
            field = tracker.field(info.module, namer.calls[id(info.module)])
        else:  # a ModuleList/ModuleDict: never called itself, listed by torchinfo for the hierarchy
            name, field = namer.names.get(id(info.module), info.var_name), None
        rows.append(_row(info, name, field))
    _container_macs(rows)
    return rows


def _container_macs(rows: list[LayerRow]) -> None:
    """A container's mult-adds are its layers' (torchinfo multiplies all its parameters by its output size)."""
    for i, row in enumerate(rows):
        if row.is_leaf:
            continue
        total = 0
        for inner in rows[i + 1:]:
            if inner.depth <= row.depth:
                break
            total += inner.macs if inner.is_leaf else 0
        row.macs = total


def _row(info, name: str, field) -> LayerRow:
    geo = geometry(info.module)
    kernel, stride, padding, dilation = geo if geo is not None else (None, None, None, None)
    return LayerRow(
        name=name,
        type=info.class_name,
        depth=info.depth,
        input_shape=_dims(info.input_size) if info.executed else None,
        output_shape=_dims(info.output_size) if info.executed else None,
        params=0 if info.is_recursive else int(info.num_params),
        macs=int(info.macs),
        kernel_size=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        receptive_field=max(field[0]) if field else None,
        jump=max(field[1]) if field else None,
        is_leaf=bool(info.is_leaf_layer),
    )


def _dims(size) -> Dims | None:
    if isinstance(size, (list, tuple)) and size and all(isinstance(v, int) for v in size):
        return tuple(size)
    return None
