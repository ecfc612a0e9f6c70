"""The bundled offline datasets: mnist-sample and cifar10-sample."""

import hashlib

import pytest

from studio.core import paths
from studio.core.data import list_datasets, load_dataset
from studio.core.data.registry import offline_stand_in
from studio.core.data.sample import CIFAR10_CLASSES, CIFAR_SAMPLE_FILE

CIFAR_SHA256 = "bb5daad42b754c0c84829861f4c2923217250ceec30682e05a3ffb275dbaa009"


def test_cifar10_sample_is_the_documented_file_and_shape():
    assert hashlib.sha256(CIFAR_SAMPLE_FILE.read_bytes()).hexdigest() == CIFAR_SHA256
    bundle = load_dataset("cifar10-sample")
    assert (len(bundle.train), len(bundle.test)) == (4660, 846)
    assert bundle.input_shape == (3, 32, 32) and bundle.classes == CIFAR10_CLASSES
    assert all(400 < n < 500 for n in bundle.train.class_counts(10))
    assert bundle.mean == pytest.approx((0.493, 0.484, 0.448), abs=1e-3)
    bundle.train.images[0] = 0                      # a caller's copy: the next load is unchanged
    assert load_dataset("cifar10-sample").train.images[0].sum() > 0


def test_cifar10_sample_is_listed_as_offline_with_its_attribution_beside_it():
    info = {i.name: i for i in list_datasets()}["cifar10-sample"]
    assert info.offline
    attribution = (paths.RESOURCES / "data" / "ATTRIBUTION.md").read_text()
    assert "cifar10_sample.npz" in attribution and "Krizhevsky" in attribution and CIFAR_SHA256 in attribution


def test_a_dataset_that_is_not_downloaded_falls_back_to_its_bundled_sample(tmp_path):
    assert offline_stand_in("cifar10", tmp_path) == "cifar10-sample"
    assert offline_stand_in("mnist", tmp_path) == "mnist-sample"
    assert offline_stand_in("cifar100", tmp_path) == "cifar100"       # no sample: the name itself
    assert offline_stand_in("folder:/x", tmp_path) == "folder:/x"
