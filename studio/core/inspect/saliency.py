"""Grad-CAM (Selvaraju et al., 2017) through torchcam: where in the image the evidence for a class lies.

The map is the target layer's feature maps weighted by the gradient of the class score (averaged
over positions), through a ReLU, normalised to 0..1 and upsampled to the input size. The target
is by default the output of the last convolution stage (see default_layer).
"""

from __future__ import annotations

import operator
from weakref import WeakKeyDictionary

import numpy as np
import torch
from torch import nn

from studio.core.errors import ModelError
from studio.core.inspect._common import eval_mode
from studio.core.inspect.kernels import conv_layer_names

# Chosen target layer per model and input shape: finding it costs one forward pass.
_TARGETS: WeakKeyDictionary[nn.Module, dict[tuple[int, ...], str]] = WeakKeyDictionary()
_RESAMPLERS = (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)


def last_conv_name(model: nn.Module) -> str:
    """The last Conv2d in definition order."""
    names = conv_layer_names(model)
    if not names:
        raise ModelError("Grad-CAM needs a convolution layer, and this model has none.")
    return names[-1]


def default_layer(model: nn.Module, x: torch.Tensor) -> str:
    """The layer Grad-CAM looks at when none is given: the last one to finish (in forward order) whose
    output is still a 2-D feature map larger than 1x1.

    That is the output of the last convolution stage: ResNet's layer4, GoogLeNet's whole inception5b
    (not just its last-defined branch, which is what "the last Conv2d" would give), CifarCNN's
    conv_layer. Adaptive poolings (they only resample) and modules called more than once are skipped;
    if nothing qualifies (tiny images), the last Conv2d is used.
    """
    key = tuple(x.shape[1:])
    cached = _TARGETS.get(model, {}).get(key)
    if cached is not None:
        return cached
    names = {id(m): n for n, m in model.named_modules() if n}
    finished: list[tuple[str, torch.Size]] = []
    calls: dict[str, int] = {}

    def record(module: nn.Module, _args, output) -> None:
        name = names[id(module)]
        calls[name] = calls.get(name, 0) + 1
        if isinstance(output, torch.Tensor) and not isinstance(module, _RESAMPLERS):
            finished.append((name, output.shape))

    handles = [module.register_forward_hook(record) for module in model.modules() if id(module) in names]
    try:
        with eval_mode(model), torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    chosen = next((name for name, shape in reversed(finished)
                   if len(shape) == 4 and max(shape[2:]) > 1 and calls[name] == 1), None)
    chosen = chosen or last_conv_name(model)
    _TARGETS.setdefault(model, {})[key] = chosen
    return chosen


def _graph_from_here(_module: nn.Module, _args, output):
    """Start the autograd graph at the target layer.

    Grad-CAM only needs d(score)/d(target output), so nothing before the target layer has to be
    differentiated: the forward pass runs without gradients up to here (cheaper) and frozen
    models (requires_grad=False) work too. The clone keeps the new graph's root out of reach of
    in-place ops that follow (VGG's ReLU(inplace=True)), which are not allowed on a leaf tensor.
    """
    if not isinstance(output, torch.Tensor):
        return None
    torch.set_grad_enabled(True)  # restored by the torch.no_grad() block around the forward pass
    return output.detach().requires_grad_(True).clone()


def grad_cam(model: nn.Module, x, class_idx: int | None = None, layer: str | None = None) -> np.ndarray:
    """Grad-CAM map (H, W) in 0..1 at the input's size, for the first image of x.

    class_idx: the class to explain (default: the predicted one). layer: a module name (default:
    default_layer, the last stage that still outputs a feature map). Hooks are removed and
    train/eval flags restored, also on errors. One of the methods of studio.core.inspect.cams.
    """
    from studio.core.inspect.cams import explain_model

    return explain_model(model, x, class_idx, "gradcam", layer)


def _normalise(heat: torch.Tensor) -> torch.Tensor:
    """Min-max to 0..1, relative to the map's own scale.

    torchcam divides by (max + 1e-8), which blanks out the maps of young or randomly initialised
    networks whose gradients are tiny (values around 1e-12 still have a clear shape). A map that is
    flat within float32 precision shows no location and becomes all zeros.
    """
    low, high = heat.min(), heat.max()
    if high <= 0 or high - low <= 1e-6 * high:
        return torch.zeros_like(heat)
    return ((heat - low) / (high - low)).clamp_(0.0, 1.0)


def _class_index(scores, class_idx: int | None) -> int:
    if not isinstance(scores, torch.Tensor) or scores.ndim != 2:
        raise ModelError("Grad-CAM needs a classifier that outputs one score per class.")
    if class_idx is None:
        return int(scores[0].argmax())
    try:
        idx = operator.index(class_idx)  # int or numpy integer (np.argmax results), not 2.0 or True
    except TypeError:
        idx = -1
    if isinstance(class_idx, bool) or not 0 <= idx < scores.shape[1]:
        raise ModelError(f"Class index {class_idx!r} is out of range: the model has {scores.shape[1]} classes.")
    return idx
