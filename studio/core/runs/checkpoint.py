"""The studio's checkpoint format: writing it atomically, loading it back into a model."""

from __future__ import annotations

import io
import math
from datetime import datetime
from pathlib import Path

import torch

import studio
from studio.core.errors import CheckpointError, ModelError
from studio.core.runs.importing import (
    _epoch_of,
    extract_state_dict,
    import_state_dict,
    load_into,
)
from studio.core.runs.jsonio import write_atomic
from studio.core.runs.loaded_model import LoadedModel
from studio.core.safe_load import read_checkpoint

CHECKPOINT_FORMAT = "cnn-studio-checkpoint"
FORMAT_VERSION = 1
MAX_CLASSES = 100_000       # checked before a model with that many outputs is built
MAX_CLASS_NAME = 256

def save_checkpoint(path: Path, model: torch.nn.Module, *, model_name: str, model_options: dict,
                    classes: list[str], input_shape, mean, std, epoch: int, step: int = 0,
                    optimizer=None, scheduler=None, config: dict | None = None,
                    metrics: dict | None = None) -> None:
    """Everything needed to rebuild, predict with and resume, in types weights_only can read."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    payload = {
        # The same tensors under seed 001's key, so a notebook's `state['net']` reads a studio checkpoint
        # (torch.save stores each shared storage once: this costs no space).
        "net": state,
        "format": CHECKPOINT_FORMAT,
        "format_version": FORMAT_VERSION,
        "model_name": model_name,
        "model_options": dict(model_options or {}),
        "state_dict": state,
        "classes": [str(c) for c in classes],
        "input_shape": [int(v) for v in input_shape],
        "mean": [float(v) for v in mean],
        "std": [float(v) for v in std],
        "epoch": int(epoch),
        "step": int(step),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": _plain_scheduler_state(scheduler),
        "config": config or {},
        "metrics": metrics or {},
        "versions": {"torch": str(torch.__version__), "studio": str(studio.__version__)},
        "saved": datetime.now().isoformat(timespec="seconds"),
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    write_atomic(Path(path), buffer.getvalue())


def _plain_scheduler_state(scheduler) -> dict | None:
    if scheduler is None:
        return None
    # Some schedulers keep functions in their state; weights_only loading cannot read those.
    return {k: v for k, v in scheduler.state_dict().items() if not callable(v)}




def load_checkpoint(path: Path, *, model_name: str | None = None, classes: list[str] | None = None,
                    input_shape=None, mean=None, std=None, map_location: str = "cpu") -> LoadedModel:
    """Load the studio's own checkpoint, or a notebook's (bare state dict, {'net': ...}) given its model name."""
    from studio.core.runs.safetensors_format import is_safetensors, load_safetensors

    if is_safetensors(path):
        return load_safetensors(Path(path), map_location)
    data = read_checkpoint(path)
    if data.get("format") == CHECKPOINT_FORMAT:
        return load_studio_fields(Path(path), data, map_location)
    if not model_name:
        raise CheckpointError(
            f"{Path(path).name} is a plain state dict: choose the architecture it was trained with "
            "(e.g. --model cifar-cnn)."
        )
    state = extract_state_dict(data, Path(path).name)
    return import_state_dict(state, model_name, classes=classes, input_shape=input_shape, mean=mean, std=std,
                             source=f"{Path(path).name} (imported as {model_name})", epoch=_epoch_of(data))


def load_studio_fields(path: Path, data: dict, map_location: str) -> LoadedModel:
    """A model from a studio checkpoint's fields (or a safetensors file's sidecar and tensors)."""
    from studio.core.models import build_model

    try:
        fields = _studio_fields(data)
        model = build_model(fields["model_name"], fields["input_shape"], len(fields["classes"]),
                            fields["model_options"])
        load_into(model, fields["state_dict"], fields["model_name"])
    except (CheckpointError, ModelError) as exc:
        raise CheckpointError(f"{path.name} cannot be loaded: {exc}{_newer_format_note(data)}") from None
    model.to(map_location).eval()
    return LoadedModel(model=model, model_name=fields["model_name"], model_options=fields["model_options"],
                       classes=fields["classes"], input_shape=fields["input_shape"], mean=fields["mean"],
                       std=fields["std"], epoch=_epoch_of(data), source=str(path), checkpoint=data)


def _newer_format_note(data: dict) -> str:
    version = data.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version <= FORMAT_VERSION:
        return ""
    return (f" (it was saved in checkpoint format {version!r} by a newer CNN Studio; this one reads format "
            f"{FORMAT_VERSION}: update CNN Studio)")


def _studio_fields(data: dict) -> dict:
    """The fields of a studio checkpoint, checked: a damaged or hand-edited file gets a sentence, not a traceback."""
    name, classes, options = data.get("model_name"), data.get("classes"), data.get("model_options") or {}
    if not isinstance(name, str) or not name:
        raise CheckpointError("the field 'model_name' is missing or not a name")
    if not isinstance(classes, (list, tuple)) or len(classes) < 2:
        raise CheckpointError("the field 'classes' must list at least 2 class names")
    if len(classes) > MAX_CLASSES or any(len(str(c)) > MAX_CLASS_NAME for c in classes[:MAX_CLASSES]):
        raise CheckpointError(f"the field 'classes' must list at most {MAX_CLASSES:,} names of at most "
                              f"{MAX_CLASS_NAME} characters (it lists {len(classes):,})")
    if not isinstance(options, dict):
        raise CheckpointError("the field 'model_options' must be a mapping of option names to values")
    shape = _checked_shape(data.get("input_shape"))
    state = data.get("state_dict")
    if not isinstance(state, dict) or not all(isinstance(k, str) and torch.is_tensor(v) for k, v in state.items()):
        raise CheckpointError("the field 'state_dict' must map layer names to tensors")
    return {"model_name": name, "classes": [str(c) for c in classes], "model_options": options,
            "input_shape": shape, "state_dict": state,
            "mean": _checked_stats(data.get("mean"), "mean", shape[0], positive=False),
            "std": _checked_stats(data.get("std"), "std", shape[0], positive=True)}


def _checked_shape(value) -> tuple[int, int, int]:
    if (not isinstance(value, (list, tuple)) or len(value) != 3
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)):
        raise CheckpointError(f"the field 'input_shape' must be three positive whole numbers (C, H, W), got {value!r}")
    return tuple(value)


def _checked_stats(value, name: str, channels: int, *, positive: bool) -> tuple[float, ...]:
    """Normalisation stats: one finite number per channel (a single one is repeated)."""
    ok = isinstance(value, (list, tuple)) and len(value) in (1, channels) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and (v > 0 or not positive)
        for v in value)
    if not ok:
        kind = "positive number" if positive else "number"
        raise CheckpointError(f"the field '{name}' must hold one finite {kind} per input channel ({channels}), "
                              f"got {value!r}")
    values = tuple(float(v) for v in value)
    return values * channels if len(values) == 1 else values


