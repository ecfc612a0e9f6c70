"""Checkpoints are read with weights_only=True, always; notebook checkpoints import by architecture."""

import pickle

import pytest
import torch

from studio.core import runs
from studio.core.errors import CheckpointError, RunError
from studio.core.models import build_model


class _Payload:
    """Pickles into a call of os.system: loading it unsafely would create the marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_with_a_reduce_payload_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"net": _Payload(marker), "epoch": 1}, path)
    with pytest.raises(CheckpointError, match="refused"):
        runs.load_checkpoint(path, model_name="lenet5")
    assert not marker.exists()


def test_a_raw_pickle_file_is_refused_too(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    path.write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(CheckpointError):
        runs.load_checkpoint(path, model_name="lenet5")
    assert not marker.exists()


@pytest.mark.parametrize("content", [b"", b"this is not a checkpoint", b"PK\x03\x04broken zip"])
def test_junk_files_give_a_readable_error(tmp_path, content):
    path = tmp_path / "junk.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError):
        runs.load_checkpoint(path, model_name="lenet5")


def test_seed_001_notebook_checkpoint_imports_with_its_architecture(tmp_path):
    model = build_model("cifar-cnn", (3, 32, 32), 10)
    path = tmp_path / "cifar_cnn_ckpt.pth"
    torch.save({"net": model.state_dict(), "epoch": 20}, path)
    loaded = runs.load_checkpoint(path, model_name="cifar-cnn")
    assert loaded.input_shape == (3, 32, 32) and len(loaded.classes) == 10 and loaded.epoch == 20
    x = torch.randn(2, 3, 32, 32)
    model.eval()
    with torch.no_grad():
        assert torch.allclose(loaded.model(x), model(x))


def test_a_bare_state_dict_needs_and_takes_a_model_name(tmp_path):
    model = build_model("lenet5", (1, 28, 28), 10)
    path = tmp_path / "lenet.pt"
    torch.save(model.state_dict(), path)
    with pytest.raises(CheckpointError, match="choose the architecture"):
        runs.load_checkpoint(path)
    loaded = runs.load_checkpoint(path, model_name="lenet5")
    assert loaded.input_shape[0] == 1


def test_a_mismatch_names_the_layers_that_differ(tmp_path):
    model = build_model("configurable-cnn", (3, 32, 32), 10)
    path = tmp_path / "cnn.pt"
    torch.save(model.state_dict(), path)
    with pytest.raises(CheckpointError) as info:
        runs.load_checkpoint(path, model_name="cifar-cnn")
    assert "does not match cifar-cnn" in str(info.value)
    assert "missing" in str(info.value) or "shapes differ" in str(info.value)


def test_list_rename_delete_runs(tmp_path):
    a = runs.new_run_dir(tmp_path, {"model": "lenet5", "dataset": "mnist-sample"})
    runs.write_json(a / "config.json", {"model": "lenet5", "dataset": "mnist-sample"})
    runs.write_status(a, "done", "finished")
    (tmp_path / "not-a-run").mkdir()
    listed = runs.list_runs(tmp_path)
    assert [r.path for r in listed] == [a] and listed[0].state == "done"
    b = runs.rename_run(a, "my best run")
    assert b.name == "my best run" and runs.list_runs(tmp_path)[0].name == "my best run"
    with pytest.raises(RunError):
        runs.delete_run(tmp_path / "not-a-run")
    runs.delete_run(b)
    assert runs.list_runs(tmp_path) == []


def test_metrics_lines_cut_by_a_crash_are_skipped(tmp_path):
    writer = runs.MetricsWriter(tmp_path)
    writer.write({"event": "epoch", "epoch": 1})
    writer.close()
    with open(tmp_path / "metrics.jsonl", "a") as fh:
        fh.write('{"event": "epo')
    assert runs.read_metrics(tmp_path) == [{"event": "epoch", "epoch": 1}]
