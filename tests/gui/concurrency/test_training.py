"""The training thread: real tiny runs through TrainingRunner, throttled signals, pause, stop, errors."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from PySide6.QtCore import QObject, Slot

from studio.core.config.train_config import TrainConfig
from studio.gui.concurrency.training import BatchBuffer, TrainingRunner


pytestmark = pytest.mark.slow  # each test but the first trains a real (tiny) model in a thread


class Recorder(QObject):
    """Collects what the runner reports, in the GUI thread (its slots run there)."""

    def __init__(self, runner: TrainingRunner):
        super().__init__()
        self.started, self.packets, self.epochs, self.ends, self.failures = [], [], [], [], []
        self.finished = False
        runner.subscribe("fitStarted", self.on_started)
        runner.subscribe("batches", self.on_batches)
        runner.subscribe("epochEnded", self.on_epoch)
        runner.subscribe("fitEnded", self.on_end)
        runner.subscribe("failed", self.on_failed)
        runner.finished.connect(self.on_finished)
        self.paused: list[bool] = []
        runner.pausedChanged.connect(self.on_paused)

    @Slot(bool)
    def on_paused(self, paused):
        self.paused.append(paused)

    @Slot(object)
    def on_started(self, event):
        self.started.append(event)

    @Slot(object)
    def on_batches(self, packet):
        self.packets.append(packet)

    @Slot(object)
    def on_epoch(self, event):
        self.epochs.append(event)

    @Slot(object)
    def on_end(self, event):
        self.ends.append(event)

    @Slot(str, str)
    def on_failed(self, message, details):
        self.failures.append((message, details))

    @Slot()
    def on_finished(self):
        self.finished = True

    def batch_count(self) -> int:
        return sum(len(p["loss"]) for p in self.packets)


def tiny_config(**overrides) -> TrainConfig:
    cfg = TrainConfig(dataset="mnist-sample", model="lenet5", epochs=1, batch_size=128, seed=0)
    for key, value in overrides.items():
        setattr(cfg, key, value)
    return cfg


def test_batch_buffer_packs_arrays():
    from studio.core.engine.events import BatchEnd

    buffer = BatchBuffer()
    assert buffer.take() is None
    for i in range(1, 4):
        buffer.add(BatchEnd(epoch=2, batch=i, batches=4, step=10 + i, loss=1.0 / i, accuracy=0.5, lr=0.01,
                            images_per_sec=100.0 * i))
    packet = buffer.take()
    assert packet["loss"].tolist() == pytest.approx([1.0, 0.5, 1 / 3])
    assert packet["x"].tolist() == pytest.approx([1.25, 1.5, 1.75])
    assert packet["batches"] == 4 and packet["images_per_sec"] == 300.0
    assert buffer.take() is None and len(buffer) == 0


def test_one_epoch_in_a_thread_with_throttled_signals(qtbot, tmp_path):
    runner = TrainingRunner()
    rec = Recorder(runner)
    runner.start(tiny_config())
    assert runner.is_running() and runner.thread.isRunning()
    qtbot.waitUntil(lambda: rec.finished, timeout=120_000)
    start, end = rec.started[0], rec.ends[0]
    assert end.status == "done", end.reason
    assert rec.batch_count() == start.batches_per_epoch     # every batch arrived ...
    assert len(rec.packets) < start.batches_per_epoch       # ... in fewer signals than batches
    assert np.all(np.isfinite(np.concatenate([p["loss"] for p in rec.packets])))
    assert len(rec.epochs) == 1 and 0.0 <= rec.epochs[0].test_acc <= 1.0
    assert rec.epochs[0].confusion.shape == (10, 10)
    run_dir = Path(start.run_dir)
    assert (run_dir / "checkpoints" / "last.pt").is_file()
    assert json.loads((run_dir / "status.json").read_text())["status"] == "done"
    assert not runner.is_running() and runner.thread is None
    assert not rec.failures


def test_emit_interval_limits_the_signal_rate(qtbot):
    runner = TrainingRunner(emit_interval=10.0)   # longer than the whole run: only the flushes remain
    rec = Recorder(runner)
    runner.start(tiny_config())
    qtbot.waitUntil(lambda: rec.finished, timeout=120_000)
    # The first batch goes out at once; the rest are flushed together at the end of the epoch.
    assert len(rec.packets) <= 2
    assert rec.batch_count() == rec.started[0].batches_per_epoch


def test_stop_halfway_saves_a_stopped_run(qtbot):
    runner = TrainingRunner(emit_interval=0.02)
    rec = Recorder(runner)
    runner.start(tiny_config(epochs=5, batch_size=64))
    qtbot.waitUntil(lambda: rec.batch_count() >= 3, timeout=120_000)
    runner.stop()
    qtbot.waitUntil(lambda: rec.finished, timeout=60_000)
    end = rec.ends[0]
    assert end.status == "stopped" and end.epochs_done < 5
    status = json.loads((Path(rec.started[0].run_dir) / "status.json").read_text())
    assert status["status"] == "stopped"
    assert runner.thread is None


def test_paused_is_reported_once_the_loop_is_really_held(qtbot):
    runner = TrainingRunner(emit_interval=0.02)
    rec = Recorder(runner)
    runner.start(tiny_config(epochs=1, batch_size=32))
    qtbot.waitUntil(lambda: rec.batch_count() >= 2, timeout=120_000)
    runner.pause()
    assert not runner.paused and runner.pause_requested   # asked, not yet done: no signal yet
    assert rec.paused == []
    with qtbot.waitSignal(runner.pausedChanged, timeout=30_000) as blocker:
        pass
    assert blocker.args == [True] and runner.paused
    trainer = runner.worker.trainer
    assert trainer.paused
    # Every batch run before the pause has been delivered, and the trainer is not stepping.
    step = trainer.step
    assert rec.packets[-1]["step"][-1] == step
    qtbot.waitUntil(lambda: rec.batch_count() == step, timeout=5_000)
    assert trainer.step == step
    with qtbot.waitSignal(runner.pausedChanged, timeout=30_000) as blocker:
        runner.unpause()
    assert blocker.args == [False]
    qtbot.waitUntil(lambda: rec.finished, timeout=120_000)
    assert rec.ends[0].status == "done"
    assert rec.batch_count() == rec.started[0].batches_per_epoch
    assert rec.paused == [True, False]


def test_signals_go_straight_from_the_worker_to_the_subscriber():
    """The runner declares no copies of the worker's signals: it connects them."""
    runner = TrainingRunner()
    for name in TrainingRunner.WORKER_SIGNALS:
        assert not hasattr(runner, name)
    with pytest.raises(ValueError):
        runner.subscribe("no-such-signal", lambda: None)


