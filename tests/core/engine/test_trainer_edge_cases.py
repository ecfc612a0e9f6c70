"""Trainer edge cases found in a review: resume of damaged or extended runs, settings from hostile
sources, lone last batches, vanishing feature maps. Tiny runs on the bundled MNIST sample."""

import json
import math

import pytest
import torch

from studio.core import runs
from studio.core.config.train_config import AugmentConfig, TrainConfig
from studio.core.engine import BatchEnd, Trainer
from studio.core.errors import ModelError, RunError, StudioError
from studio.core.models import build_model


def small(**overrides):
    # 1500 images a batch: 3 batches an epoch, so each epoch takes a fraction of a second.
    base = dict(dataset="mnist-sample", model="lenet5", epochs=1, batch_size=1500, device="cpu", seed=0)
    base.update(overrides)
    return TrainConfig(**base)


def _finished_run(tmp_path, **overrides):
    trainer = Trainer(small(**overrides), runs_dir=tmp_path)
    assert trainer.fit().status == "done"
    return trainer.run_dir


def _resume(run_dir, epochs):
    lrs = []
    trainer = Trainer(TrainConfig(epochs=epochs), run_dir=run_dir, resume=True,
                      callbacks=[lambda e: isinstance(e, BatchEnd) and lrs.append(e.lr)])
    return trainer.fit(), lrs


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Detected call of")
def test_resuming_a_onecycle_run_for_more_epochs_replans_the_cycle(tmp_path):
    run = _finished_run(tmp_path, schedule="onecycle")
    end, lrs = _resume(run, 3)   # torch's OneCycleLR raised "Tried to step ... total steps" here
    assert end.status == "done" and end.epochs_done == 3, end.reason
    plan = torch.optim.lr_scheduler.OneCycleLR(torch.optim.SGD([torch.zeros(1)], lr=0.1), max_lr=2e-3,
                                               epochs=3, steps_per_epoch=3)
    expected = [plan.get_last_lr()[0]]
    for _ in range(9):
        plan.step()
        expected.append(plan.get_last_lr()[0])
    assert lrs == pytest.approx(expected[4:])   # a batch reports the LR after its step: batches 4..9 of 9


@pytest.mark.slow
def test_resuming_a_cosine_run_for_more_epochs_does_not_train_at_lr_zero(tmp_path):
    run = _finished_run(tmp_path, schedule="cosine")
    end, lrs = _resume(run, 3)
    assert end.status == "done"
    assert lrs[0] == pytest.approx(2e-3 * (1 + math.cos(math.pi / 3)) / 2)   # epoch 2 of a 3-epoch plan
    assert lrs[-1] == pytest.approx(2e-3 * (1 + math.cos(2 * math.pi / 3)) / 2)


@pytest.mark.slow
@pytest.mark.parametrize("damage", [b"garbage", "foreign", "missing"])
def test_a_damaged_last_checkpoint_fails_the_resume_clearly_and_keeps_the_run(tmp_path, damage):
    run = _finished_run(tmp_path)
    last = run / "checkpoints" / "last.pt"
    if damage == "missing":
        last.unlink()
    elif damage == "foreign":
        torch.save({"a": 1}, last)
    else:
        last.write_bytes(damage)
    before = json.loads((run / "status.json").read_text())
    end, _ = _resume(run, 2)
    assert end.status == "failed" and run.name in end.reason
    assert "Error:" not in end.reason   # a sentence, not a Python exception's name
    assert json.loads((run / "status.json").read_text()) == before


@pytest.mark.slow
def test_a_damaged_run_config_is_a_run_error(tmp_path):
    run = _finished_run(tmp_path)
    (run / "config.json").write_text('{"epochs": "many", "lr": null, "augment": 5}')
    with pytest.raises(RunError, match="config.json"):
        Trainer(None, run_dir=run, resume=True)


@pytest.mark.parametrize("field, value", [
    ("lr", float("inf")), ("lr", float("nan")), ("lr", "0.1"), ("momentum", float("nan")), ("weight_decay", -1.0),
    ("gamma", float("nan")), ("step_size", 0), ("epochs", 2.5), ("batch_size", True), ("seed", 10**30),
    ("early_stop_patience", -1), ("num_threads", -3), ("image_size", 100_000), ("model_options", [1]),
    ("augment", AugmentConfig(rotation=float("nan"))), ("augment", AugmentConfig(noise_std=float("inf"))),
    ("augment", AugmentConfig(crop_padding=10_000)),
])
def test_settings_that_cannot_train_are_refused_before_any_work(tmp_path, field, value):
    with pytest.raises(StudioError, match="Invalid training settings"):
        Trainer(small(**{field: value}), runs_dir=tmp_path)
    assert not any(tmp_path.iterdir())


def test_a_lone_last_batch_is_dropped(tmp_path):
    # 4500 images in batches of 4499 leave one image, which breaks BatchNorm on 1x1 maps in training.
    trainer = Trainer(small(batch_size=4499, val_fraction=0), runs_dir=tmp_path)
    trainer.prepare()
    assert len(trainer.train_loader) == 1
    assert [y.shape[0] for _, y in trainer.train_loader] == [4499]


