"""The lectures' own practices: fixed normalisation constants, notebook checkpoints both ways, batch summaries."""

import pytest
import torch

from studio.cli import main
from studio.core import runs
from studio.core.config.train_config import TrainConfig
from studio.core.engine import BatchEnd, Trainer
from studio.core.inspect.summary import model_summary
from studio.core.models import build_model
from studio.core.normalization import FIXED, resolve


def test_fixed_constants_shrink_to_luma_for_gray_data():
    assert resolve("seed001", (0.2,), (0.3,)) == ((pytest.approx(0.4809, abs=1e-3),), (pytest.approx(0.2004, abs=1e-3),))
    assert resolve("half", (0.1, 0.2, 0.3), (0.1, 0.1, 0.1)) == FIXED["half"]
    assert resolve("auto", (0.1,), (0.2,)) == ((0.1,), (0.2,))
    assert resolve("auto", (0.1, 0.2, 0.3), (1, 1, 1), pretrained=True) == FIXED["imagenet"]


def test_training_with_seed_000_normalisation_records_it_in_the_checkpoint(tmp_path):
    def stop(event):
        if isinstance(event, BatchEnd) and event.batch == 2:
            trainer.request_stop()

    trainer = Trainer(TrainConfig(normalize="half", epochs=1, batch_size=64), callbacks=[stop], runs_dir=tmp_path)
    trainer.prepare()
    assert (trainer.mean, trainer.std) == ((0.5,), (0.5,))
    x, _ = next(iter(trainer.train_loader))
    assert x.min().item() == pytest.approx(-1.0)  # black pixels: (0 - 0.5) / 0.5


def test_a_studio_checkpoint_reads_like_seed_001s_in_a_notebook(tmp_path):
    model = build_model("cifar-cnn", (3, 32, 32), 10)
    path = tmp_path / "studio.pt"
    runs.save_checkpoint(path, model, model_name="cifar-cnn", model_options={}, classes=list("abcdefghij"),
                         input_shape=(3, 32, 32), mean=(0.5,) * 3, std=(0.5,) * 3, epoch=7)
    state = torch.load(path, weights_only=True)   # what seed 001's notebook does, then state['net']
    fresh = build_model("cifar-cnn", (3, 32, 32), 10)
    fresh.load_state_dict(state["net"])
    assert state["epoch"] == 7


def test_a_notebook_cifar_cnn_gets_cifar10_names_and_seed_001_constants(tmp_path):
    path = tmp_path / "cifar_cnn_ckpt.pth"
    torch.save({"net": build_model("cifar-cnn", (3, 32, 32), 10).state_dict(), "epoch": 20}, path)
    loaded = runs.load_checkpoint(path, model_name="cifar-cnn")
    assert loaded.classes[0] == "airplane" and loaded.classes[-1] == "truck"
    assert (loaded.mean, loaded.std) == FIXED["seed001"]
    named = runs.load_checkpoint(path, model_name="cifar-cnn", classes=list("0123456789"), mean=(0.5,) * 3,
                                 std=(0.5,) * 3)
    assert named.classes[0] == "0" and named.mean == (0.5,) * 3


def test_seed_002_summary_of_a_batch_of_100_matches_its_torchinfo_table():
    model = build_model("configurable-cnn", (3, 32, 32), 10)
    summary = model_summary(model, (3, 32, 32), batch_size=100)
    assert summary.total_params == 34522
    assert "Total mult-adds (M): 56.15" in summary.text
    assert "Estimated Total Size (MB): 11.23" in summary.text
    assert summary.rows[0].output_shape[0] == 100


def test_eval_of_a_plain_state_dict_asks_for_the_dataset(tmp_path, capsys):
    path = tmp_path / "lenet.pt"
    torch.save(build_model("lenet5", (1, 28, 28), 10).state_dict(), path)
    assert main(["eval", str(path), "--model", "lenet5"]) == 1
    assert "--dataset" in capsys.readouterr().err
    assert main(["eval", str(path), "--model", "lenet5", "--dataset", "mnist-sample", "--json"]) == 0


@pytest.mark.slow
def test_seed_001_training_accuracy_is_a_full_eval_pass_over_the_train_split(tmp_path):
    from studio.core.engine import EpochEnd
    from studio.core.engine.evaluate import evaluate

    epochs = []
    trainer = Trainer(TrainConfig(train_accuracy="full-pass", epochs=1, batch_size=128), runs_dir=tmp_path,
                      callbacks=[lambda e: epochs.append(e) if isinstance(e, EpochEnd) else None])
    trainer.fit()
    again = evaluate(trainer.model, trainer.bundle.train, trainer.input_shape, trainer.mean, trainer.std)
    assert epochs[0].train_acc == pytest.approx(again.accuracy)
