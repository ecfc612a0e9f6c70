"""Per-user folders (platformdirs), each overridable by the caller."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "cnn-studio"

REPO_ROOT = Path(__file__).resolve().parents[2]
RESOURCES = REPO_ROOT / "resources"
DEMO_MODELS = REPO_ROOT / "models"


def _pick(override: str | os.PathLike | None, env: str, default: str) -> Path:
    from studio.core.errors import StudioError

    chosen = override or os.environ.get(env) or default
    path = Path(chosen).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file in the way, no permission, a read-only disk: say which folder
        raise StudioError(f"The folder {path} cannot be created or used ({exc.strerror or exc}); "
                          f"choose another one (or set ${env}).") from None
    return path


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """Where downloaded datasets and weights are cached ($CNN_STUDIO_DATA_DIR overrides)."""
    return _pick(override, "CNN_STUDIO_DATA_DIR", platformdirs.user_data_dir(APP_NAME) + "/data")


def runs_dir(override: str | os.PathLike | None = None) -> Path:
    """Where run folders live ($CNN_STUDIO_RUNS_DIR overrides)."""
    return _pick(override, "CNN_STUDIO_RUNS_DIR", platformdirs.user_data_dir(APP_NAME) + "/runs")


def weights_dir(override: str | os.PathLike | None = None) -> Path:
    """Where pretrained torchvision weights are cached (TORCH_HOME layout)."""
    return _pick(override, "CNN_STUDIO_WEIGHTS_DIR", platformdirs.user_cache_dir(APP_NAME) + "/torch")
