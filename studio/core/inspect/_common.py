"""Shared by the inspection modules: eval mode that restores itself, layer names, input checks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from difflib import get_close_matches

import numpy as np
import torch
from torch import nn

from studio.core.errors import ModelError


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """Eval mode (Dropout off, BatchNorm running stats read, not updated), every module's flag restored after.

    Inspecting a model that is being trained must not change how it trains.
    """
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training


def model_device(model: nn.Module) -> torch.device:
    tensor = next(model.parameters(), None)
    if tensor is None:
        tensor = next(model.buffers(), None)
    return tensor.device if tensor is not None else torch.device("cpu")


def as_batch(model: nn.Module, x) -> torch.Tensor:
    """A float (N, C, H, W) tensor on the model's device; (C, H, W) gets a batch axis."""
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not isinstance(x, torch.Tensor):
        raise ModelError(f"Expected an image tensor, got {type(x).__name__}.")
    if x.ndim == 3:
        x = x.unsqueeze(0)
    if x.ndim != 4:
        raise ModelError(f"Expected images shaped (N, C, H, W), got {tuple(x.shape)}.")
    if not x.is_floating_point():
        raise ModelError("Expected normalised float images; use prepare_batch to turn pixels into model input.")
    param = next(model.parameters(), None)
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    return x.to(device=model_device(model), dtype=dtype)


def first_tensor(value) -> torch.Tensor | None:
    """The tensor a module returned (the first one if it returned a tuple or list)."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)):
        for item in value:
            if isinstance(item, torch.Tensor):
                return item
    return None


class CallNames:
    """Names module calls like "features.3"; a module called again in the same forward pass
    (AlexNet's one shared ReLU) gets "relu#2", "relu#3", ... so every call has its own name."""

    def __init__(self, model: nn.Module):
        self.names = {id(module): name for name, module in model.named_modules()}
        self.calls: dict[int, int] = {}

    def next(self, module: nn.Module) -> str:
        count = self.calls.get(id(module), 0) + 1
        self.calls[id(module)] = count
        base = self.names.get(id(module), "")
        return base if count == 1 else f"{base}#{count}"


def base_name(name: str) -> str:
    return name.split("#", 1)[0]


def resolve_module(model: nn.Module, name: str) -> nn.Module:
    """The submodule called `name` (a "#k" call suffix is allowed), or a ModelError with close matches."""
    modules = dict(model.named_modules())
    module = modules.get(base_name(name)) if isinstance(name, str) else None
    if module is None:
        close = get_close_matches(str(name), [n for n in modules if n], n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ModelError(f"The model has no layer named {name!r}.{hint}")
    return module


def leaf_names(model: nn.Module) -> list[str]:
    return [name for name, module in model.named_modules() if name and not any(module.children())]
