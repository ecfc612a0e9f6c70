"""MNIST, Fashion-MNIST, CIFAR-10 and CIFAR-100: torchvision downloads, our own safe readers.

torchvision fetches the archives (its tqdm bar shows download progress; the md5 of each
archive is checked). The files are then read here rather than through the torchvision
Dataset classes, because those unpickle CIFAR with plain `pickle.load` and need the
uncompressed MNIST files. Each split becomes one preloaded uint8 N x C x H x W tensor.

Cached under paths.data_dir(override)/<name>, in torchvision's own layout, so files
downloaded by torchvision elsewhere can be copied in.
"""

from __future__ import annotations

import pickle
import socket
import tarfile
import urllib.error
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from studio.core.data.bundle import DatasetBundle, Split
from studio.core.data.idx import IMAGES_MAGIC, LABELS_MAGIC, IdxFormatError, read_idx
from studio.core.data.safe_pickle import load_pickle
from studio.core.data.stats import channel_stats
from studio.core.errors import DatasetError, DownloadError

Progress = Callable[[int, int], None] | None

_IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
              "t10k-labels-idx1-ubyte")
# What a failed download raises: URLError/HTTPError (offline, blocked), RuntimeError (all
# mirrors failed, bad md5), OSError (disk), tar/gzip errors (a cut-off archive).
DOWNLOAD_TIMEOUT = 20.0  # seconds without a byte (connect or read) before a download counts as failed
_DOWNLOAD_ERRORS = (urllib.error.URLError, OSError, RuntimeError, tarfile.TarError, EOFError, ValueError)


@dataclass(frozen=True)
class RemoteDataset:
    name: str
    title: str
    tv_name: str  # the torchvision.datasets class that knows the files' addresses and checksums
    kind: str  # "idx" | "cifar10" | "cifar100"
    source: str

    @property
    def tv_class(self) -> type:
        # Imported here, not at the top: torchvision takes seconds to import (it pulls in
        # torch._dynamo), and only a download or the file list needs it.
        import torchvision.datasets as tvd

        return getattr(tvd, self.tv_name)

    def download_url(self) -> str:
        cls = self.tv_class
        if self.kind == "idx":
            return cls.mirrors[0] + cls.resources[0][0]
        return cls.url

    def folder(self, root: Path) -> Path:
        """Where the dataset's files must be: torchvision's layout under root."""
        if self.kind == "idx":
            return root / self.tv_name / "raw"
        return root / self.tv_class.base_folder

    def expected_files(self) -> list[str]:
        if self.kind == "idx":
            return [f + ".gz" for f in _IDX_FILES]
        cls = self.tv_class
        return [name for name, _ in cls.train_list + cls.test_list] + [cls.meta["filename"]]


REMOTE = {
    spec.name: spec for spec in (
        RemoteDataset("mnist", "MNIST", "MNIST", "idx",
                      "MNIST by Y. LeCun, C. Cortes and C. J. C. Burges (CC BY-SA 3.0), via torchvision"),
        RemoteDataset("fashion-mnist", "Fashion-MNIST", "FashionMNIST", "idx",
                      "Fashion-MNIST by Zalando Research (MIT licence), via torchvision"),
        RemoteDataset("cifar10", "CIFAR-10", "CIFAR10", "cifar10",
                      "CIFAR-10 by A. Krizhevsky, V. Nair and G. Hinton, via torchvision"),
        RemoteDataset("cifar100", "CIFAR-100", "CIFAR100", "cifar100",
                      "CIFAR-100 by A. Krizhevsky, V. Nair and G. Hinton, via torchvision"),
    )
}


def load_remote(spec: RemoteDataset, root: Path, *, download: bool, progress: Progress = None) -> DatasetBundle:
    """Load (downloading first when allowed and needed) one torchvision dataset."""
    report = progress or (lambda done, total: None)
    report(0, 4)
    _ensure_files(spec, root, download)
    report(1, 4)
    try:
        if spec.kind == "idx":
            train = _read_idx_split(spec, root, "train")
            report(2, 4)
            test, classes = _read_idx_split(spec, root, "t10k"), _idx_classes(spec)
        else:
            train, test, classes = _read_cifar(spec, root, report)
    except (IdxFormatError, pickle.UnpicklingError, OSError, EOFError, ValueError, KeyError, TypeError, IndexError,
            AttributeError, MemoryError) as exc:
        raise DatasetError(f"The {spec.title} files in {spec.folder(root)} are damaged ({exc}). "
                           "Delete them to download them again.") from None
    report(3, 4)
    mean, std = channel_stats(train.images)
    report(4, 4)
    return DatasetBundle(name=spec.name, classes=classes, train=train, test=test, mean=mean, std=std,
                         source=spec.source)


# ----------------------------------------------------------------------------- files

def _ensure_files(spec: RemoteDataset, root: Path, download: bool) -> None:
    if files_present(spec, root):
        return
    archive = spec.kind != "idx" and (root / spec.tv_class.filename).is_file()
    if not (download or archive):
        raise DownloadError(_missing_message(spec, root, f"{spec.title} is not on this computer yet and "
                                                         "downloading is off."))
    try:
        _download(spec, root)
    except _DOWNLOAD_ERRORS as exc:
        raise DownloadError(_missing_message(spec, root, f"Could not download {spec.title} from "
                                                         f"{spec.download_url()} (no network?): {_short(exc)}."
                                                         )) from None
    if not files_present(spec, root):
        raise DownloadError(_missing_message(spec, root, f"{spec.title} was downloaded but files are missing."))


