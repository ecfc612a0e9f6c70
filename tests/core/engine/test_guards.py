"""Issue 12 defects 4 and 6, issue 13 item 3: an exploding loss stops the run, out-of-memory says
what to change, a pause is not training time. Real tiny runs on the bundled MNIST sample."""

import threading
import time

import pytest
import torch

from studio.cli import main
from studio.core import runs
from studio.core.config.train_config import TrainConfig
from studio.core.engine import BatchEnd, EpochEnd, FitError, Trainer
from studio.core.engine.guards import LossWatch, out_of_memory_message


def small(**overrides):
    base = {"dataset": "mnist-sample", "model": "lenet5", "epochs": 1, "device": "cpu", "seed": 0}
    base.update(overrides)
    return TrainConfig(**base)


@pytest.mark.slow
def test_adam_at_lr_10_stops_in_the_first_epoch_saying_the_loss_exploded(tmp_path):
    batches = []
    trainer = Trainer(small(optimizer="adam", lr=10.0), runs_dir=tmp_path,
                      callbacks=[lambda e: isinstance(e, BatchEnd) and batches.append(e.loss)])
    end = trainer.fit()
    assert end.status == "failed" and end.epochs_done == 0
    assert "loss exploded" in end.reason and "learning rate, e.g. to 1" in end.reason, end.reason
    assert len(batches) < 20 and len(batches) < len(trainer.train_loader)
    assert runs.read_status(trainer.run_dir)["status"] == "failed"


@pytest.mark.slow
def test_the_cli_exits_1_on_an_exploding_loss(tmp_path, capsys):
    code = main(["train", "--optimizer", "adam", "--lr", "10", "--epochs", "1", "--runs-dir", str(tmp_path)])
    assert code == 1 and "loss exploded" in capsys.readouterr().err


@pytest.mark.slow
def test_a_healthy_default_run_is_not_stopped(tmp_path):
    end = Trainer(small(), runs_dir=tmp_path).fit()
    assert end.status == "done", end.reason


def test_the_watch_ignores_noise_and_a_loss_that_falls():
    watch = LossWatch(lr=0.01)
    losses = [2.3, 2.5, 4.0, 2.2, 1.9, 6.0, 1.5, 1.2] + [0.3] * 20
    assert all(watch.observe(loss, 1, i) is None for i, loss in enumerate(losses, 1))
    exploding = LossWatch(lr=0.5)
    reasons = [exploding.observe(loss, 1, i) for i, loss in enumerate([2.3, 80.0, 1e4, 1e8, 1e12], 1)]
    assert reasons[:3] == [None, None, None] and "e.g. to 0.05" in reasons[3]


ALLOCATOR_TEXT = ("[enforce fail at alloc_cpu.cpp:127] data. DefaultCPUAllocator: can't allocate memory: you tried "
                  "to allocate 123456789 bytes. Error code 12 (Cannot allocate memory)")


@pytest.mark.parametrize("error", [RuntimeError(ALLOCATOR_TEXT),
                                   torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")])
def test_out_of_memory_says_what_to_change_and_fails_the_run(tmp_path, monkeypatch, error):
    errors = []
    trainer = Trainer(small(batch_size=64), runs_dir=tmp_path,
                      callbacks=[lambda e: isinstance(e, FitError) and errors.append(e)])
    trainer.prepare()

    def forward(x):
        raise error

    monkeypatch.setattr(trainer.model, "forward", forward)
    end = trainer.fit()
    assert end.status == "failed"
    assert end.reason == ("Not enough memory for batch size 64 of this model at this input size (1x28x28); "
                          "try 16.")
    assert all("alloc" not in text and "CUDA" not in text for e in errors for text in (e.message, e.details))
    assert runs.read_status(trainer.run_dir)["status"] == "failed"


def test_other_runtime_errors_are_not_called_out_of_memory():
    assert out_of_memory_message(RuntimeError("mat1 and mat2 shapes cannot be multiplied"), 64) is None
    assert out_of_memory_message(MemoryError(), 1).endswith("choose a smaller model or a smaller image size.")


@pytest.mark.slow
def test_a_pause_is_not_counted_in_the_epoch_time_nor_the_total(tmp_path):
    trainer = Trainer(small(epochs=2, batch_size=1500), runs_dir=tmp_path)
    paused, epoch_ends = {}, {}
    resumed = threading.Event()

    def unpause_later():
        paused["start"] = time.perf_counter()
        threading.Timer(1.0, lambda: (paused.setdefault("end", time.perf_counter()), trainer.unpause(),
                                      resumed.set())).start()

    def on_event(event):
        if isinstance(event, BatchEnd) and event.epoch == 2 and event.batch == 1:
            trainer.pause()   # the loop waits at its next batch until the timer unpauses it
            unpause_later()
        if isinstance(event, EpochEnd):
            epoch_ends[event.epoch] = (time.perf_counter(), event.epoch_time)

    trainer.callbacks.append(on_event)
    started = time.perf_counter()
    end = trainer.fit()
    wall = time.perf_counter() - started
    assert end.status == "done" and resumed.is_set()
    pause = paused["end"] - paused["start"]
    epoch2_wall = epoch_ends[2][0] - epoch_ends[1][0]
    assert epoch_ends[2][1] < epoch2_wall - 0.8 * pause    # it read 7.4 s after a 5 s pause
    assert end.elapsed < wall - 0.8 * pause


def test_eval_out_of_memory_on_the_command_line_is_one_sentence(monkeypatch, capsys):
    import studio.core.engine.evaluate as evaluate_module

    def evaluate(*args, **kwargs):
        raise RuntimeError(ALLOCATOR_TEXT)

    monkeypatch.setattr(evaluate_module, "evaluate", evaluate)
    demo = str(__import__("pathlib").Path(__file__).resolve().parents[3] / "models" / "lenet5-mnist-sample.pt")
    code = main(["eval", demo, "--dataset", "mnist-sample", "--batch-size", "512"])
    err = capsys.readouterr().err
    assert code == 1 and "Not enough memory for batch size 512" in err and "try 128" in err
    assert "Allocator" not in err and "Traceback" not in err
