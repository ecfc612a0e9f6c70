"""Dataset names -> loaders, and the menu of datasets the app offers."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from studio.core import paths
from studio.core.data.bundle import DatasetBundle, DatasetInfo
from studio.core.data.folder import PREFIX as FOLDER_PREFIX
from studio.core.data.folder import load_folder
from studio.core.data.sample import load_cifar10_sample, load_mnist_sample
from studio.core.data.torchvision_sets import REMOTE, load_remote
from studio.core.errors import DatasetError

DEFAULT_DATASET = "mnist-sample"
BUNDLED = {"mnist-sample": load_mnist_sample, "cifar10-sample": load_cifar10_sample}

_INFO = (
    DatasetInfo("mnist-sample", "MNIST sample (bundled)",
                "5,000 real handwritten digits, 28x28 grayscale, 10 classes: 4,500 to train, 500 to test. "
                "Ships with the app, works offline.", True),
    DatasetInfo("cifar10-sample", "CIFAR-10 sample (bundled)",
                "5,506 real CIFAR-10 colour photos, 32x32, 10 classes (plane, car, bird, cat, ...): 4,660 to train, "
                "846 to test. Ships with the app, works offline.", True),
    DatasetInfo("mnist", "MNIST",
                "70,000 handwritten digits, 28x28 grayscale, 10 classes (60,000 train / 10,000 test). "
                "Downloads about 11 MB once.", False),
    DatasetInfo("fashion-mnist", "Fashion-MNIST",
                "70,000 photos of clothes (T-shirt, trouser, ... ankle boot), 28x28 grayscale, 10 classes. "
                "Downloads about 30 MB once.", False),
    DatasetInfo("cifar10", "CIFAR-10",
                "60,000 colour photos, 32x32, 10 classes (plane, car, bird, cat, ...): 50,000 train / 10,000 test. "
                "Downloads about 163 MB once.", False),
    DatasetInfo("cifar100", "CIFAR-100",
                "60,000 colour photos, 32x32, 100 classes (500 train / 100 test images each). "
                "Downloads about 161 MB once.", False),
)


def list_datasets() -> list[DatasetInfo]:
    """The named datasets, bundled first. Any folder works too as "folder:/its/path"."""
    return list(_INFO)


def load_dataset(name: str, *, data_dir: str | os.PathLike | None = None, download: bool = True,
                 image_size: int = 64, progress: Callable[[int, int], None] | None = None,
                 fixes: str | os.PathLike | None = None) -> DatasetBundle:
    """Load a dataset by name into preloaded uint8 tensors (see DatasetBundle).

    "mnist-sample" and "cifar10-sample" are bundled; "mnist", "fashion-mnist", "cifar10", "cifar100" are cached under
    paths.data_dir(data_dir)/<name> and downloaded when missing and `download` is on
    (DownloadError names the folder to put the files in otherwise); "folder:/some/path" reads
    one subfolder per class, resized to image_size. progress(done, total) reports stages or
    files. Every call returns new tensors, which the caller may modify. `fixes` names a data-fixes
    file (core/data/fixes.py) for a folder dataset; the other datasets have no files to fix.
    """
    name = (name or "").strip()
    if fixes and not name.startswith(FOLDER_PREFIX):
        raise DatasetError(f"Data fixes apply to folder datasets (folder:PATH) only, not to {name}.")
    if name in BUNDLED:
        return BUNDLED[name]()
    if name.startswith(FOLDER_PREFIX):
        folder = name[len(FOLDER_PREFIX):].strip()
        if not folder:
            raise DatasetError('A folder dataset needs a path: "folder:/path/to/images".')
        return load_folder(folder, image_size=image_size, progress=progress, fixes=fixes)
    spec = REMOTE.get(name.lower())
    if spec is None:
        known = ", ".join(info.name for info in _INFO)
        raise DatasetError(f"Unknown dataset {name!r}. Choose one of {known}, or folder:/path/to/images.")
    return load_remote(spec, paths.data_dir(data_dir) / spec.name, download=download, progress=progress)


OFFLINE_STAND_INS = {"cifar10": "cifar10-sample", "mnist": "mnist-sample"}


def offline_stand_in(name: str, data_dir: str | os.PathLike | None = None) -> str:
    """The bundled sample to use for a dataset that is not downloaded yet (the name itself when it is)."""
    from studio.core.data.torchvision_sets import files_present

    sample = OFFLINE_STAND_INS.get(name)
    if sample is None or files_present(REMOTE[name], paths.data_dir(data_dir) / name):
        return name
    return sample


def dataset_folder(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Where a downloadable dataset's files live (for "put the files here" hints)."""
    spec = REMOTE.get(name)
    if spec is None:
        raise DatasetError(f"{name!r} is not a downloadable dataset.")
    return spec.folder(paths.data_dir(data_dir) / spec.name)


def load_run_dataset(config: dict, name: str | None = None, **options) -> DatasetBundle:
    """The dataset a run's config.json trained on, read as the run read it: its image size and, for its own
    dataset, its data fixes. `name` reads another dataset at the run's image size (fixes do not apply);
    `options` are load_dataset's (data_dir, download, progress)."""
    config = config if isinstance(config, dict) else {}
    name = name or config.get("dataset")
    if not isinstance(name, str) or not name:
        raise DatasetError("The run does not say which dataset it was trained on.")
    size = config.get("image_size")
    if isinstance(size, int) and not isinstance(size, bool):
        options["image_size"] = size
    fixes = config.get("data_fixes") if name == config.get("dataset") else None
    return load_dataset(name, fixes=fixes if isinstance(fixes, str) and fixes else None, **options)
