"""The torchvision datasets, on tiny files written here in the real formats; never the network."""

from __future__ import annotations

import gzip
import os
import pickle
import struct
import urllib.error
import urllib.request

import numpy as np
import pytest
import torch

from studio.core.data import dataset_folder, load_dataset
from studio.core.data.safe_pickle import load_pickle
from studio.core.errors import DatasetError, DownloadError

RNG = np.random.default_rng(0)


# ----------------------------------------------------------------------------- writers (real layouts)

def write_idx(path, array: np.ndarray, compress: bool) -> None:
    """IDX: big-endian int32 magic (0x08 = ubyte, then ndim), the dimensions, then the bytes."""
    header = struct.pack(">i", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}i", *array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(payload))
    else:
        path.write_bytes(payload)


def write_mnist(root, folder="MNIST", n_train=30, n_test=10, compress=True):
    raw = root / folder / "raw"
    data = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = RNG.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = np.arange(n, dtype=np.uint8) % 10
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images, compress)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels, compress)
        data[prefix] = (images, labels)
    return data


def cifar_batch(n: int, label_key: bytes, num_classes: int) -> dict:
    """Like the real files: uint8 N x 3072 rows (1024 red, 1024 green, 1024 blue values), labels a list."""
    data = np.concatenate([np.full((n, 1024), 10, np.uint8), np.full((n, 1024), 20, np.uint8),
                           RNG.integers(0, 256, (n, 1024), dtype=np.uint8)], axis=1)
    return {b"batch_label": b"training batch 1 of 5", label_key: [i % num_classes for i in range(n)],
            b"data": data, b"filenames": [f"img_{i}.png".encode() for i in range(n)]}


