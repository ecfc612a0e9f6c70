"""The command line, driven in-process (imports are slow) and once as a real process."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from studio.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run_cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_summary_of_cifar_cnn_matches_seed_001(capsys):
    code, out, _ = run_cli(capsys, "summary", "cifar-cnn", "--input-size", "3,32,32")
    assert code == 0
    assert "5,852,170" in out and "22.33 MB" in out


def test_summary_of_configurable_cnn_matches_seed_002(capsys):
    code, out, _ = run_cli(capsys, "summary", "configurable-cnn", "--input-size", "3,32,32", "--json",
                           "--option", "conv_channels=[8,16]", "--option", "kernel_size=3",
                           "--option", "hidden_sizes=[32]")
    assert code == 0
    assert json.loads(out)["total_params"] == 34522


def test_models_and_datasets_list_as_json(capsys):
    code, out, _ = run_cli(capsys, "models", "--json")
    names = {m["name"] for m in json.loads(out)}
    assert {"lenet5", "cifar-cnn", "alexnet", "resnet18", "convnext_tiny"} <= names
    code, out, _ = run_cli(capsys, "datasets", "--json")
    assert code == 0 and "mnist-sample" in {d["name"] for d in json.loads(out)}


def test_unknown_model_is_one_clear_line_and_exit_1(capsys):
    code, out, err = run_cli(capsys, "summary", "no-such-net")
    assert code == 1
    assert err.startswith("error:") and "no-such-net" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_bad_usage_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--epochs", "many"])
    assert info.value.code == 2


@pytest.mark.slow
def test_train_then_eval_then_predict(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "train", "--epochs", "1", "--batch-size", "128", "--json",
                           "--runs-dir", str(tmp_path))
    assert code == 0
    doc = json.loads(out)
    assert doc["status"] == "done" and doc["epochs"][0]["test_acc"] > 0.5
    ckpt = Path(doc["run_dir"]) / "checkpoints" / "best.pt"

    code, out, _ = run_cli(capsys, "eval", str(ckpt), "--json")
    result = json.loads(out)
    assert code == 0 and result["test_size"] == 500 and sum(map(sum, result["confusion"])) == 500

    photo = ROOT / "resources" / "images" / "coffee.png"
    junk = tmp_path / "junk.png"
    junk.write_text("not an image")
    code, out, err = run_cli(capsys, "predict", str(ckpt), str(photo), str(junk), "--top-k", "3")
    assert code == 1  # one file was bad
    assert "coffee.png:" in out and "%" in out
    assert "junk.png" in err and "Traceback" not in err


@pytest.mark.slow
def test_seed_001_style_epoch_lines_as_a_real_process(tmp_path):
    done = subprocess.run([sys.executable, "-m", "studio", "train", "--epochs", "1", "--batch-size", "256",
                           "--runs-dir", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "Epoch: 1 | Loss: " in done.stdout and "| Test accuracy: " in done.stdout and "Epoch Time:" in done.stdout


def test_an_unreadable_checkpoint_exits_1(capsys, tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    code, _, err = run_cli(capsys, "predict", str(bad), str(ROOT / "resources" / "images" / "horse.png"),
                           "--model", "lenet5")
    assert code == 1 and "bad.pt" in err and "Traceback" not in err


def test_a_preset_sets_the_lectures_recipe_and_typed_options_override_it(monkeypatch, capsys):
    import studio.cli.train as cli

    seen = {}

    def fake_run(make_trainer, args):
        seen["config"] = make_trainer([]).config
        return 0

    monkeypatch.setattr(cli, "_run_trainer", fake_run)
    assert main(["train", "--preset", "seed001-cifarcnn", "--epochs", "2"]) == 0
    cfg = seen["config"]
    assert (cfg.model, cfg.dataset, cfg.lr, cfg.batch_size, cfg.normalize) == ("cifar-cnn", "cifar10", 1e-4, 128,
                                                                              "seed001")
    assert cfg.augment.hflip and cfg.augment.crop_padding == 4
    assert cfg.epochs == 2  # typed on the command line: wins over the recipe's 20
    assert main(["train", "--preset", "no-such-recipe"]) == 1


def test_a_reader_that_closes_the_pipe_gets_no_traceback(tmp_path):
    """`cnn-studio models --json | head -1`: the pipe closes early; no BrokenPipeError traceback."""
    import subprocess
    import sys

    script = ("import sys; from studio.cli import main; sys.exit(main(['models', '--json']))")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=str(ROOT))
    proc.stdout.close()  # closed before the child (still importing) writes: its first write meets EPIPE
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipeError" not in err
