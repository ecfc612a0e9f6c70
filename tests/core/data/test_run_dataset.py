"""load_run_dataset: the one way a run's dataset is read back as it trained on it (eval, export checks,
lesions, comparisons)."""

import pytest

from studio.core.data import load_run_dataset
from studio.core.errors import StudioError


def test_the_runs_own_dataset_gets_its_fixes_another_does_not(tmp_path):
    config = {"dataset": "mnist-sample", "image_size": 28, "data_fixes": str(tmp_path / "missing.json")}
    with pytest.raises(StudioError):            # the fixes were passed on: mnist-sample takes none
        load_run_dataset(config)
    other = load_run_dataset(config, "cifar10-sample")
    assert other.name == "cifar10-sample" and len(other.classes) == 10


def test_a_config_without_a_dataset_is_a_clear_error():
    with pytest.raises(StudioError, match="which dataset"):
        load_run_dataset({"image_size": 28})
    assert len(load_run_dataset({"dataset": "mnist-sample"}).test) == 500
