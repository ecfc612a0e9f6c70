"""`cnn-studio attack`: seed 001's adversarial example on the command line, driven in-process."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from studio.cli import main
from studio.core.data import load_dataset
from studio.core.paths import DEMO_MODELS

DEMO = str(DEMO_MODELS / "lenet5-mnist-sample.pt")


@pytest.fixture(scope="module")
def seven(tmp_path_factory):
    test = load_dataset("mnist-sample").test
    index = int(np.flatnonzero(test.labels.numpy() == 7)[0])
    path = tmp_path_factory.mktemp("digits") / "seven.png"
    Image.fromarray(test.images[index, 0].numpy()).save(path)
    return str(path)


def run_cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_default_is_seed_001s_budget_and_reports_before_and_after(capsys, seven):
    code, out, err = run_cli(capsys, "attack", DEMO, seven, "--top-k", "3")
    assert code == 0, err
    assert "FGSM, eps 0.005" in out and "largest pixel change 0.0050" in out
    assert "before: 7" in out and "after:" in out


def test_json_with_larger_eps_flips_and_saves_the_image(capsys, seven, tmp_path):
    out_file = tmp_path / "adv.png"
    code, out, err = run_cli(capsys, "attack", DEMO, seven, "--eps", "0.2", "--steps", "5", "--json",
                             "--out", str(out_file))
    assert code == 0, err
    doc = json.loads(out)
    assert doc["flipped"] is True and doc["eps"] == 0.2 and doc["steps"] == 5
    assert doc["max_abs_change"] <= 0.2 + 1e-6
    assert doc["before"][0]["class"] == "7" and doc["after"][0]["class"] != "7"
    assert len(doc["before"]) == 5 and abs(sum(d["probability"] for d in doc["after"]) - 1) < 0.01
    saved = np.asarray(Image.open(out_file))
    assert saved.shape == (28, 28) and saved.dtype == np.uint8
    assert doc["saved_image"][0]["class"] == doc["after"][0]["class"]   # 8-bit rounding keeps the flip


def test_targeted_by_class_name(capsys, seven):
    code, out, err = run_cli(capsys, "attack", DEMO, seven, "--eps", "0.25", "--steps", "10", "--target", "3",
                             "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["target"] == "3" and doc["target_reached"] is True and doc["after"][0]["class"] == "3"


@pytest.mark.parametrize("args,words", [(["--target", "cat"], "not a class"), (["--eps", "2"], "between 0 and 1"),
                                        (["--steps", "0"], "steps"), (["--eps", "0.1", "--out", "x.nope"], "x.nope")])
def test_bad_input_is_one_line_and_exit_1(capsys, seven, tmp_path, args, words):
    args = [a.replace("x.nope", str(tmp_path / "x.nope")) for a in args]
    code, out, err = run_cli(capsys, "attack", DEMO, seven, *args)
    assert code == 1
    assert err.startswith("error:") and words in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_missing_image_exits_1(capsys, tmp_path):
    code, _, err = run_cli(capsys, "attack", DEMO, str(tmp_path / "nothing.png"))
    assert code == 1 and err.startswith("error:")
