"""`train`'s options come from the field table: what the user typed wins over a preset or an earlier
run's config, even when it equals the default; every option's help shows its default; Ctrl+C ends
a real run as stopped with exit code 130."""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from studio.cli import build_parser, main
from studio.core.config.train_config import TrainConfig

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def trained_config(monkeypatch):
    """Runs `main` and returns the TrainConfig the trainer receives, without training."""
    from studio.cli import train

    seen = []

    def fake_run(make_trainer, args):
        seen.append(make_trainer([]).config)
        return 0

    monkeypatch.setattr(train, "_run_trainer", fake_run)
    monkeypatch.setattr(train, "run_distributed", lambda config, args, resume=False: seen.append(config) or 0)

    def run(*argv):
        assert main(["train", *argv]) == 0
        return seen[-1]

    return run


def test_typed_epochs_and_lr_override_the_preset(trained_config):
    cfg = trained_config("--preset", "seed000-alexnet", "--epochs", "5", "--lr", "0.002")
    assert (cfg.epochs, cfg.lr) == (5, 0.002)
    assert (cfg.model, cfg.dataset, cfg.schedule, cfg.normalize) == ("alexnet", "cifar10", "none", "half")


def test_a_typed_value_equal_to_the_default_still_overrides_the_preset(trained_config):
    defaults = TrainConfig()
    cfg = trained_config("--preset", "seed001-cifarcnn", "--epochs", str(defaults.epochs),
                         "--batch-size", str(defaults.batch_size), "--schedule", defaults.schedule,
                         "--train-accuracy", defaults.train_accuracy, "--no-hflip", "--crop-padding", "0")
    assert (cfg.epochs, cfg.batch_size, cfg.schedule) == (defaults.epochs, defaults.batch_size, defaults.schedule)
    assert cfg.train_accuracy == "running" and not cfg.augment.hflip and cfg.augment.crop_padding == 0
    assert (cfg.lr, cfg.normalize) == (1e-4, "seed001")  # not typed: the recipe's


def test_without_a_preset_the_defaults_and_typed_options_make_the_config(trained_config):
    cfg = trained_config("--val-fraction", "0", "--option", "activation=tanh", "--early-stop", "3",
                         "--threads", "2", "--noise", "0.1", "--pretrained")
    expected = TrainConfig(val_fraction=0.0, model_options={"activation": "tanh"}, early_stop_patience=3,
                           num_threads=2, pretrained=True)
    expected.augment.noise_std = 0.1
    assert cfg.to_dict() == expected.to_dict()


def _other_value(f):
    """A usable value different from the field's default, and how to type it."""
    default = f.default()
    if f.kind is bool:
        return (not default), [f.option if not default else "--no-" + f.option[2:]]
    if f.kind is dict:
        return {"activation": "tanh"}, [f.option, "activation=tanh"]
    if f.choices:
        value = next(c for c in f.choices if c != default)
    elif f.kind is str:
        value = {"dataset": "cifar10", "model": "lecture-cnn", "device": "cpu", "data_fixes": "fixes.json"}[f.name]
    elif f.kind is int:
        value = default + 1
    else:
        value = round((default + (f.high if f.high < 1e3 else 1.0)) / 2, 4)
    return value, [f.option, str(value)]


def test_every_table_option_typed_on_the_command_line_reaches_the_config(trained_config):
    from studio.core.config.fields import FIELDS, get_value

    fields = [f for f in FIELDS if f.option]
    argv, expected = [], {}
    for f in fields:
        value, typed = _other_value(f)
        argv += typed
        expected[f.name] = value
    cfg = trained_config(*argv)
    assert {name: get_value(cfg, name) for name in expected} == expected
    assert cfg.problems() == []


def test_config_repeats_a_run_with_the_typed_options_on_top(trained_config, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    earlier = TrainConfig(model="cifar-cnn", dataset="cifar10", lr=0.01, epochs=7, seed=3)
    (run / "config.json").write_text(json.dumps(earlier.to_dict()))
    cfg = trained_config("--config", str(run), "--epochs", "5")
    assert (cfg.model, cfg.dataset, cfg.lr, cfg.seed, cfg.epochs) == ("cifar-cnn", "cifar10", 0.01, 3, 5)
    cfg = trained_config("--config", str(run / "config.json"), "--lr", str(TrainConfig().lr))
    assert (cfg.lr, cfg.epochs) == (TrainConfig().lr, 7)


def test_an_unreadable_config_is_one_clear_line(tmp_path, capsys):
    bad = tmp_path / "config.json"
    bad.write_text("{not json")
    assert main(["train", "--config", str(bad)]) == 1
    assert main(["train", "--config", str(tmp_path / "missing")]) == 1
    err = capsys.readouterr().err
    assert "config.json" in err and "missing" in err and "Traceback" not in err


def test_preset_and_config_cannot_be_combined(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["train", "--preset", "seed000-alexnet", "--config", "x"])
    assert stop.value.code == 2


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_option_of_every_subcommand_shows_its_default_and_each_has_an_example():
    for name, sub in _subcommands().items():
        assert f"cnn-studio {name}" in (sub.epilog or ""), name
        for action in sub._actions:
            if action.option_strings and action.dest != "help":
                assert action.help and "default" in action.help, f"{name} {action.option_strings}"


def test_train_help_names_every_table_option_with_its_default(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for flag in ("--epochs", "--lr", "--val-fraction", "--early-stop", "--noise", "--config", "--no-hflip"):
        assert flag in out
    assert "passes over the training split (default: 5)" in out
    assert "(default: 0.1)" in out  # val_fraction


def test_version_and_install_desktop_without_folder_options(capsys):
    from studio import __version__

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and __version__ in capsys.readouterr().out
    options = {s for a in _subcommands()["install-desktop"]._actions for s in a.option_strings}
    assert "--runs-dir" not in options and "--data-dir" not in options


def test_presets_lists_lectures_by_topic(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    assert "Lecture: CNN basics on CIFAR-10" in out and "Seed 00" not in out


@pytest.mark.slow
def test_ctrl_c_stops_a_real_run_saves_it_as_stopped_and_exits_130(tmp_path):
    runs = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CNN_STUDIO_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen([sys.executable, "-m", "studio", "train", "--dataset", "mnist-sample", "--epochs", "500",
                             "--runs-dir", str(runs), "--threads", "1"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not list(runs.glob("*/status.json")):  # the run has started: its SIGINT handler is in place
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    status = json.loads(next(runs.glob("*/status.json")).read_text())
    assert status["status"] == "stopped" and "Ctrl+C" in status.get("reason", "")
    assert "Traceback" not in err


def test_run_dir_is_refused_for_a_run_in_this_process(tmp_path, capsys):
    assert main(["train", "--run-dir", str(tmp_path / "run"), "--runs-dir", str(tmp_path)]) == 1
    assert "--run-dir is for distributed runs" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_sync_bn_on_the_cpu_is_refused_before_any_process_starts(tmp_path, capsys):
    assert main(["train", "--nproc-per-node", "2", "--sync-bn", "--device", "cpu", "--runs-dir", str(tmp_path)]) == 1
    assert "--sync-bn needs CUDA" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
