"""Issue 16: `cnn-studio eval RUN --epoch N` and `predict RUN --epoch N` read the run's weights of that epoch."""

import json

import pytest

from studio.cli import main
from studio.core.runs import epoch_records
from studio.core.runs.snapshots import snapshot_epochs


@pytest.fixture(scope="module")
def lenet_run(tmp_path_factory):
    runs_dir = tmp_path_factory.mktemp("runs")
    assert main(["train", "--dataset", "mnist-sample", "--model", "lenet5", "--epochs", "5",
                 "--runs-dir", str(runs_dir)]) == 0
    (run,) = runs_dir.iterdir()
    return run


def _eval(capsys, *args) -> dict:
    capsys.readouterr()
    assert main(["eval", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.slow
def test_epoch_zero_is_about_chance_and_epoch_five_the_final_accuracy(lenet_run, capsys):
    assert snapshot_epochs(lenet_run) == [0, 1, 2, 3, 4, 5]
    zero = _eval(capsys, str(lenet_run), "--epoch", "0")
    assert zero["epoch"] == 0 and zero["accuracy"] < 0.3
    final = _eval(capsys, str(lenet_run), "--epoch", "5")
    assert final["epoch"] == 5
    assert final["accuracy"] == epoch_records(lenet_run)[-1]["test_acc"]
    assert final["accuracy"] >= 0.95


@pytest.mark.slow
def test_predict_at_an_epoch_answers_with_that_epochs_weights(lenet_run, capsys, tmp_path):
    from PIL import Image

    from studio.core.data import load_dataset

    image = load_dataset("mnist-sample").test.images[0].numpy().squeeze()
    path = tmp_path / "digit.png"
    Image.fromarray((image * 255).astype("uint8") if image.max() <= 1 else image.astype("uint8")).save(path)
    answers = []
    for epoch in ("0", "5"):
        capsys.readouterr()
        assert main(["predict", str(lenet_run), "--epoch", epoch, str(path), "--json"]) == 0
        answers.append(json.loads(capsys.readouterr().out)["results"][0])
    assert answers[0] != answers[1]


@pytest.mark.slow
def test_an_epoch_the_run_did_not_keep_is_a_clear_error(lenet_run, capsys):
    assert main(["eval", str(lenet_run), "--epoch", "42"]) != 0
    err = capsys.readouterr().err
    assert "epoch 42 were not kept" in err and "Traceback" not in err


def test_epoch_needs_a_run_folder(tmp_path, capsys):
    assert main(["eval", str(tmp_path / "nothing.pt"), "--epoch", "1"]) != 0
    assert "needs a run folder" in capsys.readouterr().err
