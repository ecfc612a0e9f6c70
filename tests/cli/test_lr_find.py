"""`cnn-studio lr-find`: the range test from the command line, and its suggestion put to a real run."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from studio.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_json_holds_the_curve_and_both_rules(tmp_path, capsys):
    plot = tmp_path / "lr.png"
    code = main(["lr-find", "--dataset", "mnist-sample", "--model", "lenet5", "--num-iter", "40", "--json",
                 "--plot", str(plot)])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["exit_code"] == 0
    assert doc["method"] in ("steepest", "minimum/10")
    assert doc["suggested_lr"] == (doc["steepest_lr"] if doc["method"] == "steepest" else doc["min_loss_lr_div10"])
    assert len(doc["lrs"]) == len(doc["losses"]) == len(doc["smoothed_losses"]) >= 10
    assert doc["lrs"][0] == pytest.approx(1e-7) and doc["lrs"] == sorted(doc["lrs"])
    assert Image.open(plot).size == (800, 500)
    assert not (tmp_path / "runs").exists()


def test_text_output_is_a_table_and_the_suggestion(capsys):
    assert main(["lr-find", "--num-iter", "30", "--batch-size", "128"]) == 0
    out = capsys.readouterr().out
    assert "lr" in out.splitlines()[0] and "smoothed" in out.splitlines()[0]
    assert "Suggested learning rate:" in out and "For comparison" in out and "--lr " in out


def test_a_range_that_is_not_one_is_a_clear_error(capsys):
    assert main(["lr-find", "--start-lr", "1", "--end-lr", "0.1"]) == 1
    assert "--start-lr" in capsys.readouterr().err


@pytest.mark.slow
def test_ctrl_c_stops_the_test_and_exits_130(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "studio", "lr-find", "--num-iter", "1000000", "--start-lr", "1e-9",
                             "--end-lr", "1e-8", "--threads", "1", "--json"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        started = proc.stderr.readline()   # printed once the Ctrl+C handler is in place
        assert "Range test" in started, started + proc.communicate()[1]
        time.sleep(0.5)   # let it load the data and take steps; the flag is read before every step anyway
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    doc = json.loads(out)
    assert doc["stopped"] == "cancelled" and doc["exit_code"] == 130
    assert "interrupted" in err and "Traceback" not in err


@pytest.mark.slow
def test_the_suggested_lr_trains_lenet5_past_97_percent(tmp_path, capsys):
    """The issue's check: lr-find's suggestion for LeNet-5 on mnist-sample, then 5 epochs with it."""
    started = time.perf_counter()
    assert main(["lr-find", "--dataset", "mnist-sample", "--model", "lenet5", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    searched = time.perf_counter() - started
    assert found["method"] == "steepest"
    assert 1e-4 <= found["suggested_lr"] <= 1e-1
    assert main(["train", "--dataset", "mnist-sample", "--model", "lenet5", "--epochs", "5", "--lr",
                 str(found["suggested_lr"]), "--runs-dir", str(tmp_path), "--json"]) == 0
    trained = json.loads(capsys.readouterr().out)
    print(f"lr-find {searched:.1f} s -> lr {found['suggested_lr']:.3g}; 5 epochs "
          f"{time.perf_counter() - started - searched:.1f} s -> test {trained['epochs'][-1]['test_acc']:.3f}")
    assert trained["epochs"][-1]["test_acc"] >= 0.97
