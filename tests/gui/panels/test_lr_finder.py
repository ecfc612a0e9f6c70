"""Find LR… in the settings panel: a real range test off the GUI thread, its progress, its curve,
"Use this LR" writing the settings' learning rate, and Cancel stopping the worker."""

import math

from PySide6.QtWidgets import QDialog

from studio.core.config.train_config import TrainConfig
from studio.gui.panels.settings import SettingsPanel

LONG = 120_000   # ms: a loaded CI machine is slow


def _dialog(qtbot, steps: int):
    panel = SettingsPanel(TrainConfig(dataset="mnist-sample", model="lenet5", batch_size=128, lr=0.05))
    qtbot.addWidget(panel)
    panel.show()
    panel.lr_row.button.click()
    dialog = panel.lr_row.dialog
    qtbot.addWidget(dialog)
    assert dialog.isVisible() and dialog.run_button.isEnabled() and not dialog.use_button.isEnabled()
    dialog.steps_spin.setValue(steps)
    return panel, dialog


def test_range_test_runs_with_progress_and_use_sets_the_learning_rate(qtbot):
    panel, dialog = _dialog(qtbot, steps=40)
    seen = []
    shown = dialog._progressed
    dialog._progressed = lambda done, total: (seen.append((done, total)), shown(done, total))

    dialog.run_button.click()
    assert dialog.cancel_button.isEnabled() and not dialog.run_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.found is not None, timeout=LONG)

    result = dialog.found
    assert seen and seen[-1] == (len(result.lrs), 40) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert len(dialog.raw_curve.getData()[0]) == len(result.lrs)
    assert dialog.suggested_line.isVisible()
    assert dialog.suggested_line.value() == math.log10(result.suggested_lr)   # the log axis' coordinates
    assert result.method in dialog.suggested_line.label.format
    assert ("steepest" in dialog.verdict.text()) == (result.method == "steepest")
    assert not dialog.cancel_button.isEnabled() and dialog.use_button.isEnabled()

    dialog.minimum_choice.setChecked(True)   # the other rule, chosen by the user
    expected = float(f"{result.min_loss_lr_div10:.2g}")
    with qtbot.waitSignal(panel.configChanged, timeout=1000):
        dialog.use_button.click()
    assert panel.lr_spin.value() == expected and panel.config().lr == expected
    assert dialog.result() == QDialog.DialogCode.Accepted and not dialog.isVisible()


def test_cancel_stops_the_worker_and_leaves_the_settings_alone(qtbot):
    panel, dialog = _dialog(qtbot, steps=5000)
    dialog.run_button.click()
    qtbot.waitUntil(lambda: dialog.progress.maximum() == 5000 and dialog.progress.value() >= 1, timeout=LONG)
    task = dialog.task
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not task.running, timeout=LONG)   # the worker saw should_stop and returned
    assert "Cancelled" in dialog.verdict.text()
    assert dialog.run_button.isEnabled() and not dialog.use_button.isEnabled() and dialog.found is None
    assert panel.config().lr == 0.05


def test_closing_the_dialog_while_it_runs_stops_the_test(qtbot):
    panel, dialog = _dialog(qtbot, steps=5000)
    dialog.run_button.click()
    task = dialog.task
    dialog.reject()
    assert task.cancelled
    qtbot.waitUntil(lambda: not task.running, timeout=LONG)
    assert panel.config().lr == 0.05


def test_the_button_is_off_while_a_run_trains(qtbot):
    panel = SettingsPanel(TrainConfig())
    qtbot.addWidget(panel)
    panel.set_locked(True)
    assert not panel.lr_row.button.isEnabledTo(panel)
