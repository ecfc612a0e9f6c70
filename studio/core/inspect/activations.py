"""What each layer outputs for an input: seed 001's "Visualizing Layer Output" and "Output of
Each Filter for a Certain Layer", done with forward hooks so it works for any model (the
notebook walks model.features by hand, which only works for plain Sequential stacks).

Hooks are always removed, also when the forward pass fails. Outputs are copied inside the
hook: VGG's ReLU(inplace=True) overwrites the conv output it receives, so a reference kept
until after the forward pass would show the ReLU's output under the conv's name.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from studio.core.errors import ModelError
from studio.core.inspect._common import CallNames, as_batch, base_name, eval_mode, first_tensor, leaf_names, \
    resolve_module


def capture(model: nn.Module, x, layer_names: list[str] | None = None) -> dict[str, np.ndarray]:
    """Outputs of the named layers (default: every leaf layer) for input x (N, C, H, W), as float32 numpy copies.

    Keys are module names in call order; a module called more than once in the forward pass
    (AlexNet's shared ReLU) gives "relu", "relu#2", ... Ask for "relu#2" to get one call only.
    Runs in eval mode without gradients; the model's train/eval flags are restored afterwards.
    """
    x = as_batch(model, x)
    wanted = leaf_names(model) if layer_names is None else list(layer_names)
    table = dict(model.named_modules())
    modules = {}
    for name in wanted:
        module = table.get(base_name(name)) if isinstance(name, str) else None
        module = module if module is not None else resolve_module(model, name)  # raises with suggestions
        modules[id(module)] = module
    exact = set(wanted)
    namer = CallNames(model)
    acts: dict[str, np.ndarray] = {}

    def hook(module: nn.Module, _args, output) -> None:
        name = namer.next(module)
        if layer_names is not None and name not in exact and base_name(name) not in exact:
            return
        tensor = first_tensor(output)
        if tensor is not None:
            # Copy now (detach + cpu + fresh memory): an in-place op after this layer would change it.
            acts[name] = tensor.detach().to(device="cpu", dtype=torch.float32, copy=True).numpy()

    handles = []
    try:
        for module in modules.values():
            handles.append(module.register_forward_hook(hook))
        with eval_mode(model), torch.no_grad():
            model(x)
    except RuntimeError as exc:  # shape mismatches and the like: the user picked an input the model cannot take
        raise ModelError(f"The model cannot run on input of shape {tuple(x.shape)}: {exc}") from exc
    finally:
        for handle in handles:
            handle.remove()
    return acts


def layer_means(acts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One 2-D map per layer: the mean over channels of the first image (seed 001's to_grayscale).

    Layers whose output is not a stack of 2-D maps (linear layers, flattened vectors) are left out.
    """
    means = {}
    for name, value in acts.items():
        if value.ndim == 4:
            means[name] = value[0].mean(axis=0).astype(np.float32)
    return means


def channel_maps(acts: dict[str, np.ndarray], name: str) -> np.ndarray:
    """The per-filter maps (C, H, W) of one layer for the first image (seed 001's filter_outputs)."""
    if name not in acts:
        raise ModelError(f"No activations were captured for layer {name!r}.")
    value = acts[name]
    if value.ndim != 4:
        raise ModelError(f"Layer {name!r} outputs {value.shape}, not a stack of 2-D maps.")
    return value[0]


def upsample(map2d: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A (h, w) map stretched (bilinear) to `size`, to lay it over the input it came from."""
    import torch.nn.functional as F

    t = torch.from_numpy(np.ascontiguousarray(map2d, dtype=np.float32))[None, None]
    return F.interpolate(t, size=size, mode="bilinear", align_corners=False)[0, 0].numpy()
