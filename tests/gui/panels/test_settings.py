"""The settings panel is built from the field table, and the mouse wheel over an input that has
not been clicked scrolls the panel instead of changing a setting."""

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox

from studio.core.config.fields import FIELDS
from studio.core.config.presets import PRESETS
from studio.core.config.train_config import AugmentConfig, TrainConfig
from studio.gui.panels.settings import SettingsPanel


def _panel(qtbot, config=None) -> SettingsPanel:
    panel = SettingsPanel(config or TrainConfig())
    qtbot.addWidget(panel)
    panel.resize(340, 300)  # shorter than its content: the panel scrolls
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def _wheel(widget, notches: int = -1) -> None:
    """A real wheel event over the widget's centre (one notch down by default)."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0),
                        QPoint(0, 120 * notches), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_the_wheel_over_an_unfocused_spin_box_scrolls_the_panel_and_keeps_the_value(qtbot):
    panel = _panel(qtbot, TrainConfig(epochs=5))
    edits = []
    panel.configChanged.connect(lambda: edits.append(1))
    bar = panel.verticalScrollBar()
    assert bar.maximum() > 0
    assert not panel.epochs_spin.hasFocus()
    _wheel(panel.epochs_spin, -1)
    assert panel.epochs_spin.value() == 5 and panel.config().epochs == 5 and not edits
    assert bar.value() > 0  # the panel scrolled instead


def test_the_wheel_over_an_unfocused_combo_or_ladder_keeps_the_value(qtbot):
    panel = _panel(qtbot, TrainConfig(lr=0.002, optimizer="adam"))
    _wheel(panel.optimizer_combo, -1)
    _wheel(panel.lr_spin, -1)
    cfg = panel.config()
    assert (cfg.optimizer, cfg.lr) == ("adam", 0.002)


def test_the_wheel_edits_a_spin_box_the_user_clicked_into(qtbot):
    panel = _panel(qtbot, TrainConfig(epochs=5))
    panel.epochs_spin.setFocus()
    qtbot.waitUntil(panel.epochs_spin.hasFocus)
    _wheel(panel.epochs_spin, 1)
    assert panel.config().epochs == 6


def test_every_table_field_with_a_widget_has_one_in_the_panel_and_round_trips(qtbot):
    config = TrainConfig(dataset="cifar10", model="lecture-cnn", optimizer="sgd", lr=0.05, momentum=0.8,
                         weight_decay=5e-4, batch_size=128, epochs=12, schedule="step", step_size=3, gamma=0.5,
                         label_smoothing=0.1, seed=7, early_stop_patience=4, image_size=96, normalize="half",
                         train_accuracy="full-pass", val_fraction=0.2, amp=True, model_options={"activation": "tanh"},
                         augment=AugmentConfig(hflip=True, crop_padding=2, rotation=10.0, noise_std=0.02))
    panel = _panel(qtbot, config)
    for f in FIELDS:
        if f.widget and f.widget != "augment":
            assert f.name in panel.inputs, f.name
    assert panel.config().to_dict() == config.to_dict()


def test_the_validation_share_is_a_setting(qtbot):
    panel = _panel(qtbot)
    spin = panel.inputs["val_fraction"]
    assert (spin.minimum(), spin.maximum(), spin.value()) == (0.0, 0.5, 0.1)
    spin.setValue(0.0)
    assert panel.config().val_fraction == 0.0


def test_inputs_carry_the_table_help_as_tooltips(qtbot):
    panel = _panel(qtbot)
    assert "passes over the training split" in panel.epochs_spin.toolTip().lower()
    assert isinstance(panel.amp_check, QCheckBox) and isinstance(panel.normalize_combo, QComboBox)


def test_the_recipe_picker_names_lectures_by_topic(qtbot):
    panel = _panel(qtbot)
    titles = [panel.preset_combo.itemText(i) for i in range(panel.preset_combo.count())]
    assert titles[1:] == [p.title for p in PRESETS]
    assert any(t.startswith("Lecture: CNN basics on CIFAR-10") for t in titles)
    assert not any("seed" in t.lower() for t in titles)