def dump(obj, path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        pickle.dump(obj, handle, protocol=2)


CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def write_cifar10(root) -> None:
    folder = root / "cifar-10-batches-py"
    for i in range(1, 6):
        dump(cifar_batch(4, b"labels", 10), folder / f"data_batch_{i}")
    # the real files load with str keys (Python 2 pickles read with latin1): write one like that
    dump({k.decode(): v for k, v in cifar_batch(6, b"labels", 10).items()}, folder / "test_batch")
    dump({b"num_cases_per_batch": 10000, b"label_names": [n.encode() for n in CIFAR10_NAMES], b"num_vis": 3072},
         folder / "batches.meta")


def write_cifar100(root) -> None:
    folder = root / "cifar-100-python"
    names = [f"class_{i:02d}" for i in range(100)]
    for name, n in (("train", 200), ("test", 100)):
        batch = cifar_batch(n, b"fine_labels", 100)
        batch[b"coarse_labels"] = [i % 20 for i in range(n)]
        dump(batch, folder / name)
    dump({b"fine_label_names": names, b"coarse_label_names": [f"super_{i}" for i in range(20)]}, folder / "meta")


# ----------------------------------------------------------------------------- MNIST family

@pytest.mark.parametrize("compress", [True, False])
def test_mnist_from_idx_files(tmp_path, compress):
    data = write_mnist(tmp_path / "mnist", compress=compress)
    calls = []
    bundle = load_dataset("mnist", data_dir=tmp_path, download=False, progress=lambda d, t: calls.append((d, t)))
    assert bundle.classes == [str(d) for d in range(10)]
    assert bundle.train.images.shape == (30, 1, 28, 28) and bundle.test.images.shape == (10, 1, 28, 28)
    assert bundle.train.images.dtype == torch.uint8 and bundle.train.labels.dtype == torch.int64
    assert np.array_equal(bundle.train.images[:, 0].numpy(), data["train"][0])
    assert bundle.test.labels.tolist() == data["t10k"][1].tolist()
    assert bundle.mean[0] == pytest.approx(data["train"][0].mean() / 255, abs=1e-5)
    assert bundle.std[0] == pytest.approx(data["train"][0].std() / 255, abs=1e-5)
    assert calls[-1] == (4, 4)


def test_fashion_mnist_class_names(tmp_path):
    write_mnist(tmp_path / "fashion-mnist", folder="FashionMNIST")
    bundle = load_dataset("fashion-mnist", data_dir=tmp_path, download=False)
    assert bundle.classes[0] == "T-shirt/top" and bundle.classes[-1] == "Ankle boot"
    assert "Zalando" in bundle.source


def test_damaged_idx_file_is_a_dataset_error(tmp_path):
    write_mnist(tmp_path / "mnist")
    bad = tmp_path / "mnist" / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz"
    bad.write_bytes(gzip.compress(struct.pack(">ii", 2051, 10) + bytes(10)))  # the images magic
    with pytest.raises(DatasetError, match="damaged"):
        load_dataset("mnist", data_dir=tmp_path, download=False)


# ----------------------------------------------------------------------------- CIFAR

def test_cifar10_from_python_pickles(tmp_path):
    write_cifar10(tmp_path / "cifar10")
    bundle = load_dataset("cifar10", data_dir=tmp_path, download=False)
    assert bundle.classes == CIFAR10_NAMES
    assert bundle.train.images.shape == (20, 3, 32, 32) and bundle.test.images.shape == (6, 3, 32, 32)
    assert (bundle.train.images[:, 0] == 10).all() and (bundle.train.images[:, 1] == 20).all()  # NCHW planes
    assert bundle.train.labels.tolist() == [0, 1, 2, 3] * 5
    assert bundle.mean[0] == pytest.approx(10 / 255, abs=1e-5) and bundle.mean[1] == pytest.approx(20 / 255, abs=1e-5)
    assert len(bundle.std) == 3 and bundle.input_shape == (3, 32, 32)


def test_cifar100_fine_labels(tmp_path):
    write_cifar100(tmp_path / "cifar100")
    bundle = load_dataset("cifar100", data_dir=tmp_path, download=False)
    assert len(bundle.classes) == 100 and bundle.classes[7] == "class_07"
    assert len(bundle.train) == 200 and len(bundle.test) == 100
    assert int(bundle.train.labels.max()) == 99


def test_malicious_pickle_cannot_run_code(tmp_path):
    write_cifar10(tmp_path / "cifar10")
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    dump({b"data": Exploit(), b"labels": []}, tmp_path / "cifar10" / "cifar-10-batches-py" / "data_batch_3")
    with pytest.raises(DatasetError, match="refusing to load"):
        load_dataset("cifar10", data_dir=tmp_path, download=False)
    assert not marker.exists()
    with pytest.raises(pickle.UnpicklingError):
        load_pickle(tmp_path / "cifar10" / "cifar-10-batches-py" / "data_batch_3")


def test_safe_unpickler_rebuilds_numpy_arrays(tmp_path):
    array = RNG.integers(0, 256, (3, 5), dtype=np.uint8)
    dump({"a": array, "b": [1, 2.5, "x"], "c": {1, 2}}, tmp_path / "p")
    loaded = load_pickle(tmp_path / "p")
    assert np.array_equal(loaded["a"], array) and loaded["b"] == [1, 2.5, "x"] and loaded["c"] == {1, 2}
    dump({"o": np.array([object()], dtype=object)}, tmp_path / "objects")
    with pytest.raises(pickle.UnpicklingError):
        load_pickle(tmp_path / "objects")


# ----------------------------------------------------------------------------- missing files, offline

def test_missing_files_without_download_name_the_folder(tmp_path):
    with pytest.raises(DownloadError) as info:
        load_dataset("cifar10", data_dir=tmp_path, download=False)
    folder = tmp_path / "cifar10" / "cifar-10-batches-py"
    assert str(folder) in str(info.value) and "data_batch_1" in str(info.value) and "batches.meta" in str(info.value)
    assert dataset_folder("cifar10", tmp_path) == folder


@pytest.mark.parametrize("name, folder, expected_file", [
    ("cifar10", "cifar10/cifar-10-batches-py", "test_batch"),
    ("mnist", "mnist/MNIST/raw", "train-images-idx3-ubyte.gz"),
    ("fashion-mnist", "fashion-mnist/FashionMNIST/raw", "t10k-labels-idx1-ubyte.gz"),
])
def test_offline_download_raises_download_error(tmp_path, monkeypatch, name, folder, expected_file):
    attempts = []

    def offline(request, *args, **kwargs):
        attempts.append(getattr(request, "full_url", request))
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DownloadError) as info:
        load_dataset(name, data_dir=tmp_path, download=True)
    message = str(info.value)
    assert message.startswith("Could not download") and "(no network?)" in message and str(tmp_path / folder) in message and expected_file in message
    assert attempts and all(url.startswith("http") for url in attempts)  # torchvision really tried
