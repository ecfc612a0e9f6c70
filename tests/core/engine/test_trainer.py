"""Real (tiny) training runs on the bundled MNIST sample."""

import json

import numpy as np
import pytest
import torch

from studio.core import runs
from studio.core.config.train_config import TrainConfig
from studio.core.engine import BatchEnd, EpochEnd, FitEnd, FitStart, Trainer


def tiny_config(**overrides):
    base = dict(dataset="mnist-sample", model="lenet5", epochs=1, batch_size=128, lr=2e-3, seed=1)
    base.update(overrides)
    return TrainConfig(**base)


@pytest.mark.slow
def test_one_epoch_writes_the_run_folder_and_fires_events(tmp_path):
    events = []
    trainer = Trainer(tiny_config(), callbacks=[events.append], runs_dir=tmp_path)
    end = trainer.fit()
    assert end.status == "done", end.reason
    kinds = [type(e) for e in events]
    assert kinds[0] is FitStart and kinds[-1] is FitEnd
    batches = [e for e in events if isinstance(e, BatchEnd)]
    assert len(batches) == events[0].batches_per_epoch == 32  # ceil(4050 / 128): 450 held out to validate
    epoch = next(e for e in events if isinstance(e, EpochEnd))
    assert epoch.confusion.sum() == 500 and epoch.confusion.shape == (10, 10)
    assert epoch.test_acc > 0.8  # one epoch of LeNet-5 already reads most digits
    run = trainer.run_dir
    assert json.loads((run / "status.json").read_text())["status"] == "done"
    assert runs.read_run(run).config["model"] == "lenet5"
    records = runs.read_metrics(run)
    assert [r["event"] for r in records].count("batch") == 32
    assert (run / "checkpoints" / "last.pt").is_file() and (run / "checkpoints" / "best.pt").is_file()
    snapshot = runs.load_epoch_snapshot(run, 1)
    assert snapshot["confusion"].sum() == 500
    assert "features.0" in snapshot["kernels"] or len(snapshot["kernels"]) >= 1


@pytest.mark.slow
def test_checkpoint_round_trip_predicts_the_same(tmp_path):
    trainer = Trainer(tiny_config(), runs_dir=tmp_path)
    trainer.fit()
    loaded = runs.load_checkpoint(trainer.run_dir / "checkpoints" / "last.pt")
    assert loaded.model_name == "lenet5" and loaded.classes == [str(i) for i in range(10)]
    x = torch.randn(4, *loaded.input_shape)
    trainer.model.eval()
    with torch.no_grad():
        expected = trainer.model.to(memory_format=torch.contiguous_format)(x)
        assert torch.allclose(loaded.model(x), expected, atol=1e-5)
    raw = torch.load(trainer.run_dir / "checkpoints" / "last.pt", weights_only=True)
    assert raw["epoch"] == 1 and raw["optimizer"] is not None


@pytest.mark.slow
def test_seeded_cpu_runs_are_reproducible(tmp_path):
    losses = []
    for i in range(2):
        seen = []
        Trainer(tiny_config(), callbacks=[lambda e: seen.append(e.loss) if isinstance(e, BatchEnd) else None],
                runs_dir=tmp_path / str(i)).fit()
        losses.append(seen[:10])
    assert losses[0] == losses[1]


@pytest.mark.slow
def test_stop_halfway_then_resume_continues_the_metrics(tmp_path):
    def stop_at_batch_5_of_epoch_2(event):
        if isinstance(event, BatchEnd) and event.epoch == 2 and event.batch == 5:
            trainer.request_stop()

    trainer = Trainer(tiny_config(epochs=3), callbacks=[stop_at_batch_5_of_epoch_2], runs_dir=tmp_path)
    end = trainer.fit()
    assert end.status == "stopped" and end.epochs_done == 1
    assert runs.read_status(trainer.run_dir)["status"] == "stopped"

    resumed = Trainer(run_dir=trainer.run_dir, resume=True)
    end = resumed.fit()
    assert end.status == "done" and end.epochs_done == 3
    epochs = [r["epoch"] for r in runs.epoch_records(trainer.run_dir)]
    assert epochs == [1, 2, 3]
    steps = [r["step"] for r in runs.read_metrics(trainer.run_dir) if r["event"] == "batch"]
    assert steps == list(range(1, 3 * 32 + 1))  # the half epoch before the stop was replaced, not repeated


@pytest.mark.slow
def test_a_nan_loss_stops_the_run_with_a_reason(tmp_path):
    trainer = Trainer(tiny_config(), runs_dir=tmp_path)
    trainer.prepare()
    real = trainer.criterion
    trainer.criterion = lambda logits, y: real(logits, y) * float("nan")
    end = trainer.fit()
    assert end.status == "failed" and "loss became nan" in end.reason.lower()
    assert runs.read_status(trainer.run_dir)["status"] == "failed"


@pytest.mark.slow
def test_pause_blocks_between_batches_until_unpaused(tmp_path):
    """Paused from inside the first BatchEnd (the training thread), so the pause is in force before the
    second batch whatever the preparation took; the loop must then hold until unpaused."""
    import threading

    seen, first_batch = [], threading.Event()

    def on_event(event):
        seen.append(event)
        if isinstance(event, BatchEnd) and not first_batch.is_set():
            trainer.pause()
            first_batch.set()

    trainer = Trainer(tiny_config(), callbacks=[on_event], runs_dir=tmp_path)
    thread = threading.Thread(target=trainer.fit)
    thread.start()
    assert first_batch.wait(timeout=120)
    thread.join(timeout=1.0)                  # the loop had a whole second to run on, and must not have
    assert thread.is_alive() and trainer.paused
    assert [e.step for e in seen if isinstance(e, BatchEnd)] == [1] and trainer.step == 1
    trainer.unpause()
    thread.join(timeout=120)
    assert isinstance(seen[-1], FitEnd) and seen[-1].status == "done"
    assert sum(isinstance(e, BatchEnd) for e in seen) == seen[0].batches_per_epoch


@pytest.mark.slow
def test_schedules_and_optimisers_run(tmp_path):
    for optimizer, schedule in [("sgd", "onecycle"), ("adamw", "cosine"), ("rmsprop", "step")]:
        cfg = tiny_config(optimizer=optimizer, schedule=schedule, lr=1e-3, label_smoothing=0.1, weight_decay=1e-4)
        lrs = []
        end = Trainer(cfg, callbacks=[lambda e: lrs.append(e.lr) if isinstance(e, BatchEnd) else None],
                      runs_dir=tmp_path).fit()
        assert end.status == "done", (optimizer, end.reason)
        if schedule == "onecycle":
            assert len(set(np.round(lrs, 10))) > 10  # one-cycle moves the LR every batch


def test_bad_settings_are_refused_with_a_message():
    from studio.core.errors import StudioError

    with pytest.raises(StudioError, match="learning rate"):
        Trainer(tiny_config(lr=-1))


@pytest.mark.slow
def test_seed_code_with_view_trains_although_channels_last_breaks_it(tmp_path):
    # lecture-cnn keeps seed 003's out.view(n, -1), which fails on channels_last tensors.
    def stop_soon(event):
        if isinstance(event, BatchEnd) and event.batch == 3:
            trainer.request_stop()

    trainer = Trainer(tiny_config(model="lecture-cnn"), callbacks=[stop_soon], runs_dir=tmp_path)
    end = trainer.fit()
    assert end.status == "stopped", end.reason
