"""Explanations of one answer: which pixels the class score depends on, by several methods.

Five class activation maps through torchcam (Grad-CAM, Grad-CAM++, Layer-CAM, Score-CAM,
SmoothGrad-CAM++), each on a selectable layer, and plain input gradients (|d score / d input|,
the largest over the colour channels). Every method returns the same thing: a float32 map
(H, W) in 0..1 at the input's size, so the Predict tab, `cnn-studio predict --cam` and the
hardest-examples view can swap methods freely:

    explain(loaded, x, class_index, method, layer) -> heat map

The extractors hook the model: every hook is removed afterwards, also on errors, but while one
runs another thread using the same model would see them. Callers that share a model with other
threads pass a private copy (studio.core.runs.loaded_model.private_copy), as the Predict tab does.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchcam.methods import GradCAM, GradCAMpp, LayerCAM, ScoreCAM, SmoothGradCAMpp

from studio.core.errors import ModelError
from studio.core.inspect._common import as_batch, base_name, eval_mode, resolve_module
from studio.core.inspect.kernels import conv_layer_names
from studio.core.inspect.saliency import (
    _class_index,
    _graph_from_here,
    _normalise,
    default_layer,
)

# The method keys (CLI values), in the order menus list them, with the names people read.
METHODS: dict[str, str] = {
    "gradcam": "Grad-CAM",
    "gradcam++": "Grad-CAM++",
    "layercam": "Layer-CAM",
    "scorecam": "Score-CAM",
    "smoothgradcam++": "SmoothGrad-CAM++",
    "saliency": "Input gradients",
}
DEFAULT_METHOD = "gradcam"
_ALIASES = {"gradcampp": "gradcam++", "smoothgradcampp": "smoothgradcam++", "inputgradients": "saliency",
            "gradients": "saliency", "inputgradient": "saliency"}
_EXTRACTORS = {"gradcam": (GradCAM, {}), "gradcam++": (GradCAMpp, {}), "layercam": (LayerCAM, {}),
               "scorecam": (ScoreCAM, {"batch_size": 32}), "smoothgradcam++": (SmoothGradCAMpp, {"num_samples": 8})}
_NEEDS_GRADIENTS = {"gradcam", "gradcam++", "layercam", "smoothgradcam++"}


def method_key(method: str) -> str:
    """A method as a person may write it ("Grad-CAM++", "layer_cam", "saliency") -> its key in METHODS."""
    key = "".join(ch for ch in str(method).lower() if ch not in " -_")
    key = _ALIASES.get(key, key)
    if key not in METHODS:
        raise ModelError(f"Unknown explanation method {method!r}: choose one of {', '.join(METHODS)}.")
    return key


def method_label(method: str) -> str:
    return METHODS[method_key(method)]


def uses_layer(method: str) -> bool:
    """Input gradients look at the input itself: they have no target layer."""
    return method_key(method) != "saliency"


def conv_layers(model: nn.Module) -> list[str]:
    """The layers a map can be taken at, in definition order (menus list these)."""
    return conv_layer_names(model)


def check_layer(model: nn.Module, layer: str | None) -> None:
    """A ModelError naming close matches when `layer` is not a module of the model (None: the default)."""
    if layer is not None:
        resolve_module(model, layer)


def explain(loaded, x, class_index: int | None = None, method: str = DEFAULT_METHOD,
            layer: str | None = None) -> np.ndarray:
    """The map of `method` for a loaded model (anything with a `model` attribute); see explain_model."""
    return explain_model(loaded.model, x, class_index, method, layer)


def explain_model(model: nn.Module, x, class_index: int | None = None, method: str = DEFAULT_METHOD,
                  layer: str | None = None) -> np.ndarray:
    """(H, W) float32 in 0..1 at the input's size, for the first image of x.

    class_index: the class to explain (default: the predicted one). layer: a module name for the CAM
    methods (default: saliency.default_layer, the last stage that still outputs feature maps);
    ignored by input gradients. Train/eval flags are restored and every hook removed, also on errors.
    """
    key = method_key(method)
    if key == "saliency":
        return input_gradients(model, x, class_index)
    return _cam(model, x, class_index, key, layer)


def input_gradients(model: nn.Module, x, class_index: int | None = None) -> np.ndarray:
    """|d score / d input|, the largest over channels, normalised to 0..1 (Simonyan et al., 2014)."""
    x = as_batch(model, x)[:1].detach().clone().requires_grad_(True)
    with eval_mode(model), torch.enable_grad():
        scores = model(x)
        idx = _class_index(scores, class_index)
        try:
            (grad,) = torch.autograd.grad(scores[0, idx], x)
        except RuntimeError as exc:
            raise ModelError(f"The score of class {idx} does not depend on the input pixels.") from exc
    heat = torch.nan_to_num(grad[0].abs().amax(0).float(), nan=0.0)
    return _normalise(heat).cpu().numpy().astype(np.float32)


def _cam(model: nn.Module, x, class_index: int | None, key: str, layer: str | None) -> np.ndarray:
    extractor, options = _EXTRACTORS[key]
    x = as_batch(model, x)[:1]
    name = base_name(layer) if layer is not None else default_layer(model, x)
    target = resolve_module(model, name)
    # Before torchcam's hooks, so that they see the graph it starts (see _graph_from_here).
    handle = target.register_forward_hook(_graph_from_here) if key in _NEEDS_GRADIENTS else None
    try:
        with eval_mode(model), extractor(model, target_layer=name, **options) as cam:
            with torch.no_grad():
                scores = model(x)
            idx = _class_index(scores, class_index)
            activation = cam.hook_a[0]
            if activation is None or activation.ndim != 4:
                raise ModelError(f"Layer {name!r} does not output 2-D feature maps; pick a convolution layer.")
            try:
                maps = cam(class_idx=idx, scores=scores, normalized=False)
            except RuntimeError as exc:
                raise ModelError(f"The score of class {idx} does not depend on layer {name!r}.") from exc
    finally:
        if handle is not None:
            handle.remove()
    heat = F.interpolate(maps[0][:1, None].float(), size=tuple(x.shape[-2:]), mode="bilinear", align_corners=False)
    return _normalise(torch.nan_to_num(heat[0, 0], nan=0.0)).cpu().numpy().astype(np.float32)


# The "jet" map Grad-CAM papers use: blue (ignored) -> red (decisive).
_JET = np.array([[0, 0, 128], [0, 0, 255], [0, 255, 255], [255, 255, 0], [255, 0, 0], [128, 0, 0]], np.float32)
_JET_AT = np.array([0.0, 0.125, 0.375, 0.625, 0.875, 1.0], np.float32)
JET_LUT = np.stack([np.interp(np.linspace(0, 1, 256), _JET_AT, _JET[:, c]) for c in range(3)], 1).astype(np.uint8)


def to_rgb(image: np.ndarray) -> np.ndarray:
    return np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image[..., :3]


def overlay(base: np.ndarray, cam: np.ndarray, opacity: float = 0.5) -> np.ndarray:
    """Blend the jet-coloured map over the network input (uint8 (H, W) or (H, W, 3)); opacity 0..1."""
    rgb = to_rgb(base).astype(np.float32)
    if cam.shape != rgb.shape[:2]:  # a map at another size: nearest-neighbour it onto the input
        rows = (np.arange(rgb.shape[0]) * cam.shape[0] // rgb.shape[0])
        cols = (np.arange(rgb.shape[1]) * cam.shape[1] // rgb.shape[1])
        cam = cam[rows][:, cols]
    heat = JET_LUT[np.clip(np.nan_to_num(cam) * 255, 0, 255).astype(np.uint8)].astype(np.float32)
    blended = (1 - opacity) * rgb + opacity * heat
    return np.rint(blended).clip(0, 255).astype(np.uint8)


def has_hooks(model: nn.Module) -> bool:
    """Whether any module of the model still carries a hook (what a leak would leave)."""
    return any(m._forward_hooks or m._forward_pre_hooks or m._backward_hooks or
               getattr(m, "_backward_pre_hooks", None) for m in model.modules())
