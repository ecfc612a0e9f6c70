"""`diagnose RUN` and the `diagnosis` list of `train --json`: what went wrong, in words and numbers."""

import json

import pytest

from studio.cli import main
from tests.core.diagnosis.test_rules import flat_run


def test_diagnose_reads_a_run_folder(tmp_path, capsys):
    run = flat_run(tmp_path / "run")
    assert main(["diagnose", str(run), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    first = doc["diagnosis"][0]
    assert first["code"] == "lr_too_low" and first["severity"] == "problem"
    assert first["action"] == {"lr": 0.001} and first["evidence"]["update_ratio"] < 1e-4
    assert main(["diagnose", str(run)]) == 0
    text = capsys.readouterr().out
    assert "Learning rate too low" in text and "Try: raise the learning rate: lr = 0.001" in text


def test_diagnose_refuses_a_folder_that_is_no_run(tmp_path, capsys):
    assert main(["diagnose", str(tmp_path)]) == 1
    assert "not a run folder" in capsys.readouterr().err


@pytest.mark.slow
def test_train_json_carries_the_diagnosis(tmp_path, capsys):
    code = main(["train", "--dataset", "mnist-sample", "--model", "lenet5", "--epochs", "1", "--lr", "10",
                 "--runs-dir", str(tmp_path), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and doc["status"] == "failed"
    assert doc["diagnosis"][0]["code"] == "diverging"
    assert doc["diagnosis"][0]["action"] == {"lr": 0.001}
