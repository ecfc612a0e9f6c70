"""The settings panel reaches the lectures' recipes, normalisations and model options."""

from studio.core.config.train_config import TrainConfig
from studio.gui.panels.settings import SettingsPanel, format_options, parse_options


def test_options_text_round_trips_lists_and_words():
    options = parse_options("conv_channels=[8, 16], kernel_size=5, activation=tanh")
    assert options == {"conv_channels": [8, 16], "kernel_size": 5, "activation": "tanh"}
    assert parse_options(format_options(options)) == options


def _download_cifar10_files(data_dir):
    """Empty stand-ins for the CIFAR-10 files: enough for "is it downloaded?"."""
    from studio.core.data.torchvision_sets import REMOTE

    spec = REMOTE["cifar10"]
    folder = spec.folder(data_dir / "cifar10")
    folder.mkdir(parents=True)
    for name in spec.expected_files():
        (folder / name).write_bytes(b"")


def test_choosing_seed_001s_recipe_sets_its_settings(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_STUDIO_DATA_DIR", str(tmp_path))
    _download_cifar10_files(tmp_path)
    panel = SettingsPanel(TrainConfig())
    qtbot.addWidget(panel)
    seen = []
    panel.modelChanged.connect(seen.append)
    index = panel.preset_combo.findData("seed001-cifarcnn")
    panel.preset_combo.activated.emit(index)
    cfg = panel.config()
    assert (cfg.dataset, cfg.model, cfg.lr, cfg.batch_size, cfg.epochs) == ("cifar10", "cifar-cnn", 1e-4, 128, 20)
    assert (cfg.normalize, cfg.train_accuracy) == ("seed001", "full-pass")
    assert cfg.augment.hflip and cfg.augment.crop_padding == 4
    assert seen == ["cifar-cnn"]


def test_a_cifar10_recipe_uses_the_bundled_sample_when_cifar10_is_not_downloaded(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_STUDIO_DATA_DIR", str(tmp_path))
    panel = SettingsPanel(TrainConfig())
    qtbot.addWidget(panel)
    seen = []
    panel.datasetChanged.connect(seen.append)
    panel.preset_combo.activated.emit(panel.preset_combo.findData("seed003-cnn"))
    cfg = panel.config()
    assert (cfg.dataset, cfg.model, cfg.val_fraction) == ("cifar10-sample", "lecture-cnn", 0.0)
    assert seen == ["cifar10-sample"]


def test_model_options_and_normalisation_reach_the_config(qtbot):
    panel = SettingsPanel(TrainConfig(model="lecture-cnn"))
    qtbot.addWidget(panel)
    panel.options_edit.setText("activation=leaky_relu")
    panel.options_edit.editingFinished.emit()
    panel.normalize_combo.setCurrentIndex(panel.normalize_combo.findData("half"))
    cfg = panel.config()
    assert cfg.model_options == {"activation": "leaky_relu"} and cfg.normalize == "half"
