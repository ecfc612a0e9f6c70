"""Importing foreign checkpoints: notebook state dicts, architecture guessing, layer-by-layer mismatches."""

from __future__ import annotations

import math

import torch

from studio.core.errors import CheckpointError, ModelError
from studio.core.runs.loaded_model import LoadedModel
from studio.core.safe_load import first_sentence


def extract_state_dict(data: dict, name: str = "checkpoint") -> dict:
    """The tensors of a notebook checkpoint: bare, or under 'net' / 'state_dict' / 'model_state_dict' / 'model'."""
    for key in ("net", "state_dict", "model_state_dict", "model"):
        inner = data.get(key)
        if isinstance(inner, dict) and inner and all(torch.is_tensor(v) for v in inner.values()):
            data = inner
            break
    if not data or not all(torch.is_tensor(v) for v in data.values()):
        raise CheckpointError(f"{name} holds no state dict (expected tensors, or a dict with a 'net' entry).")
    # Models saved from nn.DataParallel or torch.compile prefix every key.
    for prefix in ("module.", "_orig_mod."):
        if all(k.startswith(prefix) for k in data):
            data = {k[len(prefix):]: v for k, v in data.items()}
    return data


def _epoch_of(data: dict) -> int:
    epoch = data.get("epoch", 0)
    if isinstance(epoch, bool) or not isinstance(epoch, (int, float)) or not math.isfinite(epoch):
        return 0
    return int(epoch)


def import_state_dict(state: dict, model_name: str, *, classes=None, input_shape=None, mean=None, std=None,
                      source: str = "", epoch: int = 0) -> LoadedModel:
    """Fit a bare state dict into an architecture, guessing the input shape and class count from it."""
    from studio.core.models import build_model, get_spec

    spec = get_spec(model_name)
    num_classes = len(classes) if classes else _guess_num_classes(state)
    in_ch = _guess_in_channels(state)
    shapes = [tuple(input_shape)] if input_shape else _candidate_shapes(spec, in_ch)
    options = _shape_options(model_name, state)
    first_error = None
    for shape in shapes:
        try:
            model = build_model(model_name, shape, num_classes, options)
            load_into(model, state, model_name)
        except (CheckpointError, ModelError) as exc:
            first_error = first_error or exc
            if isinstance(exc, CheckpointError) and set(model.state_dict()) != set(state):
                break  # layer names do not depend on the input size: no other size can fit
            continue
        model.eval()
        guess_classes, guess_mean, guess_std = _notebook_defaults(spec, shape[0], num_classes)
        return LoadedModel(model=model, model_name=model_name, model_options=options,
                           classes=list(classes) if classes else guess_classes, input_shape=shape,
                           mean=tuple(mean or guess_mean), std=tuple(std or guess_std),
                           epoch=epoch, source=source or f"state dict imported as {model_name}",
                           checkpoint={})
    raise first_error or CheckpointError(f"The state dict does not fit {model_name}.")


def _shape_options(model_name: str, state: dict) -> dict:
    """configurable-cnn's options, read back from a state dict's tensors (seed 002 builds PytorchCNN with any).

    conv_channels and kernel_size come from features.<i>.weight, hidden_sizes from every
    classifier.<j>.weight but the last. Other models have no options that change tensor shapes.
    """
    if model_name != "configurable-cnn":
        return {}
    convs = _numbered(state, "features.", ndim=4)
    linears = _numbered(state, "classifier.", ndim=2)
    if not convs or not linears or convs[0].shape[-1] != convs[0].shape[-2]:
        return {}  # not PytorchCNN's layout: the mismatch message will say what differs
    return {"conv_channels": [int(w.shape[0]) for w in convs], "kernel_size": int(convs[0].shape[-1]),
            "hidden_sizes": [int(w.shape[0]) for w in linears[:-1]]}


def _numbered(state: dict, prefix: str, ndim: int) -> list[torch.Tensor]:
    """The '<prefix><n>.weight' tensors of `ndim` dimensions, in layer order."""
    found = []
    for key, value in state.items():
        index = key[len(prefix):-len(".weight")] if key.startswith(prefix) and key.endswith(".weight") else ""
        if index.isdigit() and value.ndim == ndim:
            found.append((int(index), value))
    return [value for _, value in sorted(found, key=lambda item: item[0])]


CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _notebook_defaults(spec, channels: int, num_classes: int):
    """What a notebook trained this architecture with: class names and the normalisation it used.

    A bare state dict says neither; the lectures' CIFAR-10 models used CIFAR-10's classes,
    seed 001 its own constants and the other seeds 0.5; torchvision's ImageNet heads ImageNet's.
    """
    from studio.core.normalization import FIXED

    classes = [str(i) for i in range(num_classes)]
    if spec.family == "torchvision":
        if num_classes == 1000:
            from studio.core.models import imagenet_classes

            classes = imagenet_classes()
        mean, std = FIXED["imagenet"]
    elif spec.name == "cifar-cnn":
        mean, std = FIXED["seed001"]
    else:
        mean, std = FIXED["half"]
    if channels == 3 and num_classes == 10 and spec.family == "lecture" and spec.name != "lenet5":
        classes = list(CIFAR10_CLASSES)
    if channels == 1:
        mean, std = (0.5,), (0.5,)
    return classes, mean[:channels], std[:channels]


def _candidate_shapes(spec, in_ch: int) -> list[tuple[int, int, int]]:
    # torchvision networks pool adaptively, so every size "fits": try their natural 224 first.
    # One channel is most likely MNIST-like (28), three CIFAR-like (32): LeNet-5's tensors are the
    # same for both (28 px gets padding 2), so the order decides the geometry it is rebuilt with.
    sides = [spec.fixed_size[0]] if spec.fixed_size else [224] if spec.family == "torchvision" else []
    usual = (28, 32) if in_ch == 1 else (32, 28)
    sides += [s for s in (*usual, 224, 64, 96, 227) if s not in sides]
    return [(in_ch, s, s) for s in sides]


def _guess_in_channels(state: dict) -> int:
    for value in state.values():
        if value.ndim == 4:
            return int(value.shape[1])
    return 3


def _guess_num_classes(state: dict) -> int:
    weights = [k for k, v in state.items() if k.endswith("weight") and v.ndim == 2]
    if not weights:
        raise CheckpointError("Cannot tell the number of classes: the state dict has no linear layer.")
    return int(state[weights[-1]].shape[0])


def load_into(model: torch.nn.Module, state: dict, model_name: str) -> None:
    """load_state_dict, but a mismatch says which layers differ, in words."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [f"{k}: checkpoint {tuple(state[k].shape)}, model {tuple(expected[k].shape)}"
             for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape)]
    kinds = [f"{k} is {_tensor_kind(state[k])}" for k in expected if k in state and not _fits(state[k], expected[k])]
    if missing or unexpected or wrong or kinds:
        parts = []
        if wrong:
            parts.append("shapes differ for " + "; ".join(wrong[:5]) + (" ..." if len(wrong) > 5 else ""))
        if kinds:
            parts.append("not plain weights: " + "; ".join(kinds[:3]) + (" ..." if len(kinds) > 3 else ""))
        if missing:
            parts.append("missing " + ", ".join(missing[:6]) + (" ..." if len(missing) > 6 else ""))
        if unexpected:
            parts.append("unexpected " + ", ".join(unexpected[:6]) + (" ..." if len(unexpected) > 6 else ""))
        raise CheckpointError(f"The checkpoint does not match {model_name}: " + "; ".join(parts) + ".")
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:  # anything the checks above did not foresee
        raise CheckpointError(f"The checkpoint does not fit {model_name} ({first_sentence(exc)}).") from None


def _fits(value: torch.Tensor, target: torch.Tensor) -> bool:
    """A dense tensor of a kind load_state_dict can cast without losing meaning (half -> float, not complex)."""
    if value.layout != torch.strided or value.is_complex() or value.dtype == torch.bool or value.is_quantized:
        return False
    return value.is_floating_point() or not target.is_floating_point()


def _tensor_kind(value: torch.Tensor) -> str:
    return f"a {value.layout} tensor" if value.layout != torch.strided else f"{str(value.dtype).removeprefix('torch.')}"


