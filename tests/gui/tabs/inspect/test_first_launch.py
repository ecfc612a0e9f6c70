"""Issue 13.5 and 13.6 in the whole window: on first launch the inspection tabs show the demo model, and
the Model tab shows the architecture chosen in the settings at once."""

from __future__ import annotations

import pytest

from studio.gui.widgets import error_dialog
from studio.gui.window.main_window import MainWindow

WAIT_MS = 120_000

pytestmark = pytest.mark.usefixtures("no_thread_left")


@pytest.fixture
def window(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    window.confirm = lambda *args: True
    window.show()
    qtbot.waitUntil(lambda: window.loaded, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.state.dataset is not None, timeout=WAIT_MS)
    yield window
    for dialog in error_dialog.open_dialogs():
        dialog.close()
    window.close()


def test_inspection_tabs_show_the_demo_model_from_first_launch(qtbot, window):
    assert window.state.model is None
    for key in ("kernels", "activations", "evaluation"):
        tab = window.show_tab(key)
        qtbot.waitUntil(lambda tab=tab: not tab.is_empty() and not tab.busy, timeout=WAIT_MS)
    assert "demo model" in window.tab("kernels").info.text()
    assert "demo model" in window.tab("activations").model_label.text()
    evaluation = window.tab("evaluation")
    qtbot.waitUntil(lambda: evaluation.result is not None, timeout=WAIT_MS)
    assert "demo model" in evaluation.summary.text()


def test_model_tab_follows_the_model_chosen_in_the_settings(qtbot, window):
    tab = window.show_tab("model")
    qtbot.waitUntil(lambda: tab.summary is not None and not tab.busy, timeout=WAIT_MS)
    first = tab.summary
    combo = window.settings_panel.model_combo
    small = ("cifar-cnn", "lecture-cnn", "cifar10-model")
    target = next(i for i in range(combo.count()) if combo.itemData(i) in small
                  and combo.itemData(i) != window.state.config.model)
    name = combo.itemData(target)
    combo.setCurrentIndex(target)   # a person's choice: the panel emits configChanged
    qtbot.waitUntil(lambda: window.state.config.model == name, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: tab.summary is not first and not tab.busy, timeout=WAIT_MS)
    assert tab.shows_settings() and tab.title.text() == tab._model_title(name)
    assert "chosen in the settings" in tab.subtitle.text()
