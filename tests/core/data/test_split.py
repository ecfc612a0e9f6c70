"""The validation split: stratified, carved from the training split with the run's seed."""

import numpy as np
import torch

from studio.core.data import load_dataset
from studio.core.data.split import carve_validation, run_split


def test_validation_is_stratified_disjoint_and_fixed_by_the_seed():
    bundle = load_dataset("mnist-sample")
    carved = carve_validation(bundle, 0.1, seed=3)
    assert len(carved.val) == 450 and len(carved.train) == 4050
    assert carved.val.class_counts(10) == [45] * 10
    assert torch.equal(carved.test.labels, bundle.test.labels)      # the test split is untouched
    again = carve_validation(load_dataset("mnist-sample"), 0.1, seed=3)
    assert torch.equal(again.val.images, carved.val.images)
    other = carve_validation(load_dataset("mnist-sample"), 0.1, seed=4)
    assert not torch.equal(other.val.images, carved.val.images)
    # no image is in both: compare the images as rows of bytes
    train_rows = {row.tobytes() for row in carved.train.images.numpy()}
    shared = sum(row.tobytes() in train_rows for row in carved.val.images.numpy())
    duplicates_in_data = len(bundle.train) - len({row.tobytes() for row in bundle.train.images.numpy()})
    assert shared <= duplicates_in_data


def test_fraction_zero_keeps_the_whole_training_split_as_the_lectures_do():
    bundle = load_dataset("mnist-sample")
    assert carve_validation(bundle, 0.0, seed=0) is bundle and bundle.val is None


def test_run_split_gives_the_evaluation_tab_the_runs_own_validation_images():
    bundle = load_dataset("mnist-sample")
    val = run_split(bundle, "val", {"val_fraction": 0.1, "seed": 7})
    assert torch.equal(val.images, carve_validation(bundle, 0.1, 7).val.images)
    assert run_split(bundle, "test", {}) is bundle.test
    assert run_split(bundle, "val", {"val_fraction": 0.0, "seed": 7}) is None
    assert run_split(bundle, "val", None) is None            # a run from before validation splits
    assert run_split(bundle, "val", {"val_fraction": "x"}) is None
    assert np.asarray(val.labels).shape == (450,)
