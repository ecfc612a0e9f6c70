"""Receptive field and jump of every layer (seed 000: "the region of the input image that
influences a particular neuron ... stacking convolution and pooling layers increases the
effective receptive field").

The standard recurrence, per spatial axis, for a layer with kernel k, stride s, dilation d:
    r_out = r_in + (k - 1) * d * j_in        j_out = j_in * s
starting from r = 1, j = 1 at the input. r is the theoretical receptive field in input pixels
(it may exceed the image), j the distance in input pixels between neighbouring outputs.

Networks are graphs, not chains (ResNet's shortcut, Inception's branches, DenseNet's
concatenations), so a forward pass tags each module's output tensor with its (r, j) and each
layer starts from the tag of its own input. Tensors made by plain functions (x + y,
torch.cat, flatten) carry no tag; they take the largest (r, j) seen so far, which is what an
add or concatenation of branches has.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import torch
from torch import nn

from studio.core.inspect._common import first_tensor

Pair = tuple[int, int]
Field = tuple[Pair, Pair]  # ((r_h, r_w), (j_h, j_w))


def _pair(value) -> Pair:
    if isinstance(value, (tuple, list)):
        return int(value[0]), int(value[-1])
    return int(value), int(value)


def geometry(module: nn.Module) -> tuple[Pair, Pair, Pair, Pair] | None:
    """(kernel, stride, padding, dilation) of a 2-D conv or pooling layer, else None.

    'same'/'valid' string paddings are turned into numbers; adaptive poolings have no fixed
    kernel and return None (see adaptive_geometry).
    """
    if isinstance(module, nn.Conv2d):
        kernel, dilation = _pair(module.kernel_size), _pair(module.dilation)
        return kernel, _pair(module.stride), _padding(module.padding, kernel, dilation), dilation
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        kernel = _pair(module.kernel_size)
        stride = _pair(module.stride if module.stride is not None else module.kernel_size)
        dilation = _pair(getattr(module, "dilation", 1))
        return kernel, stride, _pair(module.padding), dilation
    return None


def _padding(padding, kernel: Pair, dilation: Pair) -> Pair:
    if padding == "valid":
        return 0, 0
    if padding == "same":
        return tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))  # type: ignore[return-value]
    return _pair(padding)


def adaptive_geometry(in_size: int, out_size: int) -> tuple[int, int]:
    """(kernel, stride) an adaptive pooling uses along one axis: its widest window and its step."""
    if out_size <= 0:
        return 1, 1
    widest = max(math.ceil((i + 1) * in_size / out_size) - (i * in_size) // out_size for i in range(out_size))
    return widest, max(1, in_size // out_size)


def step(rf: int, jump: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """One layer of the recurrence on one axis."""
    return rf + (kernel - 1) * dilation * jump, jump * stride


def stack_receptive_fields(layers: Iterable[tuple[int, int] | tuple[int, int, int]]) -> list[tuple[int, int]]:
    """(receptive field, jump) after each layer of a chain given as (kernel, stride[, dilation])."""
    rf, jump = 1, 1
    out = []
    for layer in layers:
        kernel, stride, *rest = layer
        rf, jump = step(rf, jump, kernel, stride, rest[0] if rest else 1)
        out.append((rf, jump))
    return out


class ReceptiveFieldTracker:
    """Forward hooks that record the (r, j) of every module call's output, keyed (module id, call number).

    Use as `with tracker.attached(model): model(x)`; hooks are removed when the block ends.
    Calls whose output is not a 4-D feature map get None.
    """

    def __init__(self) -> None:
        self.fields: dict[tuple[int, int], Field | None] = {}
        self._tags: dict[int, tuple[weakref.ref, Field]] = {}
        self._widest: Field = ((1, 1), (1, 1))
        self._calls: dict[int, int] = {}

    @contextmanager
    def attached(self, model: nn.Module) -> Iterator[ReceptiveFieldTracker]:
        handles = [model.register_forward_pre_hook(self._tag_input)]
        try:
            handles += [module.register_forward_hook(self._record) for module in model.modules()]
            yield self
        finally:
            for handle in handles:
                handle.remove()
            self._tags.clear()

    def field(self, module: nn.Module, call: int) -> Field | None:
        return self.fields.get((id(module), call))

    def _tag(self, tensor: torch.Tensor, field: Field) -> None:
        self._tags[id(tensor)] = (weakref.ref(tensor), field)
        (rh, rw), (jh, jw) = field
        (wh, ww), (wjh, wjw) = self._widest
        self._widest = ((max(rh, wh), max(rw, ww)), (max(jh, wjh), max(jw, wjw)))

    def _lookup(self, tensor: torch.Tensor | None) -> Field:
        if tensor is not None:
            entry = self._tags.get(id(tensor))
            # The id of a freed tensor can be reused: trust the tag only if it is the same object.
            if entry is not None and entry[0]() is tensor:
                return entry[1]
        return self._widest

    def _tag_input(self, _module: nn.Module, args: tuple) -> None:
        tensor = first_tensor(args)
        if tensor is not None:
            self._tags[id(tensor)] = (weakref.ref(tensor), ((1, 1), (1, 1)))

    def _record(self, module: nn.Module, args: tuple, output) -> None:
        call = self._calls.get(id(module), 0) + 1
        self._calls[id(module)] = call
        out = first_tensor(output)
        if out is None or out.ndim != 4:
            self.fields[(id(module), call)] = None
            return
        if any(module.children()):
            field = self._lookup(out)  # a container: its output was tagged by its last layer (or is a sum/concat)
        else:
            field = self._through(module, self._lookup(first_tensor(args)), first_tensor(args), out)
        self._tag(out, field)
        self.fields[(id(module), call)] = field

    @staticmethod
    def _through(module: nn.Module, field: Field, inp: torch.Tensor | None, out: torch.Tensor) -> Field:
        geo = geometry(module)
        if geo is not None:
            kernel, stride, _, dilation = geo
        elif isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)) and inp is not None and inp.ndim == 4:
            pairs = [adaptive_geometry(inp.shape[axis], out.shape[axis]) for axis in (2, 3)]
            kernel, stride, dilation = (pairs[0][0], pairs[1][0]), (pairs[0][1], pairs[1][1]), (1, 1)
        else:
            return field  # BatchNorm, activations, dropout: one output pixel per input pixel
        (rh, rw), (jh, jw) = field
        rh, jh2 = step(rh, jh, kernel[0], stride[0], dilation[0])
        rw, jw2 = step(rw, jw, kernel[1], stride[1], dilation[1])
        return (rh, rw), (jh2, jw2)

