"""Issue 16: the weights of epoch 0 and of every epoch the run's budget keeps, read back alone."""

import json

import pytest
import torch

from studio.core.config.train_config import TrainConfig
from studio.core.data import load_dataset
from studio.core.engine import Trainer
from studio.core.engine.evaluate import evaluate
from studio.core.errors import RunError
from studio.core.runs import epoch_records, read_checkpoint
from studio.core.runs.snapshots import (
    load_epoch_model,
    nearest_snapshot,
    plan_epochs,
    run_folder_of,
    snapshot_bytes,
    snapshot_epochs,
    weights_path,
)


def test_every_epoch_is_kept_while_the_budget_allows():
    assert plan_epochs(20, 1_000, 21_000) == frozenset(range(21))


def test_past_the_budget_epoch_zero_and_log_spaced_epochs_are_kept():
    plan = sorted(plan_epochs(100, 1_000, 10_000))
    assert len(plan) == 10
    assert plan[:3] == [0, 1, 2] and plan[-1] == 100
    gaps = [b - a for a, b in zip(plan[1:], plan[2:])]
    assert gaps == sorted(gaps)   # dense early, sparse late


@pytest.mark.parametrize("epochs,slots", [(5, 2), (7, 6), (1000, 3), (3, 3), (50, 49)])
def test_the_plan_never_exceeds_the_budget(epochs, slots):
    plan = plan_epochs(epochs, 10, 10 * slots)
    assert len(plan) == min(slots, epochs + 1)
    assert 0 in plan and epochs in plan and all(0 <= e <= epochs for e in plan)


def test_no_budget_keeps_nothing():
    assert plan_epochs(10, 1_000, 0) == frozenset()
    assert plan_epochs(10, 1_000, 999) == frozenset()


def test_snapshot_size_counts_the_weights():
    model = torch.nn.Linear(100, 10)
    assert snapshot_bytes(model) >= (100 * 10 + 10) * 4


@pytest.fixture(scope="module")
def three_epoch_run(tmp_path_factory):
    cfg = TrainConfig(dataset="mnist-sample", model="lenet5", epochs=3, batch_size=128, seed=1)
    trainer = Trainer(cfg, runs_dir=tmp_path_factory.mktemp("runs"))
    assert trainer.fit().status == "done"
    return trainer.run_dir


@pytest.mark.slow
def test_each_snapshot_alone_reproduces_its_epochs_recorded_test_accuracy(three_epoch_run):
    assert snapshot_epochs(three_epoch_run) == [0, 1, 2, 3]
    bundle = load_dataset("mnist-sample")
    recorded = {r["epoch"]: r["test_acc"] for r in epoch_records(three_epoch_run)}
    for epoch in (0, 1, 2, 3):
        loaded = load_epoch_model(three_epoch_run, epoch)
        assert loaded.epoch == epoch
        acc = evaluate(loaded.model, bundle.test, loaded.input_shape, loaded.mean, loaded.std).accuracy
        if epoch == 0:
            assert acc < 0.3   # the random start: about chance
        else:
            assert acc == recorded[epoch]   # exactly: the same weights, the same pixels, the same order


@pytest.mark.slow
def test_a_snapshot_holds_no_optimiser_state_and_reads_weights_only(three_epoch_run):
    data = read_checkpoint(weights_path(three_epoch_run, 2))
    assert data["optimizer"] is None and data["epoch"] == 2


@pytest.mark.slow
def test_an_epoch_not_kept_is_refused_with_the_kept_epochs_named(three_epoch_run):
    with pytest.raises(RunError, match="epochs kept: 0, 1, 2, 3"):
        load_epoch_model(three_epoch_run, 9)
    assert nearest_snapshot(three_epoch_run, 9) == 3


@pytest.mark.slow
def test_an_older_run_without_snapshots_still_serves_its_last_epoch(three_epoch_run, tmp_path):
    import shutil

    old = tmp_path / "old-run"
    shutil.copytree(three_epoch_run, old)
    for path in (old / "history").glob("weights_*.pt"):
        path.unlink()
    assert load_epoch_model(old, 3).epoch == 3   # from last.pt
    with pytest.raises(RunError, match="epochs kept: none"):
        load_epoch_model(old, 1)


@pytest.mark.slow
def test_a_budget_of_zero_writes_no_snapshot(tmp_path):
    cfg = TrainConfig(dataset="mnist-sample", model="lenet5", epochs=1, batch_size=256, snapshots=0)
    trainer = Trainer(cfg, runs_dir=tmp_path)
    assert trainer.fit().status == "done"
    assert snapshot_epochs(trainer.run_dir) == []
    assert json.loads((trainer.run_dir / "config.json").read_text())["snapshots"] == 0


def test_the_run_folder_is_found_from_itself_or_a_checkpoint_in_it(tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text("{}")
    assert run_folder_of(run) == run
    assert run_folder_of(run / "checkpoints" / "best.pt") == run
    assert run_folder_of(tmp_path) is None
