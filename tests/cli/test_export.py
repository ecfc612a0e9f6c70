"""`cnn-studio export` and `cnn-studio tensorboard` from the command line."""

import json

from studio.cli import main
from studio.core.paths import DEMO_MODELS, RESOURCES

DEMO = DEMO_MODELS / "lenet5-mnist-sample.pt"


def test_export_prints_its_own_verification(tmp_path, capsys):
    code = main(["export", str(DEMO), "--format", "safetensors", "--out", str(tmp_path / "m.safetensors"),
                 "--verify-images", "50", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["passed"] and doc["top1_agree"] == 50 and doc["max_prob_diff"] <= 1e-4
    code = main(["predict", str(tmp_path / "m.safetensors"), str(RESOURCES / "images" / "horse.png"), "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["model"] == "lenet5"


def test_tensorboard_on_a_folder_that_is_no_run_fails_clearly(tmp_path, capsys):
    code = main(["tensorboard", str(tmp_path)])
    assert code == 1 and "not a run folder" in capsys.readouterr().err