def test_a_configurable_cnn_whose_map_vanishes_on_28px_is_a_model_error(tmp_path):
    options = {"conv_channels": [8, 8, 8, 8, 8]}
    end = Trainer(small(model="configurable-cnn", model_options=options), runs_dir=tmp_path).fit()
    assert end.status == "failed" and "at most 4 block" in end.reason
    with pytest.raises(ModelError, match="at most 4 block"):
        build_model("configurable-cnn", (1, 28, 28), 10, options)


@pytest.mark.slow
@pytest.mark.parametrize("model, batch", [("lenet5", 32), ("lecture-cnn", 32), ("cifar-cnn", 32),
                                          ("configurable-cnn", 32), ("cifar10-model", 32), ("alexnet", 4)])
def test_each_lecture_model_trains_three_batches_on_gray_digits(tmp_path, model, batch):
    seen = []

    def stop_after_three(event):
        if isinstance(event, BatchEnd):
            seen.append(event.loss)
            if event.batch >= 3:
                trainer.request_stop("three batches")

    trainer = Trainer(small(model=model, batch_size=batch), runs_dir=tmp_path, callbacks=[stop_after_three])
    end = trainer.fit()
    assert end.status == "stopped" and len(seen) == 3 and all(math.isfinite(v) for v in seen), end.reason
    assert trainer.input_shape[0] == 1


def test_pretrained_lecture_model_is_refused_in_words(tmp_path):
    end = Trainer(small(pretrained=True), runs_dir=tmp_path).fit()
    assert end.status == "failed" and "no pretrained weights" in end.reason


@pytest.mark.slow
def test_checkpoint_fields_survive_json_free_types(tmp_path):
    run = _finished_run(tmp_path)
    loaded = runs.load_checkpoint(run / "checkpoints" / "last.pt")
    assert loaded.input_shape == (1, 28, 28) and len(loaded.mean) == 1


@pytest.mark.parametrize("name", ["meta", "xpu", "tpu", "cuda:-1"])
def test_devices_the_studio_cannot_train_on_are_refused_by_name(name):
    from studio.core.engine.devices import resolve_device

    with pytest.raises(StudioError, match="Unknown device"):
        resolve_device(name)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks a machine without CUDA")
def test_cuda_without_a_gpu_fails_fast_in_words(tmp_path):
    end = Trainer(small(device="cuda"), runs_dir=tmp_path).fit()
    assert end.status == "failed" and "no CUDA GPU" in end.reason
    assert not any(tmp_path.iterdir())


@pytest.mark.slow
def test_a_folder_dataset_reports_the_files_it_skipped(tmp_path):
    from PIL import Image

    for label in ("a", "b"):
        (tmp_path / "data" / label).mkdir(parents=True)
        for i in range(3):
            Image.new("L", (20, 20), 40 * i + (100 if label == "b" else 0)).save(tmp_path / "data" / label / f"{i}.png")
    (tmp_path / "data" / "a" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    starts = []
    trainer = Trainer(small(dataset=f"folder:{tmp_path / 'data'}", image_size=16, batch_size=2),
                      runs_dir=tmp_path / "runs", callbacks=[starts.append])
    trainer.fit()
    assert starts[0].skipped and starts[0].skipped[0][0].endswith("broken.png")


@pytest.mark.slow
def test_early_stopping_stops_when_the_test_loss_stalls(tmp_path):
    end = Trainer(small(epochs=5, lr=1e-12, schedule="none", early_stop_patience=1), runs_dir=tmp_path).fit()
    assert end.status == "done" and end.epochs_done == 2 and "early stopping" in end.reason


@pytest.mark.slow
def test_extreme_augmentation_label_smoothing_and_a_batch_larger_than_the_data(tmp_path):
    extreme = AugmentConfig(hflip=True, crop_padding=256, rotation=180, scale=0.999, translate=0.999,
                            color_jitter=1.0, noise_std=100.0)
    end = Trainer(small(augment=extreme, label_smoothing=0.99, batch_size=100_000), runs_dir=tmp_path).fit()
    assert end.status in ("done", "failed"), end.reason
    assert end.status == "done" or "diverged" in end.reason   # noise can blow the loss up: a stop in words


@pytest.mark.slow
def test_a_folder_with_two_images_per_class_trains(tmp_path):
    from PIL import Image

    for label, level in (("cat", 30), ("dog", 220)):
        (tmp_path / "data" / label).mkdir(parents=True)
        for i in range(2):
            Image.new("RGB", (24 + i, 20), (level, level - 10, 5 * i)).save(tmp_path / "data" / label / f"{i}.jpg")
    end = Trainer(small(dataset=f"folder:{tmp_path / 'data'}", model="lecture-cnn", image_size=16, epochs=2),
                  runs_dir=tmp_path / "runs").fit()
    assert end.status == "done", end.reason