def files_present(spec: RemoteDataset, root: Path) -> bool:
    folder = spec.folder(root)
    if spec.kind == "idx":
        return all(_idx_path(folder, name) is not None for name in _IDX_FILES)
    return all((folder / name).is_file() for name in spec.expected_files())


def _download(spec: RemoteDataset, root: Path) -> None:
    """torchvision's own download (tqdm bar, md5 check of each archive), then extraction."""
    with _socket_timeout(DOWNLOAD_TIMEOUT):
        _download_archives(spec, root)


@contextmanager
def _socket_timeout(seconds: float):
    """torchvision opens its URLs with no timeout: behind a firewall that drops packets, "offline"
    would hang for minutes instead of failing. The default applies only while downloading."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _download_archives(spec: RemoteDataset, root: Path) -> None:
    from torchvision.datasets.utils import download_and_extract_archive

    cls = spec.tv_class
    if spec.kind != "idx":
        download_and_extract_archive(cls.url, str(root), filename=cls.filename, md5=cls.tgz_md5)
        return
    raw = spec.folder(root)
    raw.mkdir(parents=True, exist_ok=True)
    for filename, md5 in cls.resources:
        errors = []
        for mirror in cls.mirrors:  # the same fallback order as torchvision's MNIST.download
            try:
                download_and_extract_archive(mirror + filename, str(raw), filename=filename, md5=md5)
                break
            except (RuntimeError, urllib.error.URLError) as exc:
                errors.append(f"{mirror}: {exc}")
        else:
            raise RuntimeError(f"{filename}: " + "; ".join(errors))


def _missing_message(spec: RemoteDataset, root: Path, lead: str) -> str:
    folder = spec.folder(root)
    files = ", ".join(spec.expected_files())
    if spec.kind == "idx":
        return f"{lead} Put the files {files} (or the same without .gz) in {folder} and try again."
    return (f"{lead} Put the files {files} in {folder} (or the archive {spec.tv_class.filename} "
            f"in {root}) and try again.")


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:194] + " [...]"


# ----------------------------------------------------------------------------- MNIST family

def _idx_path(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / (name + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def _read_idx_split(spec: RemoteDataset, root: Path, prefix: str) -> Split:
    folder = spec.folder(root)
    images = read_idx(_idx_path(folder, f"{prefix}-images-idx3-ubyte"), IMAGES_MAGIC)
    labels = read_idx(_idx_path(folder, f"{prefix}-labels-idx1-ubyte"), LABELS_MAGIC)
    if len(images) != len(labels):
        raise ValueError(f"{prefix}: {len(images)} images but {len(labels)} labels")
    if len(labels) and labels.max() >= len(spec.tv_class.classes):
        raise ValueError(f"{prefix}: label {labels.max()} out of range")
    return Split(torch.from_numpy(images[:, None]), torch.from_numpy(labels.astype(np.int64)))


def _idx_classes(spec: RemoteDataset) -> list[str]:
    if spec.name == "mnist":  # torchvision says "0 - zero"; the digit is the name
        return [str(d) for d in range(10)]
    return list(spec.tv_class.classes)


# ----------------------------------------------------------------------------- CIFAR

def _read_cifar(spec: RemoteDataset, root: Path, report) -> tuple[Split, Split, list[str]]:
    cls, folder = spec.tv_class, spec.folder(root)
    meta = load_pickle(folder / cls.meta["filename"])
    classes = [_text(name) for name in _get(meta, cls.meta["key"])]
    label_key = "fine_labels" if spec.kind == "cifar100" else "labels"
    train = _cifar_split([folder / name for name, _ in cls.train_list], label_key, len(classes))
    report(2, 4)
    test = _cifar_split([folder / name for name, _ in cls.test_list], label_key, len(classes))
    return train, test, classes


def _cifar_split(files: list[Path], label_key: str, num_classes: int) -> Split:
    images, labels = [], []
    for path in files:
        batch = load_pickle(path)
        data = np.asarray(_get(batch, "data"))
        targets = np.asarray(_get(batch, label_key), dtype=np.int64)
        if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
            raise ValueError(f"{path.name}: data is {data.dtype} {data.shape}, expected uint8 N x 3072")
        if targets.shape != (data.shape[0],) or (targets.size and not 0 <= targets.min() <= targets.max()
                                                 < num_classes):
            raise ValueError(f"{path.name}: labels do not match the images or the classes")
        images.append(data.reshape(-1, 3, 32, 32))  # rows are already channel-major: R plane, G, B
        labels.append(targets)
    return Split(torch.from_numpy(np.concatenate(images)), torch.from_numpy(np.concatenate(labels)))


def _get(mapping, key: str):
    """Python 2 pickles give bytes or str keys depending on how they were written."""
    if not isinstance(mapping, dict):
        raise ValueError(f"expected a dict, found {type(mapping).__name__}")
    for candidate in (key, key.encode()):
        if candidate in mapping:
            return mapping[candidate]
    raise KeyError(f"missing key {key!r}")


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
