"""Where things are: the bundled resources and demo models, and the per-user folders (platformdirs).

The repository keeps `resources/` and `models/` at its top level; a wheel carries them inside the
package as `studio/_resources` and `studio/_models` (the mapping is in setup.py). They are found
through importlib.resources, so a wheel, an editable install and a plain checkout all work.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from importlib import resources as _resources
from pathlib import Path

import platformdirs

APP_NAME = "cnn-studio"

REPO_ROOT = Path(__file__).resolve().parents[2]


def _bundled(installed_name: str, checkout_name: str) -> Path:
    """The installed package's copy of a bundled folder, else the checkout's top-level one."""
    packaged = _resources.files("studio") / installed_name
    if not packaged.is_dir():
        return REPO_ROOT / checkout_name
    if isinstance(packaged, Path):
        return packaged
    return _extract(packaged)  # a zipped install: Qt, numpy and shutil need real files


def _extract(folder) -> Path:
    target = Path(tempfile.mkdtemp(prefix=f"{APP_NAME}-{folder.name}-"))
    atexit.register(shutil.rmtree, target, ignore_errors=True)
    _copy_tree(folder, target)
    return target


def _copy_tree(folder, target: Path) -> None:
    for item in folder.iterdir():
        if item.is_dir():
            (target / item.name).mkdir()
            _copy_tree(item, target / item.name)
        else:
            (target / item.name).write_bytes(item.read_bytes())


RESOURCES = _bundled("_resources", "resources")   # icons, sample photos, bundled datasets, desktop entry
DEMO_MODELS = _bundled("_models", "models")       # the demo checkpoint and its model card


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
