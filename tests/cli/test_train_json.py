"""`train --json`: train, val and test per epoch, and the split that chose the best epoch."""

import json

import pytest

from studio.cli import main


@pytest.mark.slow
def test_train_json_reports_three_splits_and_the_choosing_one(tmp_path, capsys):
    code = main(["train", "--dataset", "mnist-sample", "--model", "lenet5", "--epochs", "1", "--batch-size", "256",
                 "--runs-dir", str(tmp_path), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["selected_on"] == "val" and doc["best_epoch"] == 1
    epoch = doc["epochs"][0]
    for key in ("train_acc", "val_acc", "test_acc", "train_loss", "val_loss", "test_loss"):
        assert 0 < epoch[key] < 10, key
    assert doc["best_test_acc"] == epoch["test_acc"] and doc["best_val_acc"] == epoch["val_acc"]


def test_datasets_lists_the_bundled_cifar10_sample(capsys):
    assert main(["datasets"]) == 0
    assert "cifar10-sample" in capsys.readouterr().out
