"""Issue 12 defects 3 and 7: checkpoint contents are verified before use.

torch.load checks no zip CRC: a damaged tensor member loaded silently as wrong weights and a
damaged data.pkl turned a key into garbage; NaN weights loaded; a million class names took 15 s."""

import os
import time
import zipfile

import pytest
import torch

from studio.core import runs
from studio.core.config.train_config import TrainConfig
from studio.core.engine import Trainer
from studio.core.errors import CheckpointError
from studio.core.models import build_model


def _checkpoint(path, classes=None, **changes):
    model = build_model("lenet5", (1, 28, 28), 10)
    with torch.no_grad():
        for name, value in changes.items():
            model.get_parameter(name).fill_(value)
    runs.save_checkpoint(path, model, model_name="lenet5", model_options={}, input_shape=(1, 28, 28),
                         classes=classes or [str(i) for i in range(10)], mean=[0.5], std=[0.5], epoch=1)
    return path


def _flip_byte_in(path, member_suffix, at=0.5):
    """Change one byte inside a member's stored data, leaving the zip's structure intact."""
    with zipfile.ZipFile(path) as archive:
        info = next(i for i in archive.infolist() if i.filename.endswith(member_suffix))
    data = bytearray(path.read_bytes())
    header = info.header_offset
    name_len, extra_len = int.from_bytes(data[header + 26:header + 28], "little"), \
        int.from_bytes(data[header + 28:header + 30], "little")
    offset = header + 30 + name_len + extra_len + int(info.compress_size * at)
    data[offset] ^= 0x5A
    path.write_bytes(bytes(data))


def test_an_intact_checkpoint_loads(tmp_path):
    assert runs.load_checkpoint(_checkpoint(tmp_path / "ok.pt")).model_name == "lenet5"


def test_a_damaged_tensor_member_is_refused(tmp_path):
    path = _checkpoint(tmp_path / "weights.pt")
    with zipfile.ZipFile(path) as archive:
        biggest = max(archive.infolist(), key=lambda i: i.file_size).filename
    _flip_byte_in(path, biggest)
    with pytest.raises(CheckpointError, match=r"weights.pt is damaged: the part '.*data/\d+' fails its checksum"):
        runs.read_checkpoint(path)


def test_a_damaged_record_is_refused(tmp_path):
    path = _checkpoint(tmp_path / "record.pt")
    _flip_byte_in(path, "data.pkl", at=0.9)
    with pytest.raises(CheckpointError, match="record.pt is damaged: the part '.*data.pkl' fails its checksum"):
        runs.read_checkpoint(path)


@pytest.mark.parametrize("value, words", [(float("nan"), "'state_dict.features.0.weight' has 150 NaN and 0 infinite"),
                                          (float("inf"), "'state_dict.features.0.weight' has 0 NaN and 150 infinite")])
def test_non_finite_weights_are_refused_naming_the_layer(tmp_path, value, words):
    first_conv = next(n for n, p in build_model("lenet5", (1, 28, 28), 10).named_parameters() if p.ndim == 4)
    path = _checkpoint(tmp_path / "diverged.pt", **{first_conv: value})
    with pytest.raises(CheckpointError, match=f"diverged.pt holds weights that are not numbers: .*{words}"):
        runs.load_checkpoint(path)


def test_a_million_class_names_are_refused_fast(tmp_path):
    path = _checkpoint(tmp_path / "many.pt", classes=[f"class {i}" for i in range(1_000_000)])
    started = time.perf_counter()
    with pytest.raises(CheckpointError, match="many.pt: its record data.pkl is"):
        runs.load_checkpoint(path)
    assert time.perf_counter() - started < 1.0   # it took 15 s


def test_long_class_lists_under_the_pickle_bound_are_refused_before_building(tmp_path):
    path = _checkpoint(tmp_path / "long.pt", classes=["x" * 300, "y"])
    with pytest.raises(CheckpointError, match="at most 256 characters"):
        runs.load_checkpoint(path)


def _finished_run(tmp_path):
    trainer = Trainer(TrainConfig(dataset="mnist-sample", model="lenet5", epochs=1, batch_size=1500, device="cpu"),
                      runs_dir=tmp_path)
    assert trainer.fit().status == "done"
    return trainer.run_dir


@pytest.mark.slow
@pytest.mark.parametrize("kind, words", [("fifo", "not a regular file"), ("folder", "is a folder"),
                                         ("dev-zero", "not a regular file")])
def test_resuming_from_a_last_checkpoint_that_is_no_file_says_what_it_is(tmp_path, kind, words):
    run = _finished_run(tmp_path)
    last = run / "checkpoints" / "last.pt"
    last.unlink()
    {"fifo": lambda: os.mkfifo(last), "folder": last.mkdir, "dev-zero": lambda: last.symlink_to("/dev/zero")}[kind]()
    end = Trainer(TrainConfig(epochs=2), run_dir=run, resume=True).fit()
    assert end.status == "failed" and words in end.reason and "no epoch finished" not in end.reason, end.reason
