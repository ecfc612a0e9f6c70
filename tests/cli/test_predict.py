"""`predict demo IMAGE`: the bundled demo model by its documented name, from any folder."""

import json

from PIL import Image

from studio.cli import main
from studio.core.data import load_dataset


def test_predict_demo_finds_the_bundled_model_from_another_folder(tmp_path, monkeypatch, capsys):
    digits = load_dataset("mnist-sample").test
    Image.fromarray(digits.images[0, 0].numpy()).save(tmp_path / "digit.png")
    monkeypatch.chdir(tmp_path)
    code = main(["predict", "demo", "digit.png", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["model"] == "lenet5"
    assert doc["results"][0]["top"][0]["class"] == str(int(digits.labels[0]))


def test_a_file_named_demo_is_still_a_file(tmp_path, monkeypatch, capsys):
    (tmp_path / "demo").write_bytes(b"not a checkpoint")
    Image.new("L", (28, 28)).save(tmp_path / "x.png")
    monkeypatch.chdir(tmp_path)
    assert main(["predict", "demo", "x.png"]) == 1
    assert "demo" in capsys.readouterr().err


def _digit(folder):
    Image.fromarray(load_dataset("mnist-sample").test.images[3, 0].numpy()).save(folder / "digit.png")
    return folder / "digit.png"


def test_cam_writes_an_overlay_per_image_with_the_chosen_method_and_layer(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _digit(tmp_path)
    code = main(["predict", "demo", "digit.png", "--json", "--cam", "gradcam++", "--cam-layer", "features.0",
                 "--cam-out", "maps"])
    assert code == 0
    [result] = json.loads(capsys.readouterr().out)["results"]
    assert result["cam"].endswith("digit-gradcampp.png") and "Grad-CAM++" in result["cam_note"]
    assert "features.0" in result["cam_note"]
    picture = Image.open(tmp_path / "maps" / "digit-gradcampp.png")
    assert picture.size == (28, 28) and picture.mode == "RGB"


def test_cam_layer_that_does_not_exist_is_a_clear_message(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _digit(tmp_path)
    assert main(["predict", "demo", "digit.png", "--cam", "layercam", "--cam-layer", "features.9"]) == 1
    err = capsys.readouterr().err
    assert "no layer named 'features.9'" in err and "features.0, features.3" in err and "Traceback" not in err
    assert not list(tmp_path.glob("*.png"))[1:]   # only the input: no overlay written
