"""safetensors weights with a JSON sidecar: the architecture, its options, the classes, the input shape
and the normalisation. A pure-tensor format (no pickle at all), read by any framework; the sidecar
lets the studio rebuild the model and predict with it exactly as from its own checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from studio.core.errors import CheckpointError
from studio.core.runs.jsonio import write_json
from studio.core.runs.loaded_model import LoadedModel
from studio.core.safe_load import MAX_CHECKPOINT_BYTES

SIDECAR_FORMAT = "cnn-studio-safetensors"
MAX_SIDECAR_BYTES = 16 * 1024**2


def sidecar_path(path: Path) -> Path:
    return Path(path).with_suffix(".json")


def save_safetensors(loaded: LoadedModel, out: Path) -> Path:
    """Write the weights to `out` and the sidecar beside it; returns the sidecar's path."""
    from safetensors.torch import save_file

    # safetensors refuses tensors that share memory or are not contiguous: store plain copies.
    state = {k: v.detach().cpu().contiguous().clone() for k, v in loaded.model.state_dict().items()}
    save_file(state, str(out), metadata={"format": SIDECAR_FORMAT})
    sidecar = sidecar_path(out)
    write_json(sidecar, {"format": SIDECAR_FORMAT, "format_version": 1, "weights": Path(out).name,
                         "model_name": loaded.model_name, "model_options": dict(loaded.model_options or {}),
                         "classes": list(loaded.classes), "input_shape": list(loaded.input_shape),
                         "mean": list(loaded.mean), "std": list(loaded.std), "epoch": int(loaded.epoch)})
    return sidecar


def is_safetensors(path: Path) -> bool:
    return Path(path).suffix.lower() == ".safetensors"


def load_safetensors(path: Path, map_location: str = "cpu") -> LoadedModel:
    """Rebuild the model from `path` and its sidecar, through the same checks as a studio checkpoint."""
    from studio.core.runs.checkpoint import CHECKPOINT_FORMAT, load_studio_fields

    path = Path(path)
    data = _read_sidecar(path)
    data.update(format=CHECKPOINT_FORMAT, state_dict=_read_tensors(path), source=str(path))
    return load_studio_fields(path, data, map_location)


def _read_sidecar(path: Path) -> dict:
    sidecar = sidecar_path(path)
    if not sidecar.is_file():
        raise CheckpointError(f"{path.name} needs its sidecar {sidecar.name} beside it (architecture, classes, "
                              "input shape and normalisation): export it again with `cnn-studio export`.")
    if sidecar.stat().st_size > MAX_SIDECAR_BYTES:
        raise CheckpointError(f"{sidecar.name} is too large to be a sidecar ({sidecar.stat().st_size} bytes).")
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{sidecar.name} is not readable JSON ({exc}).") from None
    if not isinstance(data, dict) or data.get("format") != SIDECAR_FORMAT:
        raise CheckpointError(f"{sidecar.name} is not a CNN Studio sidecar (no \"format\": \"{SIDECAR_FORMAT}\").")
    return data


def _read_tensors(path: Path) -> dict[str, torch.Tensor]:
    try:
        from safetensors import SafetensorError
        from safetensors.torch import load_file
    except ImportError:
        raise CheckpointError(f"{path.name} needs the 'safetensors' package: pip install safetensors") from None
    if not path.is_file():
        raise CheckpointError(f"{path} is not a file.")
    if path.stat().st_size > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"{path.name} is larger than the {MAX_CHECKPOINT_BYTES >> 30} GB the studio loads.")
    try:
        state = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path.name} is not a readable safetensors file ({exc}).") from None
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise CheckpointError(f"{path.name} holds weights that are not finite numbers (NaN or infinity) in "
                              f"{', '.join(bad[:3])}{' ...' if len(bad) > 3 else ''}.")
    return state
