"""A real tiny run: validation fields in every record, best.pt chosen on val, the LR an epoch trained with."""

import pytest

from studio.core import runs
from studio.core.config.train_config import TrainConfig
from studio.core.engine import Trainer
from studio.core.engine.events import FitStart

pytestmark = pytest.mark.slow


def _config(**overrides):
    base = dict(dataset="mnist-sample", model="lenet5", epochs=2, batch_size=256, lr=2e-3, seed=1,
                schedule="cosine")
    base.update(overrides)
    return TrainConfig(**base)


def test_epoch_records_carry_train_val_and_test_and_best_pt_is_the_val_choice(tmp_path):
    events = []
    trainer = Trainer(_config(), callbacks=[events.append], runs_dir=tmp_path)
    end = trainer.fit()
    assert end.status == "done", end.reason
    start = next(e for e in events if isinstance(e, FitStart))
    assert (start.train_size, start.val_size, start.test_size) == (4050, 450, 500)
    records = runs.epoch_records(trainer.run_dir)
    for record in records:
        for split in ("train", "val", "test"):
            assert 0 <= record[f"{split}_acc"] <= 1 and record[f"{split}_loss"] > 0
        assert record["selected_on"] == "val"
    best = max(records, key=lambda r: (r["val_acc"], r["epoch"]))
    assert end.selected_on == "val" and end.best_epoch == best["epoch"] == records[-1]["best_epoch"]
    assert end.best_test_acc == best["test_acc"] and end.best_val_acc == best["val_acc"]
    saved = runs.read_checkpoint(trainer.run_dir / "checkpoints" / "best.pt")
    assert saved["epoch"] == best["epoch"] and saved["metrics"]["selected_on"] == "val"


def test_the_epoch_lr_is_the_one_its_batches_trained_with(tmp_path):
    # cosine over 2 epochs: epoch 1 trains at lr, epoch 2 at lr/2; the old record said lr/2 and then 0.
    trainer = Trainer(_config(val_fraction=0), runs_dir=tmp_path)
    trainer.fit()
    metrics = runs.read_metrics(trainer.run_dir)
    epochs = [r for r in metrics if r["event"] == "epoch"]
    for record in epochs:
        batch_lrs = {r["lr"] for r in metrics if r["event"] == "batch" and r["epoch"] == record["epoch"]}
        assert batch_lrs == {record["lr"]}
    assert [r["lr"] for r in epochs] == pytest.approx([2e-3, 1e-3])
    assert epochs[-1]["val_acc"] is None and epochs[-1]["selected_on"] == "test"


def test_a_run_from_before_validation_splits_resumes_on_its_whole_training_split(tmp_path):
    import json

    trainer = Trainer(_config(epochs=1, val_fraction=0), runs_dir=tmp_path)
    trainer.fit()
    config_path = trainer.run_dir / "config.json"
    old = json.loads(config_path.read_text())
    del old["val_fraction"]                       # what an older run's config.json looks like
    config_path.write_text(json.dumps(old))
    resumed = Trainer(_config(epochs=2), run_dir=trainer.run_dir, resume=True)
    end = resumed.fit()
    assert end.status == "done" and resumed.config.val_fraction == 0.0 and resumed.bundle.val is None
    assert end.selected_on == "test" and len(resumed.bundle.train) == 4500