def test_stop_while_paused_ends_the_run(qtbot):
    runner = TrainingRunner(emit_interval=0.02)
    rec = Recorder(runner)
    runner.start(tiny_config(epochs=3, batch_size=32))
    qtbot.waitUntil(lambda: rec.batch_count() >= 1, timeout=120_000)
    with qtbot.waitSignal(runner.pausedChanged, timeout=30_000):
        runner.pause()
    runner.stop()
    qtbot.waitUntil(lambda: rec.finished, timeout=60_000)
    assert rec.ends[0].status == "stopped"


def test_a_bad_dataset_fails_with_a_readable_message(qtbot, tmp_path):
    runner = TrainingRunner()
    rec = Recorder(runner)
    runner.start(tiny_config(dataset=f"folder:{tmp_path / 'no-such-folder'}"))
    qtbot.waitUntil(lambda: rec.finished, timeout=60_000)
    assert rec.ends[0].status == "failed"
    message, details = rec.failures[0]
    assert "no-such-folder" in message and "Traceback" not in message
    assert len(rec.failures) == 1 and len(rec.ends) == 1


def test_an_exception_inside_training_is_reported_with_details(qtbot, monkeypatch):
    from studio.core.engine import trainer as trainer_module

    calls = {"n": 0}
    original = trainer_module.Trainer._step

    def exploding_step(self, *args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise ValueError("boom in batch 3")
        return original(self, *args)

    monkeypatch.setattr(trainer_module.Trainer, "_step", exploding_step)
    runner = TrainingRunner()
    rec = Recorder(runner)
    runner.start(tiny_config())
    qtbot.waitUntil(lambda: rec.finished, timeout=120_000)
    message, details = rec.failures[0]
    assert "boom in batch 3" in message and "Traceback" in details
    run_dir = Path(rec.started[0].run_dir)
    status = json.loads((run_dir / "status.json").read_text())
    assert status["status"] == "failed" and "boom" in status["reason"]


def test_stop_before_the_first_batch_ends_cleanly(qtbot):
    runner = TrainingRunner()
    rec = Recorder(runner)
    runner.start(tiny_config())
    runner.stop()       # usually lands while the data loads
    qtbot.waitUntil(lambda: rec.finished, timeout=60_000)
    assert rec.ends[0].status == "stopped"
    assert not rec.failures


def test_a_second_start_while_running_is_refused(qtbot):
    from studio.core.errors import StudioError

    runner = TrainingRunner()
    rec = Recorder(runner)
    runner.start(tiny_config(epochs=2))
    with pytest.raises(StudioError):
        runner.start(tiny_config())
    runner.stop()
    qtbot.waitUntil(lambda: rec.finished, timeout=60_000)


def test_wait_blocks_until_the_thread_is_gone(qtbot):
    runner = TrainingRunner()
    rec = Recorder(runner)
    runner.start(tiny_config(epochs=3))
    qtbot.waitUntil(lambda: rec.batch_count() >= 1 or rec.finished, timeout=120_000)
    runner.stop()
    t0 = time.perf_counter()
    assert runner.wait(30_000)            # as on quit: blocking, with the event loop not running
    assert time.perf_counter() - t0 < 30
    assert not runner.thread.isRunning()
    qtbot.waitUntil(lambda: rec.finished, timeout=10_000)
