"""The command line on hostile input (found in a review): one JSON document with --json, exit 1
with one line for a problem with the input, never a traceback."""

import json
import os

import pytest
import torch

from studio.cli import main
from studio.core.models import build_model

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "models", "lenet5-mnist-sample.pt")


def run_cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.mark.parametrize("args", [
    ("summary", "no-such-net"),
    ("summary", "configurable-cnn", "--option", "conv_channels=[]"),
    ("summary", "configurable-cnn", "--option", "kernel_size=0"),
    ("eval", "/no/such/file.pt"),
    ("predict", "/no/such/file.pt", "x.png"),
    ("resume", "/no/such/run"),
    ("eval", DEMO, "--batch-size", "0"),
])
def test_errors_with_json_still_print_one_json_document(capsys, args):
    code, out, err = run_cli(capsys, *args, "--json")
    assert code == 1
    assert json.loads(out)["error"] and err.startswith("error:") and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["predict", "eval"])
def test_nan_weights_exit_1_naming_the_file_instead_of_nan_percent(capsys, tmp_path, command):
    # Issue 12: predict printed "nan %" and eval "accuracy 10 %, loss nan", both with exit 0.
    state = {k: torch.full_like(v, float("nan")) if v.is_floating_point() else v
             for k, v in build_model("lecture-cnn", (3, 32, 32), 10).state_dict().items()}
    torch.save(state, tmp_path / "nan.pt")
    image = tmp_path / "a.png"
    from PIL import Image
    Image.new("RGB", (40, 30), (200, 10, 10)).save(image)
    extra = [str(image)] if command == "predict" else ["--dataset", "mnist-sample"]
    code, out, err = run_cli(capsys, command, str(tmp_path / "nan.pt"), *extra, "--model", "lecture-cnn", "--json")
    assert code == 1
    doc = json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))
    assert "nan.pt holds weights that are not numbers" in doc["error"] and "nan %" not in err


@pytest.mark.parametrize("flag, value", [("--lr", "inf"), ("--lr", "nan"), ("--momentum", "nan"),
                                         ("--weight-decay", "-1"), ("--epochs", "0"), ("--batch-size", "0"),
                                         ("--early-stop", "-1"), ("--rotation", "nan")])
def test_absurd_training_values_exit_1_without_a_run_folder(capsys, tmp_path, flag, value):
    code, out, err = run_cli(capsys, "train", flag, value, "--runs-dir", str(tmp_path), "--json")
    assert code == 1 and "Invalid" in err and json.loads(out)["error"]
    assert not any(tmp_path.iterdir())


def test_a_file_as_the_runs_folder_is_a_clear_error(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run_cli(capsys, "train", "--epochs", "1", "--runs-dir", str(blocker))
    assert code == 1 and str(blocker) in err


def test_resume_with_no_epochs_is_refused(capsys, tmp_path):
    code, _, err = run_cli(capsys, "resume", str(tmp_path), "--epochs", "0")
    assert code == 1 and "--epochs" in err


def test_summary_shows_what_the_model_is_fed(capsys):
    code, out, err = run_cli(capsys, "summary", "alexnet", "--input-size", "3,224,224", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["input_size"] == [3, 227, 227] and doc["requested_input_size"] == [3, 224, 224]
    assert "227" in err
    code, out, _ = run_cli(capsys, "summary", "resnet18", "--input-size", "1,28,28", "--json")
    assert code == 0 and json.loads(out)["input_size"] == [1, 32, 32]


def test_summary_of_a_configurable_cnn_that_vanishes_explains_why(capsys):
    code, _, err = run_cli(capsys, "summary", "configurable-cnn", "--input-size", "1,28,28",
                           "--option", "conv_channels=[4,4,4,4,4]")
    assert code == 1 and "at most 4 block" in err


def test_summary_of_an_absurd_input_size_is_refused(capsys):
    code, _, err = run_cli(capsys, "summary", "lenet5", "--input-size", "3,100000,100000")
    assert code == 1 and "too large" in err


@pytest.mark.timeout(60)
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_predict_on_a_fifo_does_not_hang(capsys, tmp_path):
    os.mkfifo(tmp_path / "pipe.png")
    code, out, _ = run_cli(capsys, "predict", DEMO, str(tmp_path / "pipe.png"), "--json")
    assert code == 1 and "regular file" in json.loads(out)["results"][0]["error"]


@pytest.mark.skipif(os.name != "posix", reason="needs byte file names")
def test_a_file_name_that_is_not_utf8_prints_on_a_strict_stdout(tmp_path):
    import subprocess
    import sys

    from PIL import Image

    name = os.path.join(os.fsencode(tmp_path), b"\xff\xfe.png")
    Image.new("L", (28, 28), 0).save(name.decode("utf-8", "surrogateescape"))
    env = dict(os.environ, PYTHONIOENCODING="utf-8")  # errors=strict: a surrogate used to raise
    result = subprocess.run([sys.executable, "-m", "studio", "predict", DEMO, name, "--top-k", "1"],
                            cwd=ROOT, env=env, capture_output=True, timeout=300)
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-500:]
    assert b"\\udcff\\udcfe.png" in result.stdout
