"""Grad-CAM (Selvaraju et al., 2017) through torchcam: where in the image the evidence for a class lies.

The map is computed at the last convolution (the latest layer that still has a spatial layout),
weighted by the gradient of the class score, then upsampled to the input size.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchcam.methods import GradCAM

from studio.core.errors import ModelError
from studio.core.inspect._common import as_batch, base_name, eval_mode, resolve_module
from studio.core.inspect.kernels import conv_layer_names


def last_conv_name(model: nn.Module) -> str:
    names = conv_layer_names(model)
    if not names:
        raise ModelError("Grad-CAM needs a convolution layer, and this model has none.")
    return names[-1]


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
    the last Conv2d). Hooks are removed and train/eval flags restored, also on errors.
    """
    x = as_batch(model, x)[:1]
    name = base_name(layer) if layer is not None else last_conv_name(model)
    target = resolve_module(model, name)
    handle = target.register_forward_hook(_graph_from_here)  # before torchcam's hooks, so they see its output
    try:
        with eval_mode(model), GradCAM(model, target_layer=name) as cam:
            with torch.no_grad():
                scores = model(x)
            idx = _class_index(scores, class_idx)
            activation = cam.hook_a[0]
            if activation is None or activation.ndim != 4:
                raise ModelError(f"Layer {name!r} does not output 2-D feature maps; pick a convolution layer.")
            try:
                maps = cam(class_idx=idx, scores=scores)
            except RuntimeError as exc:
                raise ModelError(f"The score of class {idx} does not depend on layer {name!r}.") from exc
    finally:
        handle.remove()
    heat = F.interpolate(maps[0][:1, None].float(), size=tuple(x.shape[-2:]), mode="bilinear", align_corners=False)
    heat = torch.nan_to_num(heat[0, 0], nan=0.0).clamp_(0.0, 1.0)
    return heat.cpu().numpy().astype(np.float32)


def _class_index(scores, class_idx: int | None) -> int:
    if not isinstance(scores, torch.Tensor) or scores.ndim != 2:
        raise ModelError("Grad-CAM needs a classifier that outputs one score per class.")
    if class_idx is None:
        return int(scores[0].argmax())
    if isinstance(class_idx, bool) or not isinstance(class_idx, int) or not 0 <= class_idx < scores.shape[1]:
        raise ModelError(f"Class index {class_idx!r} is out of range: the model has {scores.shape[1]} classes.")
    return class_idx
