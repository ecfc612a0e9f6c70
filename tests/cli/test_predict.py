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
