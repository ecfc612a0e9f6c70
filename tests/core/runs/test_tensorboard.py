"""TensorBoard event files: written while training, rebuilt for old runs, read back by TensorBoard itself."""

import json

import pytest

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

from studio.core.config.train_config import TrainConfig  # noqa: E402
from studio.core.engine import Trainer  # noqa: E402
from studio.core.runs import tensorboard  # noqa: E402


def _events(run_dir):
    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "images": 0, "histograms": 0})
    acc.Reload()
    return acc


def _epoch_lines(run_dir):
    return [r for r in map(json.loads, (run_dir / "metrics.jsonl").read_text().splitlines()) if r["event"] == "epoch"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    config = TrainConfig(dataset="mnist-sample", model="lenet5", epochs=2, seed=0, device="cpu")
    end = Trainer(config, runs_dir=runs).fit()
    assert end.status == "done"
    return next(runs.iterdir())


@pytest.mark.slow
def test_a_training_run_writes_what_metrics_jsonl_holds(run_dir):
    acc = _events(run_dir)
    lines = _epoch_lines(run_dir)
    for tag, key in tensorboard.SCALARS.items():
        if key not in lines[0]:
            continue
        points = acc.Scalars(tag)
        assert [p.step for p in points] == [r["epoch"] for r in lines]
        assert [p.value for p in points] == pytest.approx([r[key] for r in lines], rel=1e-6)
    assert [i.step for i in acc.Images("kernels/first_conv_layer")] == [1, 2]
    assert any(tag.startswith("weights/") for tag in acc.Tags()["histograms"])


@pytest.mark.slow
def test_an_old_run_is_converted_with_the_same_values(run_dir):
    for f in run_dir.glob("events.out.tfevents.*"):
        f.unlink()
    assert tensorboard.convert_run(run_dir) == 2
    assert tensorboard.convert_run(run_dir) == 2  # again: rebuilt, not doubled
    acc = _events(run_dir)
    assert [p.value for p in acc.Scalars("accuracy/test")] == pytest.approx(
        [r["test_acc"] for r in _epoch_lines(run_dir)], rel=1e-6)
    assert len(list(run_dir.glob("events.out.tfevents.*"))) == 1


def test_without_tensorboard_training_writes_no_event_files(tmp_path, monkeypatch):
    monkeypatch.setattr(tensorboard, "available", lambda: False)
    assert tensorboard.open_for_training(tmp_path, 0, model=None) is None


def test_a_kernel_grid_is_an_rgb_image():
    import numpy as np

    grid = tensorboard.kernel_grid(np.random.default_rng(0).normal(size=(6, 1, 5, 5)).astype("float32"))
    assert grid.dtype == np.uint8 and grid.ndim == 3 and grid.shape[2] == 3
    assert grid.min() == 0 and grid.max() == 255
