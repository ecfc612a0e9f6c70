"""The Lectures panel: navigation, memory, and every step of every tour opened in the real window."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from studio.core.lectures import all_tours, progress
from studio.gui.lectures.actions import LAB_SECTIONS, VIEW_TABS
from studio.gui.lectures.panel import LecturesPanel
from studio.gui.widgets import error_dialog


@pytest.fixture(autouse=True)
def close_error_dialogs():
    yield
    for dialog in error_dialog.open_dialogs():
        dialog.close()


def test_next_previous_open_and_the_checked_numbers(qtbot, no_thread_left):
    panel = LecturesPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.select_tour(2, 0)
    assert not panel.prev_button.isEnabled()
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert panel.step_index == 1 and "1D correlation" in panel.title.text()
    qtbot.waitUntil(lambda: panel.results(2, 1) is not None, timeout=30_000)
    assert all(r.ok for r in panel.results(2, 1))
    assert panel.checks.text().count("✓") == 3 and "✗" not in panel.checks.text()
    assert "3 of 3 numbers agree" in panel.checks_note.text()
    with qtbot.waitSignal(panel.openRequested) as opened:
        qtbot.mouseClick(panel.open_button, Qt.MouseButton.LeftButton)
    assert opened.args[0] == {"view": "lab", "section": "conv", "example": "1d-same"}
    qtbot.mouseClick(panel.prev_button, Qt.MouseButton.LeftButton)
    assert panel.step_index == 0


def test_the_panel_remembers_where_the_student_stopped(qtbot, no_thread_left):
    panel = LecturesPanel()
    qtbot.addWidget(panel)
    assert not panel._tasks                     # hidden: nothing computed in the background
    panel.tour_combo.setCurrentIndex(4)
    panel.step_list.setCurrentRow(6)
    assert (progress.current_tour(), progress.last_step(4)) == (4, 6)
    again = LecturesPanel()
    qtbot.addWidget(again)
    assert (again.tour_index, again.step_index) == (4, 6)
    assert "Ten steps on one batch" in again.title.text()


STEPS = [(t.number, i, s.action) for t in all_tours() for i, s in enumerate(t.steps)]


@pytest.mark.slow
def test_open_every_step_of_every_tour_in_the_window(qtbot, no_thread_left):
    from tests.gui.window.test_main_window import close_window, make_window

    window = make_window(qtbot)
    panel = window.lectures_panel
    window.left_tabs.setCurrentWidget(panel)
    for tour, index, action in STEPS:
        panel.select_tour(tour, index)
        qtbot.mouseClick(panel.open_button, Qt.MouseButton.LeftButton)
        expected = window.tabs_by_key[VIEW_TABS[action["view"]]]
        assert window.tabs.currentWidget() is expected, (tour, index, action)
        if action["view"] == "lab":
            lab = expected.widget
            section = LAB_SECTIONS.get(action["section"], action["section"])
            assert lab.tabs.currentWidget() is getattr(lab, section), (tour, index, action)
        assert not error_dialog.open_dialogs(), (tour, index, action)
        assert not window.runner.is_running()       # a train step fills the settings; Train is the student's
        qtbot.wait(20)
    lab = window.tabs_by_key["lab"].widget
    assert lab.multichannel.result.output.shape == (16, 30, 30)
    assert lab.log_values.kernel.shape == (31, 31)                 # tour 0's σ = 5
    cfg = window.settings_panel.config()
    assert (cfg.model, cfg.lr, cfg.batch_size) == ("cifar10-model", 1e-2, 64)   # the last step: seed 004's recipe
    qtbot.waitUntil(lambda: not lab.train.is_busy(), timeout=60_000)
    close_window(qtbot, window)


def test_the_panel_does_not_keep_a_closed_window_alive():
    """A lambda capturing the window in the Open connection kept it alive after the test dropped it,
    so pytest-qt closed it later, mid-way through another test's patches (a modal question hung)."""
    import gc
    import weakref

    from studio.gui.window.main_window import MainWindow

    window = MainWindow()
    window._load_started = True       # never import torch: only the frame is needed
    ref = weakref.ref(window)
    del window
    gc.collect()
    assert ref() is None
